"""User-facing errors: raised deep, rendered once at the CLI edge (message, hint, exit code)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from promptlab.masking import mask, mask_optional


class PromptlabError(Exception):
    """An error the user can fix. Printed as one line (plus hint), never as a traceback."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        file: str | Path | None = None,
        line: int | None = None,
    ) -> None:
        message, hint = mask(message), mask_optional(hint)  # an echoed URL or key, never shown
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.file = str(file) if file is not None else None
        self.line = line

    @property
    def location(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        loc = self.location
        text = f"{loc}: {self.message}" if loc else self.message
        return f"{text} — {self.hint}" if self.hint else text


class UsageError(PromptlabError):
    """Bad command-line input."""


class ConfigError(PromptlabError):
    """Bad configuration: promptlab.yaml, environment, AWS setup."""


class PromptFileError(PromptlabError):
    """A prompt or suite file that cannot be loaded. May carry several problems."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(first.message, first.hint, file=first.file, line=first.line)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


@dataclass(frozen=True)
class Problem:
    """One finding about a file: what `lint` lists and what a load error carries."""

    file: str
    message: str
    line: int | None = None
    hint: str | None = None
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        loc = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{loc}: {self.severity}: {self.message}"
        return f"{text} — {self.hint}" if self.hint else text

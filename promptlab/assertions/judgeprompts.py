"""The judges' prompts: prompt files like any other, versioned, shipped and overridable.

Which file a judged assertion sends, first found: the assertion's `judge_prompt:` (relative to
the suite file), the project's `<prompts_dir>/judges/<type>.yaml`, the packaged
`promptlab/data/judges/<type>.yaml`. promptlab fills the variables `question` (what was asked),
`context` (the passages, each as `[id] (source)` and its text) and `answer`; a judge prompt
declares those it uses and must use the ones its check needs.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from promptlab.errors import Problem, PromptFileError, PromptlabError

if TYPE_CHECKING:  # the prompt package (Jinja2) is imported when a judge prompt is loaded
    from promptlab.prompt import Prompt
    from promptlab.request import Request

PACKAGED = Path(__file__).resolve().parent.parent / "data" / "judges"
# The variables each judge needs (promptlab fills `question`, `context` and `answer`).
NEEDS = {
    "grounded": ("context", "answer"),
    "context-relevance": ("question", "context"),
    "answer-relevance": ("question", "answer"),
}
FILLED = ("question", "context", "answer")
SAMPLE = {"question": "How long do refunds take?", "context": "[1] (returns.md)\nFive days.",
          "answer": "Refunds take five days [1]."}  # fmt: skip


class BadJudgePrompt(Exception):
    """A judge prompt that cannot be used: `message` names the file (and line); `problem`
    says the same at the judge prompt's own file and line."""

    def __init__(self, message: str, hint: str | None = None, problem: Problem | None = None
                 ) -> None:  # fmt: skip
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.problem = problem


def _bad(path: Path, message: str, hint: str | None = None, line: int | None = None
         ) -> BadJudgePrompt:  # fmt: skip
    try:
        shown = str(path.relative_to(Path.cwd()))
    except ValueError:
        shown = str(path)
    where = f"{shown}:{line}" if line else shown
    problem = Problem(shown, f"judge prompt: {message}", line, hint)
    return BadJudgePrompt(f"judge prompt {where}: {message}", hint, problem)


def override(kind: str, prompts_dir: Path | None) -> Path | None:
    """The project's own judge prompt for `kind`, if it has one."""
    if prompts_dir is None:
        return None
    path = prompts_dir / "judges" / f"{kind}.yaml"
    return path if path.is_file() else None


def locate(kind: str, explicit: Path | None, prompts_dir: Path | None) -> Path:
    return explicit or override(kind, prompts_dir) or PACKAGED / f"{kind}.yaml"


@functools.lru_cache(maxsize=64)
def load(kind: str, path: Path) -> Prompt:
    """Load a judge prompt and check it renders with the variables promptlab fills.
    Raises BadJudgePrompt (one line: the file, its line, what is wrong)."""
    from promptlab.prompt import load_prompt

    try:
        prompt = load_prompt(path)
    except PromptFileError as exc:
        first = exc.problems[0]
        raise _bad(path, first.message, first.hint, first.line) from None
    except PromptlabError as exc:
        raise _bad(path, exc.message, exc.hint) from None
    other = [n for n, v in prompt.variables.items() if n not in FILLED and not v.has_default]
    if other:
        raise _bad(path, f"variable '{other[0]}' is not one promptlab fills",
                   f"a judge prompt gets {', '.join(FILLED)} (give '{other[0]}' a default)",
                   prompt.doc.line(("variables", other[0])) if prompt.doc else None)  # fmt: skip
    missing = [n for n in NEEDS[kind] if n not in prompt.variables]
    if missing:
        raise _bad(path, f"the {kind} judge needs the variable '{missing[0]}'",
                   f"declare {', '.join(NEEDS[kind])} under 'variables:' and use them")  # fmt: skip
    try:
        request(prompt, SAMPLE)
    except PromptlabError as exc:
        raise _bad(path, exc.message.removeprefix(f"{path}: "), exc.hint, exc.line) from None
    return prompt


def request(prompt: Prompt, values: dict[str, str]) -> Request:
    """The judge's Converse request: the prompt rendered with the values it declares, at its
    own inference settings."""
    from promptlab.prompt import render, resolve_vars

    used = {k: v for k, v in values.items() if k in prompt.variables}
    return render(prompt, resolve_vars(prompt, used)).request(prompt.inference)

"""What a run tells on stderr besides its results: notices, and a set-up failure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from promptlab.masking import mask
from promptlab.results import ErrorInfo, Result


def print_notices(err: Console, results: Sequence[Result]) -> None:
    """Each distinct notice of the results once, in order, each on one line (never wrapped at
    80 columns when stderr is a CI log)."""
    seen: set[str] = set()
    for r in results:
        for note in r.notices:
            if note not in seen:
                seen.add(note)
                err.print(Text(f"note: {mask(note)}", style="yellow"), soft_wrap=True)


def print_throttling(err: Console, lines: Sequence[str]) -> None:
    """The models a run slowed down because they were throttled, one line each."""
    for line in lines:
        err.print(Text(f"note: {mask(line)}", style="yellow"), soft_wrap=True)


def print_store_failure(err: Console, store: Any) -> None:
    """The history stopped being written mid-run (a full disk): said once more at the end."""
    line = store.incomplete() if store is not None else None
    if line:
        err.print(Text(f"warning: {mask(line)}", style="yellow"), soft_wrap=True)


def print_unreachable(err: Console, error: ErrorInfo) -> None:
    """Bedrock could not be used at all (endpoint, credentials): one line with the fix."""
    hint = f" — {error.hint}" if error.hint else ""
    err.print(Text(f"error: cannot reach Bedrock: {error.code}: {error.message}{hint}"),
              soft_wrap=True)  # fmt: skip

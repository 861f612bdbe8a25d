"""Which prompt a call ran: the small record every request, result and label names it by
(kept apart from results.py so that `render` need not load the result records)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PromptId:
    """Which prompt a call ran: name, version, content hash, and where it was read from."""

    name: str
    version: str
    hash: str
    path: str | None = None
    ref: str | None = None

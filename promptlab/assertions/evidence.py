"""The evidence an answer is checked against: a test case's `context:` or the call's passages.

A case's `context:` wins when it has one (it is the reference the author chose); otherwise the
passages the call was given (`Result.passages`, in the order the model saw them). Each passage
has an id the model cites as `[id]`: the retrieved one's own, or "1", "2", … for a case context.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from promptlab.assertions.base import Context, Verdict

CONTEXT_KEYS = ("text", "source")
# `[1]`, `[1, 3]`, `[2; 4]`: the citation markers an answer cites passages by.
MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
NO_EVIDENCE = (
    "no evidence to check against: the call was given no passages and the case has no "
    "'context:' (add one to the test case)"
)


@dataclass(frozen=True)
class Passage:
    """One piece of evidence: `id` is what the answer cites it by (`[id]`)."""

    id: str
    text: str
    source: str | None = None
    cited: bool | None = None  # the service's own citation report, when it gives one

    @property
    def label(self) -> str:
        return f"[{self.id}] {self.source}" if self.source else f"[{self.id}]"


@dataclass(frozen=True)
class Evidence:
    passages: tuple[Passage, ...]
    origin: str  # "case context" | "passages"

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.passages)

    def describe(self) -> str:
        n = len(self.passages)
        if self.origin == "case context":
            return "the case context" + (f" ({n} passages)" if n > 1 else "")
        return f"{n} retrieved passage" + ("s" if n != 1 else "")

    def formatted(self) -> str:
        """The passages as a judge reads them: `[id] (source)` then the text."""
        return "\n\n".join(
            f"[{p.id}]" + (f" ({p.source})" if p.source else "") + f"\n{p.text}"
            for p in self.passages
        )

    def records(self) -> list[dict[str, Any]]:
        return [{"id": p.id, "text": p.text, "source": p.source} for p in self.passages]


def read_context(value: Any) -> tuple[tuple[Passage, ...], str | None]:
    """A case's `context:` (a string, or a list of strings or `{text, source}` mappings) as
    passages with ids "1", "2", …; or a problem message."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        return (), (f"'context' must be a text or a non-empty list of texts or "
                    f"{{text, source}} mappings, got {value!r}")  # fmt: skip
    out: list[Passage] = []
    for i, item in enumerate(items, 1):
        if isinstance(item, dict):
            unknown = [k for k in item if k not in CONTEXT_KEYS]
            if unknown:
                return (), f"context item {i}: unknown key '{unknown[0]}' (use text, source)"
            text, source = item.get("text"), item.get("source")
            if source is not None and not isinstance(source, str):
                return (), f"context item {i}: 'source' must be a string, got {source!r}"
        else:
            text, source = item, None
        if not isinstance(text, str) or not text.strip():
            return (), f"context item {i} needs a non-empty text, got {text!r}"
        out.append(Passage(str(i), text, source))
    return tuple(out), None


def retrieved(passages: Sequence[dict[str, Any]]) -> tuple[Passage, ...]:
    """`Result.passages` records as Passages (a record without an id gets its place)."""
    out = []
    for i, p in enumerate(passages, 1):
        cited = p.get("cited")
        out.append(Passage(str(p.get("id") or i), str(p.get("text") or ""),
                           str(p["source"]) if p.get("source") else None,
                           cited if isinstance(cited, bool) else None))  # fmt: skip
    return tuple(out)


def evidence(ctx: Context) -> Evidence | None:
    """The case's context if it has one, else the call's passages; None when neither."""
    if ctx.case_context:
        return Evidence(tuple(ctx.case_context), "case context")
    passages = retrieved(ctx.result.passages)
    return Evidence(passages, "passages") if passages else None


def no_evidence() -> Verdict:
    return Verdict(False, 0.0, NO_EVIDENCE, broken=True)


def cited_ids(text: str) -> list[str]:
    """The ids the answer's `[n]` markers cite, in order, each once."""
    ids: list[str] = []
    for m in MARKER.finditer(text):
        for part in re.split(r"\s*[,;]\s*", m.group(1)):
            if part not in ids:
                ids.append(part)
    return ids


_MARKERS = re.compile(r"[ \t]*" + MARKER.pattern)


def without_markers(text: str) -> str:
    """The text with its citation markers (and the spaces before them) left out."""
    return _MARKERS.sub("", text)

"""A model answer as the parts every view shows: the text (or the structured value, pretty),
the tool calls of a scripted exchange with the results sent back, the sources it cited, why a
structured answer did not validate, and what a guardrail did.

Pure and shared: the run table, the live view, Markdown, `log show`, the test details and the
HTML report all draw an answer from `answer_of(result)`, so they agree. Every string here is
made inert (control characters visible); views add only their own escaping (Markdown, HTML).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from promptlab.guardrails import outcome
from promptlab.results import Result
from promptlab.views.sanitize import dumps, inert

if TYPE_CHECKING:
    from rich.text import Text

CALL_LIMIT = 300  # characters of a tool call line (`name(arg=…)`)
RESULT_LIMIT = 100  # characters of the tool result shown after `←`
QUOTE_LIMIT = 120  # characters of a cited passage
INVALID = "✗ not valid against output_schema"
REASONING_LINES = 4  # lines of reasoning the run table shows (`run --show-reasoning`: all)
REASONING_CHARS = 400  # ... and at most this many characters of them
REDACTED = "(redacted by the provider)"


def short(text: str, limit: int) -> str:
    """`text` on one line (whitespace runs collapsed), inert, cut to `limit` with an ellipsis."""
    line = " ".join(inert(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass(frozen=True)
class ToolCall:
    """One tool the model called: `call` is `get_weather(city="Lima")`; `result` what the
    exchange sent back (shortened), None when nothing was (the exchange stopped there)."""

    name: str
    input: Any
    call: str
    result: str | None = None
    failed: bool = False  # the result was sent with status "error"

    @property
    def result_line(self) -> str | None:
        if self.result is None:
            return None
        return f"error: {self.result}" if self.failed else self.result


@dataclass(frozen=True)
class Source:
    """One cited passage: `where` is `returns-policy p.2`, `quote` the passage (shortened)."""

    where: str
    quote: str = ""

    def line(self) -> str:
        return f'{self.where}: "{self.quote}"' if self.quote else self.where


@dataclass(frozen=True)
class Answer:
    text: str  # the structured value as indented JSON when it parsed and validated, else the text
    structured: bool = False  # `text` is a structured value (JSON)
    invalid: str | None = None  # why a structured answer did not parse or validate
    calls: tuple[ToolCall, ...] = ()
    sources: tuple[Source, ...] = ()
    model_calls: int = 1  # model calls made: more than one in a tool exchange
    reasoning: str = ""  # the reasoning text, shown apart from the answer (views decide where)
    redacted: bool = False  # some of the reasoning was redacted by the provider

    @property
    def has_reasoning(self) -> bool:
        return bool(self.reasoning) or self.redacted

    def reasoning_text(self, *, full: bool = True) -> tuple[str, int]:
        """The reasoning to show and how many characters were left out: all of it, or (not
        `full`) its first REASONING_LINES lines, at most REASONING_CHARS characters. Redacted
        reasoning is said to be."""
        text = self.reasoning
        if self.redacted:
            text = f"{text}\n\n{REDACTED}" if text else REDACTED
        if full:
            return text, 0
        shown = "\n".join(text.splitlines()[:REASONING_LINES])[:REASONING_CHARS]
        left = len(text) - len(shown)
        return (shown if not left else shown.rstrip() + "…"), left

    guardrail: str | None = None  # what the guardrail did (guardrails.Outcome.line)
    blocked: bool = False  # the guardrail intervened
    images: tuple[str, ...] = ()  # an image model's answer: a line per image (views.images)

    @property
    def exchange(self) -> str | None:
        """`2 model calls (tool exchange)`, when the answer took more than one call."""
        return f"{self.model_calls} model calls (tool exchange)" if self.model_calls > 1 else None

    @property
    def invalid_line(self) -> str | None:
        return f"{INVALID}: {self.invalid}" if self.invalid is not None else None

    def lines(self) -> list[tuple[str, str]]:
        """The answer as (kind, line) pairs for text views, sections apart by a blank line.

        Kinds: blocked, invalid, text, image, call, result, sources (the heading), source, note,
        blank."""
        sections: list[list[tuple[str, str]]] = []
        if self.guardrail:
            sections.append([("blocked" if self.blocked else "note", self.guardrail)])
        if self.invalid_line:
            sections.append([("invalid", self.invalid_line)])
        if self.images:
            sections.append([("image", line) for line in self.images])
        if self.text:
            sections.append([("text", self.text)])
        if self.calls:
            calls: list[tuple[str, str]] = []
            for c in self.calls:
                calls.append(("call", f"→ {c.call}"))
                if c.result_line is not None:
                    calls.append(("result", f"  ← {c.result_line}"))
            sections.append(calls)
        if self.sources:
            sources = [("sources", "sources")]
            sources += [("source", f"[{n}] {s.line()}") for n, s in enumerate(self.sources, 1)]
            sections.append(sources)
        if self.exchange:
            sections.append([("note", self.exchange)])
        out: list[tuple[str, str]] = []
        for section in sections:
            if out:
                out.append(("blank", ""))
            out.extend(section)
        return out

    def plain(self) -> str:
        """The answer as plain text, one part under another."""
        return "\n".join(line for _, line in self.lines())


STYLES = {"blocked": "bold red", "invalid": "bold red", "call": "cyan", "result": "dim",
          "sources": "bold", "note": "dim", "image": "green"}  # fmt: skip


def rich_text(answer: Answer) -> Text:
    """The answer for a terminal: a Rich Text (never markup), each part in its style."""
    from rich.text import Text

    text = Text()
    for n, (kind, line) in enumerate(answer.lines()):
        if n:
            text.append("\n")
        text.append(line, style=STYLES.get(kind, ""))
    return text


def answer_of(r: Result) -> Answer:
    """The parts of `r`'s answer to show. A failed call keeps only the text that arrived."""
    text = shown_text(r)
    invalid = None
    structured = False
    if r.structured and not r.error:
        if r.structured.get("error") is None:
            text, structured = inert(dumps(r.structured.get("value"), indent=2)), True
        else:
            invalid = inert(str(r.structured["error"]))
    calls = tuple(tool_call(c) for c in r.tool_calls())
    asked = sum(1 for t in r.turns if isinstance(t, dict) and t.get("role") == "assistant")
    guard = outcome(r)
    images: tuple[str, ...] = ()
    if r.images:
        from promptlab.views.images import image_line

        images = tuple(image_line(i) for i in r.images)
    return Answer(text=text, structured=structured, invalid=invalid, calls=calls,
                  sources=sources(r.content), model_calls=1 + asked,
                  reasoning=inert(r.reasoning), redacted=r.reasoning_redacted,
                  guardrail=inert(guard.line()) if guard else None,
                  blocked=bool(guard and guard.intervened), images=images)  # fmt: skip


def shown_text(r: Result) -> str:
    """The answer's text: `r.output`, unless cited passages hold text of their own (Converse
    puts cited text in `citationsContent` blocks), then every text part in order."""
    blocks = [b for b in r.content if isinstance(b, dict)]
    cited = any(not isinstance(b.get("text"), str) and _cited_text(b) for b in blocks)
    if not cited:
        return inert(r.output)
    parts = [b["text"] if isinstance(b.get("text"), str) else _cited_text(b) for b in blocks]
    return inert("".join(parts))


def _cited_text(block: dict[str, Any]) -> str:
    cc = block.get("citationsContent")
    if not isinstance(cc, dict):
        return ""
    said = [p.get("text") for p in cc.get("content") or [] if isinstance(p, dict)]
    return "".join(s for s in said if isinstance(s, str))


def tool_call(c: dict[str, Any]) -> ToolCall:
    """A `Result.tool_calls()` entry as a ToolCall: the call and its result on one line each."""
    from promptlab.exchange import call_text  # imports the prompt package: only when needed

    name = str(c.get("name") or "tool")
    sent = c.get("result")
    call = ToolCall(inert(name), c.get("input"), short(call_text(name, c.get("input")), CALL_LIMIT))
    if not isinstance(sent, dict):
        return call
    result = short(result_text(sent.get("content")), RESULT_LIMIT)
    return replace(call, result=result, failed=sent.get("status") == "error")


def result_text(content: Any) -> str:
    """A tool result's content blocks as text: JSON as JSON, text as is, media by kind."""
    parts: list[str] = []
    for b in content if isinstance(content, list) else []:
        if isinstance(b, dict) and "json" in b:
            parts.append(dumps(b["json"]))
        elif isinstance(b, dict) and isinstance(b.get("text"), str):
            parts.append(b["text"])
        elif isinstance(b, dict) and b:
            parts.append(f"[{next(iter(b))}]")
    return " ".join(parts)


def sources(content: Sequence[Any]) -> tuple[Source, ...]:
    """Every citation in the answer's content blocks, in order, each passage once."""
    out: dict[Source, None] = {}
    for b in content:
        cc = b.get("citationsContent") if isinstance(b, dict) else None
        if not isinstance(cc, dict):
            continue
        for c in cc.get("citations") or []:
            if isinstance(c, dict):
                out.setdefault(source(c), None)
    return tuple(out)


def source(c: dict[str, Any]) -> Source:
    """`returns-policy p.2` and the quoted passage, from a Converse citation."""
    location = c.get("location")
    kind, at = next(iter(location.items()), ("", {})) if isinstance(location, dict) else ("", {})
    at = at if isinstance(at, dict) else {}
    title = c.get("title") or c.get("source")
    if not title:
        index = at.get("documentIndex")
        title = f"document {index}" if index is not None else "source"
    where = " ".join(p for p in (short(str(title), 80), short(place(kind, at), 80)) if p)
    quoted = [s["text"] for s in c.get("sourceContent") or []
              if isinstance(s, dict) and isinstance(s.get("text"), str)]  # fmt: skip
    return Source(where, short(" … ".join(quoted), QUOTE_LIMIT))


def place(kind: str, at: dict[str, Any]) -> str:
    """Where in the document: `p.2`, `pp.2–3`, `chars 0–30`, `chunk 4` (ends are exclusive)."""
    start, end = at.get("start"), at.get("end")
    if kind in ("documentPage", "documentChunk"):
        one, many = ("p.", "pp.") if kind == "documentPage" else ("chunk ", "chunks ")
        if not isinstance(start, int):
            return ""
        if not isinstance(end, int) or end <= start + 1:
            return f"{one}{start}"
        return f"{many}{start}–{end - 1}"
    if kind == "documentChar":
        return f"chars {start}–{end}" if isinstance(start, int) and isinstance(end, int) else ""
    if kind == "web":
        return str(at.get("domain") or at.get("url") or "")
    if kind == "searchResultLocation" and at.get("searchResultIndex") is not None:
        return f"search result {at['searchResultIndex']}"
    return ""

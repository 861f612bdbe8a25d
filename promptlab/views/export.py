"""Machine-readable renderings of results: JSON, JSONL and Markdown (no terminal decoration)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from promptlab.results import Result
from promptlab.views.answer import Answer, ToolCall, answer_of
from promptlab.views.format import (
    NOT_REAL,
    ms,
    served_label,
    summarize,
    token_usage,
    usd,
    vars_label,
)
from promptlab.views.sanitize import dumps, inert


def to_json(results: Sequence[Result]) -> str:
    return dumps([r.to_dict() for r in results], indent=2)


def to_jsonl(results: Sequence[Result]) -> str:
    return "\n".join(dumps(r.to_dict()) for r in results)


def md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell: inert, pipes escaped, newlines as <br>."""
    text = inert(text).replace("\\", "\\\\").replace("|", "\\|")
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\n", "<br>")


def md_text(text: str) -> str:
    """Inert text for a Markdown table cell: no formatting, links, HTML or @-mentions."""
    text = md_cell(text)
    for ch in "`*_[]~":
        text = text.replace(ch, "\\" + ch)
    return text.replace("@", "&#64;")


def code_span(text: str) -> str:
    """Inline code outside a table: shown literally, so nothing is escaped but backticks."""
    text = inert(text).replace("\n", " ")
    fence = "`" * (max((len(m) for m in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def groups(results: Sequence[Result]) -> list[list[Result]]:
    """Results grouped by case (a test case or a vars set): one comparison each."""
    out: dict[str | None, list[Result]] = {}
    for r in results:
        out.setdefault(r.case, []).append(r)
    return list(out.values())


def _passages(r: Result) -> str:
    """`[1] refunds.md score 1.27; [2] …` (a table cell: one line)."""
    from promptlab.views.rendered import passage_line

    return "; ".join(" ".join(passage_line(p).split()) for p in r.passages) or "–"


def to_markdown(results: Sequence[Result], *, title: str | None = None) -> str:
    lines: list[str] = []
    if results:
        first = results[0]
        lines.append(title or f"## {first.prompt_name} v{first.prompt_version}")
        lines.append("")
    versions = len({(r.prompt_hash, r.prompt_ref) for r in results}) > 1
    for group in groups(results):
        if group[0].case:
            lines.append(f"**{md_cell(group[0].case)}**")
            lines.append("")
        if group[0].vars:
            lines.append(f"**vars:** {code_span(vars_label(group[0].vars, 200))}")
            lines.append("")
        heads: list[str] = []
        for r in group:
            head = (
                r.model_alias if r.model_id == r.model_alias else f"{r.model_alias} ({r.model_id})"
            )
            if versions:
                head = f"v{r.prompt_version} · {head}"
            if not r.real_model:
                head += f" — {NOT_REAL}"
            if r.retrieval:
                head += f" · retrieve {r.retrieval}"
            heads.append(md_cell(head))
        lines.append("| | " + " | ".join(heads) + " |")
        lines.append("|---|" + "---|" * len(group))
        answers = [answer_of(r) for r in group]
        rows = {"output": [_output(r) for r in group]}
        if any(a.has_reasoning for a in answers):
            rows["reasoning"] = [_reasoning(a) for a in answers]
        if any(served_label(r) for r in group):
            rows["served"] = [served_label(r) or "–" for r in group]
        if any(r.passages for r in group):
            rows["passages"] = [_passages(r) for r in group]
        rows |= {
            "stop reason": [r.stop_reason or "–" for r in group],
            "tokens in / out": [token_usage(r) for r in group],
            "latency (service / wall)": [f"{ms(r.latency_ms)} / {ms(r.wall_ms)}" for r in group],
            "time to first token": [ms(r.ttft_ms) for r in group],
            "cost": [
                "–"
                if r.error
                else usd(r.cost_usd, real=r.real_model) + (" (cached)" if r.cached else "")
                for r in group
            ],
        }
        for name, cells in rows.items():
            lines.append(f"| **{name}** | " + " | ".join(md_cell(c) for c in cells) + " |")
        lines.append("")
        for head, r in zip(heads, group, strict=True):
            lines += _parts(head, r)
    lines.append(summarize(results).line())
    return "\n".join(lines) + "\n"


def _output(r: Result) -> str:
    """The output cell: the text, and pointers to the parts listed under the table."""
    if r.error:
        hint = f" ({r.error.hint})" if r.error.hint else ""
        return f"ERROR {r.error.code}: {r.error.message}{hint}"
    a = answer_of(r)
    below = [f"{len(a.calls)} tool call(s) below" if a.calls else "",
             f"{len(a.sources)} source(s) below" if a.sources else "",
             a.exchange or ""]  # fmt: skip
    parts = [a.guardrail or "", a.invalid_line or "",
             "structured output: JSON below" if a.structured else a.text,
             "\n".join(a.images), "\n".join(line for line in below if line)]  # fmt: skip
    return "\n\n".join(part for part in parts if part)


def _reasoning(a: Answer) -> str:
    """The reasoning cell: its first lines, pointing to the whole of it below the table."""
    if not a.has_reasoning:
        return "–"
    shown, left = a.reasoning_text(full=False)
    return shown + (f"\n(+{left:,} characters: in full below)" if left else "")


def _parts(head: str, r: Result) -> list[str]:
    """Under the table: the reasoning in full, a structured value as a JSON block, tool calls
    as a list, sources as a numbered list (nothing for an answer that is only text)."""
    a = answer_of(r)
    cut = a.reasoning_text(full=False)[1] > 0
    if r.error or not (a.structured or a.calls or a.sources or cut or a.images):
        return []
    lines = [f"**{head}**", ""]
    if a.images:
        lines += [*image_embeds(r), ""]
    if cut:
        lines += ["Reasoning:", "", *fenced(a.reasoning_text()[0], "text"), ""]
    if a.structured:
        lines += [*fenced(a.text, "json"), ""]
    if a.calls:
        lines += ["Tool calls:", ""]
        lines += [f"- {code_span(c.call)}" + _sent(c) for c in a.calls]
        lines.append("")
    if a.sources:
        lines += ["Sources:", ""]
        lines += [f"{n}. {md_text(s.line())}" for n, s in enumerate(a.sources, 1)]
        lines.append("")
    return lines


def image_embeds(r: Result) -> list[str]:
    """The images of an answer as Markdown images (paths as the reader types them)."""
    from promptlab.views.images import shown_path

    out = []
    for image in r.images:
        if image.get("path"):
            seed = image.get("seed")
            alt = md_text(r.model_alias + (f" seed {seed}" if seed is not None else ""))
            out.append(f"![{alt}]({shown_path(str(image['path'])).replace(' ', '%20')})")
    return out


def _sent(c: ToolCall) -> str:
    line = c.result_line
    return "" if line is None else f" → {code_span(line)}"


def fenced(text: str, lang: str = "") -> list[str]:
    """A fenced code block around `text`, its fence longer than any backtick run inside."""
    text = inert(text)
    fence = "`" * max(3, max((len(m) for m in re.findall("`+", text)), default=0) + 1)
    return [f"{fence}{lang}", text, fence]

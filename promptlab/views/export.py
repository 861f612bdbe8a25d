"""Machine-readable renderings of results: JSON, JSONL and Markdown (no terminal decoration)."""

from __future__ import annotations

from collections.abc import Sequence

from promptlab.results import Result
from promptlab.views.format import NOT_REAL, ms, summarize, tokens, usd, vars_label
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


def code_span(text: str) -> str:
    """Inline code outside a table: shown literally, so nothing is escaped but backticks."""
    import re

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
        heads = []
        for r in group:
            head = (
                r.model_alias if r.model_id == r.model_alias else f"{r.model_alias} ({r.model_id})"
            )
            if versions:
                head = f"v{r.prompt_version} · {head}"
            if not r.real_model:
                head += f" — {NOT_REAL}"
            heads.append(md_cell(head))
        lines.append("| | " + " | ".join(heads) + " |")
        lines.append("|---|" + "---|" * len(group))
        rows = {
            "output": [_output(r) for r in group],
            "stop reason": [r.stop_reason or "–" for r in group],
            "tokens in / out": [
                f"{tokens(r.input_tokens, r.tokens_estimated)} / "
                f"{tokens(r.output_tokens, r.tokens_estimated)}"
                for r in group
            ],
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
    lines.append(summarize(results).line())
    return "\n".join(lines) + "\n"


def _output(r: Result) -> str:
    if r.error:
        hint = f" ({r.error.hint})" if r.error.hint else ""
        return f"ERROR {r.error.code}: {r.error.message}{hint}"
    return r.output

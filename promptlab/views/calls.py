"""Recorded calls (`promptlab log`, `log show`): a table, one call in full, JSON and CSV.

Model output (and anything read back from the store) is untrusted: tables show it through
views.sanitize; JSON keeps every control character escaped.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from promptlab.guardrails import INTERVENED
from promptlab.store.core import row_to_result
from promptlab.views.format import local_time, ms, reasoning_share, served_label, tokens, usage, usd
from promptlab.views.sanitize import dumps, inert

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

CSV_COLUMNS = (
    "id", "timestamp", "run_id", "command", "prompt", "version", "prompt_hash", "git_commit",
    "git_dirty", "model_alias", "model_id", "region", "case", "repeat_index", "cached",
    "stop_reason", "input_tokens", "output_tokens", "latency_ms", "wall_ms", "ttft_ms",
    "cost_usd", "error_code", "error_message", "output",
)  # fmt: skip


def row_dict(row: sqlite3.Row) -> dict[str, Any]:
    """A history row as JSON: the Result schema plus id, timestamp, command and git state."""
    return {
        "id": row["id"],
        "timestamp": datetime.fromtimestamp(row["ts"]).astimezone().isoformat(timespec="seconds"),
        "command": row["command"],
        "git": {
            "commit": row["git_commit"],
            "dirty": None if row["git_dirty"] is None else bool(row["git_dirty"]),
        },
        "cached_from": row["cached_from"],
        **row_to_result(row).to_dict(),
    }


def to_csv(rows: Iterable[sqlite3.Row]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow([
            r["id"], local_time(r["ts"], "%Y-%m-%dT%H:%M:%S"), r["run_id"], r["command"],
            r["prompt_name"], r["prompt_version"], r["prompt_hash"], r["git_commit"],
            _flag(r["git_dirty"]), r["model_alias"], r["model_id"], r["region"], r["case_name"],
            r["repeat_index"], _flag(r["cached"]), r["stop_reason"], r["input_tokens"],
            r["output_tokens"], r["latency_ms"], r["wall_ms"], r["ttft_ms"], r["cost_usd"],
            r["error_code"], inert(r["error_message"] or ""), inert(r["output"]),
        ])  # fmt: skip
    return buf.getvalue()


def _unsaid(row: sqlite3.Row) -> str:
    """What an answer without text did: its tool calls (and the rest of its parts)."""
    from promptlab.views.answer import answer_of

    return answer_of(row_to_result(row)).plain()


def _flag(value: int | None) -> str:
    return "" if value is None else ("true" if value else "false")


def _snippet(text: str, width: int | None = 60) -> str:
    """The text on one line, cut to `width` (None: whole)."""
    line = " ".join(inert(text).split())
    return line if width is None or len(line) <= width else line[: width - 1] + "…"


def model_name(typed: str, model_id: str, *, short: bool = False) -> str:
    """The model as `-m` named it; a full id gets its shipped alias beside it, so that
    `amazon.nova-lite-v1:0 (nova-lite)` and `nova-lite` read as one model (short: the alias
    alone, where room is tight)."""
    from promptlab.modellist import alias_of

    alias = alias_of(model_id) if typed == model_id else None
    if alias is None:
        return typed
    return alias if short else f"{typed} ({alias})"


NAMES = ("id", "time", "run", "prompt", "model", "status", "ms", "tokens", "cost", "output")
NUMERIC = ("id", "ms", "tokens", "cost")
DROPPABLE = ("tokens", "cost", "ms", "time")  # given up, in this order, before the identity
MIN_OUTPUT = 20
MIN_SNIPPET = 8


def calls_table(rows: list[sqlite3.Row], width: int | None = 120) -> Table:
    """One line per call; the run column shows the run id's random suffix (`--run` takes it).

    Identifying columns (prompt, model, status) are never cut; the output column gets the width
    that is left (all of the output on one line when `width` is None: piped, no limit). Where
    that leaves the output too narrow, full model ids give way to their aliases, then tokens,
    cost, ms and time are dropped.
    """
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    today = datetime.now().date()
    cells: list[list[Any]] = []
    for r in rows:
        if r["error_code"]:
            status = Text(inert(r["error_code"]), style="red")
            shown = r["error_message"] or ""
        else:
            status = Text("cached", style="cyan") if r["cached"] else Text("ok", style="green")
            if r["stop_reason"] == INTERVENED:
                status = Text("blocked", style="yellow")  # by a guardrail
            shown = r["output"] or _unsaid(r)
        when = datetime.fromtimestamp(r["ts"])
        cells.append([
            str(r["id"]), when.strftime("%H:%M:%S" if when.date() == today else "%m-%d %H:%M"),
            Text(inert(r["run_id"][-6:])), Text(inert(f"{r['prompt_name']}@{r['prompt_version']}")),
            model_name(r["model_alias"], r["model_id"]), status,
            ms(r["latency_ms"], unit=False),
            f"{tokens(r['input_tokens'] or 0)}/{tokens(r['output_tokens'] or 0)}",
            "" if r["cost_usd"] is None else usd(r["cost_usd"]),
            shown,
        ])  # fmt: skip
    columns = list(range(len(NAMES) - 1))
    model = NAMES.index("model")

    def sizes() -> list[int]:
        return [max([len(NAMES[i]), *(len(str(c[i])) for c in cells)]) for i in columns]

    def left() -> int:  # the width the output column would get
        return (width or 0) - sum(sizes()) - 2 * len(columns)

    if width is not None and left() < MIN_OUTPUT:
        for c, r in zip(cells, rows, strict=True):
            c[model] = model_name(r["model_alias"], r["model_id"], short=True)
    for name in DROPPABLE:
        if width is None or left() >= MIN_OUTPUT:
            break
        columns.remove(NAMES.index(name))
    for c in cells:
        c[model] = Text(inert(c[model]))
    output = width is None or left() >= MIN_SNIPPET  # else no room at all: `log show ID`
    for i, size in zip(columns, sizes(), strict=True):
        table.add_column(NAMES[i], justify="right" if NAMES[i] in NUMERIC else "left",
                         no_wrap=True, min_width=size)  # fmt: skip
    if output:
        table.add_column("output", no_wrap=True, overflow="ellipsis")
    for c in cells:
        snippet = [Text(_snippet(c[-1], None if width is None else left()))] if output else []
        table.add_row(*(c[i] for i in columns), *snippet)
    return table


def call_detail(row: sqlite3.Row) -> list[RenderableType]:
    """One call in full: identity, request, output, usage, timing, cost, error."""
    from rich.table import Table
    from rich.text import Text

    from promptlab.views.answer import answer_of, rich_text

    result = row_to_result(row)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()

    def fact(name: str, value: Any) -> None:
        if value not in (None, "", {}, []):
            facts.add_row(name, Text(inert(str(value))))

    fact("call", row["id"])
    fact("time", datetime.fromtimestamp(row["ts"]).astimezone().isoformat(timespec="seconds"))
    fact("run", f"{row['run_id']} ({row['command']})")
    fact("prompt", f"{result.prompt_name} v{result.prompt_version} ({result.prompt_hash[:12]})")
    fact("prompt file", result.prompt_path)
    if row["git_commit"]:
        fact("git", row["git_commit"][:12] + (" (dirty)" if row["git_dirty"] else ""))
    if result.model_alias == result.model_id:
        fact("model", model_name(result.model_alias, result.model_id))
    else:
        fact("model", f"{result.model_alias} → {result.model_id}")
    fact("served", served_label(result) or None)
    fact("region", result.region)
    fact("case", result.case)
    if result.repeat_index:
        fact("repeat", result.repeat_index)
    fact("vars", dumps(result.vars) if result.vars else None)
    fact("params", dumps(result.params) if result.params else None)
    labels = result.request.get("requestMetadata") or {}
    fact("metadata", " ".join(f"{k}={v}" for k, v in labels.items()))
    status = "error" if result.error else ("cached" if result.cached else "ok")
    if result.cached and row["cached_from"]:
        status += f" (answer from run {row['cached_from']})"
    fact("status", status)
    fact("stop reason", result.stop_reason)
    used = usage(result.input_tokens or 0, result.output_tokens or 0, result.cache_read_tokens,
                 result.cache_write_tokens, words=True)  # fmt: skip
    used += reasoning_share(result)
    fact("tokens", used + (" (estimated)" if result.tokens_estimated else ""))
    fact("latency", None if result.latency_ms is None else ms(result.latency_ms))
    fact("first token", None if result.ttft_ms is None else ms(result.ttft_ms))
    fact("wall", None if result.wall_ms is None else ms(result.wall_ms))
    fact("cost", None if result.cost_usd is None else usd(result.cost_usd))
    for note in result.notices:
        fact("note", note)
    parts: list[RenderableType] = [facts]
    for block in result.request.get("system") or []:
        if "text" in block:
            parts.append(_panel(Text(inert(block["text"])), "system"))
    for message in result.request.get("messages") or []:
        text = "\n".join(b["text"] for b in message.get("content", []) if "text" in b)
        parts.append(_panel(Text(inert(text)), str(message.get("role"))))
    if result.passages:
        from promptlab.views.rendered import passage_line

        title = "passages" + (f" (retrieve {result.retrieval})" if result.retrieval else "")
        lines = "\n".join(passage_line(p) for p in result.passages)
        parts.append(_panel(Text(lines, style="dim"), inert(title)))
    answer = answer_of(result)
    if answer.has_reasoning:
        parts.append(_panel(Text(answer.reasoning_text()[0], style="dim"), "reasoning"))
    if result.error:
        err = f"{result.error.code}: {result.error.message}"
        if result.error.hint:
            err += f"\nhint: {result.error.hint}"
        parts.append(_panel(Text(inert(err), style="red"), "error"))
    else:
        parts.append(_panel(rich_text(answer), "output"))
    return parts


def _panel(text: Text, title: str) -> Panel:
    """A titled box as wide as its text (up to the console's width): never padded wider."""
    from rich.panel import Panel

    return Panel(text, title=title, title_align="left", expand=False)

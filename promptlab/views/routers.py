"""Prompt routers: `models --routers` (the account's routers and their members) and a router
compared with its members on the same cases (routers.compare), under `run` and `test`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from promptlab.views.format import usd
from promptlab.views.sanitize import inert

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from promptlab.routers import RouterCase, RouterRow


def print_routers(rows: Sequence[RouterRow], region: str | None) -> None:
    """The routers: ARN (pass to -m), name, type, members, fallback model, quality setting."""
    from rich.table import Table
    from rich.text import Text

    from promptlab.catalogue import alias_for
    from promptlab.views.console import room, show, stdout

    console = stdout()
    if not rows:
        where = f" in {region}" if region else ""
        show(console, Text(f"no prompt routers{where}", style="dim"))
        return

    def name(model_id: str | None) -> str:
        return (alias_for(model_id) or model_id or "") if model_id else ""

    table = Table(title=f"prompt routers in {region}" if region else "prompt routers",
                  title_justify="left")  # fmt: skip
    width = room(console)  # None: piped, every column
    columns = ["ARN (pass to -m)", "name", "type", "models", "fallback", "quality diff", "status"]
    keep = columns if width is None or width >= 130 else ["ARN (pass to -m)", "models"]
    table.box, table.pad_edge = None, False
    lines = []
    for r in rows:
        diff = "" if r.quality_difference is None else f"{r.quality_difference:g}"
        cells = [r.arn, r.name, r.type, ", ".join(name(m) for m in r.models),
                 name(r.fallback_model), diff, r.status]  # fmt: skip
        lines.append([inert(c) for c, col in zip(cells, columns, strict=True) if col in keep])
    for i, column in enumerate(keep):  # wrapped between words, never inside an id
        words = [w for line in lines for w in line[i].split()]
        table.add_column(column, no_wrap=i == 0, min_width=max(map(len, words), default=None))
    for line in lines:
        table.add_row(*[Text(c) for c in line])
    show(console, table)


def comparison_table(cases: Sequence[RouterCase]) -> Table:
    """Per case: whom the router chose, its cost, the most expensive member's, what the
    router saved, and the quality of both where measured (pass rate, or rating)."""
    from rich.table import Table
    from rich.text import Text

    quality = any(c.quality is not None or c.large_quality is not None for c in cases)
    routers = list(dict.fromkeys(c.router for c in cases))
    one = len(routers) == 1  # its name goes in the title, not in a column
    title = f"prompt router {routers[0]} vs its most expensive member" if one else (
        "prompt routers vs their most expensive member")  # fmt: skip
    table = Table(title=inert(title) + ", per case", title_justify="left", box=None,
                  pad_edge=False, header_style="bold")  # fmt: skip
    names = ["case", *([] if one else ["router"]), "chose", "cost", "member", "its cost", "saved"]
    names += ["quality", "member's", "Δ quality"] if quality else []
    texts = ("case", "router", "chose", "member")
    for column in names:
        table.add_column(column, justify="left" if column in texts else "right", no_wrap=True,
                         overflow="fold")  # fmt: skip
    for c in cases:
        cells = [inert(c.case or "–"), *([] if one else [inert(c.router)]),
                 inert(c.chose or "(failed)"), usd(c.cost_usd), inert(c.large or ""),
                 usd(c.large_cost_usd),
                 usd(c.saved_usd) if c.saved_usd is not None else "unknown"]  # fmt: skip
        if quality:
            cells += [_share(c.quality), _share(c.large_quality), _delta(c.quality_delta)]
        table.add_row(*[Text(x) for x in cells])
    return table


def summary_line(cases: Sequence[RouterCase]) -> str:
    """`router chose claude-haiku 7×, claude-sonnet 3×; saved $0.0123 over 10 case(s) against
    always claude-sonnet; quality −0.10`."""
    picks = Counter(c.chose or "(failed)" for c in cases)
    chose = ", ".join(f"{m} {n}×" for m, n in picks.most_common())
    saved = [c.saved_usd for c in cases]
    total = usd(round(sum(s for s in saved if s is not None), 8)) if None not in saved else (
        "unknown (some prices unknown)")  # fmt: skip
    larges = ", ".join(dict.fromkeys(c.large or "" for c in cases))
    line = f"router chose {chose}; saved {total} over {len(cases)} case(s) against {larges}"
    deltas = [c.quality_delta for c in cases if c.quality_delta is not None]
    if deltas:
        line += f"; quality {_delta(round(sum(deltas) / len(deltas), 4))} on average"
    return inert(line)


def print_comparison(console: Console, cases: Sequence[RouterCase]) -> None:
    """The comparison and its summary line; nothing when no router ran beside a member."""
    if not cases:
        return
    console.print(comparison_table(cases))
    console.print(summary_line(cases), highlight=False, soft_wrap=True)


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _delta(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 100:+.0f} pts" if value else "0"

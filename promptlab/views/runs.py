"""Recorded runs (`promptlab log runs`): a table, and one JSON object (or CSV row) per run."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from promptlab.views.format import local_time, usd
from promptlab.views.sanitize import inert

if TYPE_CHECKING:
    from rich.table import Table


RUN_FIELDS = ("run_id", "command", "started", "resumed", "git_commit", "git_dirty", "calls",
              "errors", "cached", "cost_usd")  # fmt: skip


def run_dict(r: sqlite3.Row) -> dict[str, Any]:
    """A run as JSON: id (for --run and --resume), command, times, git state, counts, cost."""
    return {
        "run_id": r["id"], "command": r["command"],
        "started": local_time(r["started_ts"], "%Y-%m-%dT%H:%M:%S"),
        "resumed": local_time(r["resumed_ts"], "%Y-%m-%dT%H:%M:%S") or None,
        "git_commit": r["git_commit"],
        "git_dirty": None if r["git_dirty"] is None else bool(r["git_dirty"]),
        "calls": r["calls"], "errors": r["errors"], "cached": r["cached"],
        "cost_usd": r["cost_usd"],
    }  # fmt: skip


def runs_table(rows: list[sqlite3.Row]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    with_git = any(r["git_commit"] for r in rows)
    for name in ("run", "command", "started", "git", "calls", "errors", "cached", "cost"):
        if name != "git" or with_git:
            right = name in ("calls", "errors", "cached", "cost")
            table.add_column(name, justify="right" if right else "left", no_wrap=True)
    for r in rows:
        cells: list[Any] = [Text(inert(r["id"])), r["command"], local_time(r["started_ts"],
                            "%m-%d %H:%M")]  # fmt: skip
        if with_git:
            cells.append((r["git_commit"] or "")[:7] + ("*" if r["git_dirty"] else ""))
        cost = "" if r["cost_usd"] is None else usd(r["cost_usd"])
        cells += [str(r["calls"]), str(r["errors"]), str(r["cached"]), cost]
        table.add_row(*cells)
    return table

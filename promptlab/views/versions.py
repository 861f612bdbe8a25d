"""Prompt versions: the `promptlab history` table and the `promptlab diff` printer."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from rich.text import Text

from promptlab.views.sanitize import inert

if TYPE_CHECKING:
    from promptlab.versions import HistoryRow, PromptDiff


def history_records(rows: list[HistoryRow]) -> list[dict[str, Any]]:
    """The versions as records (JSON objects, CSV rows), with the short commit id."""
    return [{**asdict(r), "short": r.commit[:7] if r.commit else None} for r in rows]


def history_json(rel: str, rows: list[HistoryRow], *, shallow: bool, truncated: bool) -> str:
    """`history --format json`: the path, whether git history is incomplete, and the versions."""
    out = {
        "path": rel,
        "shallow": shallow,
        "truncated": truncated,
        "versions": history_records(rows),
    }
    return json.dumps(out, indent=2, ensure_ascii=False)


def print_history(rel: str, rows: list[HistoryRow]) -> None:
    """A prompt's versions, newest first; ⚠ marks a change without a version bump."""
    from rich.table import Table

    from promptlab.views.console import show, stdout

    table = Table(title=f"{rel}: {len(rows)} version(s)", title_justify="left", box=None,
                  pad_edge=False)  # fmt: skip
    for name in ("", "version", "commit", "date", "author", "subject", "hash", "note"):
        table.add_column(name, no_wrap=name in ("version", "commit", "date", "hash"))
    for r in rows:
        table.add_row(
            Text("⚠", style="yellow") if r.warning else "",
            Text(inert(r.version or ("-" if r.note == "deleted" else "?"))),
            r.commit[:7] if r.commit else Text("working tree", style="bold"),
            r.date[:10],
            Text(inert(r.author)),
            Text(inert(r.subject)),
            r.hash[:12] if r.hash else "-",
            Text(inert(r.note), style="yellow" if r.warning else "dim"),
        )
    parts: list[Any] = [table]  # piped or in a CI log: whole rows, never wrapped at 80 columns
    warned = sum(r.warning for r in rows)
    if warned:
        parts.append(
            Text(f"{warned} change(s) marked ⚠ without a higher version: "
                 "bump `version` with every change (`lint --base REF` enforces it)")
        )  # fmt: skip
    show(stdout(), *parts)


def print_diff(d: PromptDiff) -> None:
    """Metadata, the YAML diff, then the rendered messages section by section."""
    out = DiffPrinter()
    out.title(f"diff {d.label_a} → {d.label_b}")
    out.header("metadata")
    for line in d.metadata or ["(identical)"]:
        out.line(line, "yellow" if d.metadata else "dim")
    out.header("YAML")
    out.diff(d.yaml or ["(no changes)"])
    if d.unrendered:
        out.header("rendered messages")
        for side, why in d.unrendered:
            out.line(f"cannot render {side}: {why}", "yellow")
        out.line("pass -v name=value, --vars FILE or --examples to compare the messages", "dim")
    for s in d.sections:
        out.header(s.title + ("" if s.changed else ": unchanged"))
        out.diff(s.lines)


class DiffPrinter:
    """Diff output: colored on a terminal, plain text otherwise; content made inert."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(highlight=False, soft_wrap=True)

    def line(self, text: str, style: str | None = None) -> None:
        self.console.print(Text(inert(text), style=style or ""))

    def title(self, text: str) -> None:
        self.line(text, "bold")

    def header(self, text: str) -> None:
        self.line(f"\n━━━ {text} ━━━", "bold cyan")

    def diff(self, lines: list[str]) -> None:
        for ln in lines:
            style = None
            if ln.startswith(("+++", "---")):
                style = "bold"
            elif ln.startswith("+"):
                style = "green"
            elif ln.startswith("-"):
                style = "red"
            elif ln.startswith("@@"):
                style = "cyan"
            self.line(ln, style)

"""Commands for prompts in git: `history` (versions of one prompt) and `diff` (two versions)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from promptlab.cli.app import command
from promptlab.cli.prompts import ExamplesOpt, VarsFileOpt, VarsOpt
from promptlab.errors import UsageError

if TYPE_CHECKING:
    from promptlab.prompt import Prompt
    from promptlab.versions import HistoryRow


@command(
    epilog="Examples:\n\n"
    "  promptlab history prompts/examples/support-reply.yaml\n\n"
    "  promptlab history support-reply --format json"
)
def history(
    prompt: str = typer.Argument(..., help="Prompt file, or a prompt name under prompts/."),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
) -> None:
    """List a prompt's versions from git (renames followed), newest first.

    Shows version, commit, date, author, subject and content hash; marks (⚠) commits that
    changed the content without bumping `version`, and uncommitted changes as a first row.
    """
    from promptlab.config import load_config
    from promptlab.versions import history_rows

    if fmt not in ("table", "json"):
        raise UsageError(f"--format must be table or json, got {fmt!r}")
    rel, rows, shallow, truncated = history_rows(prompt, load_config())
    if fmt == "json":
        out = {
            "path": rel,
            "shallow": shallow,
            "truncated": truncated,
            "versions": [{**asdict(r), "short": r.commit[:7] if r.commit else None} for r in rows],
        }
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        _print_history(rel, rows)
    if truncated or shallow:
        from promptlab.gitrefs import FULL_HISTORY_HINT

        lead = "older versions are missing" if truncated else "history may be incomplete"
        typer.echo(f"note: {lead}: {FULL_HISTORY_HINT}", err=True)


def _print_history(rel: str, rows: list[HistoryRow]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from promptlab.views.sanitize import inert

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
    console = Console(highlight=False)
    if not console.is_terminal:  # piped or in a CI log: whole rows, never wrapped at 80 columns
        wide = console.options.update(max_width=10_000)
        width = max(console.width, console.measure(table, options=wide).maximum)
        console = Console(highlight=False, width=width)
    console.print(table)
    if any(r.warning for r in rows):
        console.print(
            Text(f"{sum(r.warning for r in rows)} change(s) marked ⚠ without a higher version: "
                 "bump `version` with every change (`lint --base REF` enforces it)")
        )  # fmt: skip


# ---------------------------------------------------------------- diff


def _label(arg: str, prompt: Prompt) -> str:
    return f"{arg} ({prompt.ref[:7]})" if prompt.ref else f"{arg} (working tree)"


SECTION_TITLES = {
    "instructions": "system (instructions)",
    "context": "user: context",
    "input": "user: input",
    "format": "user: format",
}


@command(
    epilog="Examples:\n\n"
    "  promptlab diff prompts/support-reply.yaml@v1.0.0 prompts/support-reply.yaml\n\n"
    "  promptlab diff support-reply@main support-reply -v customer_name=Ana\n\n"
    "  promptlab diff prompts/x.yaml@HEAD~3 prompts/x.yaml@HEAD --examples --exit-code"
)
def diff(
    a: str = typer.Argument(..., help="Old side: a prompt file, name, or PATH@REF / PATH@vX.Y.Z."),
    b: str = typer.Argument(..., help="New side: same forms."),
    var: list[str] = VarsOpt,
    vars_file: Path | None = VarsFileOpt,
    examples: bool = ExamplesOpt,
    exit_code: bool = typer.Option(
        False, "--exit-code", help="Exit 1 when the two sides differ (like git diff --exit-code)."
    ),
) -> None:
    """Show what changed between two versions of a prompt.

    Metadata (version, hash, models, inference, variables), a unified diff of the YAML, and a
    diff of the rendered messages for the same variables, section by section. Exit code 0
    (with --exit-code: 1 when they differ).
    """
    from promptlab.config import load_config
    from promptlab.prompt import load_vars_file, parse_assignments
    from promptlab.sources import open_prompt, source_text
    from promptlab.versions import metadata_changes, render_side, unified

    strings = parse_assignments(var)
    typed = load_vars_file(vars_file) if vars_file else None
    config = load_config()
    pa, pb = open_prompt(a, config), open_prompt(b, config)
    declared = {*pa.variables, *pb.variables}
    unknown = sorted(k for k in {*strings, *(typed or {})} if k not in declared)
    if unknown:
        raise UsageError(
            f"unknown variable(s): {', '.join(unknown)} "
            f"(declared: {', '.join(sorted(declared)) or 'none'})",
            "pass variables that at least one side declares",
        )
    la, lb = _label(a, pa), _label(b, pb)
    out = _Out()
    out.title(f"diff {la} → {lb}")

    meta = metadata_changes(pa, pb)
    out.header("metadata")
    for line in meta or ["(identical)"]:
        out.line(line, "yellow" if meta else "dim")

    ya, yb = source_text(pa), source_text(pb)
    out.header("YAML")
    yaml_lines = unified(ya, yb, la, lb)
    out.diff(yaml_lines or ["(no changes)"])

    ra = render_side(pa, typed, strings, examples)
    rb = render_side(pb, typed, strings, examples)
    rendered_differ = False
    if isinstance(ra, str) or isinstance(rb, str):
        out.header("rendered messages")
        for side, r in (("A", ra), ("B", rb)):
            if isinstance(r, str):
                out.line(f"cannot render {side}: {r}", "yellow")
        out.line("pass -v name=value, --vars FILE or --examples to compare the messages", "dim")
    else:
        for key, title in SECTION_TITLES.items():
            sa, sb = ra.sections.get(key, ""), rb.sections.get(key, "")
            if not sa and not sb:
                continue
            lines = unified(sa, sb, f"A {title}", f"B {title}")
            rendered_differ |= bool(lines)
            out.header(f"{title}" + ("" if lines else ": unchanged"))
            out.diff(lines)
        if ra.user != rb.user and not rendered_differ:  # only the layout/joining changed
            rendered_differ = True
            out.header("user message")
            out.diff(unified(ra.user, rb.user, "A user", "B user"))
    if exit_code and (ya != yb or meta or rendered_differ):
        raise typer.Exit(1)


class _Out:
    """Diff output: colored on a terminal, plain text otherwise; content made inert."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(highlight=False, soft_wrap=True)

    def line(self, text: str, style: str | None = None) -> None:
        from rich.text import Text

        from promptlab.views.sanitize import inert

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

"""Commands for prompts in git: `history` (versions of one prompt) and `diff` (two versions)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from promptlab.cli.app import command
from promptlab.cli.prompts import ExamplesOpt, VarsFileOpt, VarsOpt
from promptlab.errors import UsageError

if TYPE_CHECKING:
    from promptlab.config import Config
    from promptlab.prompt import Prompt, Rendered

NO_BUMP = "content changed without a version bump"


# ---------------------------------------------------------------- history


@dataclass
class HistoryRow:
    """One version of a prompt file: a commit, or the uncommitted working file (commit None)."""

    commit: str | None
    date: str
    author: str
    subject: str
    path: str
    version: str | None
    hash: str | None
    note: str = ""
    warning: bool = False


def history_rows(arg: str, config: Config) -> tuple[str, list[HistoryRow], bool, bool]:
    """(repo path, rows newest first, shallow clone?, history truncated by the clone?)."""
    from promptlab import gitrefs
    from promptlab.prompt import locate
    from promptlab.sources import blob_data

    path = locate(arg, config.prompts_dir)
    root = gitrefs.repo_root()
    rel = gitrefs.repo_path(root, path)
    commits = gitrefs.file_log(root, rel)
    blobs = gitrefs.read_blobs(root, [(c.sha, c.path) for c in commits])
    rows: list[HistoryRow] = []
    working = Path(path)
    if working.is_file() and (not commits or gitrefs.is_dirty(root, rel)):
        data = blob_data(working.read_bytes())
        subject = "uncommitted changes" if commits else "not committed yet"
        rows.append(_row(None, "", "", subject, str(path), data))
    for c, raw in zip(commits, blobs, strict=True):
        row = _row(c.sha, c.date, c.author, c.subject, gitrefs.cwd_path(root, c.path),
                   blob_data(raw))  # fmt: skip
        if raw is None:
            row.note = "deleted"
        rows.append(row)
    if not rows:
        raise UsageError(
            f"{path}: not found in the working tree or in git history",
            "check the path (git log --all -- PATH lists where it was)",
        )
    shallow = gitrefs.is_shallow(root)
    truncated = bool(commits) and commits[-1].sha in gitrefs.shallow_boundaries(root)
    _annotate(rows, truncated)
    return rel, rows, shallow, truncated


def _row(commit: str | None, date: str, author: str, subject: str, path: str,
         data: dict[str, Any] | None) -> HistoryRow:  # fmt: skip
    from promptlab.prompt import content_hash

    version = data.get("version") if data else None
    return HistoryRow(
        commit, date, author, subject, path,
        str(version) if version is not None else None,
        content_hash(data) if data is not None else None,
        "" if data is not None else "not a readable YAML mapping",
    )  # fmt: skip


def _annotate(rows: list[HistoryRow], truncated: bool) -> None:
    """Compare each row with the one before it in time; mark missing version bumps."""
    from promptlab.versioncheck import compare, parse_semver

    for row, older in zip(rows, [*rows[1:], None], strict=True):
        if row.note:
            continue
        if older is None:
            row.note = "history before this is missing (shallow clone)" if truncated else "added"
        elif older.hash is None:
            row.note = "restored" if older.note == "deleted" else ""
        elif row.hash == older.hash:
            renamed = row.path != older.path
            row.note = f"renamed from {older.path}" if renamed else "no content change"
        elif row.version == older.version:
            row.note, row.warning = NO_BUMP, True
        else:
            new, old = parse_semver(row.version), parse_semver(older.version)
            if new and old and compare(new, old) < 0:
                row.note, row.warning = f"version went down from {older.version}", True


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
    console.print(table)
    if any(r.warning for r in rows):
        console.print(
            Text(f"{sum(r.warning for r in rows)} change(s) marked ⚠ without a higher version: "
                 "bump `version` with every change (`lint --base REF` enforces it)")
        )  # fmt: skip


# ---------------------------------------------------------------- diff


def _label(arg: str, prompt: Prompt) -> str:
    return f"{arg} ({prompt.ref[:7]})" if prompt.ref else f"{arg} (working tree)"


def metadata_changes(a: Prompt, b: Prompt) -> list[str]:
    """Human-readable changes of identity, models, inference, layout and variables."""
    out: list[str] = []

    def change(what: str, x: Any, y: Any) -> None:
        if x != y:
            out.append(f"{what}: {x} → {y}")

    change("name", a.name, b.name)
    change("version", a.version, b.version)
    change("content hash", a.short_hash, b.short_hash)
    change("models", list(a.models) or "-", list(b.models) or "-")
    change("inference", a.inference.to_dict() or "-", b.inference.to_dict() or "-")
    change("inference overrides",
           {k: v.to_dict() for k, v in a.overrides.items()} or "-",
           {k: v.to_dict() for k, v in b.overrides.items()} or "-")  # fmt: skip
    change("layout", a.layout, b.layout)
    for name in a.variables.keys() - b.variables.keys():
        out.append(f"variable removed: {name}")
    for name, var in b.variables.items():
        old = a.variables.get(name)
        required = "required" if var.required and not var.has_default else "optional"
        if old is None:
            out.append(f"variable added: {name} ({var.type}, {required})")
        elif old != var:
            fields = [f for f in ("type", "default", "required", "enum") if
                      getattr(old, f) != getattr(var, f)]  # fmt: skip
            detail = ", ".join(f"{f} {getattr(old, f)!r} → {getattr(var, f)!r}" for f in fields)
            out.append(f"variable changed: {name}" + (f" ({detail})" if detail else ""))
    return out


def _render_side(
    prompt: Prompt, typed: dict[str, Any] | None, strings: dict[str, str], examples: bool
) -> Rendered | str:
    """Rendered messages, or the reason they could not be rendered."""
    from promptlab.sources import prepare

    declared = prompt.variables
    t = {k: v for k, v in (typed or {}).items() if k in declared}
    s = {k: v for k, v in strings.items() if k in declared}
    try:
        return prepare(prompt, t, s, use_examples=examples)[1]
    except UsageError as exc:
        return exc.message


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
    yaml_lines = _unified(ya, yb, la, lb)
    out.diff(yaml_lines or ["(no changes)"])

    ra = _render_side(pa, typed, strings, examples)
    rb = _render_side(pb, typed, strings, examples)
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
            lines = _unified(sa, sb, f"A {title}", f"B {title}")
            rendered_differ |= bool(lines)
            out.header(f"{title}" + ("" if lines else ": unchanged"))
            out.diff(lines)
        if ra.user != rb.user and not rendered_differ:  # only the layout/joining changed
            rendered_differ = True
            out.header("user message")
            out.diff(_unified(ra.user, rb.user, "A user", "B user"))
    if exit_code and (ya != yb or meta or rendered_differ):
        raise typer.Exit(1)


def _unified(x: str, y: str, la: str, lb: str) -> list[str]:
    import difflib

    return list(
        difflib.unified_diff(x.splitlines(), y.splitlines(), fromfile=la, tofile=lb, lineterm="")
    )


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

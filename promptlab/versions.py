"""Prompt versions over git history: history rows, metadata changes, rendered-side diffs."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from promptlab.config import Config
from promptlab.errors import UsageError
from promptlab.prompt import Prompt, Rendered, content_hash, locate

NO_BUMP = "content changed without a version bump"


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


def render_side(
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


def unified(x: str, y: str, la: str, lb: str) -> list[str]:
    return list(
        difflib.unified_diff(x.splitlines(), y.splitlines(), fromfile=la, tofile=lb, lineterm="")
    )


SECTION_TITLES = {
    "instructions": "system (instructions)",
    "context": "user: context",
    "input": "user: input",
    "format": "user: format",
}


class Section(NamedTuple):
    """A unified diff of one part of the rendered messages."""

    title: str
    lines: list[str]
    changed: bool


@dataclass
class PromptDiff:
    """Two versions of a prompt compared: metadata, YAML source and rendered messages."""

    label_a: str
    label_b: str
    metadata: list[str]
    yaml: list[str]
    sources_differ: bool
    unrendered: list[tuple[str, str]] = field(default_factory=list)  # (side, why)
    sections: list[Section] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return self.sources_differ or bool(self.metadata) or any(s.changed for s in self.sections)


def compare(
    a: Prompt,
    b: Prompt,
    labels: tuple[str, str],
    sources: tuple[str, str],
    typed: dict[str, Any] | None,
    strings: dict[str, str],
    examples: bool,
) -> PromptDiff:
    """Metadata changes, a diff of the sources, and of the messages rendered from the same
    variables, section by section (or why a side could not be rendered)."""
    la, lb = labels
    ya, yb = sources
    diff = PromptDiff(la, lb, metadata_changes(a, b), unified(ya, yb, la, lb), ya != yb)
    ra = render_side(a, typed, strings, examples)
    rb = render_side(b, typed, strings, examples)
    if isinstance(ra, str) or isinstance(rb, str):
        diff.unrendered = [(side, r) for side, r in (("A", ra), ("B", rb)) if isinstance(r, str)]
        return diff
    for key, title in SECTION_TITLES.items():
        sa, sb = ra.sections.get(key, ""), rb.sections.get(key, "")
        if sa or sb:
            lines = unified(sa, sb, f"A {title}", f"B {title}")
            diff.sections.append(Section(title, lines, bool(lines)))
    if ra.user != rb.user and not any(s.changed for s in diff.sections):
        # only the layout (how the sections are joined) changed
        diff.sections.append(
            Section("user message", unified(ra.user, rb.user, "A user", "B user"), True)
        )
    return diff

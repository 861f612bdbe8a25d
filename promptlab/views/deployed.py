"""Prompt Management: `publish` and `pull` outcomes, the `deployed` table, git ↔ deployed diffs."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from rich.text import Text

from promptlab.views.sanitize import inert

if TYPE_CHECKING:
    from promptlab.deploy.compare import DeployedDiff
    from promptlab.deploy.listing import DeployedRow
    from promptlab.deploy.publish import Published


def published_lines(p: Published, path: str) -> list[str]:
    """What `publish` prints: the version ARN, and whether anything was created."""
    if not p.created:
        return [
            f"unchanged: {p.name} is already published as version {p.version} (nothing created)",
            f"arn: {p.version_arn}",
        ]
    lead = "created managed prompt and version" if p.new_prompt else "published version"
    return [
        f"{lead} {p.version} of {p.name}",
        f"arn: {p.version_arn}",
        f"description: {p.description}",
        f"run it beside git: promptlab run {path} -m bedrock-prompt:{p.version_arn} -m MODEL",
    ]


def deployed_json(rows: list[DeployedRow]) -> str:
    out = []
    for r in rows:
        item = asdict(r)
        item["version_arn"] = r.version_arn
        out.append(item)
    return json.dumps(out, indent=2, ensure_ascii=False, default=str)


def deployed_csv(rows: list[DeployedRow]) -> str:
    """One line per managed version: name, version, ARN, where it came from, drift."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["prompt", "version", "version_arn", "from_prompt", "from_version",
                     "commit", "created", "drift", "note"])  # fmt: skip
    for r in rows:
        o = r.origin
        commit = (r.match.commit if r.match else (o.commit if o else None)) or ""
        writer.writerow([r.name, r.version, r.version_arn, o.name if o else "",
                         o.version if o else "", commit, r.created, r.drift, r.note])  # fmt: skip
    return out.getvalue()


def print_deployed(rows: list[DeployedRow], region: str) -> None:
    """One row per managed version: where it came from in git, and ⚠ for drift."""
    from rich.table import Table

    from promptlab.views.console import show, stdout

    console = stdout()
    if not rows:
        console.print(Text(f"no managed prompt versions in {region}"))
        return
    drifted = sum(r.drift for r in rows)
    table = Table(title=f"{len(rows)} managed prompt version(s) in {region}",
                  title_justify="left", box=None, pad_edge=False)  # fmt: skip
    for name in ("", "prompt", "ver", "from", "commit", "created", "version arn", "note"):
        table.add_column(name, no_wrap=name not in ("note",))
    for r in rows:
        origin = r.origin
        source = f"{origin.name} {origin.version}" if origin else "-"
        commit = (r.match.commit if r.match else (origin.commit if origin else None)) or ""
        table.add_row(
            Text("⚠", style="yellow") if r.drift else "",
            Text(inert(r.name)),
            r.version,
            Text(inert(source)),
            commit[:7],
            r.created[:19],
            r.version_arn,
            Text(inert(r.note or ("matches " + (r.file or "git"))),
                 style="yellow" if r.drift else "dim"),
        )  # fmt: skip
    show(console, table)
    if drifted:
        console.print(
            Text(f"⚠ {drifted} version(s) drifted: their content matches no committed version "
                 "(published from uncommitted changes, or edited outside promptlab)",
                 style="yellow")
        )  # fmt: skip


def print_deployed_diff(d: DeployedDiff) -> None:
    """Settings and variables first, then each message's template text."""
    from promptlab.views.versions import DiffPrinter

    out = DiffPrinter()
    out.title(f"diff {d.label_a} → {d.label_b}")
    out.header("variables, model, inference")
    for line in d.metadata or ["(identical)"]:
        out.line(line, "yellow" if d.metadata else "dim")
    for s in d.sections:
        out.header(s.title + ("" if s.changed else ": unchanged"))
        out.diff(s.lines)

"""`promptlab report`: saved test reports merged, and any run or report as an HTML page."""

from __future__ import annotations

from pathlib import Path

import typer

from promptlab.cli.app import app, handle_errors
from promptlab.cli.test import report_files

report_app = typer.Typer(
    help="Work with reports: merge test shards, make an HTML page of a run or a report.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(report_app, name="report")


@report_app.command(
    "merge",
    epilog="Examples:\n\n"
    "  promptlab report merge shard-*.json --junit junit.xml --markdown report.md\n\n"
    "  promptlab report merge shard-*.json --json all.json --fail-under 0.9",
)
@handle_errors
def merge(
    files: list[Path] = typer.Argument(..., help="--json reports of `promptlab test` (shards)."),
    junit: Path | None = typer.Option(None, "--junit", help="Write JUnit XML here."),
    json_file: Path | None = typer.Option(None, "--json", help="Write the merged JSON here."),
    markdown: Path | None = typer.Option(None, "--markdown", help="Write a Markdown report."),
    html: Path | None = typer.Option(None, "--html", help="Write an HTML report."),
    baseline: Path | None = typer.Option(
        None, "--baseline", help="Compare with an earlier --json report."
    ),
    fail_under: float | None = typer.Option(
        None, "--fail-under", min=0.0, max=1.0, help="Exit 0 when the pass rate is at least this."
    ),
    allow_partial: bool = typer.Option(
        False, "--allow-partial", help="Merge an incomplete set of shards (warn, don't fail)."
    ),
) -> None:
    """Merge shard reports into one; print it and exit like `promptlab test` would.

    Every shard of the split must be there (exit 2 naming the missing ones) unless
    --allow-partial."""

    from promptlab.errors import UsageError
    from promptlab.testing import compare, load_run, missing_shards
    from promptlab.testing import merge as merge_runs
    from promptlab.views.console import stdout
    from promptlab.views.reportfiles import publish

    runs = [load_run(f) for f in files]
    base = load_run(baseline, what="baseline") if baseline else None
    missing = missing_shards(runs)
    if missing and not allow_partial:
        raise UsageError(f"incomplete shards: missing {', '.join(missing)} "
                         f"(the merged report would leave their cases out)",
                         "pass every shard's --json report, or --allow-partial")  # fmt: skip
    run, duplicates = merge_runs(runs)
    from promptlab.views.console import stderr

    err = stderr()
    if missing:
        err.print(f"warning: partial merge: shard(s) {', '.join(missing)} missing; "
                  f"their cases are not in this report", highlight=False)  # fmt: skip
    if duplicates:
        err.print(f"warning: {len(duplicates)} case(s) appear in more than one report; "
                  f"kept the last: {', '.join(duplicates[:5])}", highlight=False)  # fmt: skip
    if base is not None and baseline is not None:
        run.baseline = compare(run, base, str(baseline))
    publish(run, stdout(piped_width=140), err, report_files(json_file, junit, markdown, html=html))
    raise typer.Exit(run.exit_code(fail_under))


@report_app.command(
    "html",
    epilog="Examples:\n\n"
    "  promptlab report html last --open                 # the newest run in the history\n\n"
    "  promptlab report html results.json -o report.html  # a `promptlab test --json` report\n\n"
    "  promptlab run support-reply -m echo --examples --format json > run.json\n"
    "  promptlab report html run.json",
)
@handle_errors
def html(
    source: str = typer.Argument(
        ..., help="A run id (or a unique part), 'last', a test --json report or run JSON output."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Where to write (default: .promptlab/reports/<run>.html)."
    ),
    open_it: bool = typer.Option(False, "--open", help="Open the page in a web browser."),
) -> None:
    """Write one self-contained HTML page (no network needed) of a run or a test report."""
    from promptlab.config import load_config
    from promptlab.reports import load_source
    from promptlab.views.reportfiles import write

    config = load_config()
    found = load_source(source, config)
    if found.test is not None:
        from promptlab.views.html import test_page

        page = test_page(found.test, source=found.label)
    else:
        from promptlab.views.html import run_page

        page = run_page(found.results or [], source=found.label, ratings=found.ratings)
    path = output or config.root / ".promptlab" / "reports" / f"{found.name}.html"
    write(path, page)
    typer.echo(f"wrote {path}")
    if open_it:
        import webbrowser

        webbrowser.open(path.resolve().as_uri())

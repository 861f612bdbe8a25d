"""A finished test run, shown and written out: the terminal summary, the requested report files
(JSON, JUnit XML, Markdown) and the GitHub job summary."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from promptlab.errors import UsageError
from promptlab.views.testreport import render_summary, to_json, to_markdown

if TYPE_CHECKING:
    from rich.console import Console

    from promptlab.testing import TestRun


def to_junit(run: TestRun) -> str:
    from promptlab.views import junit  # xml.etree: imported only when JUnit is asked for

    return junit.to_junit(run)


def to_html(run: TestRun) -> str:
    from promptlab.views.html import test_page

    return test_page(run, source=f"test run {run.run_id}")


# report kind → its text
REPORTS: dict[str, Callable[[TestRun], str]] = {
    "json": to_json,
    "junit": to_junit,
    "markdown": to_markdown,
    "html": to_html,
}


def publish(
    run: TestRun,
    out: Console,
    err: Console,
    files: list[tuple[str, Path | None]],
) -> None:
    """Print the summary, write each (report kind, path) asked for, append the Markdown report
    to $GITHUB_STEP_SUMMARY when it is set."""
    render_summary(out, run)
    texts: dict[str, str] = {}
    for kind, path in files:
        if path is not None:
            if kind not in texts:
                texts[kind] = REPORTS[kind](run)
            write(path, texts[kind])
            err.print(f"wrote {path}", highlight=False)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        md = texts.get("markdown") or to_markdown(run)
        try:
            with open(summary, "a", encoding="utf-8") as fh:
                fh.write(md + "\n")
        except OSError as exc:
            err.print(f"warning: cannot append to GITHUB_STEP_SUMMARY: {exc}", highlight=False)


def write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None

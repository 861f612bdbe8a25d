"""What a report page is made from: a run in the history, or a saved JSON file.

`promptlab report html SOURCE` takes a run id (or a unique part of one), `last`, a
`promptlab test --json` report, or the output of `promptlab run --format json|jsonl`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlab.errors import UsageError
from promptlab.results import GRADER_NOTICE, Result

if TYPE_CHECKING:
    from promptlab.config import Config
    from promptlab.ratingstats import RatingSummary
    from promptlab.testing import TestRun


@dataclass
class ReportSource:
    """Either a test run (with its assertions) or the results of a run."""

    label: str  # what the page says it was made from
    name: str  # a file-name-safe identifier (run id or file stem)
    test: TestRun | None = None
    results: list[Result] | None = None
    ratings: RatingSummary | None = None  # people's ratings of a run from the history


def load_source(arg: str, config: Config) -> ReportSource:
    """The report source named on the command line. Errors are UsageErrors (exit 2)."""
    path = Path(arg)
    if path.suffix in (".json", ".jsonl") or path.exists():
        return _from_file(path)
    return _from_history(arg, config)


def _from_file(path: Path) -> ReportSource:
    from promptlab.testing import load_run
    from promptlab.testing.outcomes import REPORT_SCHEMA

    if not path.is_file():
        raise UsageError(f"{path}: no such file",
                         "pass a `promptlab test --json` report, a `promptlab run --format json` "
                         "file, a run id or 'last'")  # fmt: skip
    text = path.read_text("utf-8", errors="replace")
    try:
        if path.suffix == ".jsonl":
            data: object = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            data = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(data, dict) and data.get("schema") == REPORT_SCHEMA:
        return ReportSource(str(path), path.stem, test=load_run(path))
    if isinstance(data, list) and all(isinstance(d, dict) and "model" in d for d in data):
        results = []
        for i, d in enumerate(data):
            try:
                results.append(Result.from_dict(d))
            except KeyError as exc:
                raise _malformed(path, f"result [{i}] has no {exc.args[0]!r}") from None
            except (TypeError, ValueError, AttributeError, IndexError):
                raise _malformed(path, f"result [{i}] has values of other types") from None
        return ReportSource(str(path), path.stem, results=results)
    raise UsageError(
        f"{path}: neither a `promptlab test --json` report nor `promptlab run --format json` "
        "output",
        "write one with: promptlab test --json report.json",
    )


def _malformed(path: Path, where: str) -> UsageError:
    return UsageError(f"{path}: not `promptlab run --format json` output: {where}",
                      "pass the file 'promptlab run --format json' wrote")  # fmt: skip


def _from_history(wanted: str, config: Config) -> ReportSource:
    from promptlab.store.core import find_run, row_to_result
    from promptlab.store.query import open_reader

    con = open_reader(config.store_path)
    if con is None:
        raise UsageError(f"no runs recorded yet ({config.store_path})",
                         "run `promptlab run` or `promptlab test` first, or pass a JSON "
                         "report file")  # fmt: skip
    try:
        run_id = find_run(con, wanted)
        command = con.execute("SELECT command FROM runs WHERE id = ?", (run_id,)).fetchone()
        rows = con.execute("SELECT * FROM calls WHERE run_id = ? ORDER BY id", (run_id,))
        results = [r for r in map(row_to_result, rows) if not _is_grader(r)]
        ratings = _ratings(con, run_id)
    finally:
        con.close()
    what = command["command"] if command else "run"
    label = f"{what} run {run_id}"
    if what == "test":
        label += " (the calls; assertion details come with `promptlab test --html`)"
    return ReportSource(label, run_id, results=results, ratings=ratings)


def _ratings(con: Any, run_id: str) -> RatingSummary | None:
    """The run's human ratings by model (None when nobody rated it)."""
    from promptlab.ratingstats import summarise
    from promptlab.store.verdicts import judgements

    judged, names = judgements(con, "model")
    mine = [j for j in judged if j.case[0] == run_id]
    return summarise("model", mine, names) if mine else None


def _is_grader(result: Result) -> bool:
    return any(note.endswith(GRADER_NOTICE) for note in result.notices)

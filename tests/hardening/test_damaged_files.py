"""Damaged files the tool wrote itself (the store, saved reports) are one line naming the file,
what is wrong and the fix, exit 2: never a traceback or a Python repr."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, write

PROMPT = 'version: "1.0.0"\ninput: "hi"\n'
SUITE = "tests:\n  - name: greets\n    assert: [{type: contains, value: hi}]\n"
READERS = [["log"], ["log", "runs"], ["log", "show", "1"], ["stats"], ["cache", "stats"]]


def _recorded(cli: Cli, project: Path) -> Path:
    write(project / "prompts" / "p.yaml", PROMPT)
    assert cli("run", "p", "-m", "echo", "--cache").exit_code == 0
    return project / ".promptlab" / "promptlab.db"


def _corrupt_pages(db: Path) -> None:
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = bytearray(db.read_bytes())
    for i in range(4096, len(data), 7):  # every page after the header page
        data[i] = 0xAB
    db.write_bytes(bytes(data))


@pytest.mark.parametrize("args", READERS)
def test_a_store_with_corrupted_pages_is_one_line_naming_it(
    cli: Cli, project: Path, args: list[str]
) -> None:
    db = _recorded(cli, project)
    _corrupt_pages(db)
    result = cli(*args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: the store {db} cannot be read: ")
    assert f"move it aside (mv {db} {db}.broken)" in lines[0]


@pytest.mark.parametrize("args", READERS[:2] + READERS[3:4])
def test_a_store_missing_a_table_is_one_line(cli: Cli, project: Path, args: list[str]) -> None:
    db = _recorded(cli, project)
    con = sqlite3.connect(db)
    con.execute("DROP TABLE calls")
    con.commit()
    con.close()
    result = cli(*args)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: the store {db} cannot be read: no such table: calls — move it aside "
        f"(mv {db} {db}.broken); the next run starts a new one"
    ]


def _report(cli: Cli, project: Path) -> dict[str, Any]:
    write(project / "prompts" / "p.yaml", PROMPT)
    write(project / "prompts" / "p.tests.yaml", SUITE)
    cli("test", "prompts/p.yaml", "-m", "echo", "--json", "report.json")
    data: dict[str, Any] = json.loads((project / "report.json").read_text("utf-8"))
    return data


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: {**d, "cases": {}}, "'cases' is a mapping, expected a list"),
        (lambda d: {**d, "cases": [1]}, "cases[0] is a number, expected a mapping"),
        (lambda d: {**d, "cases": [{**d["cases"][0], "prompt": "p"}]},
         "cases[0].prompt is not a mapping with a 'name'"),
        (lambda d: {**d, "cases": [{k: v for k, v in d["cases"][0].items() if k != "model"}]},
         "cases[0] has no 'model'"),
        (lambda d: {**d, "cases": [{**d["cases"][0], "samples": "x"}]},
         "cases[0] has values of other types"),
    ],
)  # fmt: skip
def test_a_report_of_the_wrong_shape_names_where_it_differs(
    cli: Cli, project: Path, change: Any, where: str
) -> None:
    report = _report(cli, project)
    write(project / "bad.json", json.dumps(change(report)))
    merged = cli("report", "merge", "bad.json")
    baseline = cli("test", "prompts/p.yaml", "-m", "echo", "--baseline", "bad.json")
    assert merged.exit_code == 2 and baseline.exit_code == 2
    assert merged.output.strip().splitlines() == [
        f"error: bad.json: not a report of the expected shape: {where} — pass the --json file "
        "'promptlab test' wrote; each case is {prompt: {name, …}, case, model: {alias, id}, "
        "repeat, threshold, status, samples: [{result, status, score, assertions}]}"
    ]
    assert f"error: bad.json: not a baseline of the expected shape: {where}" in baseline.output
    assert "Error(" not in merged.output + baseline.output


def test_run_output_of_the_wrong_shape_names_the_result(cli: Cli, project: Path) -> None:
    write(project / "bad.json", json.dumps([{"model": 1}]))
    result = cli("report", "html", "bad.json", "-o", "out.html")
    assert result.exit_code == 2
    assert "bad.json: not `promptlab run --format json` output: result [0] has no" in result.output

"""`promptlab report html` and `--html`: pages made from the history, from saved JSON, and by
`run` and `test` themselves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, write

PROMPT = """\
version: "1.0.0"
input: "Say {{ word }}"
variables:
  word: {type: string}
tests:
  - name: says-it
    vars: {word: hello}
    models: [echo]
    assert: [{contains: hello}]
  - name: fails
    vars: {word: "</script><img src=x onerror=alert(1)>"}
    models: [echo]
    assert: [{contains: never}]
"""


@pytest.fixture
def prompt(project: Path) -> Path:
    return write(project / "prompts" / "say.yaml", PROMPT)


def page_data(path: Path) -> str:
    text = path.read_text("utf-8")
    assert text.startswith("<!DOCTYPE html>") or text.lower().startswith("<!doctype html>")
    assert "Content-Security-Policy" in text
    return text


def test_run_writes_an_html_page_beside_its_output(prompt: Path, project: Path, cli: Cli) -> None:
    result = cli("run", "say", "-m", "echo", "-v", "word=hi", "--html", "out/run.html")
    assert result.exit_code == 0, result.stderr
    assert "wrote out/run.html" in result.stderr
    assert "Say hi" in page_data(project / "out" / "run.html")


def test_test_writes_an_html_report_with_the_failures(
    prompt: Path, project: Path, cli: Cli
) -> None:
    result = cli("test", "--html", "report.html")
    assert result.exit_code == 1
    text = page_data(project / "report.html")
    assert "says-it" in text and "fails" in text
    assert "<img src=x onerror" not in text  # the hostile variable is data, never markup


def test_report_html_last_uses_the_newest_run_in_the_history(
    prompt: Path, project: Path, cli: Cli
) -> None:
    cli("run", "say", "-m", "echo", "-v", "word=first")
    cli("run", "say", "-m", "echo", "-v", "word=second")
    result = cli("report", "html", "last")
    assert result.exit_code == 0, result.stderr
    written = Path(result.stdout.split("wrote ", 1)[1].strip())
    assert written.parent == project / ".promptlab" / "reports"
    text = page_data(written)
    assert "Say second" in text and "Say first" not in text


def test_report_html_reads_test_and_run_json_files(prompt: Path, project: Path, cli: Cli) -> None:
    cli("test", "--json", "results.json")
    assert cli("report", "html", "results.json", "-o", "t.html").exit_code == 0
    assert "says-it" in page_data(project / "t.html")
    run_json = cli("run", "say", "-m", "echo", "-v", "word=json", "--format", "jsonl").stdout
    write(project / "run.jsonl", run_json)
    assert cli("report", "html", "run.jsonl", "-o", "r.html").exit_code == 0
    assert "Say json" in page_data(project / "r.html")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("missing.json", "missing.json: no such file"),
        ("nope-run", "no runs recorded yet"),
    ],
)
def test_a_bad_source_is_one_line_and_exit_2(
    prompt: Path, cli: Cli, source: str, message: str
) -> None:
    result = cli("report", "html", source)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_json_file_of_another_kind_is_refused(prompt: Path, project: Path, cli: Cli) -> None:
    write(project / "other.json", json.dumps({"hello": 1}))
    result = cli("report", "html", "other.json")
    assert result.exit_code == 2
    assert "neither a `promptlab test --json` report" in result.stderr


def test_an_unknown_run_id_lists_recent_runs(prompt: Path, cli: Cli) -> None:
    cli("run", "say", "-m", "echo", "-v", "word=x")
    result = cli("report", "html", "zzzz")
    assert result.exit_code == 2
    assert "unknown run id 'zzzz'" in result.stderr and "recent runs:" in result.stderr

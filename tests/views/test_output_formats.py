"""Output formats come from one table per command (views.formats): every name in it works, and
--format's help and validation list exactly those names."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from promptlab.views.formats import CALLS, RESULTS, names
from tests.conftest import Cli, write

PROMPT = """\
version: "1.0.0"
instructions: You answer in one line.
input: "Question: {{ q }}"
variables:
  q: {type: string}
"""


@pytest.fixture
def prompt(project: Path) -> Path:
    return write(project / "prompts" / "q.yaml", PROMPT)


def parses(fmt: str, text: str) -> bool:
    """The output is well-formed in its format, and shows the echo model's answer."""
    if fmt == "json":
        return "Question: capital?" in json.loads(text)[0]["output"]
    if fmt == "jsonl":
        return "Question: capital?" in json.loads(text.splitlines()[0])["output"]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        return "Question: capital?" in rows[0]["output"]
    return "Question: capital?" in text


@pytest.mark.parametrize("fmt", list(RESULTS))
def test_every_result_format_works_through_run(prompt: Path, cli: Cli, fmt: str) -> None:
    result = cli("run", "q", "-m", "echo", "-v", "q=capital?", "--format", fmt)
    assert result.exit_code == 0, result.output + result.stderr
    assert parses(fmt, result.stdout)


@pytest.mark.parametrize("fmt", list(CALLS))
def test_every_call_format_works_through_log(prompt: Path, cli: Cli, fmt: str) -> None:
    assert cli("run", "q", "-m", "echo", "-v", "q=capital?", "--format", "json").exit_code == 0
    result = cli("log", "--format", fmt)
    assert result.exit_code == 0, result.output + result.stderr
    assert parses(fmt, result.stdout)


@pytest.mark.parametrize(("command", "formats"), [(["run"], RESULTS), (["log"], CALLS)])
def test_format_help_lists_the_names_in_the_table(
    cli: Cli, command: list[str], formats: dict[str, object]
) -> None:
    text = " ".join(cli(*command, "--help").stdout.split())
    assert names(formats) in text


@pytest.mark.parametrize(
    ("args", "formats"),
    [(["run", "q", "-m", "echo", "-v", "q=x"], RESULTS), (["log"], CALLS)],
)
def test_an_unknown_format_is_refused_naming_every_format_in_the_table(
    prompt: Path, cli: Cli, args: list[str], formats: dict[str, object]
) -> None:
    result = cli(*args, "--format", "yaml")
    assert result.exit_code == 2
    assert f"--format must be one of {', '.join(formats)}, got 'yaml'" in result.stderr


def test_run_keeps_its_formats_importable_as_formats() -> None:
    from promptlab.cli.run import FORMATS

    assert FORMATS == ("table", "json", "jsonl", "markdown") == tuple(RESULTS)


def test_format_names_read_as_a_list() -> None:
    assert names({"table": 1, "json": 2}) == "table or json"
    assert names({"table": 1, "json": 2, "csv": 3}) == "table, json or csv"

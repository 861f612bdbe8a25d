"""`promptlab test` and the store: odd answers, validation messages, interruption and resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import Cli, sigint_default, write
from tests.fakebedrock import FakeBedrock

PROMPT = (
    'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'
    "inference: {temperature: 0.7}\n"
)
MICRO = "amazon.nova-micro-v1:0"
LITE = "amazon.nova-lite-v1:0"


def suite(project: Path, text: str, prompt: str = PROMPT) -> None:
    write(project / "prompts" / "echoer.yaml", prompt)
    write(project / "prompts" / "echoer.tests.yaml", text)


def history(project: Path) -> list[sqlite3.Row]:
    con = sqlite3.connect(project / ".promptlab" / "promptlab.db")
    con.row_factory = sqlite3.Row
    try:
        return con.execute("SELECT * FROM calls ORDER BY id").fetchall()
    finally:
        con.close()


def test_an_answer_with_a_lone_surrogate_is_recorded_and_reported(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    # JSON may carry a "\ud800" escape; UTF-8 (SQLite, report files) cannot encode it.
    fake_bedrock.script(MICRO, text="half \ud800 a pair")
    suite(project, "tests:\n  - {name: a, vars: {text: x}, assert: [{contains: whole}]}\n")
    result = cli("test", "-m", "nova-micro", "--json", "r.json", "--markdown", "r.md",
                 "--junit", "r.xml")  # fmt: skip
    assert result.exit_code == 1, result.output  # a failing case: its output is in every report
    data = json.loads((project / "r.json").read_text("utf-8"))
    assert data["cases"][0]["output"] == "half \ufffd a pair"
    assert "half \ufffd a pair" in (project / "r.md").read_text("utf-8")
    system_out = ET.parse(project / "r.xml").getroot().find(".//system-out")
    assert system_out is not None and system_out.text == "half \ufffd a pair"
    (row,) = history(project)
    assert row["output"] == "half \ufffd a pair"


def test_piped_stats_are_not_cut_at_80_columns(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS")
    write(project / "prompts" / "a-rather-long-prompt-name.yaml", PROMPT)
    write(project / "prompts" / "a-rather-long-prompt-name.tests.yaml",
          "tests:\n  - {name: a, vars: {text: x}, assert: [{contains: x}]}\n")  # fmt: skip
    assert cli("test", "-m", "echo").exit_code == 0
    result = cli("stats", "--by", "version", "--chart", "none")
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()[:2]
    assert header.split()[-1] == "cost"
    assert row.split()[0] == "a-rather-long-prompt-name@1.0.0" and row.split()[-1] == "$0"


def test_suite_variable_problems_point_to_vars_not_to_the_command_line(
    project: Path, cli: Cli
) -> None:
    suite(project, "tests:\n  - name: a\n    vars: {txt: x}\n")
    result = cli("test", "-m", "echo", "--no-log")
    assert result.exit_code == 2
    assert "echoer.tests.yaml:3" in result.stderr
    assert "missing required variable(s): text" in result.stderr
    assert "under the case's 'vars:'" in result.stderr and "defaults: vars:" in result.stderr
    assert "-v text=" not in result.stderr


def test_every_unknown_model_in_the_suites_is_listed_at_once(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    suite(project, "tests:\n"
          "  - {name: a, models: [nova-mikro], vars: {text: x}}\n"
          "  - name: b\n    models: [nova-micro]\n    vars: {text: x}\n    assert:\n"
          "      - {judge: is polite, model: gpt-4}\n"
          "      - {similar: hello, model: titan-embd}\n")  # fmt: skip
    result = cli("test", "--no-log")
    assert result.exit_code == 2
    for expected in (
        "echoer.tests.yaml:2: error: unknown model 'nova-mikro'",
        "echoer.tests.yaml:7: error: judge: unknown model 'gpt-4'",
        "echoer.tests.yaml:8: error: similar: unknown model 'titan-embd'",
    ):
        assert sum(expected in ln for ln in result.stderr.splitlines()) == 1, result.stderr
    assert fake_bedrock.requests == []


def test_a_prompt_model_that_is_unknown_is_reported_at_the_prompt_line(
    project: Path, cli: Cli
) -> None:
    suite(project, "tests:\n  - {name: a, vars: {text: x}}\n  - {name: b, vars: {text: y}}\n",
          PROMPT + "models: [ech0]\n")  # fmt: skip
    result = cli("test", "--no-log")
    assert result.exit_code == 2
    assert result.stderr.count("unknown model 'ech0'") == 1
    assert "echoer.yaml:6: error: unknown model 'ech0'" in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_ctrl_c_then_resume_pays_only_for_the_calls_that_did_not_finish(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(LITE, hang=True)  # this case is still running when Ctrl-C comes
    suite(
        project,
        "tests:\n"
        + "".join(
            f"  - {{name: fast-{i}, models: [nova-micro], vars: {{text: q{i}}}, "
            "assert: [{contains: Hello}]}\n"
            for i in range(3)
        )
        + "  - {name: slow, models: [nova-lite], vars: {text: s}, assert: [{contains: s}]}\n",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptlab", "test", "--json", "first.json"],
        cwd=project, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        preexec_fn=sigint_default,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        finished = 0
        while finished < 3:  # one progress line per finished case, after it is recorded
            line = proc.stderr.readline()
            assert line, "the test process ended early"
            finished += line.startswith("[")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    first = json.loads((project / "first.json").read_text("utf-8"))
    assert first["interrupted"] is True
    assert f"--resume {first['run_id']}" in err
    assert fake_bedrock.count(model=MICRO) == 3

    fake_bedrock.script(LITE, text="s answered")
    result = cli("test", "--resume", "last", "--json", "second.json")
    assert result.exit_code == 0, result.output
    assert fake_bedrock.count(model=MICRO) == 3  # nothing paid twice
    assert fake_bedrock.count(model=LITE) == 2  # the interrupted call, made again
    second = json.loads((project / "second.json").read_text("utf-8"))
    assert second["run_id"] == first["run_id"]
    assert second["summary"]["passed"] == 4

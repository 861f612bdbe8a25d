"""The store behind `promptlab test`: history, cache hits and --resume through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli, write

PROMPT = 'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'
SUITE = (
    "tests:\n"
    "  - {name: a, vars: {text: Hi Ana}, assert: [{contains: Ana}]}\n"
    "  - {name: b, vars: {text: refund please}, assert: [{contains: refund}]}\n"
)


def calls(cli: Cli, *args: str) -> list[dict]:
    result = cli("log", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    data: list[dict] = json.loads(result.stdout)
    return data


def test_test_runs_are_recorded_cached_and_resumable(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "echoer.yaml", PROMPT + "inference: {temperature: 0}\n")
    write(project / "prompts" / "echoer.tests.yaml", SUITE)
    assert cli("test", "-m", "echo").exit_code == 0
    first = calls(cli)
    assert len(first) == 2 and {c["command"] for c in first} == {"test"}
    assert not any(c["cached"] for c in first)
    assert cli("test", "-m", "echo").exit_code == 0  # temperature 0: answered from the cache
    second = calls(cli, "--run", "last")
    assert len(second) == 2 and all(c["cached"] for c in second)
    assert cli("test", "-m", "echo", "--repeat", "2").exit_code == 0  # samples: never cached
    third = calls(cli, "--run", "last")
    assert len(third) == 4 and not any(c["cached"] for c in third)
    resumed = cli("test", "-m", "echo", "--repeat", "2", "--resume", "last")
    assert resumed.exit_code == 0
    assert len(calls(cli, "--run", "last")) == 4  # nothing was called again
    runs = json.loads(cli("log", "runs", "--format", "json").stdout)
    assert len(runs) == 3 and runs[0]["resumed"] is not None


def test_no_log_records_nothing_and_unknown_resume_is_exit_2(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "echoer.yaml", PROMPT)
    write(project / "prompts" / "echoer.tests.yaml", SUITE)
    assert cli("test", "-m", "echo", "--no-log", "--no-cache").exit_code == 0
    assert not (project / ".promptlab" / "promptlab.db").exists()
    assert cli("test", "-m", "echo").exit_code == 0
    bad = cli("test", "-m", "echo", "--resume", "nope")
    assert bad.exit_code == 2 and "unknown run id 'nope'" in bad.stderr

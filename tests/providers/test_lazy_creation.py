"""Providers are created on their first real call: cached, dry and echo-only runs never import
boto3, and a bad AWS set-up is still one exit-2 error before any call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

PROMPT = """\
version: "1.0.0"
instructions: Answer briefly.
input: "{{ q }}"
variables:
  q: {type: string}
inference: {temperature: 0}
"""
SUITE = """\
prompt: q.yaml
defaults: {models: [nova-micro, claude-haiku]}
tests:
  - name: one
    vars: {q: first}
    assert: [{not-contains: ERROR}]
  - name: two
    vars: {q: second}
    assert: [{not-contains: ERROR}]
"""


@pytest.fixture
def suite(project: Path) -> Path:
    write(project / "prompts" / "q.yaml", PROMPT)
    return write(project / "prompts" / "q.tests.yaml", SUITE)


def imports_of(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run promptlab in a fresh interpreter; return the process and its -X importtime log."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "promptlab", *args],
        cwd=cwd, env=dict(os.environ), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return done, done.stderr


def test_a_fully_cached_test_run_imports_no_boto3(
    suite: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    assert cli("test").exit_code == 0
    made = fake_bedrock.count()
    assert made == 4
    done, log = imports_of(["test"], project)
    assert done.returncode == 0, done.stdout + log
    assert "4 passed" in done.stdout
    assert fake_bedrock.count() == made  # every answer came from the cache
    assert "botocore" not in log and "boto3" not in log


def test_an_echo_run_and_its_dry_run_import_no_boto3(suite: Path, project: Path) -> None:
    for args in (["run", "q", "-m", "echo", "-v", "q=hi", "--no-log"],
                 ["run", "q", "-m", "echo", "-v", "q=hi", "--dry-run"]):  # fmt: skip
        done, log = imports_of(args, project)
        assert done.returncode == 0, log
        assert "botocore" not in log, args


def test_missing_region_in_test_is_one_error_and_no_call(
    suite: Path, cli: Cli, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    result = cli("test")
    assert result.exit_code == 2
    assert result.stderr.count("no AWS region set") == 1
    assert "Traceback" not in result.stderr
    assert fake_bedrock.count() == 0


def test_bad_credentials_after_cache_hits_still_end_the_run_with_exit_2(
    suite: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    assert cli("test", "--filter", "one").exit_code == 0  # caches case one only
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    made = fake_bedrock.count()
    result = cli("test")
    assert result.exit_code == 2
    assert result.stderr.lower().count("no aws credentials") == 1
    assert fake_bedrock.count() == made


def test_a_run_ended_by_a_bad_setup_leaves_no_empty_run_in_the_history(
    suite: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert cli("run", "q", "-m", "nova-micro", "-v", "q=x").exit_code == 2
    assert cli("run", "q", "-m", "echo", "-v", "q=x").exit_code == 0
    runs = json.loads(cli("log", "runs", "--format", "json").stdout)
    assert [r["calls"] for r in runs] == [1]  # the echo run only

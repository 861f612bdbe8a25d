"""`run --dry-run` against the local fake Bedrock server: CountTokens per model and vars set."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

PROMPT = """\
version: "1.0.0"
input: "Question: {{ q }}"
variables:
  q: {type: string}
"""


def test_dry_run_stops_counting_tokens_once_bedrock_does_not_answer(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / "prompts" / "q.yaml", PROMPT)
    write(project / "qs.yaml", "- {q: a}\n- {q: b}\n- {q: c}\n")
    fake_bedrock.default.hang = True
    monkeypatch.setenv("PROMPTLAB_READ_TIMEOUT", "0.5")
    monkeypatch.setenv("PROMPTLAB_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("PROMPTLAB_CONCURRENCY", "1")
    result = cli("run", "q", "-m", "nova-micro,nova-lite", "--vars", "qs.yaml", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "CountTokens unavailable: ReadTimeout" in result.stdout
    assert "(estimate)" in result.stdout
    # one request and one retry, then the five other requests are estimated without asking
    assert fake_bedrock.count(op="count-tokens") == 2


def test_dry_run_counts_tokens_for_every_model_and_vars_set(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "prompts" / "q.yaml", PROMPT)
    write(project / "qs.yaml", "- {q: a}\n- {q: b}\n")
    fake_bedrock.default.count_tokens = 7
    result = cli("run", "q", "-m", "nova-micro,nova-lite", "--vars", "qs.yaml", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("input tokens: 7 ·") == 4
    assert fake_bedrock.count(op="count-tokens") == 4

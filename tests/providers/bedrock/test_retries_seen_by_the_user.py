"""Retries against the fake Bedrock: throttled calls that succeeded say so; failed streams say
how often they failed and what they generated; a dry run prices the worst case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

PROMPT = """\
version: "1.0.0"
input: "Question: {{ q }}"
variables:
  q: {type: string}
inference: {max_tokens: 1000}
"""
NOVA = "amazon.nova-micro-v1:0"


@pytest.fixture
def prompt(project: Path) -> Path:
    return write(project / "prompts" / "q.yaml", PROMPT)


@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_a_call_that_succeeded_after_throttling_says_so(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock, stream: str
) -> None:
    fake_bedrock.script(NOVA, text="fine", fail=2, status=429, error="ThrottlingException")
    result = cli("run", "q", "-m", "nova-micro", "-v", "q=x", stream, "-f", "json")
    assert result.exit_code == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert row["attempts"] == 3
    assert "succeeded after 3 attempts (throttled)" in row["notices"]
    assert "note: succeeded after 3 attempts (throttled)" in result.stderr
    table = cli("run", "q", "-m", "nova-micro", "-v", "q=x", stream)
    assert "(1 attempts)" not in table.stdout  # the fake answers at once now
    fake_bedrock.reset()
    fake_bedrock.script(NOVA, text="fine", fail=1, status=429, error="ThrottlingException")
    table = cli("run", "q", "-m", "nova-micro", "-v", "q=x", stream)
    assert "(2 attempts)" in table.stdout


def test_a_stream_failing_mid_way_every_time_says_so_and_counts_what_was_generated(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTLAB_MAX_ATTEMPTS", "2")
    fake_bedrock.script(NOVA, text="partial words that never finish",
                        stream_error=("modelStreamErrorException", "stream broke"))  # fmt: skip
    result = cli("run", "q", "-m", "nova-micro", "-v", "q=x", "--stream", "-f", "json")
    assert result.exit_code == 1
    [row] = json.loads(result.stdout)
    assert row["error"]["message"] == "stream broke (2 attempts, each failed mid-stream)"
    assert "--no-stream" in row["error"]["hint"]
    assert row["attempts"] == 2
    [note] = [n for n in row["notices"] if "discarded" in n]
    assert note.startswith("2 partial answer(s) discarded after mid-stream failures: ~4 output")


def test_dry_run_without_estimates_has_no_estimate_note_and_prices_the_worst_case(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.default.count_tokens = 1000
    result = cli("run", "q", "-m", "nova-micro", "-v", "q=x", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "~4 characters per token" not in result.stdout  # every count came from CountTokens
    # nova-micro: $0.000035 in, $0.00014 out per 1K; max_tokens 1000
    assert "output: up to 1,000 tokens · worst-case output cost: $0.000140" in result.stdout
    assert "estimated input cost $0.000035 · worst case with output $0.000175" in result.stdout
    rows = json.loads(cli("run", "q", "-m", "nova-micro", "-v", "q=x", "--dry-run",
                          "-f", "json").stdout)  # fmt: skip
    assert rows[0]["max_output_tokens"] == 1000
    assert rows[0]["worst_case_output_cost_usd"] == pytest.approx(0.00014)


def test_dry_run_markdown_is_a_table(prompt: Path, cli: Cli) -> None:
    result = cli("run", "q", "-m", "echo", "-v", "q=x", "--dry-run", "-f", "markdown")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "## dry run: nothing was sent"
    assert lines[2].startswith("| model | input tokens | input cost |")
    assert lines[3].startswith("|---|---:|")
    assert lines[4].startswith("| echo (not a real model) | ")
    assert "~4 characters per token" in result.stdout  # the echo model's count is an estimate

"""`promptlab run` against the local fake Bedrock endpoint: the real boto3 path, no network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, sigint_default, write
from tests.fakebedrock import FakeBedrock

PROMPT = """\
version: "1.0.0"
instructions: You answer in one line.
input: "Question: {{ q }}"
variables:
  q: {type: string}
inference: {temperature: 0.2, max_tokens: 100}
"""
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
NOVA = "amazon.nova-micro-v1:0"
LLAMA = "meta.llama3-70b-instruct-v1:0"


@pytest.fixture
def prompt(project: Path) -> Path:
    return write(project / "prompts" / "q.yaml", PROMPT)


def rows(result_stdout: str) -> dict[str, dict]:
    return {r["model"]["alias"]: r for r in json.loads(result_stdout)}


def test_models_are_called_through_converse_with_the_rendered_request(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(HAIKU, text="Paris.", usage={"inputTokens": 20, "outputTokens": 2})
    fake_bedrock.script(NOVA, text="It is Paris.", usage={"inputTokens": 18, "outputTokens": 4})
    result = cli("run", "q", "-m", "claude-haiku,nova-micro", "-v", "q=capital?", "-f", "json")
    assert result.exit_code == 0, result.stderr
    by = rows(result.stdout)
    assert by["claude-haiku"]["output"] == "Paris."
    assert by["claude-haiku"]["usage"]["input_tokens"] == 20
    assert by["claude-haiku"]["model"]["region"] == "us-east-1"
    assert by["claude-haiku"]["cost_usd"] == pytest.approx(20 / 1000 * 0.00025 + 2 / 1000 * 0.00125)
    assert by["nova-micro"]["latency_ms"] == 42  # the service's metrics.latencyMs
    [sent] = fake_bedrock.requests_for(HAIKU)
    assert sent.op == "converse"
    assert sent.body["system"] == [{"text": "You answer in one line."}]
    assert sent.body["messages"][0]["content"][0]["text"] == "Question: capital?"
    assert sent.body["inferenceConfig"] == {"maxTokens": 100, "temperature": 0.2}


def test_stream_flag_uses_converse_stream_and_records_ttft(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(NOVA, text="one two three four")
    result = cli("run", "q", "-m", "nova-micro", "-v", "q=x", "--stream", "-f", "json")
    assert result.exit_code == 0, result.stderr
    row = rows(result.stdout)["nova-micro"]
    assert row["output"] == "one two three four"
    assert row["ttft_ms"] is not None
    assert fake_bedrock.requests_for(NOVA)[0].op == "converse-stream"


def test_one_denied_model_is_an_error_cell_and_exit_1(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(NOVA, text="fine")
    denied = "You don't have access to the model with the specified model ID."
    fake_bedrock.script(LLAMA, fail=99, status=403, error="AccessDeniedException", message=denied)
    result = cli("run", "q", "-m", "nova-micro,llama-70b", "-v", "q=x", "-f", "json")
    assert result.exit_code == 1
    by = rows(result.stdout)
    assert by["nova-micro"]["output"] == "fine" and by["nova-micro"]["error"] is None
    err = by["llama-70b"]["error"]
    assert err["code"] == "AccessDeniedException"
    assert "enable it in the Bedrock console" in err["hint"]
    assert "us-east-1" in err["hint"]


def test_table_view_shows_the_error_with_its_hint(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(LLAMA, fail=99, status=403, error="AccessDeniedException",
                        message="You don't have access")  # fmt: skip
    result = cli("run", "q", "-m", "llama-70b,nova-micro", "-v", "q=x")
    assert result.exit_code == 1
    assert "AccessDeniedException" in result.stdout
    assert "hint:" in result.stdout
    assert "1 error(s)" in result.stdout


def test_throttling_is_retried_and_the_call_succeeds(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(NOVA, text="ok", fail=2, status=429, error="ThrottlingException")
    result = cli("run", "q", "-m", "nova-micro", "-v", "q=x", "-f", "json")
    assert result.exit_code == 0, result.stdout
    assert fake_bedrock.count(model=NOVA) == 3


def test_missing_region_is_one_message_and_exit_2_before_any_call(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    result = cli("run", "q", "-m", "nova-micro", "-v", "q=x")
    assert result.exit_code == 2
    assert "region" in result.stderr
    assert fake_bedrock.count() == 0


def test_missing_credentials_is_exit_2_before_any_call(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = cli("run", "q", "-m", "nova-micro", "-v", "q=x")
    assert result.exit_code == 2
    assert "credentials" in result.stderr.lower()
    assert "Traceback" not in result.stderr
    assert fake_bedrock.count() == 0


def test_unreachable_endpoint_is_exit_2_with_a_clear_message(
    prompt: Path, cli: Cli, aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("PROMPTLAB_MAX_ATTEMPTS", "2")
    result = cli("run", "q", "-m", "nova-micro", "-v", "q=x", "-f", "json")
    assert result.exit_code == 2
    assert "EndpointUnreachable" in result.stdout
    assert "cannot reach" in result.stderr


def test_run_records_history_and_cache_answers_the_repeat(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(NOVA, text="cached answer")
    args = ("run", "q", "-m", "nova-micro", "-v", "q=x", "--temperature", "0", "--cache")
    first = rows(cli(*args, "-f", "json").stdout)["nova-micro"]
    second = rows(cli(*args, "-f", "json").stdout)["nova-micro"]
    assert fake_bedrock.count(model=NOVA) == 1
    assert first["cached"] is False and second["cached"] is True
    assert second["output"] == "cached answer"
    assert second["latency_ms"] == first["latency_ms"]
    log = cli("log", "--format", "json")
    assert log.exit_code == 0
    assert len(json.loads(log.stdout)) == 2


def test_no_log_records_nothing(prompt: Path, cli: Cli, fake_bedrock: FakeBedrock) -> None:
    cli("run", "q", "-m", "nova-micro", "-v", "q=x", "--no-log", "-f", "json")
    log = cli("log", "--format", "json")
    assert log.exit_code == 0
    assert json.loads(log.stdout) == []


def test_ctrl_c_prints_what_finished_and_exits_130(
    prompt: Path, fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    fake_bedrock.script(NOVA, text="quick answer")
    fake_bedrock.script(HAIKU, text="slow " * 200, chunk_delay=0.2)  # ~40 s if not stopped
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptlab", "run", "q", "-m", "nova-micro,claude-haiku",
         "-v", "q=x", "--stream", "--format", "json", "--no-log"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
        preexec_fn=sigint_default,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and fake_bedrock.count(model=HAIKU) == 0:
        time.sleep(0.05)
    time.sleep(0.5)  # nova-micro has answered; claude-haiku is streaming
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    rows = json.loads(out)
    assert [r["model"]["alias"] for r in rows] == ["nova-micro", "claude-haiku"]
    assert rows[1]["error"]["code"] == "Interrupted"  # cut short: what streamed is kept
    assert rows[1]["output"].startswith("slow slow")
    assert "interrupted: 1 of 2 call(s) finished; 1 cut short" in err
    assert "Traceback" not in err

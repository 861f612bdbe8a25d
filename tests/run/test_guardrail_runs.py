"""Guardrails in `promptlab run` through the real boto3 path (local fake Bedrock): what each
operation is sent, the trace reaching the result and its views, and the checks before any call
(unknown guardrail, no permission, malformed references; echo stays offline)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

NOVA = "amazon.nova-lite-v1:0"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
PROMPT = """\
version: "1.0.0"
instructions: You are a bank assistant.
input: "{{ q }}"
variables:
  q: {type: string, default: Which shares should I buy?}
guardrail: {id: gr1abc, version: "2", stream_mode: async}
"""
TRACE = {"guardrail": {"inputAssessment": {"gr1abc": {
    "topicPolicy": {"topics": [{"name": "Investment advice", "type": "DENY", "action": "BLOCKED",
                                "detected": True}]},
    "invocationMetrics": {"guardrailProcessingLatency": 80,
                          "usage": {"topicPolicyUnits": 1, "contentPolicyUnits": 1}},
}}}}  # fmt: skip
BLOCKED = "Sorry, I can't help with that."


@pytest.fixture
def prompt(project: Path) -> Path:
    return write(project / "prompts" / "bank.yaml", PROMPT)


def blocked(fake: FakeBedrock, model: str = NOVA) -> None:
    fake.script(model, text=BLOCKED, stop_reason="guardrail_intervened", trace=TRACE)


def run_json(cli: Cli, *args: str) -> list[dict[str, Any]]:
    result = cli("run", "bank", "--no-log", "-f", "json", *args)
    assert result.exit_code == 0, result.stdout + result.stderr
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


@pytest.mark.parametrize("stream", ["--no-stream", "--stream"])
def test_each_operation_gets_the_guardrail_fields_it_takes_and_the_trace_comes_back(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock, stream: str
) -> None:
    blocked(fake_bedrock)
    [row] = run_json(cli, "-m", "nova-lite", stream)
    [sent] = [r for r in fake_bedrock.requests if r.op.startswith("converse")]
    expected = {"guardrailIdentifier": "gr1abc", "guardrailVersion": "2", "trace": "enabled"}
    if stream == "--stream":
        expected["streamProcessingMode"] = "async"
    assert sent.body["guardrailConfig"] == expected
    assert row["request"]["guardrailConfig"] == expected  # the record is what was sent
    assert row["response_meta"] == {"trace": TRACE}
    assert row["stop_reason"] == "guardrail_intervened"
    assert row["guardrail"]["intervened"] is True
    assert row["guardrail"]["where"] == "input"
    assert row["guardrail"]["policies"][0]["name"] == "Investment advice"


def test_the_cell_says_the_guardrail_intervened_and_which_policy(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    blocked(fake_bedrock)
    result = cli("run", "bank", "-m", "nova-lite", "--no-log")
    assert result.exit_code == 0
    assert '⛔ guardrail intervened (input): denied topic "Investment advice"' in result.stdout
    assert BLOCKED in result.stdout
    assert "guardrail text units are billed apart and are not in the cost" in result.stderr


def test_a_passing_guardrail_says_so_and_markdown_shows_the_same_line(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(NOVA, text="We open at nine.")
    blocked(fake_bedrock, HAIKU)
    result = cli("run", "bank", "-m", "nova-lite,claude-haiku", "--no-log", "-f", "markdown")
    assert result.exit_code == 0
    assert "guardrail passed<br><br>We open at nine." in result.stdout
    assert '⛔ guardrail intervened (input): denied topic "Investment advice"' in result.stdout


def test_the_guardrail_is_checked_once_before_any_model_call(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    run_json(cli, "-m", "nova-lite,claude-haiku", "-v", "q=hours?")
    gets = [r for r in fake_bedrock.requests if r.op == "get-guardrail"]
    assert [(r.model, r.body["version"]) for r in gets] == [("gr1abc", "2")]
    assert fake_bedrock.requests[0].op == "get-guardrail"


def test_an_unknown_guardrail_is_one_line_and_exit_2_before_any_model_call(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.guardrail("gr1abc", versions=("1",))
    result = cli("run", "bank", "-m", "nova-lite,claude-haiku", "--no-log")
    assert result.exit_code == 2
    assert fake_bedrock.count(op="converse") == 0
    line = result.stderr.strip()
    assert "\n" not in line
    assert "prompts/bank.yaml:6: guardrail gr1abc:2 not found in us-east-1" in line
    assert "aws bedrock list-guardrails" in line


def test_the_flag_names_itself_when_its_guardrail_does_not_exist(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.guardrail("gr0gone", missing=True)
    result = cli("run", "bank", "-m", "nova-lite", "--guardrail", "gr0gone:3")
    assert result.exit_code == 2
    assert "error: --guardrail: guardrail gr0gone:3 not found" in result.stderr
    assert fake_bedrock.count(op="converse") == 0


def test_no_permission_to_read_the_guardrail_names_the_permission(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.guardrail("gr1abc", get_error=(403, "AccessDeniedException"))
    result = cli("run", "bank", "-m", "nova-lite")
    assert result.exit_code == 2
    assert "not allowed to read guardrail gr1abc:2" in result.stderr
    assert "bedrock:GetGuardrail" in result.stderr


def test_a_guardrail_that_is_not_ready_stops_the_run(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.guardrail("gr1abc", status="CREATING")
    result = cli("run", "bank", "-m", "nova-lite")
    assert result.exit_code == 2
    assert "guardrail gr1abc:2 is CREATING, not READY" in result.stderr


def test_a_malformed_flag_is_exit_2_before_anything(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    result = cli("run", "bank", "-m", "nova-lite", "--guardrail", "gr1abc")
    assert result.exit_code == 2
    assert "error: --guardrail 'gr1abc': 'gr1abc' has no version — write ID:VERSION" in (
        result.stderr
    )
    assert fake_bedrock.requests == []


def test_the_flag_wins_and_false_in_the_prompt_beats_the_config(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "promptlab.yaml", "guardrail: grconf:1\n")
    write(project / "prompts" / "bank.yaml", PROMPT)
    write(
        project / "prompts" / "free.yaml",
        PROMPT.replace(
            'guardrail: {id: gr1abc, version: "2", stream_mode: async}', "guardrail: false"
        ),
    )
    write(project / "prompts" / "plain.yaml", PROMPT.replace(
        'guardrail: {id: gr1abc, version: "2", stream_mode: async}\n', ""))  # fmt: skip

    def sent(name: str, *args: str) -> Any:
        fake_bedrock.requests.clear()
        result = cli("run", name, "-m", "nova-lite", "--no-log", "--no-stream", *args)
        assert result.exit_code == 0, result.stderr
        [call] = [r for r in fake_bedrock.requests if r.op == "converse"]
        return call.body.get("guardrailConfig", {}).get("guardrailIdentifier")

    assert sent("bank") == "gr1abc"
    assert sent("plain") == "grconf"
    assert sent("free") is None
    assert sent("free", "--guardrail", "grflag:DRAFT") == "grflag"


def test_echo_applies_no_guardrail_says_so_and_stays_offline(
    prompt: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing may be reached
    result = cli("run", "bank", "-m", "echo", "--no-log", "-f", "json")
    assert result.exit_code == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert "guardrailConfig" not in row["request"]
    assert row["guardrail"] is None
    assert "echo: guardrails are not applied offline; guardrail gr1abc:2 not sent" in (
        result.stderr
    )


def test_a_dry_run_checks_no_guardrail(prompt: Path, cli: Cli, fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.guardrail("gr1abc", missing=True)
    result = cli("run", "bank", "-m", "nova-lite", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert fake_bedrock.count(op="get-guardrail") == 0


def test_the_history_keeps_the_trace_and_log_shows_the_intervention(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    blocked(fake_bedrock)
    assert cli("run", "bank", "-m", "nova-lite").exit_code == 0
    listing = cli("log").stdout
    assert "blocked" in listing
    shown = cli("log", "show", "1").stdout
    assert '⛔ guardrail intervened (input): denied topic "Investment advice"' in shown
    [row] = json.loads(cli("log", "-f", "json").stdout)
    assert row["guardrail"]["where"] == "input"
    assert row["response_meta"] == {"trace": TRACE}


def test_a_cached_answer_keeps_what_the_guardrail_did(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    blocked(fake_bedrock)
    first = cli("run", "bank", "-m", "nova-lite", "--temperature", "0", "--cache", "-f", "json")
    again = cli("run", "bank", "-m", "nova-lite", "--temperature", "0", "--cache", "-f", "json")
    assert fake_bedrock.count(op="converse") == 1
    [hit] = json.loads(again.stdout)
    assert hit["cached"] and hit["guardrail"] == json.loads(first.stdout)[0]["guardrail"]
    assert fake_bedrock.count(op="get-guardrail") == 1  # an answer from the cache checks nothing

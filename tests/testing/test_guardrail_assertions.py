"""`guardrail` (the call's own guardrail) and `apply-guardrail` (ApplyGuardrail on the output or
the rendered input, any model) through `promptlab test` and the local fake Bedrock server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

NOVA = "amazon.nova-lite-v1:0"
PROMPT = """\
version: "1.0.0"
instructions: You are a bank assistant.
input: "{{ q }}"
variables:
  q: {type: string}
"""
TOPIC = {"topicPolicy": {"topics": [{"name": "Investment advice", "type": "DENY",
                                     "action": "BLOCKED"}]}}  # fmt: skip
PII = {
    "sensitiveInformationPolicy": {
        "piiEntities": [{"match": "a@b.c", "type": "EMAIL", "action": "ANONYMIZED"}],
        "regexes": [],
    }
}


def setup(project: Path, asserts: str, guardrail: str = "guardrail: gr1abc:1\n",
          models: str = "[nova-lite]", q: str = "Which shares should I buy?") -> None:  # fmt: skip
    write(project / "prompts" / "bank.yaml", PROMPT + guardrail)
    write(project / "prompts" / "bank.tests.yaml",
          f"tests:\n  - name: case\n    models: {models}\n    vars: {{q: {json.dumps(q)}}}\n"
          f"    assert:\n{asserts}")  # fmt: skip


def run(cli: Cli, project: Path, *extra: str) -> tuple[int, list[dict[str, Any]], str]:
    result = cli("test", "--json", "r.json", *extra)
    if result.exit_code == 2:
        return 2, [], result.stderr
    data = json.loads((project / "r.json").read_text("utf-8"))
    return result.exit_code, data["cases"][0]["samples"][0]["assertions"], result.stderr


def intervene(fake: FakeBedrock, where: str = "input", assessment: Any = TOPIC) -> None:
    key = "inputAssessment" if where == "input" else "outputAssessments"
    value = {"gr1abc": assessment if where == "input" else [assessment]}
    fake.script(NOVA, text="Sorry.", stop_reason="guardrail_intervened",
                trace={"guardrail": {key: value}})  # fmt: skip


@pytest.mark.parametrize(
    ("asserts", "passed"),
    [
        ("guardrail: intervened", [True]),
        ("{guardrail: intervened, policy: topic, where: input}", [True]),
        ("{guardrail: intervened, policy: pii}", [False]),
        ("{guardrail: intervened, where: output}", [False]),
        ("guardrail: passed", [False]),
        ("{guardrail: passed, policy: content}", [True]),
        ("not-guardrail: passed", [True]),
    ],
)
def test_the_calls_own_guardrail_is_checked_by_verdict_policy_and_side(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock, asserts: str, passed: list[bool]
) -> None:
    intervene(fake_bedrock)
    setup(project, f"      - {asserts}\n")
    code, found, _ = run(cli, project)
    assert [a["passed"] for a in found] == passed
    assert code == (0 if all(passed) else 1)
    assert 'denied topic "Investment advice"' in found[0]["reason"]


def test_an_output_intervention_names_its_side_and_policy(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    intervene(fake_bedrock, "output", PII)
    setup(project, "      - {guardrail: intervened, policy: pii, where: output}\n")
    code, [found], _ = run(cli, project)
    assert code == 0
    assert (
        found["reason"] == "⛔ guardrail intervened (output): sensitive information EMAIL (masked)"
    )


def test_a_policy_cannot_be_told_from_an_empty_trace(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(NOVA, text="Sorry.", stop_reason="guardrail_intervened")
    setup(project, "      - guardrail: intervened\n      - {not-guardrail: intervened, "
          "policy: topic}\n")  # fmt: skip
    code, found, _ = run(cli, project)
    assert found[0]["passed"] is True  # intervened, even without assessments
    assert found[1]["passed"] is False  # undecidable: never flipped by `not-`
    assert "which policy is unknown" in found[1]["reason"]
    assert code == 1


def test_a_call_without_a_guardrail_fails_guardrail_either_way(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    setup(project, "      - guardrail: passed\n      - not-guardrail: intervened\n",
          guardrail="", models="[echo]")  # fmt: skip
    code, found, _ = run(cli, project)
    assert [a["passed"] for a in found] == [False, False]
    assert "no guardrail on this call" in found[0]["reason"]
    assert code == 1


def test_apply_guardrail_checks_an_echo_output_and_is_recorded_like_a_judge_call(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    setup(project, "      - apply-guardrail: passed\n", models="[echo]", q="When do you open?")
    result = cli("test")
    assert result.exit_code == 0, result.stdout + result.stderr
    [get, apply] = fake_bedrock.requests
    assert (get.op, apply.op, apply.model) == ("get-guardrail", "apply-guardrail", "gr1abc")
    assert apply.path == "/guardrail/gr1abc/version/1/apply"
    assert apply.body["source"] == "OUTPUT"
    assert "When do you open?" in apply.body["content"][0]["text"]["text"]
    [row] = [r for r in json.loads(cli("log", "-f", "json").stdout)
             if r["prompt"]["name"] == "bank (guardrail)"]  # fmt: skip
    assert row["model"]["alias"] == "guardrail gr1abc:1"
    assert row["cost_usd"] is None
    assert row["notices"] == ["guardrail call grading a test output"]
    assert row["response_meta"]["applyGuardrail"]["usage"]["topicPolicyUnits"] == 1
    assert row["guardrail"] == {
        "intervened": False,
        "where": None,
        "policies": [],
        "units": {"topicPolicyUnits": 1, "contentPolicyUnits": 1},
    }


def test_apply_guardrail_on_the_input_with_its_own_guardrail_and_an_intervention(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.guardrail("gr9", action="GUARDRAIL_INTERVENED", assessments=[TOPIC],
                           outputs=[{"text": "Blocked."}])  # fmt: skip
    setup(project, "      - {type: apply-guardrail, source: input, guardrail: gr9:DRAFT}\n"
          "      - {apply-guardrail: intervened, guardrail: gr9:DRAFT, policy: topic}\n",
          guardrail="", models="[echo]")  # fmt: skip
    code, found, _ = run(cli, project)
    assert [a["passed"] for a in found] == [False, True]
    assert found[0]["reason"] == (
        "ApplyGuardrail gr9:DRAFT on the input: ⛔ guardrail "
        'intervened (input): denied topic "Investment advice"'
    )
    sent = [r for r in fake_bedrock.requests if r.op == "apply-guardrail"]
    assert sent[0].body["source"] == "INPUT"
    assert sent[0].body["content"] == [{"text": {"text": "Which shares should I buy?"}}]
    assert code == 1
    log = cli("log").stdout
    assert "blocked" in log and "Blocked." in log


def test_apply_guardrail_failing_to_run_is_an_undecided_assertion_with_the_fix(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.guardrail("gr1abc", apply_error=(403, "AccessDeniedException"))
    setup(project, "      - not-apply-guardrail: intervened\n", models="[echo]")
    code, [found], _ = run(cli, project)
    assert found["passed"] is False  # not flipped by `not-`: nothing was decided
    assert found["reason"].startswith("guardrail gr1abc:1 failed: AccessDeniedException")
    assert code == 3  # access denied: the check could not run
    [row] = [r for r in json.loads(cli("log", "-f", "json").stdout)
             if r["prompt"]["name"] == "bank (guardrail)"]  # fmt: skip
    assert (
        row["error"]["hint"]
        == "your IAM identity needs bedrock:ApplyGuardrail on guardrail gr1abc:1"
    )


@pytest.mark.parametrize(
    ("asserts", "message"),
    [
        ("- {apply-guardrail: passed, guardrail: gr1abc}", "'gr1abc' has no version"),
        ("- {guardrail: blocked}", "the value must be intervened or passed"),
        ("- {type: guardrail, value: passed, policy: topics}", "did you mean 'topic'?"),
        ("- {type: apply-guardrail, source: outputs}", "'source' must be one of output, input"),
        ("- guardrail", "the value must be intervened or passed"),
    ],
)
def test_malformed_guardrail_assertions_are_problems_at_their_line(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock, asserts: str, message: str
) -> None:
    setup(project, f"      {asserts}\n")
    result = cli("test")
    assert result.exit_code == 2
    assert "prompts/bank.tests.yaml:6: error:" in result.stderr
    assert message in result.stderr
    assert fake_bedrock.requests == []


def test_apply_guardrail_without_any_guardrail_is_exit_2_at_its_line(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    setup(project, "      - apply-guardrail: passed\n", guardrail="", models="[echo]")
    result = cli("test")
    assert result.exit_code == 2
    assert ("prompts/bank.tests.yaml:6: error: apply-guardrail: no guardrail to apply — add "
            "guardrail: ID:VERSION to the assertion") in result.stderr  # fmt: skip
    assert cli("test", "--guardrail", "gr1abc:1").exit_code == 0


def test_an_unknown_guardrail_stops_the_test_run_before_any_call(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.guardrail("gr1abc", missing=True)
    setup(project, "      - guardrail: passed\n")
    result = cli("test")
    assert result.exit_code == 2
    assert "prompts/bank.yaml:6: guardrail gr1abc:1 not found" in result.stderr
    assert fake_bedrock.count(op="converse") == 0
    assert cli("test", "--dry-run").exit_code == 0  # a dry run calls nothing


def test_echo_only_suites_without_apply_guardrail_stay_offline(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    setup(project, "      - contains: shares\n", models="[echo]")
    result = cli("test", "--no-log")
    assert result.exit_code == 0, result.stdout + result.stderr

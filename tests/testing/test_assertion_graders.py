"""`judge` and `similar` through the real boto3 path against the local fake Bedrock server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from promptlab.assertions.graders import cosine, parse_verdict
from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

ECHOER = 'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'
JUDGE = "amazon.nova-micro-v1:0"
EMBED = "amazon.titan-embed-text-v2:0"


def setup(project: Path, asserts: str, text: str = "We will replace the boots, Ana.") -> None:
    write(project / "prompts" / "echoer.yaml", ECHOER)
    write(project / "prompts" / "echoer.tests.yaml",
          f"tests:\n  - name: reply\n    vars: {{text: {json.dumps(text)}}}\n"
          f"    assert:\n{asserts}")  # fmt: skip


def run(cli: Cli, project: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = cli("test", "-m", "echo", "--no-log", "--json", "r.json", *extra)
    data = json.loads((project / "r.json").read_text("utf-8")) if result.exit_code != 2 else {}
    return result.exit_code, data


def assertion(data: dict[str, Any], i: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = data["cases"][0]["samples"][0]["assertions"][i]
    return out


def test_judge_pass_verdict_costs_are_counted(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(JUDGE, text='{"pass": true, "score": 0.9, "reason": "offers a fix"}',
                        usage={"inputTokens": 1000, "outputTokens": 100})  # fmt: skip
    setup(project, "      - judge: The reply offers a replacement.\n")
    code, data = run(cli, project)
    assert code == 0
    a = assertion(data)
    assert (a["passed"], a["score"]) == (True, 0.9)
    assert "offers a fix" in a["reason"]
    assert a["tokens"] == 1100
    assert a["cost_usd"] == pytest.approx(1000 / 1000 * 0.000035 + 100 / 1000 * 0.00014)
    assert data["summary"]["cost_usd"]["graders"] == pytest.approx(a["cost_usd"])
    sent = fake_bedrock.requests_for(JUDGE)[0].body
    assert sent["inferenceConfig"]["temperature"] == 0
    user = sent["messages"][0]["content"][0]["text"]
    assert "The reply offers a replacement." in user and "We will replace the boots" in user


def test_judge_fail_verdict_fails_the_case(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(JUDGE, text='{"pass": false, "score": 0.2, "reason": "no photo asked"}')
    setup(project, "      - judge: Asks for a photo.\n")
    code, data = run(cli, project)
    assert code == 1
    assert "no photo asked" in data["cases"][0]["reason"]


def test_judge_threshold_applies_to_the_score(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(JUDGE, text='{"pass": true, "score": 0.6, "reason": "meh"}')
    setup(project, "      - {judge: Polite., threshold: 0.8}\n")
    code, data = run(cli, project)
    assert code == 1
    assert "score 0.6 < 0.8" in assertion(data)["reason"]


@pytest.mark.parametrize(
    ("verdict", "why"),
    [
        ("Sure! The reply passes.", "not a JSON object"),
        ('{"pass": "yes", "score": 1, "reason": "x"}', "'pass' must be true or false"),
        ('{"pass": true, "score": 7, "reason": "x"}', "'score' must be a number from 0 to 1"),
        ('{"pass": true, "reason": "x"}', "missing score"),
        ('{"pass": true, "score": 1, "reason": "x", "notes": ""}', "unexpected notes"),
    ],
)
def test_malformed_verdict_is_a_failed_assertion_with_the_reason(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock, verdict: str, why: str
) -> None:
    fake_bedrock.script(JUDGE, text=verdict)
    setup(project, "      - not-judge: Is rude.\n")  # even negated: malformed never passes
    code, data = run(cli, project)
    assert code == 1
    a = assertion(data)
    assert not a["passed"]
    assert "malformed verdict" in a["reason"] and why in a["reason"]


def test_judge_model_from_suite_defaults_and_per_assertion(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    ok = '{"pass": true, "score": 1, "reason": "ok"}'
    fake_bedrock.script("anthropic.claude-3-haiku-20240307-v1:0", text=ok)
    fake_bedrock.script("amazon.nova-lite-v1:0", text=ok)
    write(project / "prompts" / "echoer.yaml", ECHOER)
    write(project / "prompts" / "echoer.tests.yaml",
          "defaults: {judge_model: claude-haiku}\ntests:\n  - name: a\n    vars: {text: hi}\n"
          "    assert:\n      - judge: one\n      - {judge: two, model: nova-lite}\n")  # fmt: skip
    code, _ = run(cli, project)
    assert code == 0
    assert fake_bedrock.count(model="anthropic.claude-3-haiku-20240307-v1:0") == 1
    assert fake_bedrock.count(model="amazon.nova-lite-v1:0") == 1
    assert fake_bedrock.count(model=JUDGE) == 0


def test_judge_access_denied_is_an_infrastructure_error(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(JUDGE, fail=99, status=403, error="AccessDeniedException",
                        message="You don't have access to the model.")  # fmt: skip
    setup(project, "      - judge: Polite.\n")
    code, data = run(cli, project)
    assert code == 3
    assert data["cases"][0]["status"] == "error"


def test_similar_uses_titan_embeddings_and_counts_their_cost(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(EMBED, embedding=[0.6, 0.8, 0.0])
    setup(project, "      - similar: We will send new boots.\n"
          "      - {not-similar: Totally unrelated., name: differs}\n")  # fmt: skip
    code, data = run(cli, project)
    assert code == 1  # the fake returns one vector for every text: cosine 1.0
    similar, differs = assertion(data, 0), assertion(data, 1)
    assert similar["passed"] and similar["score"] == pytest.approx(1.0)
    assert "similarity 1.000 ≥ 0.8" in similar["reason"]
    assert not differs["passed"]
    invokes = [r for r in fake_bedrock.requests if r.op == "invoke"]
    assert {r.body["inputText"] for r in invokes} == {
        "We will replace the boots, Ana.",
        "We will send new boots.",
        "Totally unrelated.",
    }
    assert len(invokes) == 3  # the output is embedded once per run, not per assertion
    assert similar["cost_usd"] > 0


def test_similar_below_threshold_fails_with_offline_embeddings(project: Path, cli: Cli) -> None:
    setup(
        project,
        "      - {similar: weather report for tuesday, model: echo}\n"
        "      - {similar: we will replace the boots ana, model: echo, threshold: 0.95}\n",
    )
    code, data = run(cli, project)
    assert code == 1
    low, high = assertion(data, 0), assertion(data, 1)
    assert not low["passed"] and "< 0.8" in low["reason"]
    assert high["passed"]


def test_parse_verdict_accepts_one_json_fence_only() -> None:
    assert parse_verdict('```json\n{"pass": true, "score": 1, "reason": "r"}\n```')[0] is True
    with pytest.raises(ValueError):
        parse_verdict('Verdict: {"pass": true, "score": 1, "reason": "r"}')


def test_cosine() -> None:
    assert cosine([1.0, 0.0], [1.0, 0.0]) == pytest.approx(1.0)
    assert cosine([1.0, 0.0], [0.0, 1.0]) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        cosine([1.0], [1.0, 2.0])


def test_grader_calls_are_recorded_in_history_with_their_cost(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(JUDGE, text='{"pass": true, "score": 1, "reason": "ok"}',
                        usage={"inputTokens": 1000, "outputTokens": 100})  # fmt: skip
    setup(project, "      - judge: The reply offers a replacement.\n      - similar: boots\n")
    result = cli("test", "-m", "echo", "--no-cache")
    assert result.exit_code in (0, 1), result.output
    rows = json.loads(cli("log", "--format", "json").stdout)
    by_prompt = {r["prompt"]["name"]: r for r in rows}
    assert set(by_prompt) == {"echoer", "echoer (judge)", "echoer (embedding)"}
    judge = by_prompt["echoer (judge)"]
    assert judge["model"]["id"] == JUDGE
    assert judge["case"] == by_prompt["echoer"]["case"]
    assert judge["run_id"] == by_prompt["echoer"]["run_id"]
    assert judge["cost_usd"] == pytest.approx(1000 / 1000 * 0.000035 + 100 / 1000 * 0.00014)
    assert by_prompt["echoer (embedding)"]["model"]["id"] == EMBED

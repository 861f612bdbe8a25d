"""Judged checks against the sources: `grounded`, `context-relevance`, `answer-relevance`.

The judge path runs through the real boto3 client against the local fake Bedrock server; with
echo as the judge the checks score by word overlap, offline and deterministically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from promptlab.assertions import Context, Verdict, evaluate, judgeprompts
from promptlab.assertions.evidence import read_context
from promptlab.assertions.groundjudge import read_reply
from promptlab.request import Request
from promptlab.results import Completion, Result
from tests.conftest import REPO, Cli, write
from tests.fakebedrock import FakeBedrock
from tests.testing.test_assertion_sources import POLICY
from tests.testing.test_assertion_types import parse, result

JUDGE = "amazon.nova-micro-v1:0"
QA = """version: "1.0.0"
instructions: Answer from the sources and cite them as [1].
context: |
  {% for p in sources %}[{{ loop.index }}] {{ p.text }}
  {% endfor %}
input: "{{ question }}"
variables:
  question: {type: string}
  sources: {type: list}
"""
CLAIMS = {"claims": [
    {"claim": "Refunds are issued within 5 business days.", "supported": True, "passage": "1"},
    {"claim": "Refunds are paid by drone.", "supported": False, "passage": None},
    {"claim": "Sale items can be exchanged.", "supported": True, "passage": "3"},
]}  # fmt: skip


def suite(asserts: str, extra: str = "") -> str:
    return f"""prompt: qa.yaml
tests:
  - name: refunds
    vars:
      question: How long do refunds take?
      sources: &sources
        - {{text: "Refunds are issued within 5 business days.", source: returns.md}}
        - {{text: "Orders over $1,000 ship free.", source: shipping.md}}
    context: *sources
{extra}    assert:
{asserts}"""


def setup(project: Path, asserts: str, extra: str = "") -> None:
    write(project / "prompts" / "qa.yaml", QA)
    write(project / "prompts" / "qa.tests.yaml", suite(asserts, extra))


def run(cli: Cli, project: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    out = cli("test", "-m", "claude-haiku", "--no-log", "--json", "r.json", *extra)
    data = json.loads((project / "r.json").read_text("utf-8")) if out.exit_code != 2 else {}
    return out.exit_code, data, out.output


def first(data: dict[str, Any], i: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = data["cases"][0]["samples"][0]["assertions"][i]
    return out


# ---------------------------------------------------------------- through the judge model


def test_grounded_scores_the_supported_share_and_names_the_unsupported_claims(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(JUDGE, text=json.dumps(CLAIMS),
                        usage={"inputTokens": 2000, "outputTokens": 200})  # fmt: skip
    setup(project, "      - grounded\n")
    code, data, output = run(cli, project)
    assert code == 1, output
    a = first(data)
    assert (a["passed"], a["score"]) == (False, pytest.approx(2 / 3, abs=1e-4))
    assert a["reason"] == (
        "score 0.67 < 1: nova-micro: 1 of 3 claim(s) not supported by the case context "
        "(2 passages): 'Refunds are paid by drone.'"
    )
    assert a["tokens"] == 2200
    assert a["cost_usd"] == pytest.approx(2000 / 1000 * 0.000035 + 200 / 1000 * 0.00014)
    sent = fake_bedrock.requests_for(JUDGE)[0].body
    assert sent["inferenceConfig"]["temperature"] == 0
    user = sent["messages"][0]["content"][0]["text"]
    assert "[1] (returns.md)\nRefunds are issued within 5 business days." in user
    assert "[2] (shipping.md)\nOrders over $1,000 ship free." in user
    assert "<question>\nHow long do refunds take?\n</question>" in user
    assert [r.model for r in fake_bedrock.requests if r.model != JUDGE] != []  # the answer


def test_grounded_passes_at_a_lower_threshold(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(JUDGE, text="```json\n" + json.dumps(CLAIMS) + "\n```")
    setup(project, "      - {type: grounded, threshold: 0.6}\n")
    code, data, output = run(cli, project)
    assert code == 0, output
    assert first(data)["score"] == pytest.approx(2 / 3, abs=1e-4)


def test_a_malformed_judge_reply_fails_either_way_with_the_reply(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(JUDGE, text="All claims look fine to me.")
    setup(project, "      - grounded\n      - not-grounded\n")
    code, data, _ = run(cli, project)
    assert code == 1
    for i in (0, 1):
        a = first(data, i)
        assert not a["passed"]
        assert a["reason"].startswith("malformed reply from nova-micro: not a JSON object")


def test_context_relevance_and_answer_relevance_read_their_judges_replies(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(JUDGE, text=json.dumps({
        "passages": [{"id": "1", "relevant": True}, {"id": "2", "relevant": False}],
        "addresses": "partly", "reason": "it skips sale items"}))  # fmt: skip
    setup(project, "      - context-relevance\n      - answer-relevance\n")
    code, data, _ = run(cli, project)
    assert code == 1
    relevance, answer = first(data, 0), first(data, 1)
    assert (relevance["passed"], relevance["score"]) == (True, 0.5)
    assert relevance["reason"] == "nova-micro: 1 of 2 passage(s) relevant; not: [2] shipping.md"
    assert (answer["passed"], answer["score"]) == (False, 0.5)
    assert answer["reason"] == (
        "score 0.50 < 1: nova-micro: addresses the question partly: it skips sale items"
    )


def test_judge_calls_of_grounded_are_recorded_with_their_cost(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(JUDGE, text=json.dumps(CLAIMS),
                        usage={"inputTokens": 1000, "outputTokens": 100})  # fmt: skip
    setup(project, "      - grounded\n")
    assert cli("test", "-m", "claude-haiku", "--no-cache").exit_code == 1
    rows = json.loads(cli("log", "--format", "json").stdout)
    judge = next(r for r in rows if r["prompt"]["name"] == "qa (judge)")
    assert judge["model"]["id"] == JUDGE
    assert judge["cost_usd"] == pytest.approx(1000 / 1000 * 0.000035 + 100 / 1000 * 0.00014)


def test_a_project_judge_prompt_replaces_the_packaged_one(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(JUDGE, text=json.dumps({"claims": []}))
    write(project / "prompts" / "judges" / "grounded.yaml", STRICT_JUDGE)
    setup(project, "      - grounded\n")
    code, data, output = run(cli, project)
    assert code == 0, output
    assert first(data)["reason"] == "nova-micro: no factual claims in the answer"
    user = fake_bedrock.requests_for(JUDGE)[0].body["messages"][0]["content"][0]["text"]
    assert user.startswith("STRICT. Sources:\n[1] (returns.md)")


def test_an_assertion_judge_prompt_is_relative_to_the_suite(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(JUDGE, text=json.dumps({"claims": []}))
    write(project / "prompts" / "checks" / "mine.yaml", STRICT_JUDGE)
    setup(project, "      - {type: grounded, judge_prompt: checks/mine.yaml}\n")
    code, _, output = run(cli, project)
    assert code == 0, output
    assert "STRICT" in fake_bedrock.requests_for(JUDGE)[0].body["messages"][0]["content"][0]["text"]


STRICT_JUDGE = """name: strict-grounded
version: "2.0.0"
input: |
  STRICT. Sources:
  {{ context }}
  Answer: {{ answer }}
variables:
  context: {type: string}
  answer: {type: string}
"""


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(("asserts", "message"), [
    ("      - {grounded: yes}\n", "qa.tests.yaml:11: error: 'grounded': 'grounded' takes no value"),
    ("      - {type: grounded, judge: x}\n", "qa.tests.yaml:11: error: unknown key 'judge'"),
    ("      - {type: grounded, judge_prompt: nope.yaml}\n",
     "qa.tests.yaml:11: error: 'grounded': judge prompt 'nope.yaml' not found"),
    ("      - {type: answer-relevance, model: gpt-4}\n",
     "qa.tests.yaml:11: error: answer-relevance: unknown model 'gpt-4'"),
])  # fmt: skip
def test_bad_judged_assertions_are_one_line_exit_2_before_any_call(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock, asserts: str, message: str
) -> None:
    setup(project, asserts)
    code, _, output = run(cli, project)
    assert code == 2
    assert message in output
    assert fake_bedrock.requests == []


def test_a_judge_prompt_without_the_answer_is_refused_at_load(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(
        project / "prompts" / "judges" / "grounded.yaml",
        'version: "1.0.0"\ninput: "{{ context }}"\nvariables:\n  context: {type: string}\n',
    )
    setup(project, "      - grounded\n")
    code, _, output = run(cli, project)
    assert code == 2
    assert "the grounded judge needs the variable 'answer'" in output
    assert fake_bedrock.requests == []


def test_a_check_against_the_sources_that_can_have_none_is_refused_before_any_call(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    """No context: in the case, no retrieve: in the prompt, not a kb: model: one line at the
    check's line, exit 2, nothing called."""
    write(project / "prompts" / "qa.yaml", QA)
    write(
        project / "prompts" / "qa.tests.yaml",
        """prompt: qa.yaml
tests:
  - name: no-context
    vars: {question: q, sources: []}
    assert: [grounded]
""",
    )
    code, _, output = run(cli, project)
    assert code == 2
    assert "qa.tests.yaml:5: error: 'grounded' in case 'no-context' has no sources" in output
    assert "on claude-haiku" in output and "retrieve: to the prompt" in output
    assert fake_bedrock.requests == []


def test_grounded_without_evidence_fails_without_calling_the_judge(
    fake_bedrock: FakeBedrock,
) -> None:
    """A retrieving prompt whose search found nothing: the check fails, no judge asked."""
    from promptlab.assertions import evaluate

    a, problems = parse("grounded")
    assert a is not None, problems
    r = result("Refunds take 5 days.", passages=[])
    verdict = evaluate(a, Context(r.output, r, {}, "case", Path.cwd(), judge_model=JUDGE))
    assert not verdict.passed and verdict.reason.startswith("no evidence to check against")
    assert fake_bedrock.requests_for(JUDGE) == []


# ---------------------------------------------------------------- the offline (echo) judge


def offline(spec: str, output: str, question: str = "How long do refunds take?",
            context: Any = None) -> Verdict:  # fmt: skip
    a, problems = parse(spec)
    assert a is not None, problems
    r = result(output, passages=POLICY)
    case_context = read_context(context)[0] if context is not None else ()
    ctx = Context(output, r, {}, "case", Path.cwd(), judge_model="echo", question=question,
                  case_context=case_context)  # fmt: skip
    return evaluate(a, ctx)


def test_echo_as_judge_checks_each_sentence_by_word_overlap() -> None:
    ok = offline("grounded", "Refunds are issued within 5 business days [1].")
    assert ok.passed and ok.reason == (
        "echo (offline, word overlap): all 1 claim(s) supported by 3 retrieved passages"
    )
    bad = offline("grounded", "Refunds take 5 business days [1]. Drones deliver refunds hourly.")
    assert not bad.passed and bad.score == 0.5
    assert bad.reason.endswith("1 of 2 claim(s) not supported by 3 retrieved passages: "
                               "'Drones deliver refunds hourly.'")  # fmt: skip


def test_echo_as_judge_of_relevance() -> None:
    v = offline("context-relevance", "x", question="When are refunds issued for sale items?")
    assert v.passed and v.score == pytest.approx(2 / 3)
    assert v.reason.endswith("2 of 3 passage(s) relevant; not: [2] policies/shipping.md")
    assert offline("answer-relevance", "Refunds exist.").reason.endswith("partly")
    assert offline("answer-relevance", "Refunds take long.").passed
    assert offline("answer-relevance", "Gift cards are final.").score == 0.0


def test_the_echo_judge_is_deterministic_and_free() -> None:
    runs = {offline("grounded", "Refunds take 5 business days [1]. Drones fly.") for _ in "abc"}
    assert len(runs) == 1
    assert next(iter(runs)).tokens == 0 and next(iter(runs)).cost_usd == 0.0


def test_read_reply_checks_each_judges_shape() -> None:
    assert read_reply("grounded", '{"claims": []}') == {"claims": []}
    with pytest.raises(ValueError, match="expected"):
        read_reply("grounded", '{"claims": [{"claim": "x"}]}')
    with pytest.raises(ValueError, match="expected"):
        read_reply("context-relevance", '{"passages": [{"relevant": true}]}')
    with pytest.raises(ValueError, match="got addresses 'yes'"):
        read_reply("answer-relevance", '{"addresses": "yes"}')


# ---------------------------------------------------------------- shipped files


@pytest.mark.parametrize("kind", sorted(judgeprompts.NEEDS))
def test_each_packaged_judge_prompt_loads_and_asks_for_json(kind: str) -> None:
    prompt = judgeprompts.load(kind, judgeprompts.PACKAGED / f"{kind}.yaml")
    assert prompt.version == "1.0.0" and prompt.inference.temperature == 0
    request = judgeprompts.request(prompt, dict(judgeprompts.SAMPLE))
    assert "exactly one JSON object" in request.text


def test_the_grounding_example_passes_offline_and_its_failures_read_as_documented(
    project: Path, cli: Cli
) -> None:
    examples = REPO / "prompts" / "examples"
    for name in ("grounded-answers.yaml", "grounded-answers.tests.yaml"):
        write(project / "prompts" / name, (examples / name).read_text("utf-8"))
    suite_file = project / "prompts" / "grounded-answers.tests.yaml"
    out = cli("test", str(suite_file), "-m", "echo", "--no-log")
    assert out.exit_code == 0, out.output
    suite_file.write_text(suite_file.read_text("utf-8").replace("- not-", "- "), "utf-8")
    out = cli("test", str(suite_file), "-m", "echo", "--no-log", "--json", "r.json")
    assert out.exit_code == 1
    data = json.loads((project / "r.json").read_text("utf-8"))
    reasons = {c["case"]: c["reason"] for c in data["cases"] if c["status"] == "fail"}
    readme = " ".join((REPO / "README.md").read_text("utf-8").split())
    assert len(reasons) == 3
    for case, reason in reasons.items():
        assert f"grounded-answers/{case} FAIL {reason}" in readme


def test_dry_run_counts_real_judge_calls_and_not_the_offline_judge(project: Path, cli: Cli) -> None:
    setup(project, "      - grounded\n      - {type: answer-relevance, model: echo}\n")
    out = cli("test", "-m", "claude-haiku", "--dry-run")
    assert out.exit_code == 0, out.output
    assert "plus 1 grader call(s)" in out.output


class ScriptedJudge:
    """Grader services whose judge answers with one scripted text; the requests are kept."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.asked: list[tuple[str, Request]] = []

    def complete(
        self, model: str, request: Request, about: Result | None = None
    ) -> tuple[Completion, float | None]:
        self.asked.append((model, request))
        return Completion(self.reply, input_tokens=10, output_tokens=5), 0.001


def test_grounded_reads_the_retrieved_passages_with_their_ids_and_sources() -> None:
    a, _ = parse("{type: grounded, model: nova-lite}")
    assert a is not None
    judge = ScriptedJudge(json.dumps({"claims": [{"claim": "c", "supported": True}]}))
    r = result("Refunds take 5 business days [1].", passages=POLICY)
    ctx = Context(r.output, r, {}, "case", Path.cwd(), services=judge,  # type: ignore[arg-type]
                  question="How long do refunds take?")  # fmt: skip
    v = evaluate(a, ctx)
    assert v.passed and (v.tokens, v.cost_usd) == (15, 0.001)
    assert v.reason == "nova-lite: all 1 claim(s) supported by 3 retrieved passages"
    model, request = judge.asked[0]
    assert model == "nova-lite"
    assert "[3] (policies/returns.md)\nSale items can be exchanged but not refunded." in (
        request.text
    )

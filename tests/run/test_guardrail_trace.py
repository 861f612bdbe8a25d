"""What a guardrail did, read from the service's answer (guardrails.outcome): the stop reason,
the trace's input and output assessments, ApplyGuardrail responses; one line for every view."""

from __future__ import annotations

from typing import Any

import pytest

from promptlab.guardrails import Finding, Outcome, from_apply, outcome
from promptlab.results import ErrorInfo, Result

GUARD = {"guardrailIdentifier": "gr1", "guardrailVersion": "1", "trace": "enabled"}
USAGE = {"topicPolicyUnits": 1, "contentPolicyUnits": 1, "wordPolicyUnits": 0,
         "sensitiveInformationPolicyUnits": 0, "sensitiveInformationPolicyFreeUnits": 0,
         "contextualGroundingPolicyUnits": 0}  # fmt: skip


def result(
    stop: str = "guardrail_intervened",
    trace: dict[str, Any] | None = None,
    *,
    asked: bool = True,
    error: ErrorInfo | None = None,
) -> Result:
    request: dict[str, Any] = {"messages": []}
    if asked:
        request["guardrailConfig"] = GUARD
    return Result(prompt_name="p", prompt_version="1.0.0", prompt_hash="h", model_alias="m",
                  model_id="m", region="us-east-1", params={}, request=request,
                  output="Sorry, I can't help with that.", stop_reason=stop, error=error,
                  response_meta={"trace": trace} if trace is not None else None)  # fmt: skip


def traced(inputs: dict[str, Any] | None = None, outputs: list[Any] | None = None) -> Any:
    guard: dict[str, Any] = {}
    if inputs is not None:
        guard["inputAssessment"] = {"gr1": inputs}
    if outputs is not None:
        guard["outputAssessments"] = {"gr1": outputs}
    return {"guardrail": guard}


TOPIC = {"topicPolicy": {"topics": [{"name": "Investment advice", "type": "DENY",
                                     "action": "BLOCKED", "detected": True}]},
         "invocationMetrics": {"guardrailProcessingLatency": 90, "usage": USAGE}}  # fmt: skip


def test_a_denied_topic_on_the_input_is_named_in_one_line() -> None:
    found = outcome(result(trace=traced(TOPIC)))
    assert found is not None
    assert found.intervened and found.where == "input"
    assert found.line() == '⛔ guardrail intervened (input): denied topic "Investment advice"'
    assert found.to_dict() == {
        "intervened": True, "where": "input",
        "policies": [{"policy": "topic", "name": "Investment advice", "action": "BLOCKED",
                      "where": "input"}],
        "units": {"topicPolicyUnits": 1, "contentPolicyUnits": 1},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("assessment", "said"),
    [
        (
            {
                "contentPolicy": {
                    "filters": [
                        {
                            "type": "HATE",
                            "confidence": "HIGH",
                            "filterStrength": "MEDIUM",
                            "action": "BLOCKED",
                        }
                    ]
                }
            },
            "content filter HATE (MEDIUM strength, HIGH confidence)",
        ),
        (
            {
                "wordPolicy": {
                    "customWords": [{"match": "CompetitorCo", "action": "BLOCKED"}],
                    "managedWordLists": [],
                }
            },
            'word "CompetitorCo"',
        ),
        (
            {
                "wordPolicy": {
                    "customWords": [],
                    "managedWordLists": [
                        {"match": "darn", "type": "PROFANITY", "action": "BLOCKED"}
                    ],
                }
            },
            'managed word "darn"',
        ),
        (
            {
                "sensitiveInformationPolicy": {
                    "piiEntities": [{"match": "a@b.c", "type": "EMAIL", "action": "ANONYMIZED"}],
                    "regexes": [],
                }
            },
            "sensitive information EMAIL (masked)",
        ),
        (
            {
                "sensitiveInformationPolicy": {
                    "piiEntities": [],
                    "regexes": [
                        {
                            "name": "order-id",
                            "match": "ORD-1",
                            "regex": "ORD-\\d+",
                            "action": "BLOCKED",
                        }
                    ],
                }
            },
            'sensitive information regex "order-id"',
        ),
        (
            {
                "contextualGroundingPolicy": {
                    "filters": [
                        {"type": "GROUNDING", "threshold": 0.75, "score": 0.12, "action": "BLOCKED"}
                    ]
                }
            },
            "contextual grounding grounding (score 0.12 < threshold 0.75)",
        ),
        (
            {"automatedReasoningPolicy": {"findings": [{"invalid": {"contradictingRules": []}}]}},
            "automated reasoning: invalid",
        ),
    ],
    ids=["content", "custom-word", "managed-word", "pii", "regex", "grounding", "reasoning"],
)
def test_every_policy_kind_is_named_on_the_output(assessment: dict[str, Any], said: str) -> None:
    found = outcome(result(trace=traced(outputs=[assessment])))
    assert found is not None
    assert found.line() == f"⛔ guardrail intervened (output): {said}"


def test_an_intervention_with_empty_assessments_still_shows_as_intervened() -> None:
    """BerriAI/litellm PR #23041: GUARDRAIL_INTERVENED with nothing in the trace."""
    for trace in (None, {"guardrail": {}}, traced({}, [])):
        found = outcome(result(trace=trace))
        assert found is not None and found.intervened, trace
        assert found.where is None
        assert found.line() == "⛔ guardrail intervened: no policy named (trace disabled or empty)"
        assert found.to_dict()["intervened"] is True


def test_the_stop_reason_alone_means_intervened_even_without_a_recorded_config() -> None:
    found = outcome(result(asked=False))
    assert found is not None and found.intervened


def test_a_call_the_guardrail_let_through_passed_and_names_detect_mode_findings() -> None:
    assert outcome(result("end_turn")) == Outcome(False, None)
    assert outcome(result("end_turn")).line() == "guardrail passed"  # type: ignore[union-attr]
    detected = {"contentPolicy": {"filters": [{"type": "INSULTS", "confidence": "LOW",
                                               "action": "NONE", "detected": True}]}}  # fmt: skip
    found = outcome(result("end_turn", traced(detected)))
    assert found is not None and not found.intervened
    assert found.line() == (
        "guardrail passed (detected, not blocked: content filter INSULTS (LOW confidence))"
    )


def test_filters_that_found_nothing_in_a_full_trace_are_left_out() -> None:
    quiet = {"contentPolicy": {"filters": [{"type": "HATE", "confidence": "NONE",
                                            "action": "NONE", "detected": False}]}}  # fmt: skip
    found = outcome(result("end_turn", traced(quiet)))
    assert found is not None and found.findings == ()


def test_both_sides_are_read_and_the_input_decides_where() -> None:
    blocked_out = {"contentPolicy": {"filters": [{"type": "VIOLENCE", "confidence": "HIGH",
                                                  "action": "BLOCKED"}]}}  # fmt: skip
    found = outcome(result(trace=traced(TOPIC, [blocked_out, blocked_out])))
    assert found is not None
    assert found.where == "input"
    assert [f.where for f in found.findings] == ["input", "output", "output"]
    assert found.line().count("content filter VIOLENCE") == 1  # repeated chunks named once


def test_units_are_summed_over_every_assessment() -> None:
    found = outcome(result(trace=traced(TOPIC, [TOPIC])))
    assert found is not None
    assert found.units == {"topicPolicyUnits": 2, "contentPolicyUnits": 2}


def test_no_guardrail_and_failed_calls_have_no_outcome() -> None:
    assert outcome(result("end_turn", asked=False)) is None
    failed = result("end_turn", error=ErrorInfo("ThrottlingException", "slow down"))
    assert outcome(failed) is None


def test_many_findings_are_cut_to_a_few_with_a_count() -> None:
    topics = [{"name": f"t{n}", "type": "DENY", "action": "BLOCKED"} for n in range(7)]
    found = outcome(result(trace=traced({"topicPolicy": {"topics": topics}})))
    assert found is not None
    assert found.line().endswith('denied topic "t3"; +3 more')


def test_an_apply_guardrail_response_is_read_the_same_way() -> None:
    response = {"action": "GUARDRAIL_INTERVENED", "source": "OUTPUT", "usage": USAGE,
                "assessments": [TOPIC], "outputs": [{"text": "Blocked."}]}  # fmt: skip
    found = from_apply(response)
    assert found.intervened and found.where == "output"
    assert found.findings == (Finding("topic", "Investment advice", "BLOCKED", "output"),)
    assert found.units == {"topicPolicyUnits": 1, "contentPolicyUnits": 1}
    assert not from_apply({"action": "NONE", "source": "INPUT", "assessments": []}).intervened
    recorded = result("guardrail_intervened", asked=False)
    recorded.response_meta = {"applyGuardrail": response}
    assert outcome(recorded) == found

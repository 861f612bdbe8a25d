"""`served-by`: which model answered — a fallback chain's link, a prompt router's pick (by
its id or shipped alias), or the model asked — and a clear reason when none did."""

from __future__ import annotations

from promptlab.results import ErrorInfo
from tests.testing.test_assertion_types import parse, run

CHAIN = {"model_alias": "careful", "model_id": "claude-sonnet>nova-pro"}
PASSED = [{"model": "claude-sonnet", "reason": "throttled"}]
ROUTER = "arn:aws:bedrock:us-east-1:123456789012:default-prompt-router/anthropic.claude:1"
PICK = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0"  # noqa: E501


def test_a_chain_passes_when_the_named_link_answered() -> None:
    kw = {**CHAIN, "served_by": "nova-pro", "served_model_id": "amazon.nova-pro-v1:0",
          "fallback": PASSED}  # fmt: skip
    v = run("served-by: nova-pro", "ok", **kw)
    assert v.passed and v.reason == "served by nova-pro after claude-sonnet"
    v = run("served-by: [claude-sonnet]", "ok", **kw)
    assert not v.passed and "expected claude-sonnet" in v.reason
    assert run("not-served-by: claude-sonnet", "ok", **kw).passed


def test_a_router_pick_is_known_by_its_alias_or_id() -> None:
    kw = {"model_alias": "router", "model_id": ROUTER, "served_model_id": PICK}
    assert run("served-by: claude-haiku", "ok", **kw).passed
    assert run("served-by: anthropic.claude-3-haiku-20240307-v1:0", "ok", **kw).passed
    assert not run("served-by: claude-sonnet", "ok", **kw).passed


def test_a_single_model_is_served_by_itself() -> None:
    assert run("served-by: nova-lite", "ok", model_alias="nova-lite").passed


def test_when_no_link_answered_it_fails_naming_the_links_passed_over() -> None:
    v = run("served-by: nova-pro", "", **CHAIN, fallback=PASSED,
            error=ErrorInfo("ServiceUnavailableException", "down"))  # fmt: skip
    assert not v.passed and v.reason == "no model answered (claude-sonnet passed over)"


def test_served_by_needs_a_model_name() -> None:
    a, problems = parse("served-by: 3")
    assert a is None
    assert "'served-by' needs a model name or a list" in problems[0].message

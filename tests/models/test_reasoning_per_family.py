"""Reasoning is asked for the way each model family takes it (one table), every change to the
request with a notice: never a 400 for a setting the model rejects, never a silent drop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from promptlab.catalogue import quirk_for, resolve
from promptlab.reasoning import Reasoning, apply
from promptlab.request import InferenceParams, Request
from tests.conftest import Cli, write

MEDIUM = Reasoning(effort="medium")


def ask(
    model: str, reasoning: Reasoning | None = MEDIUM, **kw: Any
) -> tuple[dict[str, Any], list[str]]:
    """The Converse body `model` is sent, and the notices."""
    ref = resolve(model, None, "us-east-1")
    params = InferenceParams(**{k: v for k, v in kw.items() if k in
                                ("temperature", "top_p", "max_tokens")})  # fmt: skip
    request = Request.of("Be exact.", "Solve it.", params)
    if "tool_config" in kw:
        request = Request(request.system_content, request.messages, params,
                          tool_config=kw["tool_config"])  # fmt: skip
    if "additional_fields" in kw:
        request = Request(request.system_content, request.messages, params,
                          additional_fields=kw["additional_fields"])  # fmt: skip
    adapted, notices = apply(request, ref.alias, quirk_for(ref).reasoning, reasoning)
    return adapted.to_converse(), notices


@pytest.mark.parametrize(
    "model",
    ["claude-3.7-sonnet", "claude-sonnet-4", "claude-opus-4", "claude-opus-4.1",
     "claude-sonnet-4.5", "claude-haiku-4.5", "us.anthropic.claude-opus-4-5-20251101-v1:0"],
)  # fmt: skip
def test_claude_gets_a_thinking_budget_from_the_effort(model: str) -> None:
    body, notices = ask(model)
    assert body["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 4096}
    }
    assert any("effort medium sent as a thinking budget of 4,096 tokens" in n for n in notices)


@pytest.mark.parametrize(
    ("max_tokens", "sent", "raised"),
    [(None, 4096 + 1024, True), (600, 4096 + 600, True), (4096, 4096 + 4096, True),
     (8000, 8000, False)],
)  # fmt: skip
def test_claude_max_tokens_stays_above_the_budget(
    max_tokens: int | None, sent: int, raised: bool
) -> None:
    body, notices = ask("claude-sonnet-4", max_tokens=max_tokens)
    assert body["inferenceConfig"]["maxTokens"] == sent
    said = [n for n in notices if "maxTokens" in n]
    assert bool(said) == raised
    if raised:
        assert (
            f"maxTokens {sent:,} (the thinking budget 4,096 + {sent - 4096:,} for the answer)"
            in said[0]
        )


def test_claude_thinking_drops_temperature_and_top_p_with_a_notice() -> None:
    body, notices = ask("claude-sonnet-4.5", Reasoning(budget_tokens=2000), temperature=0.2,
                        top_p=0.9, max_tokens=3000)  # fmt: skip
    assert body["inferenceConfig"] == {"maxTokens": 3000}
    assert body["additionalModelRequestFields"]["thinking"]["budget_tokens"] == 2000
    assert notices == ["claude-sonnet-4.5: dropped temperature and top_p: thinking takes neither "
                       "(temperature 1 only)"]  # fmt: skip


def test_claude_thinking_keeps_a_temperature_of_one() -> None:
    body, notices = ask("claude-sonnet-4", temperature=1, max_tokens=9000)
    assert body["inferenceConfig"] == {"maxTokens": 9000, "temperature": 1}
    assert not any("dropped" in n for n in notices)


def test_claude_thinking_cannot_force_a_tool_so_the_choice_becomes_auto() -> None:
    tools = {"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {}}}}],
             "toolChoice": {"any": {}}}  # fmt: skip
    body, notices = ask("claude-sonnet-4", tool_config=tools)
    assert body["toolConfig"]["toolChoice"] == {"auto": {}}
    assert "claude-sonnet-4: tool_choice sent as auto: thinking cannot force a tool call" in notices


def test_other_model_fields_are_kept_beside_the_reasoning_fields() -> None:
    body, _ = ask("claude-sonnet-4", additional_fields={"top_k": 40})
    assert body["additionalModelRequestFields"]["top_k"] == 40
    assert "thinking" in body["additionalModelRequestFields"]


def test_nova_2_gets_an_effort_without_sampling_settings() -> None:
    body, notices = ask("nova-2-lite", temperature=0.3, top_p=0.5, max_tokens=900)
    assert body["additionalModelRequestFields"] == {
        "reasoningConfig": {"type": "enabled", "maxReasoningEffort": "medium"}
    }
    assert body["inferenceConfig"] == {"maxTokens": 900}
    assert notices == ["nova-2-lite: dropped temperature and top_p: Nova 2 reasoning takes neither"]


def test_nova_2_at_high_is_sent_without_max_tokens() -> None:
    body, notices = ask("nova-2-lite", Reasoning(effort="high"), max_tokens=900)
    assert "inferenceConfig" not in body
    assert notices == ["nova-2-lite: dropped max_tokens: Nova 2 reasoning at high takes none"]


@pytest.mark.parametrize(("budget", "effort"), [(1024, "low"), (4096, "medium"), (20000, "high")])
def test_a_budget_reaches_effort_models_as_the_nearest_effort(budget: int, effort: str) -> None:
    for model, fields in (("nova-2-lite", {"reasoningConfig": {"type": "enabled",
                                                               "maxReasoningEffort": effort}}),
                          ("gpt-oss-120b", {"reasoning_effort": effort})):  # fmt: skip
        body, notices = ask(model, Reasoning(budget_tokens=budget))
        assert body["additionalModelRequestFields"] == fields
        assert (
            f"{model}: budget_tokens {budget:,} sent as effort {effort} (the nearest" in notices[0]
        )


def test_gpt_oss_gets_a_reasoning_effort_and_keeps_its_settings() -> None:
    body, notices = ask("gpt-oss-20b", Reasoning(effort="low"), temperature=0.5)
    assert body["additionalModelRequestFields"] == {"reasoning_effort": "low"}
    assert body["inferenceConfig"] == {"temperature": 0.5}
    assert notices == []


def test_deepseek_r1_reasons_anyway_and_is_sent_nothing() -> None:
    body, notices = ask("deepseek-r1", temperature=0.5)
    assert "additionalModelRequestFields" not in body
    assert notices == ["deepseek-r1 reasons on every call: no reasoning setting is sent"]


@pytest.mark.parametrize(
    "model",
    ["nova-lite", "claude-haiku", "llama3.3-70b",
     "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc"],
)  # fmt: skip
def test_models_without_reasoning_are_sent_the_prompt_without_it(model: str) -> None:
    body, notices = ask(model, temperature=0.5, max_tokens=300)
    assert "additionalModelRequestFields" not in body
    assert body["inferenceConfig"] == {"maxTokens": 300, "temperature": 0.5}
    assert len(notices) == 1 and "sent without reasoning" in notices[0]


def test_no_reasoning_leaves_every_request_alone() -> None:
    body, notices = ask("claude-sonnet-4", None, temperature=0.2)
    assert body["inferenceConfig"] == {"temperature": 0.2}
    assert "additionalModelRequestFields" not in body and notices == []


def test_render_shows_each_models_request_and_notices(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "p.yaml", """\
version: "1.0.0"
input: Solve it.
inference: {temperature: 0.2, max_tokens: 600}
reasoning:
  effort: medium
  overrides: {gpt-oss-120b: {effort: high}}
""")  # fmt: skip
    claude = json.loads(cli("render", "p", "-m", "claude-sonnet-4", "-f", "json").stdout)
    assert claude["inferenceConfig"] == {"maxTokens": 4696}
    gpt = json.loads(cli("render", "p", "-m", "gpt-oss-120b", "-f", "json").stdout)
    assert gpt["additionalModelRequestFields"] == {"reasoning_effort": "high"}
    text = cli("render", "p", "-m", "nova-2-lite").stdout
    assert "# note: nova-2-lite: dropped temperature: Nova 2 reasoning takes neither" in text
    plain = cli("render", "p").stdout
    assert "# note: reasoning is asked for the way each model takes it: pass -m MODEL" in plain

"""Reasoning through the real boto3 path (local fake Bedrock): asked for as the model's family
takes it, streamed apart from the answer, kept (with its signature, or redacted) in the answer's
content, never in `output`; tokens billed as output at the output price."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from promptlab.catalogue import resolve
from promptlab.config import Config
from promptlab.providers.bedrock import BedrockProvider
from promptlab.request import Request
from promptlab.results import Result, reasoning_of
from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

SONNET = resolve("claude-sonnet-4.5", None, "us-east-1")
THOUGHT = "Let the ball cost x. Then x + (x + 1.00) = 1.10, so x = 0.05."
PROMPT = """\
version: "1.0.0"
input: "{{ q }}"
variables:
  q: {type: string}
inference: {temperature: 0.2, max_tokens: 500}
reasoning: {effort: low}
"""


def provider(tmp_path: Path) -> BedrockProvider:
    return BedrockProvider(Config(root=tmp_path, region="us-east-1"))


@pytest.mark.parametrize("stream", [False, True])
def test_reasoning_is_kept_apart_from_the_answer_text(
    fake_bedrock: FakeBedrock, tmp_path: Path, stream: bool
) -> None:
    fake_bedrock.script(SONNET.model_id, text="$0.05", reasoning=THOUGHT)
    answers: list[str] = []
    thoughts: list[str] = []
    done = provider(tmp_path).complete(
        SONNET, Request.of(None, "Ball?"), stream=stream, on_text=answers.append,
        on_reasoning=thoughts.append,
    )  # fmt: skip
    assert done.output == "$0.05"
    assert done.content[0] == {"reasoningContent": {"reasoningText": {
        "text": THOUGHT, "signature": "fake-signature"}}}  # fmt: skip
    assert reasoning_of(done.content) == (THOUGHT, False)
    if stream:
        assert "".join(answers) == "$0.05" and "".join(thoughts) == THOUGHT
        assert done.ttft_ms is not None  # the first reasoning token counts
    else:
        assert answers == thoughts == []


@pytest.mark.parametrize("stream", [False, True])
def test_redacted_reasoning_is_kept_and_said_to_be_redacted(
    fake_bedrock: FakeBedrock, tmp_path: Path, stream: bool
) -> None:
    fake_bedrock.script(SONNET.model_id, text="$0.05", reasoning="hidden", redacted=True)
    thoughts: list[str] = []
    done = provider(tmp_path).complete(SONNET, Request.of(None, "Ball?"), stream=stream,
                                       on_reasoning=thoughts.append)  # fmt: skip
    assert done.content[0] == {"reasoningContent": {"redactedContent": b"hidden"}}
    assert reasoning_of(done.content) == ("", True)
    assert thoughts == [] and done.output == "$0.05"


@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_a_run_asks_for_reasoning_and_reports_it(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock, stream: str
) -> None:
    write(project / "prompts" / "q.yaml", PROMPT)
    fake_bedrock.script(SONNET.model_id, text="$0.05", reasoning=THOUGHT,
                        usage={"inputTokens": 40, "outputTokens": 400})  # fmt: skip
    result = cli("run", "q", "-m", "claude-sonnet-4.5", "-v", "q=Ball?", "-f", "json", stream)
    assert result.exit_code == 0, result.output
    sent = fake_bedrock.requests_for(SONNET.model_id)[0].body
    thinking = {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    assert sent["additionalModelRequestFields"] == thinking
    assert sent["inferenceConfig"] == {"maxTokens": 1524}  # budget + the prompt's 500
    [r] = json.loads(result.stdout)
    assert (r["output"], r["reasoning"], r["reasoning_redacted"]) == ("$0.05", THOUGHT, False)
    assert r["usage"]["reasoning_tokens_estimated"] == (len(THOUGHT) + 3) // 4
    # Reasoning is billed as output tokens, which include it: output × the output price.
    assert r["cost_usd"] == pytest.approx(40 / 1000 * 0.003 + 400 / 1000 * 0.015)
    assert "dropped temperature: thinking takes neither" in result.stderr


def test_redacted_reasoning_is_estimated_from_what_the_answer_does_not_account_for() -> None:
    r = Result(prompt_name="p", prompt_version="1", prompt_hash="h", model_alias="m",
               model_id="m", region=None, params={}, request={}, output="The ball costs $0.05.",
               output_tokens=420,
               content=[{"reasoningContent": {"reasoningText": {"text": "[REDACTED]"}}},
                        {"text": "The ball costs $0.05."}])  # fmt: skip
    assert (r.reasoning, r.reasoning_redacted) == ("", True)
    assert r.reasoning_tokens_estimated == 420 - 6  # 21 characters of answer: ~6 tokens
    d = r.to_dict()
    assert (d["reasoning"], d["reasoning_redacted"]) == (None, True)


def test_the_reasoning_estimate_covers_a_tool_exchange_and_never_exceeds_the_output() -> None:
    said = {"reasoningContent": {"reasoningText": {"text": "x" * 400}}}
    r = Result(prompt_name="p", prompt_version="1", prompt_hash="h", model_alias="m",
               model_id="m", region=None, params={}, request={}, output="ok", output_tokens=500,
               turns=[{"role": "assistant", "content": [said]}, {"role": "user", "content": []}],
               content=[said, {"text": "ok"}])  # fmt: skip
    assert r.reasoning_tokens_estimated == 200  # 2 × 400 characters, ~4 a token
    r.output_tokens = 150
    assert r.reasoning_tokens_estimated == 150
    r.content = [{"text": "ok"}]
    r.turns = []
    assert r.reasoning_tokens_estimated is None and r.to_dict()["reasoning"] is None


def test_a_tool_exchange_sends_the_signed_reasoning_back_and_forces_no_tool(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "prompts" / "w.yaml", """\
version: "1.0.0"
input: Weather in Lima?
tools:
  - name: get_weather
    input_schema: {type: object, properties: {city: {type: string}}}
tool_choice: any
tool_results:
  - {tool: get_weather, result: {sky: drizzle}}
reasoning: {budget_tokens: 2048}
""")  # fmt: skip
    thought = {"reasoningContent": {"reasoningText": {"text": "I need the forecast.",
                                                      "signature": "sig-1"}}}  # fmt: skip
    call = {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Lima"}}}

    def answer(body: dict[str, Any]) -> list[dict[str, Any]]:
        return [thought, call] if len(body["messages"]) == 1 else [{"text": "Drizzle."}]

    fake_bedrock.script(SONNET.model_id, content=answer, stop_reason="tool_use")
    done = cli("run", "w", "-m", "claude-sonnet-4.5", "-f", "json")
    assert done.exit_code == 0, done.output
    first, second = (r.body for r in fake_bedrock.requests_for(SONNET.model_id))
    assert first["toolConfig"]["toolChoice"] == {"auto": {}}  # thinking cannot force a tool
    assert second["messages"][1] == {"role": "assistant", "content": [thought, call]}
    assert second["additionalModelRequestFields"]["thinking"]["budget_tokens"] == 2048
    [r] = json.loads(done.stdout)
    assert r["output"] == "Drizzle." and "tool_choice sent as auto" in " ".join(r["notices"])

"""Tools through the real boto3 path (local fake Bedrock): toolConfig as sent, the scripted
exchange (tool results sent back, the final answer recorded), its limits and its cache key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
NOVA = "amazon.nova-micro-v1:0"
TITAN = "amazon.titan-text-express-v1"
PROMPT = """\
version: "1.0.0"
instructions: Use the tools.
input: "{{ q }}"
variables:
  q: {type: string, default: Umbrella in Lima?}
tools:
  - name: get_weather
    description: The forecast.
    input_schema:
      type: object
      properties: {city: {type: string}}
      required: [city]
tool_choice: any
tool_results:
  - tool: get_weather
    when: {city: Lima}
    result: {sky: drizzle}
  - tool: get_weather
    result: unknown city
    status: error
inference: {temperature: 0, max_tokens: 100}
"""


def weather_model(city: str, final: str = "Take an umbrella.") -> Any:
    """Calls get_weather(city) first; answers `final` once a tool result comes back."""

    def answer(body: dict[str, Any]) -> list[dict[str, Any]]:
        last = body["messages"][-1]["content"]
        if any("toolResult" in b for b in last):
            return [{"text": final}]
        return [{"toolUse": {"toolUseId": "t-1", "name": "get_weather", "input": {"city": city}}}]

    return answer


@pytest.fixture
def prompt(project: Path) -> Path:
    return write(project / "prompts" / "w.yaml", PROMPT)


def run_rows(cli: Cli, *args: str) -> dict[str, dict[str, Any]]:
    result = cli("run", "w", *args, "-f", "json", "--no-log")
    assert result.exit_code == 0, result.stdout + result.stderr
    return {r["model"]["alias"]: r for r in json.loads(result.stdout)}


@pytest.mark.parametrize("stream", ["--no-stream", "--stream"])
def test_the_scripted_result_goes_back_and_the_final_answer_is_recorded(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock, stream: str
) -> None:
    fake_bedrock.script(HAIKU, content=weather_model("Lima"),
                        usage={"inputTokens": 30, "outputTokens": 5})  # fmt: skip
    row = run_rows(cli, "-m", "claude-haiku", stream)["claude-haiku"]
    first, second = fake_bedrock.requests_for(HAIKU)
    assert first.body["toolConfig"] == {
        "tools": [{"toolSpec": {"name": "get_weather", "description": "The forecast.",
                                "inputSchema": {"json": {"type": "object",
                                "properties": {"city": {"type": "string"}},
                                "required": ["city"]}}}}],
        "toolChoice": {"any": {}},
    }  # fmt: skip
    assert second.body["toolConfig"]["toolChoice"] == {"auto": {}}  # forced once, then free
    assistant, results = second.body["messages"][-2:]
    assert assistant == {
        "role": "assistant",
        "content": [
            {"toolUse": {"toolUseId": "t-1", "name": "get_weather", "input": {"city": "Lima"}}}
        ],
    }
    assert results == {
        "role": "user",
        "content": [
            {"toolResult": {"toolUseId": "t-1", "content": [{"json": {"sky": "drizzle"}}]}}
        ],
    }
    assert row["output"] == "Take an umbrella."
    assert row["usage"]["input_tokens"] == 60 and row["usage"]["output_tokens"] == 10
    assert row["attempts"] == 1
    assert [t["role"] for t in row["turns"]] == ["assistant", "user"]
    assert row["request"]["messages"][-1]["content"] == [{"text": "Umbrella in Lima?"}]


def test_a_call_without_a_matching_script_gets_the_fallback_with_its_status(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(HAIKU, content=weather_model("Oslo", "Sorry."))
    run_rows(cli, "-m", "claude-haiku")
    _, second = fake_bedrock.requests_for(HAIKU)
    assert second.body["messages"][-1]["content"] == [
        {"toolResult": {"toolUseId": "t-1", "content": [{"text": "unknown city"}],
                        "status": "error"}}]  # fmt: skip


def test_an_unscripted_tool_call_ends_the_exchange_and_says_so(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "prompts" / "w.yaml",
          PROMPT.split("tool_results:")[0] + "inference: {temperature: 0}\n")  # fmt: skip
    fake_bedrock.script(HAIKU, content=weather_model("Lima"))
    row = run_rows(cli, "-m", "claude-haiku")["claude-haiku"]
    assert fake_bedrock.count(model=HAIKU) == 1
    assert row["content"][0]["toolUse"]["input"] == {"city": "Lima"}
    assert any("stopped at a tool call: no tool_results scripted" in n for n in row["notices"])


def test_max_turns_bounds_a_model_that_keeps_calling_tools(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "prompts" / "w.yaml", PROMPT + "max_turns: 3\n")
    always = [{"toolUse": {"toolUseId": "t", "name": "get_weather", "input": {"city": "Lima"}}}]
    fake_bedrock.script(HAIKU, content=always)
    row = run_rows(cli, "-m", "claude-haiku")["claude-haiku"]
    assert fake_bedrock.count(model=HAIKU) == 3
    assert len(row["turns"]) == 4  # two tool calls answered; the third ends the exchange
    assert any("stopped after 3 model calls (max_turns)" in n for n in row["notices"])


def test_a_model_without_tools_gets_an_error_cell_and_is_never_called(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(HAIKU, content=weather_model("Lima"))
    result = cli("run", "w", "-m", "claude-haiku,titan-express", "-f", "json", "--no-log")
    by = {r["model"]["alias"]: r for r in json.loads(result.stdout)}
    assert by["titan-express"]["error"]["code"] == "UnsupportedInput"
    assert "does not take tools" in by["titan-express"]["error"]["message"]
    assert "--skip-unsupported" in by["titan-express"]["error"]["hint"]
    assert fake_bedrock.count(model=TITAN) == 0
    assert by["claude-haiku"]["error"] is None


def test_skip_unsupported_leaves_the_model_out_with_a_notice(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(HAIKU, content=weather_model("Lima"))
    result = cli("run", "w", "-m", "claude-haiku,titan-express", "--skip-unsupported",
                 "-f", "json", "--no-log")  # fmt: skip
    assert [r["model"]["alias"] for r in json.loads(result.stdout)] == ["claude-haiku"]
    assert "skipped titan-express: does not take tools" in result.stderr


def test_the_cache_key_holds_the_scripted_results(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    path = write(project / "prompts" / "w.yaml", PROMPT)
    fake_bedrock.script(HAIKU, content=weather_model("Lima"))
    for _ in range(2):
        assert cli("run", "w", "-m", "claude-haiku", "--cache", "-f", "json").exit_code == 0
    assert fake_bedrock.count(model=HAIKU) == 2  # one exchange, then a cache hit
    write(path, PROMPT.replace("{sky: drizzle}", "{sky: clear}"))
    row = json.loads(cli("run", "w", "-m", "claude-haiku", "--cache", "-f", "json").stdout)[0]
    assert row["cached"] is False  # another script is another answer
    assert row["turns"][1]["content"][0]["toolResult"]["content"] == [{"json": {"sky": "clear"}}]
    again = json.loads(cli("run", "w", "-m", "claude-haiku", "--cache", "-f", "json").stdout)[0]
    assert again["cached"] is True and again["turns"] == row["turns"]


def test_echo_calls_the_forced_tool_with_a_minimal_valid_input(prompt: Path, cli: Cli) -> None:
    row = run_rows(cli, "-m", "echo")["echo"]
    call = row["turns"][0]["content"][0]["toolUse"]
    assert call["name"] == "get_weather" and call["input"] == {"city": ""}
    assert "[tool result " in row["output"] and "unknown city" in row["output"]

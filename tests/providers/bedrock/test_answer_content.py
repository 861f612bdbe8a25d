"""The answer's content blocks (text, reasoning, tool uses) survive Converse and ConverseStream,
the views, the store and the cache; `output` stays the text."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from promptlab.catalogue import resolve
from promptlab.config import Config
from promptlab.providers.bedrock import BedrockProvider
from promptlab.providers.converse import StreamAssembler
from promptlab.request import Request
from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

NOVA = "amazon.nova-lite-v1:0"
ANSWER = [
    {"reasoningContent": {"reasoningText": {"text": "The user wants weather.", "signature": "s1"}}},
    {"toolUse": {"toolUseId": "t-1", "name": "weather", "input": {"city": "Lyon", "days": 2}}},
    {"text": "Let me check the forecast."},
]
PROMPT = """\
version: "1.0.0"
input: "{{ q }}"
variables:
  q: {type: string}
inference: {temperature: 0}
"""


@pytest.mark.parametrize("stream", [False, True])
def test_every_block_of_the_answer_is_kept_and_output_is_its_text(
    fake_bedrock: FakeBedrock, tmp_path: Path, stream: bool
) -> None:
    fake_bedrock.script(NOVA, content=ANSWER, stop_reason="tool_use")
    provider = BedrockProvider(Config(root=tmp_path, region="us-east-1"))
    seen: list[str] = []
    answer = provider.complete(
        resolve("nova-lite"), Request.of(None, "Weather in Lyon?"), stream=stream,
        on_text=seen.append,
    )  # fmt: skip
    assert list(answer.content) == ANSWER
    assert answer.output == "Let me check the forecast."
    assert answer.stop_reason == "tool_use"
    if stream:
        assert "".join(seen) == answer.output  # reasoning and tool input are not streamed text


def test_a_malformed_streamed_tool_input_is_kept_as_text() -> None:
    answer = StreamAssembler()
    answer.start({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t", "name": "f"}}})
    answer.delta({"contentBlockIndex": 0, "delta": {"toolUse": {"input": '{"city": '}}})
    assert answer.content() == ({"toolUse": {"toolUseId": "t", "name": "f", "input": '{"city": '}},)


def test_content_reaches_json_the_history_and_the_cache(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "prompts" / "q.yaml", PROMPT)
    fake_bedrock.script(NOVA, content=ANSWER, stop_reason="tool_use")
    first = json.loads(cli("run", "q", "-m", "nova-lite", "-v", "q=Lyon?", "-f", "json",
                           "--cache").stdout)  # fmt: skip
    assert first[0]["content"] == ANSWER and first[0]["output"] == "Let me check the forecast."
    again = json.loads(cli("run", "q", "-m", "nova-lite", "-v", "q=Lyon?", "-f", "json",
                           "--cache").stdout)  # fmt: skip
    assert again[0]["cached"] and again[0]["content"] == ANSWER
    assert fake_bedrock.count() == 1
    shown = json.loads(cli("log", "--format", "json").stdout)
    assert [c["content"] for c in shown] == [ANSWER, ANSWER]


def test_a_text_answer_is_stored_without_a_copy_of_its_text(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "prompts" / "q.yaml", PROMPT)
    fake_bedrock.script(NOVA, text="Plain answer.")
    result = json.loads(cli("run", "q", "-m", "nova-lite", "-v", "q=x", "-f", "json").stdout)
    assert result[0]["content"] == [{"text": "Plain answer."}]
    con = sqlite3.connect(project / ".promptlab" / "promptlab.db")
    assert con.execute("SELECT content, output FROM calls").fetchall() == [(None, "Plain answer.")]
    con.close()

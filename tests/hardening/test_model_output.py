"""Untrusted model output: text no encoder takes (half a surrogate pair) is made whole where
it enters a result, so every format prints every model's answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptlab.providers.converse import Pieces, whole
from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

PROMPT = 'version: "1.0.0"\ninput: "Say something"\n'
NOVA_MICRO = "amazon.nova-micro-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"


def test_surrogate_pairs_are_joined_and_lone_halves_replaced() -> None:
    assert whole("a\ud83d\ude00b") == "a\U0001f600b"
    assert whole("a\ud83d b\ude00") == "a\ufffd b\ufffd"
    pieces = Pieces()
    assert [pieces("ok \ud83d"), pieces("\ude00 then \ud83d"), pieces("x"), pieces.rest()] == [
        "ok ",
        "\U0001f600 then ",
        "\ufffdx",
        "",
    ]


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "markdown"])
def test_half_a_surrogate_pair_in_one_answer_hides_no_other_answer(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock, fmt: str, stream: bool
) -> None:
    write(project / "prompts" / "p.yaml", PROMPT)
    # the stream splits 😀 between its UTF-16 halves, and ends on a lone first half
    fake_bedrock.script(NOVA_MICRO, text="smile \ud83d\ude00 cut \ud83d",
                        chunks=["smile \ud83d", "\ude00 cut ", "\ud83d"])  # fmt: skip
    fake_bedrock.script(NOVA_LITE, text="healthy answer")
    flag = "--stream" if stream else "--no-stream"
    result = cli("run", "p", "-m", "nova-micro", "-m", "nova-lite", "-f", fmt, flag)
    assert result.exit_code == 0, result.output
    assert "healthy answer" in result.stdout
    assert ("smile \U0001f600 cut" in result.stdout) or (
        "smile \\ud83d\\ude00" in result.stdout  # JSON may escape it as a pair
    )
    if fmt == "json":
        by_model = {r["model"]["alias"]: r["output"] for r in json.loads(result.stdout)}
        assert by_model["nova-micro"] == "smile \U0001f600 cut \ufffd"
    logged = json.loads(cli("log", "--format", "json").stdout)
    assert {r["output"] for r in logged} == {"smile \U0001f600 cut \ufffd", "healthy answer"}

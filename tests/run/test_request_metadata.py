"""Every call carries Converse requestMetadata (prompt, version, run id, the user's own pairs),
so Bedrock's invocation logs join promptlab's history; it never changes the cache key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptlab.config import load_config
from promptlab.controls import Controls, metadata_problem, metadata_value, with_run
from promptlab.errors import ConfigError
from promptlab.request import Request
from promptlab.results import PromptId
from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

PROMPT = """\
name: ask
version: "2.1.0"
input: "Question: {{ q }}"
variables:
  q: {type: string, example: capital of France?}
inference: {temperature: 0}
"""
NOVA = "amazon.nova-micro-v1:0"


@pytest.fixture
def prompt(project: Path) -> Path:
    return write(project / "prompts" / "ask.yaml", PROMPT)


def test_every_call_is_labelled_with_prompt_version_and_run(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    result = cli("run", "ask", "--examples", "-m", "nova-micro", "--stream", "-f", "json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    [sent] = fake_bedrock.requests_for(NOVA)
    labels = {"promptlab-prompt": "ask", "promptlab-version": "2.1.0",
              "promptlab-run": row["run_id"]}  # fmt: skip
    assert sent.body["requestMetadata"] == labels
    assert row["request"]["requestMetadata"] == labels  # the history keeps what was sent


def test_render_shows_the_labels_without_a_run_id(prompt: Path, cli: Cli) -> None:
    body = json.loads(cli("render", "ask", "--examples", "--format", "json").stdout)
    assert body["requestMetadata"] == {"promptlab-prompt": "ask", "promptlab-version": "2.1.0"}
    text = cli("render", "ask", "--examples").stdout
    assert "promptlab-prompt=ask promptlab-version=2.1.0 (a run adds promptlab-run)" in text


def test_runs_with_different_run_ids_answer_from_the_cache(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    first = json.loads(cli("run", "ask", "--examples", "-m", "nova-micro", "--cache",
                           "-f", "json").stdout)  # fmt: skip
    second = json.loads(cli("run", "ask", "--examples", "-m", "nova-micro", "--cache",
                            "-f", "json").stdout)  # fmt: skip
    assert first[0]["run_id"] != second[0]["run_id"]
    assert second[0]["cached"] is True
    assert fake_bedrock.count(model=NOVA, op="converse") == 1


def test_the_users_own_pairs_come_from_promptlab_yaml(
    prompt: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "promptlab.yaml",
          "request_metadata:\n  team: search\n  cost-center: 4711\n")  # fmt: skip
    cli("run", "ask", "--examples", "-m", "nova-micro")
    [sent] = fake_bedrock.requests_for(NOVA)
    assert sent.body["requestMetadata"]["team"] == "search"
    assert sent.body["requestMetadata"]["cost-center"] == "4711"
    assert sent.body["requestMetadata"]["promptlab-prompt"] == "ask"


@pytest.mark.parametrize(
    ("yaml", "line", "message"),
    [
        ("request_metadata:\n  team: search\n  'bad key!': x\n", 3,
         "request_metadata key 'bad key!' has characters Bedrock does not take"),
        ("request_metadata:\n  promptlab-run: mine\n", 2,
         "request_metadata key 'promptlab-run': keys starting 'promptlab-' are promptlab's"),
        ("request_metadata:\n  team: [a, b]\n", 2,
         "request_metadata value of 'team' must be a string, got ['a', 'b']"),
        ("request_metadata: search\n", 1,
         "'request_metadata' must map key → value (strings)"),
        ("request_metadata:\n" + "".join(f"  k{i}: v\n" for i in range(14)), 1,
         "request_metadata has 14 pairs; Bedrock takes 16 a call, promptlab sends 3"),
    ],
)  # fmt: skip
def test_a_pair_bedrock_would_refuse_is_a_config_error_at_its_line(
    tmp_path: Path, yaml: str, line: int, message: str
) -> None:
    write(tmp_path / "promptlab.yaml", yaml)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert (caught.value.line, caught.value.message) == (line, message)


def test_names_bedrock_would_refuse_are_made_safe() -> None:
    assert metadata_value("Relatório: café & co") == "Relat_rio: caf_ _ co"
    assert len(metadata_value("x" * 300)) == 256
    assert metadata_problem("owner", "ana@example.com") is None
    request = Controls().apply(Request.of(None, "hi"), PromptId("résumé/v2", "1.0", "h"))
    labelled = with_run(request, "20261201-101010-abcdef").to_converse()["requestMetadata"]
    assert labelled == {"promptlab-prompt": "r_sum_/v2", "promptlab-version": "1.0",
                        "promptlab-run": "20261201-101010-abcdef"}  # fmt: skip

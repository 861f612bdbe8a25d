"""A deployed version as a model: `-m bedrock-prompt:ARN:VERSION` beside echo in run and test.

Converse gets modelId = the prompt version ARN and the values as promptVariables (with the
request metadata every call carries), and no messages, system or inferenceConfig (the fake
server records the request body).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptlab.catalogue import resolve
from promptlab.config import Config
from promptlab.jobs import Job
from promptlab.prompt import Rendered, load_prompt
from promptlab.request import InferenceParams
from tests.conftest import Cli, write
from tests.deploy.conftest import ARN, GREET, TONE
from tests.fakebedrock import FakeBedrock

VERSION_ARN = f"{ARN}:3"
MODEL = f"bedrock-prompt:{VERSION_ARN}"


@pytest.fixture
def greet(project: Path) -> Path:
    write(project / "prompts/_partials/tone.j2", TONE)
    return write(project / "prompts/greet.yaml", GREET)


def test_run_sends_variables_to_the_prompt_version_beside_echo(
    greet: Path, fake_bedrock: FakeBedrock, cli: Cli
) -> None:
    fake_bedrock.script(VERSION_ARN, text="Hello Ana, about billing!")
    result = cli(
        "run",
        "prompts/greet.yaml",
        "-m",
        MODEL,
        "-m",
        "echo",
        "-v",
        "name=Ana",
        "--format",
        "json",
        "--no-stream",
    )
    assert result.exit_code == 0, result.output
    deployed, echo = json.loads(result.stdout)
    assert deployed["model"]["alias"] == MODEL and deployed["output"] == "Hello Ana, about billing!"
    variables = {"promptVariables": {"name": {"text": "Ana"}, "topic": {"text": "billing"}}}
    labels = deployed["request"].pop("requestMetadata")
    assert deployed["request"] == variables
    assert labels == {"promptlab-prompt": "greet", "promptlab-version": "1.2.0",
                      "promptlab-run": deployed["run_id"]}  # fmt: skip
    assert "Be friendly to Ana." in echo["output"]
    [rec] = fake_bedrock.requests
    assert (rec.op, rec.model) == ("converse", VERSION_ARN)
    assert rec.body == {**variables, "requestMetadata": labels}


def test_run_streams_to_the_prompt_version_too(
    greet: Path, fake_bedrock: FakeBedrock, cli: Cli
) -> None:
    result = cli("run", "greet", "-m", MODEL, "-v", "name=Ana", "--stream", "--format", "json")
    assert result.exit_code == 0, result.output
    [rec] = fake_bedrock.requests
    assert rec.op == "converse-stream" and rec.model == VERSION_ARN
    assert set(rec.body) == {"promptVariables", "requestMetadata"}


def test_test_accepts_a_deployed_version_in_a_case(
    project: Path, greet: Path, fake_bedrock: FakeBedrock, cli: Cli
) -> None:
    fake_bedrock.script(VERSION_ARN, text="Hello Ana!")
    write(
        project / "prompts/greet.tests.yaml",
        "tests:\n  - name: hello\n    vars: {name: Ana}\n"
        f"    models: [echo, '{MODEL}']\n    assert:\n      - icontains: ana\n",
    )
    result = cli("test", "prompts/greet.yaml", "--no-cache")
    assert result.exit_code == 0, result.output
    [rec] = fake_bedrock.requests
    assert rec.model == VERSION_ARN and set(rec.body) == {"promptVariables", "requestMetadata"}


def test_test_accepts_a_deployed_version_with_m(
    project: Path, greet: Path, fake_bedrock: FakeBedrock, cli: Cli
) -> None:
    fake_bedrock.script(VERSION_ARN, text="Hi Ana")
    write(
        project / "prompts/greet.tests.yaml",
        "tests:\n  - name: hello\n    vars: {name: Ana}\n    assert:\n      - icontains: ana\n",
    )
    result = cli("test", "prompts/greet.yaml", "-m", MODEL, "-m", "echo", "--no-cache")
    assert result.exit_code == 0, result.output
    assert fake_bedrock.count(model=VERSION_ARN) == 1


def test_a_missing_prompt_version_is_that_cell_s_error_with_a_hint(
    greet: Path, fake_bedrock: FakeBedrock, cli: Cli
) -> None:
    fake_bedrock.script(
        VERSION_ARN,
        fail=1,
        status=404,
        error="ResourceNotFoundException",
        message="Prompt version not found",
    )
    result = cli(
        "run",
        "greet",
        "-m",
        MODEL,
        "-m",
        "echo",
        "-v",
        "name=Ana",
        "--format",
        "json",
        "--no-stream",
    )
    assert result.exit_code == 1
    deployed, echo = json.loads(result.stdout)
    assert deployed["error"]["code"] == "ResourceNotFoundException"
    assert deployed["error"]["hint"] == (
        f"no managed prompt version {VERSION_ARN}; list them with promptlab deployed"
    )
    assert echo["error"] is None


def test_values_are_sent_as_text_and_lists_as_json(tmp_path: Path) -> None:
    prompt = load_prompt(write(tmp_path / "p.yaml", 'version: "1.0.0"\ninput: "{{ a }}"\n'))
    job = Job(
        prompt,
        Rendered({}, None, "x"),
        resolve(MODEL, Config(root=tmp_path)),
        InferenceParams(0.5, None, 100, ()),
        vars={"s": "text", "n": 3, "flag": True, "items": ["a", "b"], "obj": {"k": "é"}},
    )
    request, notices = job.request()
    assert notices == []
    assert request.to_converse() == {
        "promptVariables": {
            "s": {"text": "text"},
            "n": {"text": "3"},
            "flag": {"text": "true"},
            "items": {"text": '["a", "b"]'},
            "obj": {"text": '{"k": "é"}'},
        },
        "requestMetadata": {"promptlab-prompt": "p", "promptlab-version": "1.0.0"},
    }

"""The shipped example prompts render with their declared examples and run offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptlab.prompt import load_prompt
from tests.conftest import REPO, Cli

EXAMPLES = REPO / "prompts" / "examples"
NAMES = ["migration-plan", "support-reply", "extract-invoice", "describe-chart", "policy-qa",
         "weather-assistant"]  # fmt: skip
EXTRA_FIELDS = {"extract-invoice": {"outputConfig"}, "weather-assistant": {"toolConfig"}}


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(REPO)
    return REPO


@pytest.mark.parametrize("name", NAMES)
def test_example_renders_with_examples(in_repo: Path, cli: Cli, name: str) -> None:
    result = cli("render", name, "--examples")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"# {name} v1.")
    assert "━━━ system (instructions) ━━━" in result.stdout
    assert "━━━ user ━━━" in result.stdout
    assert "{{" not in result.stdout.replace('"{{', "")  # nothing left unrendered


@pytest.mark.parametrize("name", NAMES)
def test_example_json_is_a_converse_body(in_repo: Path, cli: Cli, name: str) -> None:
    result = cli("render", name, "--examples", "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) == {"system", "messages", "inferenceConfig", "requestMetadata",
                         *EXTRA_FIELDS.get(name, ())}  # fmt: skip
    assert body["requestMetadata"]["promptlab-prompt"] == name  # no run yet: no promptlab-run
    assert body["messages"][0]["role"] == "user"
    assert body["inferenceConfig"]["maxTokens"] > 0


def test_examples_cover_the_three_styles() -> None:
    plan = load_prompt(EXAMPLES / "migration-plan.yaml")
    assert set(plan.sections) == {"instructions", "context", "input", "format"}
    reply = load_prompt(EXAMPLES / "support-reply.yaml")
    assert '{% include "_partials/' in reply.sections["instructions"]
    extract = load_prompt(EXAMPLES / "extract-invoice.yaml")
    assert extract.layout == "markdown"
    assert extract.output_schema is not None


def test_extract_prompt_sends_its_schema_as_structured_output(in_repo: Path, cli: Cli) -> None:
    body = json.loads(cli("render", "extract-invoice", "--examples", "-f", "json").stdout)
    schema = json.loads(body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["schema"])
    assert set(schema["required"]) >= {"vendor", "invoice_number", "line_items", "total"}


def test_support_reply_shared_partial_and_variables(in_repo: Path, cli: Cli) -> None:
    result = cli(
        "render", "support-reply", "--examples", "-v", "customer_name=Jon", "-v", "channel=chat"
    )
    assert result.exit_code == 0, result.output
    assert "Northwind voice:" in result.stdout  # from prompts/_partials/
    assert "Message from Jon (via chat)" in result.stdout
    assert "chat message" in result.stdout


def test_per_model_override_applies_with_model_flag(in_repo: Path, cli: Cli) -> None:
    body = json.loads(
        cli("render", "migration-plan", "--examples", "-m", "llama-70b", "-f", "json").stdout
    )
    assert body["inferenceConfig"]["maxTokens"] == 2048
    body = json.loads(
        cli("render", "migration-plan", "--examples", "-m", "nova-pro", "-f", "json").stdout
    )
    assert body["inferenceConfig"]["maxTokens"] == 3000


@pytest.mark.parametrize("name", NAMES)
def test_example_runs_offline_on_the_echo_model(in_repo: Path, cli: Cli, name: str) -> None:
    result = cli("run", name, "-m", "echo", "--examples", "--no-log", "--format", "json")
    assert result.exit_code == 0, result.output

"""`promptlab pull`: a managed version → a prompt file that lints; never overwrites silently."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import Cli, write
from tests.deploy.conftest import ARN, Stubbed, prompt_response

TARGET = f"{ARN}:3"
GET = {"promptIdentifier": ARN, "promptVersion": "3"}


def test_pull_writes_a_prompt_file_that_lints(project: Path, agent: Stubbed, cli: Cli) -> None:
    description = "promptlab: greet 1.4.0 sha256:0123456789ab commit 89abcdef0123"
    agent.add("get_prompt", prompt_response("3", description,
                                            inference={"temperature": 0.2, "topP": 0.9,
                                                       "maxTokens": 300,
                                                       "stopSequences": ["END"]}), GET)  # fmt: skip
    result = cli("pull", TARGET)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"wrote prompts/greet.yaml from {TARGET}"
    data = yaml.safe_load((project / "prompts/greet.yaml").read_text("utf-8"))
    assert data == {
        "name": "greet",
        "version": "1.4.0",
        "models": ["nova-lite"],
        "inference": {"temperature": 0.2, "top_p": 0.9, "max_tokens": 300, "stop": ["END"]},
        "variables": {"name": {"type": "string"}, "topic": {"type": "string"}},
        "instructions": "You are a support agent.\nBe friendly to {{name}}.",
        "input": "Say hello to {{name}} about {{topic}}.",
    }
    lint = cli("lint", "prompts/greet.yaml")
    assert lint.exit_code == 0, lint.output
    rendered = cli("render", "greet", "-v", "name=Ana", "-v", "topic=refunds")
    assert "Say hello to Ana about refunds." in rendered.stdout


def test_pull_without_promptlab_description_is_version_1_0_0(
    project: Path, agent: Stubbed, cli: Cli
) -> None:
    agent.add("get_prompt", prompt_response("3"), GET)
    out = project / "elsewhere/g.yaml"
    assert cli("pull", f"bedrock-prompt:{TARGET}", "-o", str(out)).exit_code == 0
    assert 'version: "1.0.0"' in out.read_text("utf-8")
    assert cli("lint", str(out)).exit_code == 0


def test_pull_refuses_to_overwrite_without_force(project: Path, agent: Stubbed, cli: Cli) -> None:
    target = write(project / "prompts/greet.yaml", "keep me\n")
    result = cli("pull", TARGET, "-o", "prompts/greet.yaml")
    assert result.exit_code == 2
    assert "prompts/greet.yaml already exists" in result.stderr
    assert "--force" in result.stderr
    assert target.read_text() == "keep me\n"
    assert agent.made == []  # refused before any call
    agent.add("get_prompt", prompt_response("3"), GET)
    result = cli("pull", TARGET)  # default path: found to exist after the name is known
    assert result.exit_code == 2 and "--force" in result.stderr
    agent.add("get_prompt", prompt_response("3"), GET)
    assert cli("pull", TARGET, "--force").exit_code == 0
    assert "Say hello to {{name}}" in target.read_text()


def test_a_prompt_that_does_not_exist_is_one_line(project: Path, agent: Stubbed, cli: Cli) -> None:
    agent.error("get_prompt", "ResourceNotFoundException", "Prompt not found", 404)
    result = cli("pull", TARGET)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: no managed prompt {ARN}:3 in us-east-1 — list them with promptlab deployed"
    )


def test_access_denied_names_the_permission(project: Path, agent: Stubbed, cli: Cli) -> None:
    agent.error("get_prompt", "AccessDeniedException", "not authorized", 403)
    result = cli("pull", TARGET)
    assert result.exit_code == 2
    assert "access denied: bedrock:GetPrompt" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_not_an_arn_is_a_usage_error(project: Path, cli: Cli) -> None:
    result = cli("pull", "prompts/greet.yaml")
    assert result.exit_code == 2
    assert "is not a managed prompt" in result.stderr

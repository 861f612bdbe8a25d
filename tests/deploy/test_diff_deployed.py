"""`promptlab diff PROMPT bedrock-prompt:ARN:VERSION`: git against what is deployed."""

from __future__ import annotations

from tests.conftest import Cli
from tests.deploy.conftest import ARN, SYSTEM, Stubbed, prompt_response
from tests.git.test_git_repo import GitRepo, prompt_yaml

GET = {"promptIdentifier": ARN, "promptVersion": "3"}


def test_diff_shows_a_changed_instruction(repo: GitRepo, agent: Stubbed, cli: Cli) -> None:
    deployed = prompt_response("3", system="You are a sales agent.\nBe friendly to {{name}}.",
                               inference={"maxTokens": 500, "temperature": 0.2})  # fmt: skip
    agent.add("get_prompt", deployed, GET)
    result = cli("diff", "prompts/greet.yaml", f"bedrock-prompt:{ARN}:3", "--exit-code")
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert f"diff prompts/greet.yaml (working tree) → {ARN}:3" in out
    assert "-You are a support agent." in out and "+You are a sales agent." in out
    assert "inference maxTokens: 300 → 500" in out
    assert "user message: unchanged" in out


def test_diff_of_identical_content_is_exit_0(repo: GitRepo, agent: Stubbed, cli: Cli) -> None:
    agent.add("get_prompt", prompt_response("3"), GET)
    result = cli("diff", f"{ARN}:3", "greet", "--exit-code")
    assert result.exit_code == 0, result.output
    assert "(identical)" in result.stdout and "system: unchanged" in result.stdout


def test_diff_shows_variables_and_model(repo: GitRepo, agent: Stubbed, cli: Cli) -> None:
    agent.add("get_prompt", prompt_response("3", model="amazon.nova-pro-v1:0",
                                            variables=("name", "tone")), GET)  # fmt: skip
    out = cli("diff", "greet", f"{ARN}:3").stdout
    assert "variable removed: topic" in out and "variable added: tone" in out
    assert "model: amazon.nova-lite-v1:0 → amazon.nova-pro-v1:0" in out
    assert SYSTEM.splitlines()[0] not in out  # the system text did not change


def test_a_version_that_does_not_exist_is_one_line(repo: GitRepo, agent: Stubbed, cli: Cli) -> None:
    agent.error("get_prompt", "ResourceNotFoundException", "Version 3 not found", 404)
    result = cli("diff", "greet", f"{ARN}:3")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: no managed prompt {ARN}:3 in us-east-1 — list them with promptlab deployed"
    )


def test_diff_of_git_refs_still_works(repo: GitRepo, cli: Cli) -> None:
    repo.commit("v1", {"prompts/x.yaml": prompt_yaml("1.0.0")})
    repo.commit("v2", {"prompts/x.yaml": prompt_yaml("1.1.0", "Hello {{ who }}")})
    result = cli("diff", "prompts/x.yaml@HEAD~1", "prompts/x.yaml", "--exit-code")
    assert result.exit_code == 1
    assert "version: 1.0.0 → 1.1.0" in result.stdout

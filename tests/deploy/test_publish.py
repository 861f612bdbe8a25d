"""`promptlab publish`: create then version, nothing for identical content, what cannot be
published, and failures as one line (bedrock-agent behind botocore's Stubber)."""

from __future__ import annotations

from botocore.stub import ANY

from promptlab.config import load_config
from promptlab.store.deployments import read_all
from tests.conftest import Cli, write
from tests.deploy.conftest import ARN, PID, Stubbed, prompt_response, summary, variant
from tests.git.test_git_repo import GitRepo


def expect_new_prompt(agent: Stubbed) -> None:
    agent.add("list_prompts", {"promptSummaries": [summary(name="other")]}, {})
    agent.add(
        "create_prompt",
        prompt_response(),
        {"name": "greet", "defaultVariant": "default", "variants": [variant()],
         "description": "Greets a customer"},
    )  # fmt: skip


def test_publish_creates_the_prompt_then_a_version_and_records_it(
    repo: GitRepo, agent: Stubbed, cli: Cli
) -> None:
    head = repo.git("rev-parse", "HEAD")
    expect_new_prompt(agent)
    agent.add("create_prompt_version", prompt_response("1"),
              {"promptIdentifier": PID, "description": ANY})  # fmt: skip
    result = cli("publish", "prompts/greet.yaml")
    assert result.exit_code == 0, result.output
    assert f"arn: {ARN}:1" in result.stdout
    assert "created managed prompt and version 1 of greet" in result.stdout
    assert f"commit {head[:12]}" in result.stdout
    [row] = read_all(load_config().store_path)
    assert (row.prompt_name, row.prompt_version, row.arn, row.managed_version) == (
        "greet", "1.2.0", ARN, "1")  # fmt: skip
    assert row.git_commit == head and len(row.prompt_hash) == 64
    assert row.prompt_path == "prompts/greet.yaml" and row.region == "us-east-1"


def test_description_line_names_version_hash_and_commit(
    repo: GitRepo, agent: Stubbed, cli: Cli
) -> None:
    head = repo.git("rev-parse", "HEAD")
    expect_new_prompt(agent)
    seen: list[str] = []

    class Line:
        def __eq__(self, other: object) -> bool:
            seen.append(str(other))
            return True

    agent.add("create_prompt_version", prompt_response("1"),
              {"promptIdentifier": PID, "description": Line()})  # fmt: skip
    assert cli("publish", "greet").exit_code == 0
    [line] = seen
    assert line.startswith("promptlab: greet 1.2.0 sha256:") and line.endswith(head[:12])


def test_identical_content_creates_nothing(repo: GitRepo, agent: Stubbed, cli: Cli) -> None:
    agent.add("list_prompts", {"promptSummaries": [summary()]}, {})
    agent.add("list_prompts", {"promptSummaries": [summary(), summary("1"), summary("2")]},
              {"promptIdentifier": PID})  # fmt: skip
    agent.add("get_prompt", prompt_response("2", "promptlab: greet 1.2.0 sha256:abc"),
              {"promptIdentifier": PID, "promptVersion": "2"})  # fmt: skip
    result = cli("publish", "prompts/greet.yaml")
    assert result.exit_code == 0, result.output
    assert "already published as version 2 (nothing created)" in result.stdout
    assert read_all(load_config().store_path) == []


def test_changed_content_updates_the_draft_and_versions_it(
    repo: GitRepo, agent: Stubbed, cli: Cli
) -> None:
    agent.add("list_prompts", {"promptSummaries": [summary()]}, {})
    agent.add("list_prompts", {"promptSummaries": [summary("1")]}, {"promptIdentifier": PID})
    agent.add("get_prompt", prompt_response("1", system="You are terse."),
              {"promptIdentifier": PID, "promptVersion": "1"})  # fmt: skip
    agent.add("update_prompt", prompt_response(),
              {"promptIdentifier": PID, "name": "greet", "defaultVariant": "default",
               "variants": [variant()], "description": "Greets a customer"})  # fmt: skip
    agent.add("create_prompt_version", prompt_response("2"),
              {"promptIdentifier": PID, "description": ANY})  # fmt: skip
    result = cli("publish", "greet")
    assert result.exit_code == 0, result.output
    assert "published version 2 of greet" in result.stdout


def test_model_option_picks_the_model_id(repo: GitRepo, agent: Stubbed, cli: Cli) -> None:
    agent.add("list_prompts", {"promptSummaries": []}, {})
    agent.add("create_prompt", prompt_response(),
              {"name": "greet", "defaultVariant": "default", "description": ANY,
               "variants": [variant(model="anthropic.claude-3-haiku-20240307-v1:0")]})  # fmt: skip
    agent.add("create_prompt_version", prompt_response("1"), None)
    assert cli("publish", "greet", "-m", "claude-haiku").exit_code == 0


def test_version_failure_after_update_says_the_draft_changed_and_how_to_retry(
    repo: GitRepo, agent: Stubbed, cli: Cli
) -> None:
    agent.add("list_prompts", {"promptSummaries": [summary()]}, {})
    agent.add("list_prompts", {"promptSummaries": []}, {"promptIdentifier": PID})
    agent.add("update_prompt", prompt_response(), None)
    agent.error("create_prompt_version", "ServiceQuotaExceededException", "too many versions")
    result = cli("publish", "greet")
    assert result.exit_code == 2
    err = result.stderr
    assert "DRAFT was updated, but no version was created" in err
    assert "run the same 'promptlab publish' again" in err
    assert len(err.strip().splitlines()) == 1


def test_unpublishable_template_is_exit_2_at_file_line_and_nothing_is_sent(
    repo: GitRepo, agent: Stubbed, cli: Cli
) -> None:
    write(repo.root / "prompts/_partials/vip.j2", "Hi\n{% for x in items %}{{ x }}{% endfor %}\n")
    write(
        repo.root / "prompts/bad.yaml",
        'name: bad\nversion: "1.0.0"\nmodels: [nova-lite]\nvariables:\n'
        "  name: {type: string}\n  vip: {type: boolean, default: false}\n"
        "  items: {type: list, default: []}\n"
        "instructions: |\n  You are helpful.\n  {% if vip %}VIP.{% endif %}\n"
        '  {% include "_partials/vip.j2" %}\n'
        "input: |\n  Hello {{ name | upper }} and {{ name }}.\n",
    )
    result = cli("publish", "prompts/bad.yaml")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("prompts/_partials/vip.j2:2: error: partial '_partials/vip.j2': "
                               "{% for %} cannot be published")  # fmt: skip
    assert lines[1].startswith("prompts/bad.yaml:10: error: section 'instructions': {% if %}")
    assert lines[2].startswith("prompts/bad.yaml:13: error: section 'input': the filter '| upper'")
    assert agent.made == []  # no client was even set up


def test_access_denied_is_one_line_exit_2(repo: GitRepo, agent: Stubbed, cli: Cli) -> None:
    agent.error("list_prompts", "AccessDeniedException", "User is not authorized", 403)
    result = cli("publish", "greet")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: access denied: bedrock:ListPrompts on greet in us-east-1 — your IAM identity "
        "needs bedrock:ListPrompts (see the README's IAM permissions for Prompt Management)"
    )


def test_echo_is_not_a_model_to_publish_with(repo: GitRepo, agent: Stubbed, cli: Cli) -> None:
    result = cli("publish", "greet", "-m", "echo")
    assert result.exit_code == 2
    assert "'echo' is not a Bedrock model" in result.stderr

"""`promptlab deployed`: managed versions joined with their git versions; drift flagged."""

from __future__ import annotations

import json

import yaml

from promptlab.config import load_config
from promptlab.prompt import content_hash
from promptlab.store.deployments import Deployment, record
from tests.conftest import Cli
from tests.deploy.conftest import ARN, GREET, PID, Stubbed, summary
from tests.git.test_git_repo import GitRepo


def expect_listing(agent: Stubbed, head: str) -> str:
    digest = content_hash(yaml.safe_load(GREET))
    agent.add("list_prompts", {"promptSummaries": [summary()]}, {})
    agent.add("list_prompts", {"promptSummaries": [
        summary(),
        summary("1", f"promptlab: greet 1.2.0 sha256:{digest[:12]} commit {head[:12]}"),
        summary("2", "promptlab: greet 1.3.0 sha256:deadbeefdead commit 0123456789ab"),
        summary("3", "edited in the console"),
        summary("4"),
    ]}, {"promptIdentifier": PID})  # fmt: skip
    return digest


def test_deployed_lists_origins_and_flags_drift(repo: GitRepo, agent: Stubbed, cli: Cli) -> None:
    head = repo.git("rev-parse", "HEAD")
    digest = expect_listing(agent, head)
    record(load_config().store_path, Deployment("greet", "1.2.0", digest, "prompts/greet.yaml",
                                                head, ARN, "4", "us-east-1"))  # fmt: skip
    result = cli("deployed", "--format", "json", "--exit-code")
    assert result.exit_code == 1, result.output
    rows = {r["version"]: r for r in json.loads(result.stdout)}
    assert rows["1"]["drift"] is False and rows["1"]["match"]["commit"] == head
    assert rows["1"]["origin"]["version"] == "1.2.0"
    assert rows["2"]["drift"] is True
    assert rows["2"]["note"] == "sha256:deadbeefdead matches no committed version of " \
        "prompts/greet.yaml"  # fmt: skip
    assert rows["3"]["drift"] is True and "not published by promptlab" in rows["3"]["note"]
    assert rows["4"]["drift"] is False  # known from the local store
    assert rows["4"]["version_arn"] == f"{ARN}:4"


def test_deployed_table_marks_drift(repo: GitRepo, agent: Stubbed, cli: Cli) -> None:
    expect_listing(agent, repo.git("rev-parse", "HEAD"))
    result = cli("deployed")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "4 managed prompt version(s) in us-east-1" in out
    assert "⚠ 3 version(s) drifted" in out
    assert "greet 1.2.0" in out and f"{ARN}:1" in out


def test_no_managed_prompts(repo: GitRepo, agent: Stubbed, cli: Cli) -> None:
    agent.add("list_prompts", {"promptSummaries": []}, {})
    result = cli("deployed", "--exit-code")
    assert result.exit_code == 0
    assert "no managed prompt versions in us-east-1" in result.stdout


def test_listing_follows_next_tokens(repo: GitRepo, agent: Stubbed, cli: Cli) -> None:
    agent.add("list_prompts", {"promptSummaries": [], "nextToken": "t1"}, {})
    agent.add("list_prompts", {"promptSummaries": [summary()]}, {"nextToken": "t1"})
    agent.add("list_prompts", {"promptSummaries": [summary("1")]}, {"promptIdentifier": PID})
    rows = json.loads(cli("deployed", "--format", "json").stdout)
    assert [r["version"] for r in rows] == ["1"]


def test_access_denied_is_one_line_exit_2(repo: GitRepo, agent: Stubbed, cli: Cli) -> None:
    agent.error("list_prompts", "AccessDeniedException", "not authorized", 403)
    result = cli("deployed")
    assert result.exit_code == 2
    assert "access denied: bedrock:ListPrompts" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_deployed_as_csv_has_a_line_per_version(repo: GitRepo, agent: Stubbed, cli: Cli) -> None:
    expect_listing(agent, repo.git("rev-parse", "HEAD"))
    result = cli("deployed", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("prompt,version,version_arn,")
    assert len(lines) == 5 and all(line.startswith("greet,") for line in lines[1:])
    expect_listing(agent, repo.git("rev-parse", "HEAD"))
    table = cli("deployed")
    assert table.exit_code == 0 and "greet" in table.stdout
    assert not any(line.endswith(" ") for line in table.stdout.splitlines())  # piped: no padding

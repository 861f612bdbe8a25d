"""`promptlab test PATH@REF`: the prompt as it was at a git ref, with today's test cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.git.test_git_repo import GitRepo, make_repo, prompt_yaml

SUITE = """\
tests:
  - name: greets
    models: [echo]
    vars: {who: Ann}
    assert:
      - contains: Hey Ann
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    repo = make_repo(tmp_path, monkeypatch)
    repo.commit("v1", {"prompts/greet.yaml": prompt_yaml("1.0.0", "Hello {{ who }}"),
                       "prompts/greet.tests.yaml": SUITE})  # fmt: skip
    repo.commit("v2", {"prompts/greet.yaml": prompt_yaml("2.0.0", "Hey {{ who }}")})
    return repo


def test_suite_runs_against_the_prompt_at_a_ref(repo: GitRepo, cli: Cli) -> None:
    new = cli("test", "prompts/greet.yaml", "--no-log", "--json", "new.json")
    assert new.exit_code == 0, new.output
    old = cli("test", "prompts/greet.yaml@v1.0.0", "--no-log", "--baseline", "new.json")
    assert old.exit_code == 1  # v1 said "Hello": today's case expects "Hey"
    assert "newly failing (1): greet/greets@echo" in old.stdout


def test_results_record_the_ref_commit(repo: GitRepo, cli: Cli) -> None:
    first = repo.git("rev-list", "--max-parents=0", "HEAD").strip()
    result = cli("test", "prompts/greet.yaml@HEAD~1", "--no-log", "--json", "old.json")
    assert result.exit_code == 1
    report = json.loads(Path("old.json").read_text("utf-8"))
    text = json.dumps(report)
    assert first in text  # the resolved commit is recorded with the results
    assert '"version": "1.0.0"' in text


def test_unknown_ref_is_exit_2(repo: GitRepo, cli: Cli) -> None:
    result = cli("test", "prompts/greet.yaml@no-such-ref")
    assert result.exit_code == 2
    assert "no-such-ref" in result.stderr

"""What a new user reaches for first: --version, shell completion, --provider's choices,
and which git version `render PATH@REF` shows."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.git.test_git_repo import GitRepo, make_repo, prompt_yaml


def test_version_prints_the_package_version(cli: Cli) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"promptlab {version('promptlab')}\n"


def test_shell_completion_can_be_shown(cli: Cli) -> None:
    assert "--install-completion" in cli("--help").stdout
    from typer.testing import CliRunner

    from promptlab.cli import app

    result = CliRunner().invoke(app, ["--show-completion", "bash"], prog_name="promptlab")
    assert result.exit_code == 0
    assert "_PROMPTLAB_COMPLETE" in result.stdout


def test_an_unknown_provider_lists_the_valid_ones(project: Path, cli: Cli) -> None:
    result = cli("models", "--offline", "--provider", "foo")
    assert result.exit_code == 2
    assert "--provider 'foo' matches no model" in result.stderr
    assert "providers: " in result.stderr and "anthropic" in result.stderr
    assert cli("models", "--offline", "--provider", "anthropic").exit_code == 0


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    return make_repo(tmp_path, monkeypatch)


def test_render_at_a_ref_names_the_ref_and_its_commit(repo: GitRepo, cli: Cli) -> None:
    first = repo.commit("v1", {"prompts/x.yaml": prompt_yaml("1.0.0")})
    repo.git("tag", "v1")
    repo.commit("v2", {"prompts/x.yaml": prompt_yaml("1.1.0")})
    head = cli("render", "prompts/x.yaml@v1", "--examples").stdout.splitlines()[0]
    assert head.startswith("# x v1.0.0 (")
    assert head.endswith(f" @v1 ({first[:7]})")
    by_sha = cli("render", f"prompts/x.yaml@{first[:10]}", "--examples").stdout.splitlines()[0]
    assert by_sha.endswith(f" @{first[:10]}")
    plain = cli("render", "prompts/x.yaml", "--examples").stdout.splitlines()[0]
    assert "@" not in plain

"""`promptlab diff A B`: metadata, YAML and rendered-message differences between versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Cli, write
from tests.git.test_git_repo import GitRepo, make_repo, prompt_yaml

P = "prompts/greet.yaml"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    return make_repo(tmp_path, monkeypatch)


def two_versions(repo: GitRepo) -> str:
    sha = repo.commit("v1", {P: prompt_yaml("1.0.0", "Hi {{ who }}")})
    repo.write(
        P,
        prompt_yaml("1.1.0", "Hello {{ who }} from {{ team }}", "  team: {type: string}\n")
        + "models: [echo]\n",
    )
    return sha


def test_diff_shows_metadata_yaml_and_rendered_sections(repo: GitRepo, cli: Cli) -> None:
    sha = two_versions(repo)
    result = cli("diff", f"{P}@v1.0.0", P, "-v", "who=Ann", "-v", "team=ops")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"diff {P}@v1.0.0 ({sha[:7]}) → {P} (working tree)" in out
    assert "version: 1.0.0 → 1.1.0" in out
    assert "variable added: team (string, required)" in out
    assert "models: - → ['echo']" in out
    assert '-version: "1.0.0"' in out and '+version: "1.1.0"' in out
    assert "━━━ system (instructions): unchanged ━━━" in out
    assert "━━━ user: input ━━━" in out
    assert "-Hi Ann\n+Hello Ann from ops" in out
    # not a terminal: no escape sequences
    assert "\x1b[" not in out


def test_variables_only_one_side_declares_are_passed_to_that_side(repo: GitRepo, cli: Cli) -> None:
    two_versions(repo)
    result = cli("diff", P, f"{P}@HEAD", "-v", "who=Ann", "-v", "team=ops")
    assert result.exit_code == 0, result.output
    assert "-Hello Ann from ops\n+Hi Ann" in result.stdout


def test_missing_variables_skip_the_rendered_diff_with_a_note(repo: GitRepo, cli: Cli) -> None:
    two_versions(repo)
    result = cli("diff", f"{P}@HEAD", P)
    assert result.exit_code == 0, result.output
    assert "cannot render A:" in result.stdout
    assert "missing required variable(s): who" in result.stdout
    assert "--examples" in result.stdout
    assert '+version: "1.1.0"' in result.stdout


def test_examples_fill_variables(repo: GitRepo, cli: Cli) -> None:
    two_versions(repo)
    result = cli("diff", f"{P}@HEAD", P, "--examples", "-v", "team=ops")
    assert result.exit_code == 0, result.output
    assert "+Hello Ann from ops" in result.stdout


def test_identical_sides(repo: GitRepo, cli: Cli) -> None:
    repo.commit("v1", {P: prompt_yaml("1.0.0")})
    result = cli("diff", f"{P}@HEAD", P, "--examples", "--exit-code")
    assert result.exit_code == 0, result.output
    assert "(identical)" in result.stdout
    assert "(no changes)" in result.stdout


def test_exit_code_flag_exits_1_when_different(repo: GitRepo, cli: Cli) -> None:
    two_versions(repo)
    assert cli("diff", f"{P}@HEAD", P, "--examples", "--exit-code").exit_code == 1
    assert cli("diff", f"{P}@HEAD", P, "--examples").exit_code == 0


def test_two_working_files_need_no_git(project: Path, cli: Cli) -> None:
    write(project / "prompts/a.yaml", prompt_yaml("1.0.0", "A {{ who }}"))
    write(project / "prompts/b.yaml", prompt_yaml("1.0.1", "B {{ who }}"))
    result = cli("diff", "a", "b", "--examples")
    assert result.exit_code == 0, result.output
    assert "-A Ann\n+B Ann" in result.stdout


def test_unknown_variable_is_exit_2(repo: GitRepo, cli: Cli) -> None:
    two_versions(repo)
    result = cli("diff", f"{P}@HEAD", P, "-v", "colour=red")
    assert result.exit_code == 2
    assert "unknown variable(s): colour" in result.stderr


def test_unknown_ref_is_exit_2(repo: GitRepo, cli: Cli) -> None:
    two_versions(repo)
    result = cli("diff", f"{P}@v7.0.0", P)
    assert result.exit_code == 2
    assert "no commit has version '7.0.0'" in result.stderr


def test_colored_on_a_terminal(repo: GitRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    two_versions(repo)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    result = cli("diff", f"{P}@HEAD", P, "--examples", "-v", "team=ops")
    assert result.exit_code == 0, result.output
    assert "\x1b[32m+Hello Ann from ops" in result.stdout

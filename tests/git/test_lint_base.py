"""`lint --base REF`: version bumps, removed variables still used by tests, breaking changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptlab.config import load_config
from promptlab.errors import Problem, UsageError
from promptlab.versioncheck import check_base, compare, parse_semver
from tests.conftest import Cli
from tests.git.test_git_repo import GitRepo, make_repo, prompt_yaml

P = "prompts/greet.yaml"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    return make_repo(tmp_path, monkeypatch)


def check(base: str = "main") -> list[Problem]:
    config = load_config()
    return check_base([config.prompts_dir], config, base)


def errors(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems if p.severity == "error"]


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("1.0.0", "1.0.1"),
        ("1.9.0", "1.10.0"),
        ("1.0.0-alpha", "1.0.0"),
        ("1.0.0-alpha", "1.0.0-alpha.1"),
        ("1.0.0-alpha.1", "1.0.0-alpha.beta"),
        ("1.0.0-beta.2", "1.0.0-beta.11"),
        ("1.0.0-rc.1", "1.0.0"),
        ("0.9.9", "1.0.0-alpha"),
    ],
)
def test_semver_precedence(low: str, high: str) -> None:
    a, b = parse_semver(low), parse_semver(high)
    assert a and b
    assert compare(a, b) == -1
    assert compare(b, a) == 1


def test_build_metadata_does_not_count_as_a_bump() -> None:
    a, b = parse_semver("1.0.0+build.1"), parse_semver("1.0.0+build.2")
    assert a and b and compare(a, b) == 0
    assert parse_semver("1.0") is None


def test_changed_content_without_bump_is_an_error_on_the_version_line(repo: GitRepo) -> None:
    repo.commit("base", {P: prompt_yaml("1.2.0", "Hi {{ who }}")})
    repo.write(P, prompt_yaml("1.2.0", "Hello {{ who }}"))
    problems = check()
    assert errors(problems) == [
        f"{P}:1: error: content changed since main but 'version' is still 1.2.0 — "
        'bump it, e.g. version: "1.2.1"'
    ]


def test_bumped_version_passes(repo: GitRepo) -> None:
    repo.commit("base", {P: prompt_yaml("1.2.0", "Hi {{ who }}")})
    repo.write(P, prompt_yaml("1.2.1", "Hello {{ who }}"))
    assert check() == []


def test_prerelease_to_release_is_a_bump_and_going_down_is_not(repo: GitRepo) -> None:
    repo.commit("base", {P: prompt_yaml("2.0.0-rc.1", "Hi {{ who }}")})
    repo.write(P, prompt_yaml("2.0.0", "Hello {{ who }}"))
    assert check() == []
    repo.write(P, prompt_yaml("1.9.0", "Hello {{ who }}"))
    assert "'version' went down from 2.0.0-rc.1 at main to 1.9.0" in errors(check())[0]


def test_formatting_only_change_needs_no_bump(repo: GitRepo) -> None:
    repo.commit("base", {P: prompt_yaml("1.0.0")})
    repo.write(P, "# a comment\n" + prompt_yaml("1.0.0").replace('"1.0.0"', "'1.0.0'"))
    assert check() == []


def test_new_prompt_since_base_is_fine(repo: GitRepo) -> None:
    repo.commit("base", {"README.md": "x"})
    repo.write(P, prompt_yaml("0.1.0"))
    assert check() == []


def test_renamed_prompt_is_compared_with_its_old_path(repo: GitRepo) -> None:
    repo.commit("base", {"prompts/old.yaml": prompt_yaml("1.0.0", "Hi {{ who }}")})
    repo.git("mv", "prompts/old.yaml", P)
    repo.write(P, prompt_yaml("1.0.0", "Hey {{ who }}"))
    repo.git("add", "-A")
    assert "still 1.0.0" in errors(check())[0]


def test_removed_variable_still_set_by_tests_is_an_error(repo: GitRepo) -> None:
    two_vars = prompt_yaml("0.3.0", "Hi {{ who }} {{ tone }}", "  tone: {type: string}\n")
    repo.commit("base", {P: two_vars})
    inline_tests = "tests:\n  - name: polite\n    vars: {who: Ann, tone: warm}\n"
    repo.write(P, prompt_yaml("0.4.0", "Hi {{ who }}") + inline_tests)
    repo.write(
        "prompts/greet.tests.yaml",
        "defaults:\n  vars:\n    tone: dry\ntests:\n  - name: a\n    vars:\n      tone: cold\n",
    )
    errs = errors(check())
    assert (
        f"{P}:9: error: variable 'tone' was removed since main but test case 'polite'" in (errs[0])
    )
    assert "prompts/greet.tests.yaml:3: error: variable 'tone' was removed" in errs[1]
    assert "test case defaults still sets it" in errs[1]
    assert "prompts/greet.tests.yaml:7:" in errs[2]
    assert "test case 'a' still sets it" in errs[2]
    assert len(errs) == 3  # 0.x: the removal itself is only a warning


def test_new_required_variable_needs_a_major_bump_from_1_0(repo: GitRepo) -> None:
    repo.commit("base", {P: prompt_yaml("1.4.0")})
    extra = "  team: {type: string}\n"
    repo.write(P, prompt_yaml("1.5.0", "Hi {{ who }} {{ team }}", extra))
    assert errors(check()) == [
        f"{P}:7: error: breaking change since main: new required variable 'team' has no "
        "default; this needs a major version bump — use version: \"2.0.0\", or give 'team' a "
        "default"
    ]
    repo.write(P, prompt_yaml("2.0.0", "Hi {{ who }} {{ team }}", extra))
    problems = check()
    assert errors(problems) == []
    assert [p.severity for p in problems] == ["warning"]
    assert "new required variable 'team' has no default" in problems[0].message


def test_new_variable_with_default_is_not_breaking(repo: GitRepo) -> None:
    repo.commit("base", {P: prompt_yaml("1.4.0")})
    extra = "  team: {type: string, default: ops}\n"
    repo.write(P, prompt_yaml("1.5.0", "Hi {{ who }} {{ team }}", extra))
    assert check() == []


def test_breaking_change_below_1_0_is_a_warning(repo: GitRepo) -> None:
    repo.commit("base", {P: prompt_yaml("0.4.0")})
    repo.write(P, prompt_yaml("0.5.0", "Hi {{ who }} {{ team }}", "  team: {type: string}\n"))
    problems = check()
    assert [p.severity for p in problems] == ["warning"]


def test_unknown_base_is_a_usage_error(repo: GitRepo) -> None:
    repo.commit("base", {P: prompt_yaml("1.0.0")})
    with pytest.raises(UsageError, match="--base origin/nope: unknown git ref"):
        check("origin/nope")


# ---------------------------------------------------------------- through the CLI


def test_lint_base_exits_1_and_lists_problems_with_lines(repo: GitRepo, cli: Cli) -> None:
    repo.commit("base", {P: prompt_yaml("1.0.0", "Hi {{ who }}")})
    repo.write(P, prompt_yaml("1.0.0", "Hello {{ who }}"))
    result = cli("lint", "--base", "main")
    assert result.exit_code == 1
    assert f"{P}:1: error: content changed since main but 'version' is still 1.0.0" in (
        result.stdout
    )
    repo.write(P, prompt_yaml("1.0.1", "Hello {{ who }}"))
    ok = cli("lint", "--base", "main")
    assert ok.exit_code == 0, ok.output


def test_lint_base_warnings_do_not_fail(repo: GitRepo, cli: Cli) -> None:
    repo.commit("base", {P: prompt_yaml("0.4.0")})
    repo.write(P, prompt_yaml("0.5.0", "Hi {{ who }} {{ team }}", "  team: {type: string}\n"))
    result = cli("lint", "--base", "HEAD")
    assert result.exit_code == 0, result.output
    assert "warning: breaking change since HEAD" in result.stdout


def test_lint_base_bad_ref_is_exit_2(repo: GitRepo, cli: Cli) -> None:
    repo.commit("base", {P: prompt_yaml("1.0.0")})
    result = cli("lint", "--base", "no-such-ref")
    assert result.exit_code == 2
    assert "--base no-such-ref: unknown git ref 'no-such-ref'" in result.stderr


def test_lint_base_outside_git_is_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    (tmp_path / "plain/prompts").mkdir(parents=True)
    (tmp_path / "plain/prompts/x.yaml").write_text(prompt_yaml("1.0.0"))
    monkeypatch.chdir(tmp_path / "plain")
    result = cli("lint", "--base", "main")
    assert result.exit_code == 2
    assert "not inside a git repository" in result.stderr


def test_lint_base_uses_the_repository_of_the_linted_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    repo: GitRepo = make_repo(tmp_path, monkeypatch)
    repo.commit("first", {"prompts/greet.yaml": prompt_yaml("1.0.0")})
    repo.write("prompts/greet.yaml", prompt_yaml("1.0.0", "Hello {{ who }}"))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    monkeypatch.chdir(outside)
    result = cli("lint", "--base", "main", str(repo.root / "prompts"))
    assert result.exit_code == 1, result.output
    assert "content changed since main but 'version' is still 1.0.0" in result.stdout

"""`promptlab history PROMPT`: versions from git, the no-bump marker, uncommitted changes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from promptlab.prompt import load_prompt
from tests.conftest import Cli
from tests.git.test_git_repo import GitRepo, make_repo, prompt_yaml

P = "prompts/greet.yaml"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    return make_repo(tmp_path, monkeypatch)


def build(repo: GitRepo) -> list[str]:
    return [
        repo.commit("first", {P: prompt_yaml("1.0.0", "hi {{ who }}")}),
        repo.commit("tweak wording", {P: prompt_yaml("1.0.0", "Hi {{ who }}")}),
        repo.commit("comment only", {P: "# greeting\n" + prompt_yaml("1.0.0", "Hi {{ who }}")}),
        repo.commit("bump", {P: prompt_yaml("1.1.0", "Hello {{ who }}")}),
    ]


def rows(cli: Cli, *args: str) -> list[dict[str, object]]:
    result = cli("history", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout)["versions"])


def test_json_rows_newest_first_with_version_commit_and_hash(repo: GitRepo, cli: Cli) -> None:
    shas = build(repo)
    got = rows(cli, P)
    assert [r["commit"] for r in got] == shas[::-1]
    assert [r["version"] for r in got] == ["1.1.0", "1.0.0", "1.0.0", "1.0.0"]
    assert [r["subject"] for r in got] == ["bump", "comment only", "tweak wording", "first"]
    assert got[0]["author"] == "Pat Example"
    assert got[0]["short"] == shas[-1][:7]
    assert str(got[0]["date"]).startswith("20")
    assert got[0]["hash"] == load_prompt(P).content_hash


def test_content_change_without_bump_is_marked(repo: GitRepo, cli: Cli) -> None:
    build(repo)
    got = rows(cli, P)
    assert [r["warning"] for r in got] == [False, False, True, False]
    assert [r["note"] for r in got] == [
        "",
        "no content change",
        "content changed without a version bump",
        "added",
    ]


def test_table_shows_marker_and_note(repo: GitRepo, cli: Cli) -> None:
    build(repo)
    result = cli("history", "greet")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    marked = [ln for ln in lines if ln.startswith("⚠")]
    assert len(marked) == 1 and "tweak wording" in marked[0]
    assert "content changed without a version bump" in marked[0]
    assert "1 change(s) marked ⚠ without a higher version" in result.stdout


def test_uncommitted_changes_are_the_first_row(repo: GitRepo, cli: Cli) -> None:
    build(repo)
    repo.write(P, prompt_yaml("1.1.0", "Howdy {{ who }}"))
    got = rows(cli, P)
    assert got[0]["commit"] is None
    assert got[0]["subject"] == "uncommitted changes"
    assert got[0]["warning"] is True
    table = cli("history", P).stdout
    assert "working tree" in table


def test_clean_file_has_no_working_tree_row(repo: GitRepo, cli: Cli) -> None:
    build(repo)
    assert rows(cli, P)[0]["commit"] is not None


def test_history_follows_renames(repo: GitRepo, cli: Cli) -> None:
    repo.commit("add", {"prompts/old.yaml": prompt_yaml("1.0.0")})
    repo.git("mv", "prompts/old.yaml", P)
    repo.commit("rename")
    got = rows(cli, P)
    assert [r["path"] for r in got] == [P, "prompts/old.yaml"]
    assert got[0]["note"] == "renamed from prompts/old.yaml"


def test_untracked_prompt_shows_one_row(repo: GitRepo, cli: Cli) -> None:
    repo.commit("init", {"README.md": "x"})
    repo.write(P, prompt_yaml("0.1.0"))
    got = rows(cli, P)
    assert len(got) == 1
    assert got[0]["subject"] == "not committed yet"


def test_unknown_prompt_is_exit_2(repo: GitRepo, cli: Cli) -> None:
    repo.commit("init", {"README.md": "x"})
    result = cli("history", "prompts/nope.yaml")
    assert result.exit_code == 2
    assert "not found in the working tree or in git history" in result.stderr


def test_outside_git_is_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    (tmp_path / "plain/prompts").mkdir(parents=True)
    (tmp_path / "plain/prompts/x.yaml").write_text(prompt_yaml("1.0.0"))
    monkeypatch.chdir(tmp_path / "plain")
    result = cli("history", "prompts/x.yaml")
    assert result.exit_code == 2
    assert "not inside a git repository" in result.stderr


def test_bad_format_is_exit_2(repo: GitRepo, cli: Cli) -> None:
    build(repo)
    assert cli("history", P, "--format", "xml").exit_code == 2


def test_shallow_clone_says_older_versions_are_missing(
    repo: GitRepo, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(repo)
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "2", f"file://{repo.root}", str(clone)], check=True
    )
    monkeypatch.chdir(clone)
    result = cli("history", P, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["shallow"] is True and data["truncated"] is True
    assert [r["subject"] for r in data["versions"]] == ["bump", "comment only"]
    assert data["versions"][-1]["note"] == "history before this is missing (shallow clone)"
    assert "older versions are missing" in result.stderr
    assert "fetch-depth: 0" in result.stderr


def test_history_piped_keeps_each_version_on_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    repo: GitRepo = make_repo(tmp_path, monkeypatch)
    repo.commit("first greet", {"prompts/greet.yaml": prompt_yaml("1.0.0")})
    repo.commit(
        "tweak the wording of the greeting",
        {"prompts/greet.yaml": prompt_yaml("1.0.0", "Hello {{ who }}")},
    )
    monkeypatch.delenv("COLUMNS")  # piped output: rich would default to 80 columns
    result = cli("history", "prompts/greet.yaml")
    assert result.exit_code == 0, result.output
    rows = [ln for ln in result.stdout.splitlines() if "tweak" in ln]
    assert len(rows) == 1
    assert "tweak the wording of the greeting" in rows[0]
    assert rows[0].rstrip().endswith("content changed without a version bump")

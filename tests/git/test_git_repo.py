"""Throwaway git repositories for the version tests, and tests of the git layer itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from promptlab import gitrefs
from promptlab.errors import ConfigError, UsageError
from tests.conftest import write


def prompt_yaml(version: str, body: str = "Hi {{ who }}", extra: str = "") -> str:
    """A small valid prompt with one required variable `who`."""
    return (
        f'version: "{version}"\ninstructions: Be brief.\ninput: |\n  {body}\n'
        f"variables:\n  who: {{type: string, example: Ann}}\n{extra}"
    )


class GitRepo:
    """A git repository in a temp dir, isolated from the developer's git configuration."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=self.root, capture_output=True, text=True, check=True
        )
        return proc.stdout.strip()

    def write(self, rel: str, text: str) -> Path:
        return write(self.root / rel, text)

    def commit(self, message: str, files: dict[str, str] | None = None) -> str:
        """Write files, stage everything and commit; returns the full sha."""
        for rel, text in (files or {}).items():
            self.write(rel, text)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


def isolate_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No global or system git config; a fixed author and committer."""
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Pat Example")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "pat@example.com")


def make_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    """A fresh repository (with prompts/) as the working directory."""
    isolate_git(monkeypatch, tmp_path)
    repo = GitRepo(tmp_path / "repo")
    (repo.root / "prompts").mkdir()
    monkeypatch.chdir(repo.root)
    return repo


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    return make_repo(tmp_path, monkeypatch)


def test_file_log_follows_renames_newest_first(repo: GitRepo) -> None:
    repo.commit("add", {"prompts/old.yaml": prompt_yaml("1.0.0")})
    repo.commit("bump", {"prompts/old.yaml": prompt_yaml("1.1.0")})
    repo.git("mv", "prompts/old.yaml", "prompts/new.yaml")
    repo.commit("rename")
    log = gitrefs.file_log(gitrefs.repo_root(), "prompts/new.yaml")
    assert [c.subject for c in log] == ["rename", "bump", "add"]
    assert [c.path for c in log] == ["prompts/new.yaml", "prompts/old.yaml", "prompts/old.yaml"]
    assert log[0].author == "Pat Example"


def test_read_blobs_returns_none_for_missing_paths(repo: GitRepo) -> None:
    sha = repo.commit("add", {"prompts/a.yaml": "version: 1\n"})
    root = gitrefs.repo_root()
    got = gitrefs.read_blobs(root, [(sha, "prompts/a.yaml"), (sha, "nope.yaml"), (sha, "prompts")])
    assert got == [b"version: 1\n", None, None]


def test_unknown_ref_and_option_like_ref_do_not_resolve(repo: GitRepo) -> None:
    repo.commit("add", {"prompts/a.yaml": "version: 1\n"})
    root = gitrefs.repo_root()
    assert gitrefs.resolve_commit(root, "no-such-branch") is None
    assert gitrefs.resolve_commit(root, "--all") is None
    with pytest.raises(UsageError, match="unknown git ref 'nope'"):
        gitrefs.require_commit(root, "nope")


def test_outside_a_repository_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_git(monkeypatch, tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    (tmp_path / "plain").mkdir()
    monkeypatch.chdir(tmp_path / "plain")
    with pytest.raises(UsageError, match="not inside a git repository"):
        gitrefs.repo_root()


def test_git_not_installed_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(ConfigError, match="git is not installed"):
        gitrefs.repo_root(tmp_path)


def test_renames_since_maps_new_path_to_old(repo: GitRepo) -> None:
    base = repo.commit("add", {"prompts/a.yaml": prompt_yaml("1.0.0")})
    repo.git("mv", "prompts/a.yaml", "prompts/b.yaml")
    assert gitrefs.renames_since(gitrefs.repo_root(), base) == {"prompts/b.yaml": "prompts/a.yaml"}

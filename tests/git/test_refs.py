"""PATH@REF and PATH@vX.Y.Z: loading a prompt as it was in git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from promptlab.config import load_config
from promptlab.errors import PromptFileError, UsageError
from promptlab.sources import open_prompt, prepare, split_ref
from tests.conftest import Cli
from tests.git.test_git_repo import GitRepo, make_repo, prompt_yaml


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    return make_repo(tmp_path, monkeypatch)


def three_versions(repo: GitRepo) -> list[str]:
    """1.0.0 (hello) → 1.0.0 again (Hello, no bump) → 2.0.0 (Hey); returns the shas."""
    return [
        repo.commit("first", {"prompts/greet.yaml": prompt_yaml("1.0.0", "hello {{ who }}")}),
        repo.commit("tweak", {"prompts/greet.yaml": prompt_yaml("1.0.0", "Hello {{ who }}")}),
        repo.commit("v2", {"prompts/greet.yaml": prompt_yaml("2.0.0", "Hey {{ who }}")}),
    ]


def user_text(arg: str) -> str:
    prompt = open_prompt(arg, load_config())
    return prepare(prompt, None, {"who": "Ann"})[1].user


def test_split_ref_takes_the_last_at_with_text_after_it() -> None:
    assert split_ref("prompts/x.yaml@v1.0.0") == ("prompts/x.yaml", "v1.0.0")
    assert split_ref("a@b.yaml@main") == ("a@b.yaml", "main")
    assert split_ref("x.yaml@main@{1}") == ("x.yaml", "main@{1}")
    assert split_ref("x.yaml@") == ("x.yaml@", None)
    assert split_ref("x.yaml") == ("x.yaml", None)


def test_ref_loads_the_file_as_it_was_and_records_the_commit(repo: GitRepo) -> None:
    shas = three_versions(repo)
    prompt = open_prompt("prompts/greet.yaml@HEAD~2", load_config())
    assert prompt.version == "1.0.0"
    assert prompt.ref == shas[0]
    assert prompt.path == "prompts/greet.yaml"
    assert user_text("prompts/greet.yaml@HEAD~2") == "hello Ann"
    assert user_text(f"prompts/greet.yaml@{shas[1][:8]}") == "Hello Ann"
    assert user_text("prompts/greet.yaml") == "Hey Ann"
    assert open_prompt("prompts/greet.yaml", load_config()).ref is None


def test_version_loads_the_newest_commit_with_that_version(repo: GitRepo) -> None:
    shas = three_versions(repo)
    repo.commit("docs", {"README.md": "x"})
    prompt = open_prompt("prompts/greet.yaml@v1.0.0", load_config())
    assert prompt.ref == shas[1]
    assert user_text("prompts/greet.yaml@v1.0.0") == "Hello Ann"


def test_prompt_name_with_ref_is_found_under_prompts(repo: GitRepo) -> None:
    shas = three_versions(repo)
    assert open_prompt("greet@v2.0.0", load_config()).ref == shas[2]


def test_version_field_wins_over_a_tag_of_the_same_name(repo: GitRepo) -> None:
    shas = three_versions(repo)
    repo.git("tag", "v1.0.0", shas[2])  # a release tag of the whole repository
    assert open_prompt("prompts/greet.yaml@v1.0.0", load_config()).ref == shas[1]
    assert open_prompt("prompts/greet.yaml@refs/tags/v1.0.0", load_config()).ref == shas[2]


def test_version_is_found_across_a_rename(repo: GitRepo) -> None:
    old = repo.commit("add", {"prompts/old.yaml": prompt_yaml("1.0.0", "old {{ who }}")})
    repo.git("mv", "prompts/old.yaml", "prompts/new.yaml")
    repo.commit("rename and bump", {"prompts/new.yaml": prompt_yaml("1.1.0", "new {{ who }}")})
    prompt = open_prompt("prompts/new.yaml@v1.0.0", load_config())
    assert (prompt.ref, prompt.path) == (old, "prompts/old.yaml")
    assert user_text("prompts/new.yaml@v1.0.0") == "old Ann"


def test_partials_are_read_at_the_same_ref(repo: GitRepo) -> None:
    body = "{% include '_partials/tone.j2' %} {{ who }}"
    repo.commit(
        "v1",
        {"prompts/_partials/tone.j2": "Dear", "prompts/mail.yaml": prompt_yaml("1.0.0", body)},
    )
    repo.commit("tone", {"prompts/_partials/tone.j2": "Yo", "prompts/mail.yaml": prompt_yaml(
        "1.1.0", body)})  # fmt: skip
    assert user_text("prompts/mail.yaml@v1.0.0") == "Dear Ann"
    assert user_text("prompts/mail.yaml@HEAD") == "Yo Ann"
    # the working-tree partial does not leak into a ref
    (repo.root / "prompts/_partials/tone.j2").write_text("Changed")
    assert user_text("prompts/mail.yaml@HEAD") == "Yo Ann"
    assert user_text("prompts/mail.yaml") == "Changed Ann"


def test_include_outside_the_prompts_root_is_refused_at_a_ref(repo: GitRepo) -> None:
    repo.commit(
        "add",
        {
            "secret.txt": "TOP SECRET",
            "prompts/x.yaml": prompt_yaml("1.0.0", "{% include '../secret.txt' %}"),
        },
    )
    with pytest.raises(UsageError, match="not found inside the prompts root"):
        user_text("prompts/x.yaml@HEAD")


def test_symlinked_partial_is_not_followed_at_a_ref(repo: GitRepo) -> None:
    repo.write("secret.txt", "TOP SECRET")
    (repo.root / "prompts/_partials").mkdir()
    (repo.root / "prompts/_partials/link.j2").symlink_to("../../secret.txt")
    repo.commit(
        "add", {"prompts/x.yaml": prompt_yaml("1.0.0", "{% include '_partials/link.j2' %}")}
    )
    with pytest.raises(UsageError, match="not found"):
        user_text("prompts/x.yaml@HEAD")


def test_existing_path_containing_at_is_loaded_as_a_file(repo: GitRepo) -> None:
    repo.write("prompts/team@v2.yaml", prompt_yaml("1.0.0", "at {{ who }}"))
    assert user_text("prompts/team@v2.yaml") == "at Ann"


def test_invalid_file_at_ref_names_the_ref_in_problems(repo: GitRepo) -> None:
    repo.commit("bad", {"prompts/x.yaml": 'version: "1.0.0"\ninstruction: typo\n'})
    repo.commit("fix", {"prompts/x.yaml": prompt_yaml("1.0.1")})
    with pytest.raises(PromptFileError) as err:
        open_prompt("prompts/x.yaml@HEAD~1", load_config())
    assert err.value.problems[0].file == "prompts/x.yaml@HEAD~1"


def test_render_accepts_a_ref(repo: GitRepo, cli: Cli) -> None:
    three_versions(repo)
    result = cli("render", "prompts/greet.yaml@v1.0.0", "-v", "who=Bo")
    assert result.exit_code == 0, result.output
    assert "Hello Bo" in result.output
    assert "v1.0.0" in result.output


# ---------------------------------------------------------------- bad input: exit 2


def test_unknown_ref_is_exit_2(repo: GitRepo, cli: Cli) -> None:
    three_versions(repo)
    result = cli("render", "prompts/greet.yaml@no-such-branch", "--examples")
    assert result.exit_code == 2
    assert "prompts/greet.yaml@no-such-branch: unknown git ref 'no-such-branch'" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_version_lists_known_versions(repo: GitRepo, cli: Cli) -> None:
    three_versions(repo)
    result = cli("render", "prompts/greet.yaml@v9.9.9", "--examples")
    assert result.exit_code == 2
    assert "no commit has version '9.9.9'" in result.stderr
    assert "versions in its history: 2.0.0, 1.0.0" in result.stderr


def test_path_not_present_at_ref_is_exit_2(repo: GitRepo, cli: Cli) -> None:
    repo.commit("first", {"README.md": "x"})
    repo.commit("add", {"prompts/new.yaml": prompt_yaml("1.0.0")})
    result = cli("render", "prompts/new.yaml@HEAD~1", "--examples")
    assert result.exit_code == 2
    assert "prompts/new.yaml is not present at HEAD~1" in result.stderr


def test_uncommitted_file_has_no_version_history(repo: GitRepo, cli: Cli) -> None:
    repo.commit("first", {"README.md": "x"})
    repo.write("prompts/draft.yaml", prompt_yaml("1.0.0"))
    result = cli("render", "prompts/draft.yaml@v1.0.0", "--examples")
    assert result.exit_code == 2
    assert "has no git history" in result.stderr


def test_ref_outside_a_git_repository_is_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    (tmp_path / "plain/prompts").mkdir(parents=True)
    (tmp_path / "plain/prompts/x.yaml").write_text(prompt_yaml("1.0.0"))
    monkeypatch.chdir(tmp_path / "plain")
    result = cli("render", "prompts/x.yaml@HEAD", "--examples")
    assert result.exit_code == 2
    assert "prompts/x.yaml@HEAD: not inside a git repository" in result.stderr


def test_git_not_installed_is_exit_2(
    repo: GitRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    three_versions(repo)
    monkeypatch.setenv("PATH", str(repo.root / "no-bin"))
    result = cli("render", "prompts/greet.yaml@HEAD", "--examples")
    assert result.exit_code == 2
    assert "git is not installed" in result.stderr


def test_misspelt_file_with_at_mentions_the_file(repo: GitRepo, cli: Cli) -> None:
    repo.commit("first", {"README.md": "x"})
    result = cli("render", "prompts/team@v3.yaml", "--examples")
    assert result.exit_code == 2
    assert "no file named 'prompts/team@v3.yaml' exists either" in result.stderr


def test_shallow_clone_works_at_head_and_explains_missing_history(
    repo: GitRepo, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    three_versions(repo)
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)], check=True
    )
    monkeypatch.chdir(clone)
    ok = cli("render", "prompts/greet.yaml@v2.0.0", "-v", "who=Ann")
    assert ok.exit_code == 0, ok.output
    assert "Hey Ann" in ok.output
    for arg in ("prompts/greet.yaml@v1.0.0", "prompts/greet.yaml@HEAD~1"):
        result = cli("render", arg, "--examples")
        assert result.exit_code == 2, arg
        assert "shallow clone" in result.stderr
        assert "fetch-depth: 0" in result.stderr

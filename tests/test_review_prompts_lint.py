"""`promptlab lint`: runtime errors, partials' own file:line, imports, config and git edges."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptlab.config import ConfigError, load_config
from tests.conftest import Cli, write
from tests.git.test_git_repo import GitRepo, make_repo, prompt_yaml


def test_runtime_error_in_a_partial_is_reported_not_raised(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "_partials" / "p.j2", "first\n{{ n + 'x' }}\n")
    write(
        project / "prompts" / "c.yaml",
        'version: "1.0.0"\ninput: |\n  {% include "_partials/p.j2" %}\n'
        "variables:\n  n: {type: integer, example: 3}\n",
    )
    result = cli("lint")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stdout.startswith(
        "prompts/_partials/p.j2:2: error: partial included by 'input' failed: TypeError:"
    )
    assert "(rendering prompts/c.yaml with its defaults and examples)" in result.stdout


def test_problems_in_a_shared_partial_are_reported_once_at_its_line(
    project: Path, cli: Cli
) -> None:
    write(project / "prompts" / "_partials" / "bad.j2", "ok\n{{ who.__class__ }}\n")
    for name in ("a", "b"):
        write(
            project / "prompts" / f"{name}.yaml",
            'version: "1.0.0"\ninput: |\n  {% include "_partials/bad.j2" %}\n'
            "variables:\n  who: string\n",
        )
    result = cli("lint")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "prompts/_partials/bad.j2:2: error: partial '_partials/bad.j2' reaches for Python"
        " internals ('__class__'); the sandbox refuses it — templates may only use variables,"
        " filters and tests"
    ]


def test_missing_include_inside_a_partial_points_at_the_partial(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "_partials" / "outer.j2", "a\nb\n{% include '_partials/gone.j2' %}")
    write(
        project / "prompts" / "x.yaml",
        "version: \"1.0.0\"\ninput: |\n  {% include '_partials/outer.j2' %}\n",
    )
    result = cli("lint")
    assert result.exit_code == 1
    assert result.stdout.startswith(
        "prompts/_partials/outer.j2:3: error: include '_partials/gone.j2' not found"
    )


def test_imports_are_checked_and_ignore_missing_is_allowed(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "_partials" / "m.j2", "{% macro hi(x) %}Hi {{ x }}{% endmacro %}")
    write(
        project / "prompts" / "ok.yaml",
        'version: "1.0.0"\ninput: |\n  {% import "_partials/m.j2" as m %}{{ m.hi(who) }}\n'
        '  {% include "_partials/optional.j2" ignore missing %}\n'
        "variables:\n  who: {example: Ann}\n",
    )
    assert cli("lint").exit_code == 0
    write(
        project / "prompts" / "bad.yaml",
        'version: "1.0.0"\ninput: |\n  {% from "_partials/nope.j2" import hi %}{{ hi(1) }}\n',
    )
    result = cli("lint")
    assert result.exit_code == 1
    assert result.stdout.startswith(
        "prompts/bad.yaml:3: error: include '_partials/nope.j2' not found"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prompts_dir:\n", "'prompts_dir': expected a path (a string), got None"),
        ("prompts_dir: [a, b]\n", "'prompts_dir': expected a path (a string), got ['a', 'b']"),
        ("store: {path: 3}\n", "'path': expected a path (a string), got 3"),
    ],
)
def test_config_paths_must_be_strings(project: Path, text: str, message: str) -> None:
    write(project / "promptlab.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_config()
    assert info.value.message == message
    assert info.value.line == 1


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf"])
def test_timeouts_from_the_environment_must_be_positive(project: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="PROMPTLAB_READ_TIMEOUT"):
        load_config(env={"PROMPTLAB_READ_TIMEOUT": value})


def test_non_utf8_dotenv_is_one_line(project: Path, cli: Cli) -> None:
    (project / ".env").write_bytes(b"PROMPTLAB_CONCURRENCY=\xff\n")
    result = cli("lint")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.strip().endswith(
        ".env: not valid UTF-8 (byte 22) — save the file as UTF-8"
    )


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

"""The published pre-commit hook: `promptlab lint` on the staged prompt files."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from tests.conftest import REPO, Cli, write
from tests.git.test_git_repo import prompt_yaml


def hook() -> dict[str, object]:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (only,) = [h for h in hooks if h["id"] == "promptlab-lint"]
    return dict(only)


def selected(files: list[str]) -> list[str]:
    """The files pre-commit would pass to the hook."""
    h = hook()
    inc, exc = re.compile(str(h["files"])), re.compile(str(h["exclude"]))
    return [f for f in files if inc.search(f) and not exc.search(f)]


def test_hook_runs_promptlab_lint_on_changed_prompt_files() -> None:
    h = hook()
    assert h["language"] == "python"
    assert shlex.split(str(h["entry"])) == ["promptlab", "lint"]
    assert h["pass_filenames"] is True
    assert selected(
        ["prompts/a.yaml", "prompts/sub/b.yml", "prompts/a.tests.yaml",
         "prompts/_partials/p.yaml", "src/x.yaml", "prompts/notes.md"]
    ) == ["prompts/a.yaml", "prompts/sub/b.yml", "prompts/a.tests.yaml"]  # fmt: skip


def test_hook_command_fails_on_a_bad_staged_prompt(project: Path, cli: Cli) -> None:
    write(project / "prompts/good.yaml", prompt_yaml("1.0.0"))
    write(project / "prompts/bad.yaml", 'version: "1.0.0"\ninstruction: typo\n')
    write(
        project / "prompts/good.tests.yaml",
        "tests:\n  - name: t\n    vars: {who: x}\n    assert: [{contains: x}]\n",
    )
    files = selected(["prompts/good.yaml", "prompts/good.tests.yaml"])
    assert cli("lint", *files).exit_code == 0
    bad = cli("lint", *selected(["prompts/good.yaml", "prompts/bad.yaml"]))
    assert bad.exit_code == 1
    assert "prompts/bad.yaml:2: error: unknown key 'instruction'" in bad.stdout

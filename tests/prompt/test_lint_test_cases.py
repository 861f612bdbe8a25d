"""`promptlab lint` reports everything `promptlab test` would reject in the test cases, at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Cli, write

ECHOER = 'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'


def test_unknown_case_model_and_duplicate_names_are_listed_with_other_errors(
    project: Path, cli: Cli
) -> None:
    write(project / "prompts" / "echoer.yaml", ECHOER)
    write(project / "prompts" / "echoer.tests.yaml", "tests:\n"
          "  - {name: a, vars: {text: x}, models: [claude-haikoo], assert: [{contains: x}]}\n"
          "  - {name: a, vars: {text: x}, assert: [{contians: x}]}\n"
          "  - {name: b, vars: {text: x}, assert: [{contains: x, model: nope}]}\n")  # fmt: skip
    result = cli("lint")
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "echoer.tests.yaml:2: error:" in out and "claude-haikoo" in out  # the case's models:
    assert "echoer.tests.yaml:3: error: unknown assertion type 'contians'" in out
    assert "echoer.tests.yaml:3: error: duplicate test case name 'a'" in out  # not only later
    # what test rejects (exit 2), lint has already said
    assert cli("test", "--dry-run").exit_code == 2


def test_a_case_without_models_is_fine_for_lint(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "echoer.yaml", ECHOER)
    write(project / "prompts" / "echoer.tests.yaml",
          "tests:\n  - {name: a, vars: {text: x}, assert: [{contains: x}]}\n")  # fmt: skip
    result = cli("lint")
    assert result.exit_code == 0, result.output


def test_unknown_judge_model_in_suite_defaults_is_a_lint_error(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "echoer.yaml", ECHOER)
    write(
        project / "prompts" / "echoer.tests.yaml",
        "defaults: {judge_model: no-such-judge}\n"
        "tests:\n  - {name: a, vars: {text: x}, models: [echo], assert: [{judge: ok}]}\n",
    )
    result = cli("lint")
    assert result.exit_code == 1
    assert "no-such-judge" in result.stdout


def test_github_annotations_for_lint_findings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from promptlab.errors import Problem
    from promptlab.lint import lint_annotations

    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    found = [Problem(str(tmp_path / "prompts" / "a.yaml"), "bad: 100%, really\nyes", 4, "fix"),
             Problem("prompts/b.yaml", "unused", None, severity="warning")]  # fmt: skip
    assert lint_annotations(found) == [
        "::error file=prompts/a.yaml,line=4,title=promptlab lint::bad: 100%25, really%0Ayes — fix",
        "::warning file=prompts/b.yaml,title=promptlab lint::unused",
    ]


def test_lint_under_github_actions_prints_error_annotations(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / "prompts" / "bad.yaml", 'version: "1.0.0"\ninput: hi\ntemprature: 1\n')
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = cli("lint")
    assert result.exit_code == 1
    assert "::error file=prompts/bad.yaml,line=3" in result.stdout
    monkeypatch.delenv("GITHUB_ACTIONS")
    assert "::error" not in cli("lint").stdout

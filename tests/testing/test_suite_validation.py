"""Suite files and inline tests: every problem is reported with file:line before any call."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptlab.config import load_config
from promptlab.suite import load_cases
from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

ECHOER = 'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'
PROMPT = (
    'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'
    "inference: {temperature: 0.7}\n"
)


def setup(project: Path, suite: str) -> None:
    write(project / "prompts" / "echoer.yaml", ECHOER)
    write(project / "prompts" / "echoer.tests.yaml", suite)


BAD_SUITES = [
    ("tests:\n  - name: a\n    varz: {text: x}\n", 3, "unknown key 'varz' in test case",
     "did you mean 'vars'?"),
    ("promt: echoer.yaml\ntests:\n  - {name: a, vars: {text: x}}\n", 1,
     "unknown key 'promt' in suite file", "did you mean 'prompt'?"),
    ("tests:\n  - name: a\n    vars: {text: x}\n    assert:\n      - {contians: x}\n", 5,
     "unknown assertion type 'contians'", "did you mean 'contains'?"),
    ("tests:\n  - name: a\n    vars: {text: x}\n    assert:\n      - regex: '[a-'\n", 5,
     "invalid regular expression", None),
    ("tests:\n  - name: a\n    vars: {text: x}\n    assert:\n"
     "      - json-schema: {type: object, required: name}\n", 5, "invalid JSON schema", None),
    ("tests:\n  - name: a\n    vars: {text: x}\n    assert:\n      - python: nope.py:f\n", 5,
     "python file 'nope.py' not found", None),
    ("tests:\n  - name: a\n    vars: {txt: x}\n", 3, "unknown variable(s): txt", None),
    ("tests:\n  - name: a\n    vars: {}\n", 3, "missing required variable(s): text", None),
    ("tests:\n  - vars: {text: x}\n", 2, "test case needs a 'name'", None),
    ("tests:\n  - {name: a, vars: {text: x}}\n  - {name: a, vars: {text: y}}\n", 3,
     "duplicate test case name 'a'", "first defined at"),
    ("tests:\n  - {name: a, vars: {text: x}, repeat: 0}\n", 2, "'repeat' must be a positive", None),
    ("tests:\n  - {name: a, vars: {text: x}, threshold: 80}\n", 2, "from 0 to 1", None),
    ("defaults:\n  modles: [echo]\ntests:\n  - {name: a, vars: {text: x}}\n", 2,
     "unknown key 'modles' in defaults", "did you mean 'models'?"),
    ("prompt: other.yaml\ntests:\n  - {name: a, vars: {text: x}}\n", 1,
     "prompt file 'other.yaml' not found", None),
    ("tests: []\n", 1, "non-empty 'tests:' list", None),
]  # fmt: skip


@pytest.mark.parametrize(("suite", "line", "message", "hint"), BAD_SUITES)
def test_bad_suite_exits_2_with_file_line_before_any_call(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock,
    suite: str, line: int, message: str, hint: str | None,
) -> None:  # fmt: skip
    setup(project, suite)
    result = cli("test", "-m", "nova-micro", "--no-log")
    assert result.exit_code == 2, result.output
    assert f"prompts/echoer.tests.yaml:{line}" in result.stderr
    assert message in result.stderr
    if hint:
        assert hint in result.stderr
    assert "Traceback" not in result.output
    assert fake_bedrock.requests == []


def test_every_problem_in_every_file_is_listed_at_once(project: Path, cli: Cli) -> None:
    setup(project, "tests:\n  - name: a\n    vars: {text: x}\n    assert:\n"
          "      - {contians: x}\n      - {regex: '('}\n")  # fmt: skip
    write(project / "prompts" / "other.tests.yaml",
          "prompt: echoer.yaml\ntests:\n  - {name: b, vars: {text: 1}}\n")  # fmt: skip
    result = cli("test", "-m", "echo")
    assert result.exit_code == 2
    assert "echoer.tests.yaml:5" in result.stderr
    assert "echoer.tests.yaml:6" in result.stderr
    assert "other.tests.yaml:3" in result.stderr


def test_unknown_model_is_exit_2_naming_the_case_file(project: Path, cli: Cli) -> None:
    setup(project, "tests:\n  - name: a\n    models: [nova-mikro]\n    vars: {text: x}\n")
    result = cli("test", "--no-log")
    assert result.exit_code == 2
    assert "prompts/echoer.tests.yaml:3" in result.stderr
    assert "unknown model 'nova-mikro'" in result.stderr
    assert "nova-micro" in result.stderr  # suggestion


def test_unknown_judge_model_is_exit_2_before_any_call(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    setup(project, "tests:\n  - name: a\n    vars: {text: x}\n    assert:\n"
          "      - {judge: is polite, model: gpt-4}\n")  # fmt: skip
    result = cli("test", "-m", "nova-micro", "--no-log")
    assert result.exit_code == 2
    assert "echoer.tests.yaml:5" in result.stderr and "unknown model 'gpt-4'" in result.stderr
    assert fake_bedrock.requests == []


def test_no_models_anywhere_is_a_usage_error(project: Path, cli: Cli) -> None:
    setup(project, "tests:\n  - {name: a, vars: {text: x}}\n")
    result = cli("test")
    assert result.exit_code == 2
    assert "no models for case 'a'" in result.stderr
    assert "-m echo" in result.stderr


def test_inline_tests_and_suite_file_both_count(project: Path) -> None:
    write(project / "prompts" / "echoer.yaml",
          ECHOER + "tests:\n  - name: inline\n    vars: {text: x}\n"
          "    assert: [{contains: x}]\n")  # fmt: skip
    write(project / "prompts" / "echoer.tests.yaml",
          "defaults:\n  vars: {text: from-defaults}\n  assert: [{is-json: null, weight: 0}]\n"
          "  repeat: 2\ntests:\n  - name: file\n    assert: [{contains: from}]\n")  # fmt: skip
    cases = {c.name: c for c in load_cases([], load_config())}
    assert set(cases) == {"inline", "file"}
    file_case = cases["file"]
    assert file_case.vars == {"text": "from-defaults"}
    assert [a.full_type for a in file_case.asserts] == ["is-json", "contains"]
    assert file_case.repeat == 2
    assert cases["inline"].repeat == 1
    assert file_case.file.endswith("echoer.tests.yaml") and file_case.line == 6


def test_suite_prompt_key_is_relative_to_the_suite_file(project: Path) -> None:
    write(project / "prompts" / "support" / "reply.yaml", ECHOER)
    write(
        project / "suites" / "reply-edge-cases.tests.yaml",
        "prompt: ../prompts/support/reply.yaml\ntests:\n  - {name: a, vars: {text: x}}\n",
    )
    cases = load_cases(["suites"], load_config())
    assert [(c.prompt.name, c.name) for c in cases] == [("reply", "a")]


def test_explicit_prompt_without_tests_is_reported(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "echoer.yaml", ECHOER)
    result = cli("test", "prompts/echoer.yaml", "-m", "echo")
    assert result.exit_code == 2
    assert "no test cases" in result.stderr
    assert "echoer.tests.yaml" in result.stderr


def suite(project: Path, text: str, prompt: str = PROMPT) -> None:
    write(project / "prompts" / "echoer.yaml", prompt)
    write(project / "prompts" / "echoer.tests.yaml", text)


def test_suite_variable_problems_point_to_vars_not_to_the_command_line(
    project: Path, cli: Cli
) -> None:
    suite(project, "tests:\n  - name: a\n    vars: {txt: x}\n")
    result = cli("test", "-m", "echo", "--no-log")
    assert result.exit_code == 2
    assert "echoer.tests.yaml:3" in result.stderr
    assert "missing required variable(s): text" in result.stderr
    assert "under the case's 'vars:'" in result.stderr and "defaults: vars:" in result.stderr
    assert "-v text=" not in result.stderr


def test_every_unknown_model_in_the_suites_is_listed_at_once(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    suite(project, "tests:\n"
          "  - {name: a, models: [nova-mikro], vars: {text: x}}\n"
          "  - name: b\n    models: [nova-micro]\n    vars: {text: x}\n    assert:\n"
          "      - {judge: is polite, model: gpt-4}\n"
          "      - {similar: hello, model: titan-embd}\n")  # fmt: skip
    result = cli("test", "--no-log")
    assert result.exit_code == 2
    for expected in (
        "echoer.tests.yaml:2: error: unknown model 'nova-mikro'",
        "echoer.tests.yaml:7: error: judge: unknown model 'gpt-4'",
        "echoer.tests.yaml:8: error: similar: unknown model 'titan-embd'",
    ):
        assert sum(expected in ln for ln in result.stderr.splitlines()) == 1, result.stderr
    assert fake_bedrock.requests == []


def test_a_prompt_model_that_is_unknown_is_reported_at_the_prompt_line(
    project: Path, cli: Cli
) -> None:
    suite(project, "tests:\n  - {name: a, vars: {text: x}}\n  - {name: b, vars: {text: y}}\n",
          PROMPT + "models: [ech0]\n")  # fmt: skip
    result = cli("test", "--no-log")
    assert result.exit_code == 2
    assert result.stderr.count("unknown model 'ech0'") == 1
    assert "echoer.yaml:6: error: unknown model 'ech0'" in result.stderr

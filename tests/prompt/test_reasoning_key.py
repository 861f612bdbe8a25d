"""The `reasoning:` key of a prompt file: read with its per-model overrides, every mistake one
line at file:line, exit 2, before any call."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptlab.errors import PromptFileError
from promptlab.prompt import load_prompt
from promptlab.reasoning import Reasoning, nearest_effort
from promptlab.yamlfile import parse_yaml
from tests.conftest import Cli, write

HEAD = 'version: "1.0.0"\ninput: Solve it.\ninference: {max_tokens: 2000}\n'


def test_an_effort_a_budget_and_per_model_overrides_are_read(tmp_path: Path) -> None:
    path = write(tmp_path / "p.yaml", HEAD + """\
reasoning:
  effort: medium
  overrides:
    claude-sonnet-4: {budget_tokens: 1500}
    nova-2-lite: {effort: high}
""")  # fmt: skip
    prompt = load_prompt(path)
    assert prompt.reasoning == Reasoning(effort="medium")
    assert prompt.reasoning_for("claude-sonnet-4") == Reasoning(budget_tokens=1500)
    assert prompt.reasoning_for("x", "nova-2-lite") == Reasoning(effort="high")
    assert prompt.reasoning_for("gpt-oss-120b") == Reasoning(effort="medium")


def test_overrides_alone_ask_only_those_models(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.yaml", HEAD + "reasoning:\n  overrides: {nova-2-lite: {effort: low}}\n"
    )
    prompt = load_prompt(path)
    assert prompt.reasoning is None
    assert prompt.reasoning_for("nova-2-lite") == Reasoning(effort="low")


def test_a_prompt_without_the_key_asks_for_no_reasoning(tmp_path: Path) -> None:
    assert load_prompt(write(tmp_path / "p.yaml", HEAD)).reasoning_for("m") is None


@pytest.mark.parametrize(
    ("value", "line", "message", "hint"),
    [
        ("{effort: extreme}", 4, "'effort' must be low, medium or high, got 'extreme'", "low"),
        ("{budget_tokens: 500}", 4, "'budget_tokens' must be an integer ≥ 1,024, got 500",
         "at least 1,024"),
        ("{budget_tokens: 2048.5}", 4, "must be an integer ≥ 1,024, got 2048.5", "effort"),
        ("{budget_tokens: yes}", 4, "must be an integer ≥ 1,024, got True", "effort"),
        ("{effort: low, budget_tokens: 1500}", 4,
         "reasoning takes effort or budget_tokens, not both", "keep one"),
        ("{budget_tokens: 2000}", 4, "budget_tokens 2,000 is not below max_tokens 2,000",
         "raise inference max_tokens above 2,000"),
        ("\n  efort: low", 5, "unknown key 'efort' in reasoning", "did you mean 'effort'?"),
        ("{}", 4, "reasoning needs effort or budget_tokens", "{effort: medium}"),
        ("medium", 4, "'reasoning' must be a mapping", "{effort: medium}"),
        ("\n  effort: low\n  overrides:\n    nova-2-lite: {effort: max}", 7,
         "'effort' must be low, medium or high, got 'max'", "low"),
        ("\n  overrides:\n    claude-sonnet-4: low", 6,
         "override for 'claude-sonnet-4' must be a mapping", "{effort: medium}"),
    ],
)  # fmt: skip
def test_each_mistake_is_one_line_at_its_place(
    tmp_path: Path, value: str, line: int, message: str, hint: str
) -> None:
    path = write(tmp_path / "p.yaml", HEAD + f"reasoning: {value}\n")
    with pytest.raises(PromptFileError) as err:
        load_prompt(path)
    problems = err.value.problems
    assert len(problems) == 1, problems
    assert problems[0].line == line
    assert message in problems[0].message
    assert hint in (problems[0].hint or "")


def test_an_override_budget_is_checked_against_that_models_max_tokens(tmp_path: Path) -> None:
    path = write(tmp_path / "p.yaml", """\
version: "1.0.0"
input: Solve it.
inference:
  max_tokens: 8000
  overrides: {claude-sonnet-4: {max_tokens: 3000}}
reasoning:
  overrides: {claude-sonnet-4: {budget_tokens: 4096}}
""")  # fmt: skip
    with pytest.raises(PromptFileError) as err:
        load_prompt(path)
    assert [(p.line, p.message.split(":")[0]) for p in err.value.problems] == [
        (7, "budget_tokens 4,096 is not below max_tokens 3,000")
    ]


def test_bad_reasoning_stops_a_run_before_any_call(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "p.yaml", HEAD + "reasoning: {effort: extreme}\n")
    result = cli("run", "p", "-m", "echo")
    assert result.exit_code == 2
    assert result.stderr.startswith("prompts/p.yaml:4: error: 'effort' must be low, medium")
    assert result.stdout == ""


def test_an_on_key_is_read_as_text_not_as_yaml_true() -> None:
    doc = parse_yaml("- {contains: x, on: reasoning}\n- yes: no\n- flag: on\n", "s.yaml")
    assert doc.data == [{"contains": "x", "on": "reasoning"}, {"yes": False}, {"flag": True}]
    assert doc.line((0, "on")) == 1


@pytest.mark.parametrize(
    ("budget", "effort"),
    [(1024, "low"), (2048, "low"), (2049, "medium"), (8192, "medium"), (8193, "high"),
     (64000, "high")],
)  # fmt: skip
def test_a_budget_maps_to_the_nearest_effort(budget: int, effort: str) -> None:
    assert nearest_effort(budget) == effort

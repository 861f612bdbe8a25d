"""Errors a new user meets first say what to type next: `--examples` for missing variables
that declare examples, the declared name a mistyped variable was meant to be, and the prompt
names that exist when a name is not found."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cli, write
from tests.prompt.test_render_bad_input import one_line

PROMPT = (
    'version: "1.0.0"\ninput: "{{ name }} {{ topic }} {{ tone }}"\n'
    "variables:\n  name: {example: Ana}\n  topic: {example: boots}\n  tone: {default: warm}\n"
)


def test_missing_variables_with_examples_suggest_examples(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "greet.yaml", PROMPT)
    line = one_line(cli("render", "greet"))
    assert "missing required variable(s): name, topic" in line
    assert line.endswith(
        "— pass -v name=... -v topic=..., or --examples to use their declared examples"
    )
    line = one_line(cli("render", "greet", "-v", "name=Ana"))
    assert line.endswith("— pass -v topic=..., or --examples to use its declared example")


def test_examples_are_named_when_only_some_missing_variables_have_one(
    project: Path, cli: Cli
) -> None:
    write(project / "prompts" / "greet.yaml", PROMPT.replace("{example: boots}", "{}"))
    line = one_line(cli("render", "greet"))
    assert line.endswith("— pass -v name=... -v topic=... (--examples fills name from its example)")
    assert "--examples" not in one_line(cli("render", "greet", "--examples"))


def test_unknown_variable_suggests_the_declared_name_or_removing_it(
    project: Path, cli: Cli
) -> None:
    write(project / "prompts" / "greet.yaml", PROMPT)
    line = one_line(cli("render", "greet", "--examples", "-v", "tnoe=cool"))
    assert "unknown variable(s): tnoe (declared: name, topic, tone)" in line
    assert line.endswith(
        "— tnoe: did you mean 'tone'?; remove tnoe or declare it under 'variables'"
    )
    line = one_line(cli("render", "greet", "--examples", "-v", "colour=red", "-v", "size=9"))
    assert line.endswith("— remove colour, size or declare them under 'variables'")
    line = one_line(cli("render", "greet", "-v", "nmae=Ana"))  # a typo of a missing variable
    assert "— nmae: did you mean 'name'?; pass -v name=... -v topic=..." in line


def test_unknown_prompt_name_lists_the_closest_names(project: Path, cli: Cli) -> None:
    for name in ("support-reply", "summarize", "extract-invoice"):
        write(project / "prompts" / "team" / f"{name}.yaml", PROMPT)
    write(project / "prompts" / "team" / "support-reply.tests.yaml", "tests: []\n")
    write(project / "prompts" / "_data" / "zzz-data.yaml", "a: 1\n")  # not a prompt
    line = one_line(cli("render", "suport-reply"))
    assert "no prompt named 'suport-reply' under prompts/" in line
    assert line.endswith("; did you mean 'support-reply'?")
    line = one_line(cli("render", "summary"))
    assert line.endswith("; did you mean 'summarize'?")
    line = one_line(cli("run", "zzz", "-m", "echo"))
    assert line.endswith("; prompts there: extract-invoice, summarize, support-reply")

"""Rendering and variables: runtime template errors, every offender listed, numbers, -m notes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, write
from tests.prompt.test_render_bad_input import one_line


def test_runtime_error_in_a_section_is_one_line_with_file_and_line(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "t.yaml",
        'version: "1.0.0"\ninput: |\n  first\n  {{ n + "x" }}\nvariables:\n  n: integer\n',
    )
    line = one_line(cli("render", "prompts/t.yaml", "-v", "n=3"))
    assert line.startswith("error: prompts/t.yaml:4: section 'input' failed: TypeError:")


def test_division_by_zero_in_a_partial_names_the_partial(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "_partials" / "calc.j2", "ok\n{{ 1 / n }}\n")
    write(
        project / "prompts" / "t.yaml",
        'version: "1.0.0"\ninput: |\n  {% include "_partials/calc.j2" %}\n'
        "variables:\n  n: integer\n",
    )
    line = one_line(cli("render", "t", "-v", "n=0"))
    assert line.startswith(
        "error: prompts/_partials/calc.j2:2: partial included by 'input' failed: ZeroDivisionError"
    )


def test_include_cycle_is_one_line(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "_partials" / "loop.j2", '{% include "_partials/loop.j2" %}')
    write(
        project / "prompts" / "t.yaml",
        'version: "1.0.0"\ninput: |\n  {% include "_partials/loop.j2" %}\n',
    )
    line = one_line(cli("render", "t"))
    assert "templates include each other without end" in line


def test_missing_variables_are_listed_even_when_another_value_is_wrong(
    project: Path, cli: Cli
) -> None:
    # The message for 'i' contains the letters 'a' and 'n': they must still be reported missing.
    write(
        project / "prompts" / "m.yaml",
        'version: "1.0.0"\ninput: "{{ a }} {{ i }} {{ n }}"\n'
        "variables:\n  a: string\n  i: integer\n  n: number\n",
    )
    line = one_line(cli("render", "m", "-v", "i=abc"))
    assert "missing required variable(s): a, n" in line
    assert "variable 'i' must be an integer, got 'abc'" in line


def test_whole_numbers_render_the_same_from_the_command_line_and_a_vars_file(
    project: Path, cli: Cli
) -> None:
    write(
        project / "prompts" / "n.yaml",
        'version: "1.0.0"\ninput: "ratio {{ r }}, words {{ w }}"\n'
        "variables:\n  r: number\n  w: number\n",
    )
    write(project / "vars.yaml", "r: 2\nw: 0.5\n")
    from_file = cli("render", "n", "--vars", "vars.yaml", "-f", "json")
    from_flags = cli("render", "n", "-v", "r=2", "-v", "w=0.5", "-f", "json")
    assert from_file.exit_code == from_flags.exit_code == 0, from_flags.output
    assert json.loads(from_flags.stdout) == json.loads(from_file.stdout)
    assert json.loads(from_flags.stdout)["messages"][0]["content"][0]["text"] == (
        "ratio 2, words 0.5"
    )


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity"])
def test_nan_and_infinity_are_not_numbers(project: Path, cli: Cli, value: str) -> None:
    write(
        project / "prompts" / "n.yaml",
        'version: "1.0.0"\ninput: "{{ r }}"\nvariables:\n  r: number\n',
    )
    line = one_line(cli("render", "n", "-v", f"r={value}"))
    assert "'r' must be a number" in line


def test_nan_from_a_vars_file_is_refused(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "n.yaml",
        'version: "1.0.0"\ninput: "{{ r }}"\nvariables:\n  r: number\n',
    )
    write(project / "vars.yaml", "r: .nan\n")
    assert "'r' must be a number" in one_line(cli("render", "n", "--vars", "vars.yaml"))


def test_render_with_a_model_notes_the_override_it_applies(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "o.yaml",
        'version: "1.0.0"\ninput: hi\ninference:\n  temperature: 0.4\n  max_tokens: 100\n'
        "  overrides:\n    nova-lite: {temperature: 0.1}\n",
    )
    result = cli("render", "o", "-m", "nova-lite")
    assert result.exit_code == 0, result.output
    assert "# note: nova-lite: inference.overrides applied: temperature=0.1" in result.stdout
    assert '{"temperature": 0.1, "max_tokens": 100}' in result.stdout
    plain = cli("render", "o", "-m", "nova-micro")
    assert "# note" not in plain.stdout


def test_unknown_prompt_name_says_where_it_was_looked_for(project: Path, cli: Cli) -> None:
    line = one_line(cli("render", "no-such-prompt"))
    assert "no prompt named 'no-such-prompt' under prompts/" in line


def test_include_refusal_explains_what_is_refused(project: Path, cli: Cli) -> None:
    write(project / "secret.txt", "x")
    write(
        project / "prompts" / "t.yaml",
        'version: "1.0.0"\ninput: |\n  {% include "../secret.txt" %}\n',
    )
    line = one_line(cli("render", "t"))
    assert "'..', absolute paths and symlinks leading outside are refused" in line

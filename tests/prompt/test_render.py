"""`promptlab render`: system and user sections, variables from flags and files, -m overrides."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli, write


def test_render_prints_system_and_user_sections(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "hello.yaml",
        'version: "1.0.0"\ninstructions: Be brief.\ninput: Hi {{ who }}\n'
        "variables:\n  who: {type: string}\n",
    )
    result = cli("render", "hello", "-v", "who=Ann")
    assert result.exit_code == 0, result.output
    assert "Be brief." in result.output
    assert "Hi Ann" in result.output


def test_missing_variable_is_exit_2_with_hint(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "hello.yaml",
        'version: "1.0.0"\ninput: Hi {{ who }}\nvariables:\n  who: {}\n',
    )
    result = cli("render", "prompts/hello.yaml")
    assert result.exit_code == 2
    assert "missing required variable(s): who" in result.stderr
    assert "Traceback" not in result.output + result.stderr


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

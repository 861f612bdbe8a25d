from __future__ import annotations

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

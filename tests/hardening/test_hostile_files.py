"""Hostile input files: each cause is one line naming the file (and line), exit 2, no hang."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Cli, write

PROMPT = 'version: "1.0.0"\ninput: "hi {{ who }}"\nvariables:\n  who: {default: you}\n'


def _promptlab(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "promptlab", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)  # fmt: skip


def billion_laughs(under: str) -> str:
    lines = [f"{under}:", "  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_named_like_a_prompt_is_refused_not_waited_on(project: Path) -> None:
    write(project / "prompts" / "ok.yaml", PROMPT)
    os.mkfifo(project / "prompts" / "pipe.yaml")
    lint = _promptlab("lint", "prompts", cwd=project, timeout=30)
    render = _promptlab("render", "prompts/pipe.yaml", cwd=project, timeout=30)
    assert "prompts/pipe.yaml: error: not a regular file (a FIFO)" in lint.stdout
    assert lint.returncode == 1 and "Traceback" not in lint.stderr
    assert render.returncode == 2
    assert render.stderr.strip().splitlines() == [
        "prompts/pipe.yaml: error: not a regular file (a FIFO) — pass a prompt file saved on disk"
    ]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_is_refused_as_prompt_and_vars_file(cli: Cli, project: Path) -> None:
    write(project / "p.yaml", PROMPT)
    as_prompt = cli("render", "/dev/zero")
    as_vars = cli("render", "p.yaml", "--vars", "/dev/urandom")
    assert (
        as_prompt.exit_code == 2
        and "/dev/zero: error: not a regular file (a character device)" in as_prompt.output
    )
    assert as_vars.exit_code == 2 and "/dev/urandom: error: not a regular file" in as_vars.output


@pytest.mark.parametrize(
    "args",
    [
        ["render", "prompts/{long}.yaml"],
        ["lint", "prompts/{long}.yaml"],
        ["run", "prompts/{long}.yaml", "-m", "echo"],
        ["test", "prompts/{long}.yaml"],
        ["render", "p.yaml", "--vars", "{long}.json"],
        ["render", "prompts/{long}.yaml@HEAD"],
    ],
)
def test_a_path_component_over_255_bytes_is_one_line(
    cli: Cli, project: Path, args: list[str]
) -> None:
    write(project / "p.yaml", PROMPT)
    result = cli(*[a.format(long="a" * 300) for a in args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "error: file name too long" in lines[0]
    assert "at most 255 bytes" in lines[0]


@pytest.mark.parametrize(
    ("value", "reason"),
    [("9" * 5000, "an integer over 4,300 digits"), ("2024-13-45", "month must be in 1..12")],
)
def test_a_yaml_value_python_cannot_hold_names_its_line(
    cli: Cli, project: Path, value: str, reason: str
) -> None:
    write(project / "p.yaml", f'version: "1.0.0"\ninput: hi\nmetadata:\n  n: {value}\n')
    result = cli("lint", "p.yaml")
    assert result.exit_code == 1
    assert f"p.yaml:4: error: YAML value cannot be read: {reason} — quote it" in result.output


@pytest.mark.parametrize("under", ["metadata", "variables"])
def test_a_yaml_alias_bomb_is_refused_at_once(project: Path, under: str) -> None:
    write(project / "bomb.yaml", 'version: "1.0.0"\ninput: hi\n' + billion_laughs(under))
    for command in ("lint", "render"):
        result = _promptlab(command, "bomb.yaml", cwd=project, timeout=30)
        assert "bomb.yaml:7: error: YAML aliases over the budget (100 uses, 10,000 values)" in (
            result.stdout + result.stderr
        )
        assert result.returncode in (1, 2) and "Traceback" not in result.stderr


def test_an_alias_that_contains_itself_is_refused(cli: Cli, project: Path) -> None:
    write(project / "p.yaml", 'version: "1.0.0"\ninput: hi\nmetadata: &m\n  self: *m\n')
    result = cli("render", "p.yaml")
    assert result.exit_code == 2
    assert "p.yaml:4: error: an alias refers to a value that contains it" in result.output


def test_a_few_aliases_still_work_and_name_the_line_they_are_used_on(
    cli: Cli, project: Path
) -> None:
    write(project / "p.yaml", 'version: "1.0.0"\ninput: "{{ a }} {{ b }}"\nvariables:\n'
          "  a: &v {type: string, default: x}\n  b: *v\n")  # fmt: skip
    assert "━━━ user ━━━\nx x\n" in cli("render", "p.yaml").output
    write(project / "q.yaml", 'version: "1.0.0"\ninput: "{{ a }} {{ b }}"\nvariables:\n'
          "  a: &v {type: strin, default: x}\n  b: *v\n")  # fmt: skip
    result = cli("lint", "q.yaml")
    assert "q.yaml:5:" in result.output  # the aliased copy: reported where the alias is used


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_named_as_an_output_schema_file_is_a_problem_not_a_wait(project: Path) -> None:
    write(project / "p.yaml", 'version: "1.0.0"\ninput: hi\noutput_schema: schema.json\n')
    os.mkfifo(project / "schema.json")
    result = _promptlab("lint", "p.yaml", cwd=project, timeout=30)
    assert (
        "p.yaml:3: error: output_schema: cannot read schema.json: not a regular file (a FIFO)"
        in (result.stdout)
    )

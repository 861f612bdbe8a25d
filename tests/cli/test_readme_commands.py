"""The README stays true: every `promptlab ...` line in its shell blocks names a real command
and real options."""

from __future__ import annotations

import re
import shlex
from typing import Any

import typer.main

from promptlab.cli import app
from tests.conftest import REPO


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text("utf-8")
    lines: list[str] = []
    for block in re.findall(r"```(?:bash|sh|console)\n(.*?)```", text, re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.split(" #", 1)[0].strip()
            for part in re.split(r"&&| \| ", line):
                part = part.strip()
                words = part.split()
                while words and "=" in words[0] and not words[0].startswith("-"):
                    words.pop(0)  # VAR=value prefixes
                if words[:1] == ["promptlab"]:
                    lines.append(" ".join(words))
    return lines


def check(line: str, root: Any) -> list[str]:
    tokens = shlex.split(line.replace("...", " "))[1:]
    command = root
    problems: list[str] = []
    while hasattr(command, "commands") and tokens and not tokens[0].startswith(("-", "[")):
        name = tokens.pop(0)
        sub = command.commands.get(name)
        if sub is None:
            return [f"{line}: no command {name!r}"]
        command = sub
    known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)} | {"-h", "--help"}
    for token in tokens:
        token = token.strip("[]|.")
        if re.fullmatch(r"--?[A-Za-z][\w-]*(=.*)?", token):
            name = token.split("=", 1)[0]
            if name not in known:
                problems.append(f"{line}: unknown option {name}")
    return problems


def test_readme_has_the_two_fresh_machine_commands() -> None:
    text = (REPO / "README.md").read_text("utf-8")
    assert "pip install -e . && promptlab run prompts/examples/support-reply.yaml -m echo" in text
    test_command = "pip install -e '.[test]' && python -m pytest"
    assert test_command in text
    assert test_command in (REPO / ".ci" / "run").read_text("utf-8")


def test_every_readme_command_and_option_exists() -> None:
    root = typer.main.get_command(app)
    assert hasattr(root, "commands")
    lines = readme_commands()
    assert len(lines) > 50
    problems = [p for line in lines for p in check(line, root)]
    assert problems == []

"""Every example runs as written: the `promptlab ...` lines of the README's shell blocks and of
every command's `--help` are run, in order, in a throwaway git repository holding a copy of
this repository's `prompts/`. Real Bedrock models are answered by the local fake server
(tests/fakebedrock.py), so nothing reaches AWS. A line ending in `# needs AWS` (or following a
`# needs AWS` comment line in its block) is skipped, and so is one ending in `# needs a terminal`
(an interactive screen, such as `review`'s, which the test harness of its own tests drives);
so are synopsis lines (`PROMPT`, `[--option]`), which show a command's form rather than a
command to paste."""

from __future__ import annotations

import glob
import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from promptlab.cli import app
from tests.conftest import REPO
from tests.fakebedrock import FakeBedrock
from tests.git.test_git_repo import GitRepo, isolate_git

NEEDS_AWS = "# needs AWS"
NEEDS_TERMINAL = "# needs a terminal"

# Examples whose right outcome is not 0, each with its reason. Keep this list short.
EXPECTED_EXIT: dict[str, tuple[int, str]] = {
    "promptlab test --resume 20261103-141502-9f3c2a": (
        2,
        "a run id from the reader's own history; an unknown one is exit 2 listing recent runs",
    ),
    "promptlab log show 9412": (2, "a call id from the reader's own history (`log --help`)"),
}


def expected_exits(line: str) -> set[int]:
    """0, or what EXPECTED_EXIT says. `test` and `report merge` examples whose cases run on
    real models may also exit 1: the fake server's canned answer fails their content
    assertions. 1 still proves the example ran (bad usage is 2, unreachable models 3); the
    offline examples (echo, `render-*` cases, --dry-run) must pass outright."""
    command = line.split(" #", 1)[0].strip()
    if command in EXPECTED_EXIT:
        return {EXPECTED_EXIT[command][0]}
    words = command.split()
    while words and "=" in words[0]:
        words.pop(0)  # VAR=value prefixes
    runs_tests = "test" in words[1:2] or words[1:3] == ["report", "merge"]
    offline = "echo" in words or "--dry-run" in words or "render-" in command
    return {0, 1} if runs_tests and not offline else {0}


@dataclass(frozen=True)
class Example:
    where: str  # README.md:LINE or `promptlab COMMAND --help`
    line: str  # the shell line as written (continuations joined, comment kept)


def _is_synopsis(line: str) -> bool:
    """`promptlab run PROMPT... [-m MODEL]...`: the form of a command, not a command."""
    return " [" in line.split(" #", 1)[0]


def readme_examples() -> list[Example]:
    text = (REPO / "README.md").read_text("utf-8")
    examples: list[Example] = []
    for match in re.finditer(r"```(bash|sh|console)\n(.*?)```", text, re.S):
        first = text.count("\n", 0, match.start(2)) + 1
        lines = match.group(2).split("\n")
        aws = False
        number = first
        pending = ""
        for offset, raw in enumerate(lines):
            if not pending:
                number = first + offset
            if raw.endswith("\\"):
                pending += raw[:-1] + " "
                continue
            line, pending = (pending + raw).strip(), ""
            if match.group(1) == "console":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            if line.startswith(NEEDS_AWS):
                aws = True
            if "promptlab" not in line.split(" #", 1)[0].split() or line.startswith("#"):
                continue
            if aws and NEEDS_AWS not in line:
                line += f"  {NEEDS_AWS}"
            examples.append(Example(f"README.md:{number}", line))
    return examples


def help_examples() -> list[Example]:
    examples: list[Example] = []

    def walk(command: object, path: list[str]) -> None:
        texts = [getattr(command, "epilog", None) or ""]
        if not path:
            texts.append(getattr(command, "help", None) or "")
        for text in texts:
            for line in text.splitlines():
                if line.strip().startswith("promptlab "):
                    examples.append(Example(f"promptlab {' '.join(path)} --help", line.strip()))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return examples


# ---------------------------------------------------------------- a tiny shell


@dataclass
class Outcome:
    code: int
    output: str


class Shell:
    """Runs one example line in-process: `&&` chains, `VAR=value` prefixes, `cd`, `> FILE`,
    `| jq ...`, globs. Parts that are not promptlab (pip, python -m venv, export, sleep) are
    set-up a reader has already done, and are skipped."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.monkeypatch = monkeypatch
        self.runner = CliRunner()

    def run(self, line: str) -> Outcome:
        cwd = self.root
        words = shlex.split(line, comments=True)
        chains: list[list[str]] = [[]]
        for word in words:
            if word == "&&":
                chains.append([])
            else:
                chains[-1].append(word)
        output = ""
        for chain in chains:
            env: dict[str, str] = {}
            while chain and re.fullmatch(r"[A-Z_]+=.*", chain[0]):
                key, _, value = chain.pop(0).partition("=")
                env[key] = value
            if chain[:1] == ["cd"]:
                cwd = cwd / chain[1]
                continue
            if chain[:1] != ["promptlab"]:
                continue
            outcome = self._promptlab(chain[1:], cwd, env)
            output += outcome.output
            if outcome.code != 0:
                return Outcome(outcome.code, output)
        return Outcome(0, output)

    def _promptlab(self, words: list[str], cwd: Path, env: dict[str, str]) -> Outcome:
        redirect: str | None = None
        pipe: list[str] | None = None
        if "|" in words:
            at = words.index("|")
            words, pipe = words[:at], words[at + 1 :]
        if ">" in words:
            at = words.index(">")
            words, redirect = words[:at], words[at + 1]
        args: list[str] = []
        for word in words:
            found = sorted(glob.glob(word, root_dir=cwd)) if "*" in word else []
            args.extend(found or [word])
        with self.monkeypatch.context() as patch:
            patch.chdir(cwd)
            for key, value in env.items():
                patch.setenv(key, value)
            result = self.runner.invoke(app, args, catch_exceptions=True)
        output = result.stdout + result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            output += f"\n{type(result.exception).__name__}: {result.exception}"
        code = result.exit_code
        if code == 0 and redirect is not None:
            (cwd / redirect).write_text(result.stdout, "utf-8")
        if code == 0 and pipe is not None:
            assert pipe[0] == "jq", pipe
            if shutil.which("jq"):
                proc = subprocess.run(pipe, input=result.stdout, capture_output=True, text=True)
                code, output = proc.returncode, output + proc.stderr
            else:
                json.loads(result.stdout)
        return Outcome(code, output)


# ---------------------------------------------------------------- the repository


@pytest.fixture
def repo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_bedrock: FakeBedrock
) -> Iterator[Path]:
    """A git repository with this repository's prompts/ in four commits (so `@HEAD~3`,
    `@v1.0.0`, `@main` and `origin/main` all resolve), as the working directory."""
    isolate_git(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", fake_bedrock.url)  # nothing else may leave the host
    fake_bedrock.inference_profile(  # the README's application inference profile
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/house1",
        "anthropic.claude-3-haiku-20240307-v1:0",
    )
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setattr("webbrowser.open", lambda *a, **k: True)
    git = GitRepo(tmp_path / "checkout")
    shutil.copytree(REPO / "prompts", git.root / "prompts")
    git.commit("prompts")
    for n in range(3):
        git.write("NOTES.md", f"note {n}\n")
        git.commit(f"notes {n}")
    git.git("update-ref", "refs/remotes/origin/main", "HEAD")
    monkeypatch.chdir(git.root)
    yield git.root


def _failures(examples: list[Example], shell: Shell) -> list[str]:
    problems: list[str] = []
    for example in examples:
        if NEEDS_AWS in example.line or _is_synopsis(example.line):
            continue
        if example.line.endswith(NEEDS_TERMINAL):
            continue
        outcome = shell.run(example.line)
        if outcome.code not in expected_exits(example.line) or "cannot render" in outcome.output:
            tail = "\n    ".join(outcome.output.strip().splitlines()[-6:])
            problems.append(f"{example.where}: {example.line}\n  exit {outcome.code}\n    {tail}")
    return problems


def test_the_extractors_find_the_examples() -> None:
    readme = readme_examples()
    assert len(readme) > 80
    assert any("| jq" in e.line for e in readme)
    assert len(help_examples()) > 40
    assert _is_synopsis("promptlab run PROMPT... [-m MODEL]...")
    assert not _is_synopsis("promptlab diff x.yaml@HEAD~3 x.yaml@HEAD  # [a comment]")
    assert expected_exits("promptlab test --shard 2/4 --json s.json") == {0, 1}
    assert expected_exits("promptlab test prompts/examples --filter 'render-*'") == {0}
    assert expected_exits("promptlab run support-reply -m nova-lite --examples") == {0}


def test_every_readme_example_runs(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    problems = _failures(readme_examples(), Shell(repo, monkeypatch))
    assert not problems, "\n\n".join(problems)


def test_every_help_example_runs(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    problems = _failures(help_examples(), Shell(repo, monkeypatch))
    assert not problems, "\n\n".join(problems)

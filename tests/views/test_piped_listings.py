"""Listings piped into a file or a program (no terminal, no COLUMNS): never cut, never padded,
sized to their content; on a terminal the identifying columns stay whole."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from promptlab.results import Result
from promptlab.views.notices import print_notices
from promptlab.views.table import render_results
from tests.conftest import REPO, Cli
from tests.store.test_store_api import config_in, make_result, seed

NOW = time.time()
PROFILE = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
PROMPT = "support-reply-for-damaged-orders"
OUTPUT = " ".join(f"word{i}" for i in range(80))  # ~600 characters on one line


@pytest.fixture
def piped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS")  # stdout is no terminal under the CLI runner


@pytest.fixture
def history(project: Path) -> Path:
    config = config_in(project)
    long = replace(make_result(prompt=PROMPT, output=OUTPUT), model_alias=PROFILE,
                   model_id=PROFILE)  # fmt: skip
    failed = replace(make_result(prompt=PROMPT, error="ThrottlingException"),
                     model_alias="claude-3.5-haiku", model_id=PROFILE)  # fmt: skip
    seed(config, [(long, NOW - 20), (failed, NOW - 10)])
    return project


def unpadded(text: str) -> None:
    assert text.strip(), "no output"
    for line in text.splitlines():
        assert line == line.rstrip(), f"trailing spaces: {line!r}"


def test_piped_log_is_neither_cut_nor_padded(history: Path, cli: Cli, piped: None) -> None:
    text = cli("log").stdout
    unpadded(text)
    header, failed, ok = text.splitlines()
    assert header.split() == ["id", "time", "run", "prompt", "model", "status", "ms", "tokens",
                              "cost", "output"]  # fmt: skip
    assert f"{PROMPT}@1.0.0" in ok and f"{PROFILE} (claude-3.5-haiku)" in ok
    assert ok.endswith(OUTPUT)  # the whole output, not 100 characters of it
    assert "ThrottlingException" in failed.split()
    assert "…" not in text


def test_log_on_a_terminal_gives_the_output_column_what_is_left(
    history: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "150")
    lines = cli("log").stdout.splitlines()
    assert all(len(line) <= 150 for line in lines)
    ok = lines[2]
    assert f"{PROMPT}@1.0.0" in ok and "ThrottlingException" in lines[1]  # whole
    assert ok.split()[4] == "claude-3.5-haiku"  # a full id gives way to its alias first
    assert ok.endswith("…") and "word0 word1" in ok
    monkeypatch.setenv("COLUMNS", "250")
    ok = cli("log").stdout.splitlines()[2]
    assert f"{PROFILE} (claude-3.5-haiku)" in ok and len(ok) > 200


def test_piped_log_show_fits_each_panel_to_its_text(history: Path, cli: Cli, piped: None) -> None:
    text = cli("log", "show", "1").stdout
    unpadded(text)
    hello = next(line for line in text.splitlines() if "Hello" in line)
    assert hello.startswith("│ Hello") and len(hello) < 15  # not as wide as the output panel
    assert any(line == f"│ {OUTPUT} │" for line in text.splitlines())  # not wrapped at 200


def test_piped_runs_and_stats_are_unpadded(history: Path, cli: Cli, piped: None) -> None:
    unpadded(cli("log", "runs").stdout)
    text = cli("stats").stdout
    unpadded(text)
    assert f"{PROFILE}  claude-3.5-haiku" in text


def test_notes_on_stderr_stay_on_one_line() -> None:
    buf = io.StringIO()
    err = Console(file=buf, width=80, highlight=False)
    note = "claude-x: dropped unsupported parameter(s): stop, top_p — " + "x" * 60
    print_notices(err, [replace(make_result(), notices=(note,))])
    assert buf.getvalue() == f"note: {note}\n"


def three_models() -> list[Result]:
    return [replace(make_result(output=f"answer {m}"), model_alias=m, model_id=f"v.{m}-v1")
            for m in ("nova-lite", "nova-pro", "claude-haiku")]  # fmt: skip


def test_piped_run_stacked_at_80_columns_says_how_to_get_the_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = Console(file=io.StringIO(), width=80, highlight=False)
    render_results(out, three_models())
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("note: 3 models")
    assert "--format markdown" in err and "COLUMNS=200" in err
    wide = Console(file=io.StringIO(), width=200, highlight=False)
    render_results(wide, three_models())  # side by side: nothing to say
    assert capsys.readouterr().err == ""


def test_a_real_pipe_gets_whole_unpadded_lines(history: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "promptlab", "log"], cwd=history, env=env,
        capture_output=True, text=True, encoding="utf-8", timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    unpadded(proc.stdout)
    assert proc.stdout.splitlines()[2].endswith(OUTPUT)


def test_piped_history_is_unpadded_and_history_writes_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli, piped: None
) -> None:
    import csv

    from tests.git.test_git_repo import make_repo, prompt_yaml

    repo = make_repo(tmp_path, monkeypatch)
    first = repo.commit("first greet", {"prompts/greet.yaml": prompt_yaml("1.0.0")})
    repo.commit("bump", {"prompts/greet.yaml": prompt_yaml("1.1.0", "Hello {{ who }}")})
    unpadded(cli("history", "prompts/greet.yaml").stdout)
    result = cli("history", "prompts/greet.yaml", "--format", "csv")
    assert result.exit_code == 0, result.output
    versions = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(v["version"], v["subject"]) for v in versions] == [
        ("1.1.0", "bump"), ("1.0.0", "first greet"),
    ]  # fmt: skip
    assert versions[1]["commit"] == first and versions[1]["short"] == first[:7]
    assert versions[1]["warning"] == "false"

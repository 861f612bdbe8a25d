"""Resilience the README promises: the history read on a read-only store, a disk filling up
mid-run, `--resume` given the wrong kind of run, a cancelled CI job (SIGTERM)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, write

PROMPT = 'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'


def suite(n: int) -> str:
    long = "x" * 3000  # rows big enough to fill a small disk quickly
    cases = "".join(f"  - {{name: c{i}, vars: {{text: '{long}{i}'}}, assert: [{{contains: x}}]}}\n"
                    for i in range(n))  # fmt: skip
    return "prompt: p.yaml\ntests:\n" + cases


@pytest.fixture
def read_only() -> Iterator[Any]:
    """Makes a directory unwritable: chmod for a user, the immutable attribute for root (who
    ignores modes); skips where neither works."""
    made: list[Path] = []

    def protect(directory: Path) -> None:
        if os.geteuid() != 0:
            directory.chmod(0o555)
        elif (
            shutil.which("chattr") is None
            or subprocess.run(["chattr", "+i", str(directory)], capture_output=True).returncode
        ):
            pytest.skip("cannot make a directory read-only here (root without chattr +i)")
        made.append(directory)
        try:
            (directory / "probe").touch()
        except OSError:
            return
        pytest.skip("the directory stayed writable")

    yield protect
    for directory in made:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(directory)], check=False)
        directory.chmod(0o755)


def test_log_stats_and_cache_stats_read_a_store_in_a_read_only_directory(
    project: Path, cli: Cli, read_only: Any
) -> None:
    write(project / "prompts" / "p.yaml", PROMPT)
    assert cli("run", "prompts/p.yaml", "-v", "text=hello", "-m", "echo").exit_code == 0
    store = project / ".promptlab"
    assert not list(store.glob("*-wal"))  # closed cleanly: no -wal / -shm beside the file
    read_only(store)
    log = cli("log")
    assert log.exit_code == 0, log.output
    assert "hello" in log.stdout
    assert cli("stats").exit_code == 0
    assert cli("cache", "stats").exit_code == 0
    assert cli("log", "show", "1").exit_code == 0


def test_a_disk_filling_up_mid_run_keeps_what_was_recorded_and_says_so_at_the_end(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptlab.store import core

    real = core.connect

    def small_disk(path: Path, **kw: Any) -> sqlite3.Connection:
        con = real(path, **kw)
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        con.execute(f"PRAGMA max_page_count = {pages + 6}")  # "database or disk is full" soon
        return con

    monkeypatch.setattr(core, "connect", small_disk)
    write(project / "prompts" / "p.yaml", PROMPT)
    write(project / "prompts" / "p.tests.yaml", suite(40))
    out = cli("test", "-m", "echo", "--json", "r.json", "--no-cache", "--concurrency", "1")
    assert out.exit_code == 0, out.output  # the verdict stands: the history is not the result
    assert "40 passed" in out.stdout
    assert len(json.loads((project / "r.json").read_text("utf-8"))["cases"]) == 40
    assert out.stderr.count("database or disk is full") == 2  # when it happened, and at the end
    last = out.stderr.strip().splitlines()[-1]
    assert "the history is incomplete" in last and "were recorded before" in last
    kept = int(last.split("incomplete: ")[1].split(" call")[0])
    assert 0 < kept < 40
    monkeypatch.setattr(core, "connect", real)
    logged = cli("log", "--format", "json", "-n", "100")
    assert len(json.loads(logged.stdout)) == kept


def test_test_resume_refuses_the_id_of_a_run_command(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "p.yaml", PROMPT)
    write(project / "prompts" / "p.tests.yaml", suite(1))
    assert cli("run", "prompts/p.yaml", "-v", "text=x", "-m", "echo").exit_code == 0
    con = sqlite3.connect(project / ".promptlab" / "promptlab.db")
    [(run_id,)] = con.execute("SELECT id FROM runs").fetchall()
    con.close()
    out = cli("test", "-m", "echo", "--resume", run_id)
    assert out.exit_code == 2, out.output
    [line] = out.stderr.strip().splitlines()
    assert f"run {run_id} was made by `promptlab run`" in line
    assert "`promptlab test --resume` continues a `test` run" in line


def test_sigterm_writes_the_partial_reports_like_ctrl_c_and_exits_143(
    project: Path, fake_bedrock: Any
) -> None:
    import signal
    import sys
    import time

    from tests.conftest import REPO, sigint_default

    fake_bedrock.script("amazon.nova-lite-v1:0", hang=True)  # still running when CI cancels
    write(project / "prompts" / "p.yaml", PROMPT)
    write(project / "prompts" / "p.tests.yaml", "prompt: p.yaml\ntests:\n"
          + "".join(f"  - {{name: fast-{i}, models: [nova-micro], vars: {{text: q{i}}}, "
                    "assert: [{contains: Hello}]}\n" for i in range(3))
          + "  - {name: slow, models: [nova-lite], vars: {text: s}, "
          "assert: [{contains: s}]}\n")  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptlab", "test", "--json", "r.json", "--junit", "r.xml"],
        cwd=project, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)}, preexec_fn=sigint_default,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while fake_bedrock.count(model="amazon.nova-micro-v1:0") < 3 or not fake_bedrock.count(
            model="amazon.nova-lite-v1:0"
        ):
            assert proc.poll() is None, "the test process ended early"
            assert time.monotonic() < deadline, "the calls never started"
            time.sleep(0.05)
        time.sleep(0.3)  # the fast answers are evaluated
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    report = json.loads((project / "r.json").read_text("utf-8"))
    assert report["interrupted"] is True
    assert report["summary"]["passed"] == 3
    assert (project / "r.xml").is_file()
    assert f"--resume {report['run_id']}" in err

"""Resuming an interrupted run: finished calls are not paid for again; nothing is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from promptlab.errors import UsageError
from promptlab.store import open_store
from tests.conftest import REPO, Cli, sigint_default, write
from tests.fakebedrock import FakeBedrock
from tests.store.test_store_api import config_in, db_rows, make_job, run_jobs

PROMPT = (
    'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'
    "inference: {temperature: 0.7}\n"
)
MICRO = "amazon.nova-micro-v1:0"
LITE = "amazon.nova-lite-v1:0"


def test_resume_answers_only_the_calls_that_finished_in_that_run(project: Path) -> None:
    config = config_in(project)
    first_try = [make_job("a", case="1"), make_job("FAIL b", case="2"), make_job("c", case="3")]
    first, _ = run_jobs(config, first_try, cache=False)
    assert [r.ok for r in first.results] == [True, False, True]
    # the same jobs again, plus a second sample of 'a' (another repeat index: a new call)
    retry = [*first_try, make_job("a", case="1", repeat=1, cacheable=False)]
    second, pool = run_jobs(config, retry, cache=False, resume="last")
    assert second.run_id == first.run_id  # the resumed run keeps its id
    assert sorted(pool.provider.calls) == ["FAIL b", "a"]  # only the unfinished ones
    assert second.results[0].output == "answer to a"
    rows = db_rows(config)
    assert len(rows) == 5 and {r["run_id"] for r in rows} == {first.run_id}


def test_resume_matches_case_and_repeat_not_just_the_request(project: Path) -> None:
    config = config_in(project)
    first, _ = run_jobs(config, [make_job("same", case="x")])
    second, pool = run_jobs(
        config, [make_job("same", case="x"), make_job("same", case="y")], resume=first.run_id
    )
    assert pool.provider.calls == ["same"]
    assert [r.case for r in second.results] == ["x", "y"]


def test_resume_last_picks_the_newest_run_of_the_same_command(project: Path) -> None:
    config = config_in(project)
    test_run, _ = run_jobs(config, [make_job("t")], command="test")
    run_jobs(config, [make_job("r")], command="run")
    store = open_store(config, "test", cache=False, resume="last")
    assert store is not None and store.run_id == test_run.run_id and store.resumed
    store.close()
    by_suffix = open_store(config, "test", cache=False, resume=test_run.run_id[-6:])
    assert by_suffix is not None and by_suffix.run_id == test_run.run_id
    by_suffix.close()


def test_unknown_run_id_is_a_usage_error_listing_recent_runs(project: Path) -> None:
    config = config_in(project)
    known, _ = run_jobs(config, [make_job("t")])
    with pytest.raises(UsageError) as exc:
        open_store(config, "test", cache=False, resume="20990101-000000-nope")
    assert exc.value.exit_code == 2
    assert "unknown run id '20990101-000000-nope'" in str(exc.value)
    assert known.run_id in str(exc.value)


def test_resume_without_history_is_a_usage_error(project: Path) -> None:
    with pytest.raises(UsageError, match="--resume needs the run history"):
        open_store(config_in(project), "test", cache=True, log=False, resume="last")


def test_resume_with_empty_history_says_so(project: Path) -> None:
    with pytest.raises(UsageError, match="no `test` run in the history yet"):
        open_store(config_in(project), "test", cache=False, resume="last")


KILLED_WRITER = """
import sys, time
from pathlib import Path
from promptlab.config import load_config
from promptlab.store import open_store
from tests.store.test_store_api import make_job, ScriptedPool
from promptlab.runner import Runner
config = load_config(Path(sys.argv[1]), env={})
store = open_store(config, "test", cache=False)
runner = Runner(ScriptedPool(config), config, store=store, run_id=store.run_id)
runner.run([make_job(f"q{i}", case=str(i)) for i in range(3)])
print("recorded", flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_killing_the_process_loses_no_recorded_result(project: Path) -> None:
    config = config_in(project)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(project)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "recorded"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert len(db_rows(config)) == 3
    (ok,) = db_rows(config, "PRAGMA integrity_check")
    assert ok[0] == "ok"
    _, pool = run_jobs(config, [make_job(f"q{i}", case=str(i)) for i in range(4)], resume="last")
    assert pool.provider.calls == ["q3"]


def recorded(project: Path) -> int:
    """Calls written to the history so far (0 before the database exists)."""
    import sqlite3

    db = project / ".promptlab" / "promptlab.db"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(db, timeout=1)
        try:
            return int(con.execute("SELECT count(*) FROM calls").fetchone()[0])
        finally:
            con.close()
    except sqlite3.OperationalError:  # not migrated yet
        return 0


def suite(project: Path, text: str, prompt: str = PROMPT) -> None:
    write(project / "prompts" / "echoer.yaml", prompt)
    write(project / "prompts" / "echoer.tests.yaml", text)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_ctrl_c_then_resume_pays_only_for_the_calls_that_did_not_finish(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(LITE, hang=True)  # this case is still running when Ctrl-C comes
    suite(
        project,
        "tests:\n"
        + "".join(
            f"  - {{name: fast-{i}, models: [nova-micro], vars: {{text: q{i}}}, "
            "assert: [{contains: Hello}]}\n"
            for i in range(3)
        )
        + "  - {name: slow, models: [nova-lite], vars: {text: s}, assert: [{contains: s}]}\n",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptlab", "test", "--json", "first.json"],
        cwd=project, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        preexec_fn=sigint_default,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while recorded(project) < 3:  # the three fast calls are in the history
            assert proc.poll() is None, "the test process ended early"
            assert time.monotonic() < deadline, "the fast calls were never recorded"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    first = json.loads((project / "first.json").read_text("utf-8"))
    assert first["interrupted"] is True
    assert f"--resume {first['run_id']}" in err
    assert fake_bedrock.count(model=MICRO) == 3

    fake_bedrock.script(LITE, text="s answered")
    result = cli("test", "--resume", "last", "--json", "second.json")
    assert result.exit_code == 0, result.output
    assert fake_bedrock.count(model=MICRO) == 3  # nothing paid twice
    assert fake_bedrock.count(model=LITE) == 2  # the interrupted call, made again
    second = json.loads((project / "second.json").read_text("utf-8"))
    assert second["run_id"] == first["run_id"]
    assert second["summary"]["passed"] == 4

"""The database file: migrations, concurrent writers, and stores that cannot be written."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from promptlab.store import core, open_store
from promptlab.store.core import cache_key, insert_call
from promptlab.store.db import MIGRATIONS, connect, migrate
from tests.conftest import REPO, Cli
from tests.store.test_store_api import config_in, db_rows, make_job, make_result, run_jobs


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "_warned", set())


def test_store_uses_wal_and_the_latest_schema(project: Path) -> None:
    config = config_in(project)
    run_jobs(config, [make_job("hi")])
    con = sqlite3.connect(config.store_path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 3
    con.close()
    assert (config.store_path.parent / ".gitignore").read_text() == "*\n"


def test_an_old_schema_is_migrated_and_keeps_its_rows(project: Path, cli: Cli) -> None:
    config = config_in(project)
    config.store_path.parent.mkdir(parents=True)
    con = sqlite3.connect(config.store_path, isolation_level=None)
    con.row_factory = sqlite3.Row
    migrate(con, upto=1)  # a database from the first schema: no indexes, no full-text table
    old = make_result(output="the legacy answer about invoices", run_id="old-run")
    con.execute("INSERT INTO runs(id, command, started_ts) VALUES ('old-run', 'run', 1.0)")
    insert_call(con, old, cache_key(old.model_id, old.region, old.request), command="run",
                git=(None, None), fulltext=False)  # fmt: skip
    con.close()
    run_jobs(config, [make_job("new")])
    assert db_rows(config, "PRAGMA user_version")[0][0] == len(MIGRATIONS)
    indexes = {r["name"] for r in db_rows(config, "SELECT name FROM sqlite_master")}
    assert {"calls_ts", "calls_model", "calls_fts"} <= indexes
    assert len(db_rows(config)) == 2
    found = json.loads(cli("log", "--search", "invoices", "--format", "json").stdout)
    assert [c["run_id"] for c in found] == ["old-run"]  # old rows were indexed for search


def test_a_store_from_a_newer_promptlab_is_refused_clearly(
    project: Path, cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_in(project)
    run_jobs(config, [make_job("hi")])
    con = sqlite3.connect(config.store_path)
    con.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    con.commit()
    con.close()
    outcome, _ = run_jobs(config, [make_job("hi")])  # the run goes on without history
    assert outcome.results[0].ok
    assert "written by a newer promptlab" in capsys.readouterr().err
    result = cli("log")
    assert result.exit_code == 2 and "upgrade promptlab" in result.stderr


@pytest.mark.parametrize("blocker", ["file", "directory"])
def test_an_unwritable_store_warns_once_and_the_run_goes_on(
    project: Path, capsys: pytest.CaptureFixture[str], blocker: str
) -> None:
    (project / "promptlab.yaml").write_text("store:\n  path: blocked/promptlab.db\n")
    if blocker == "file":  # the store's directory is a file
        (project / "blocked").write_text("not a directory")
    else:  # the store's file is a directory
        (project / "blocked" / "promptlab.db").mkdir(parents=True)
    config = config_in(project)
    for _ in range(2):
        outcome, pool = run_jobs(config, [make_job("hi")], cache=True)
        assert outcome.results[0].ok and pool.provider.calls == ["hi"]
    err = capsys.readouterr().err
    assert err.count("warning:") == 1
    assert "blocked/promptlab.db" in err and "continuing without history" in err


def test_a_write_failure_mid_run_disables_the_store_with_one_warning(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_in(project)
    store = open_store(config, "run", cache=False)
    assert store is not None
    store.con.execute("DROP TABLE calls_fts")  # every insert now fails
    job = make_job("hi")
    request, _ = job.request()
    result = make_result()
    store.record(result, request)
    store.record(result, request)
    store.close()
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "cannot write" in err


WRITER = """
import sys, time
from pathlib import Path
from promptlab.config import load_config
from promptlab.store import open_store
from tests.store.test_store_api import make_job, make_result
config = load_config(Path(sys.argv[1]), env={})
while time.time() < float(sys.argv[3]):  # both create the new store at the same moment
    pass
store = open_store(config, "run", cache=True)
request, _ = make_job("hi").request()
print("ready", flush=True)
sys.stdin.readline()  # start together
for i in range(int(sys.argv[2])):
    result = make_result(run_id=store.run_id, output=f"answer {i}", user=f"q {i}")
    store.record(result, request)
    time.sleep(0.001)  # calls finish spread out, as in a real run
store.close()
"""


def test_two_processes_write_at_once_without_corruption_or_lock_errors(project: Path) -> None:
    config = config_in(project)
    n = 200
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = str(time.time() + 1.0)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(project), str(n), start],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for p in procs:  # both have opened the store (and migrated it, whichever came first)
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    assert not any("warning" in e or "locked" in e for e in errors), errors
    con = connect(config.store_path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 2 * n
    assert con.execute("SELECT COUNT(DISTINCT run_id) FROM calls").fetchone()[0] == 2
    assert con.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2
    con.close()


def test_results_arriving_after_close_are_dropped_quietly(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_in(project)
    store = open_store(config, "run", cache=True)
    assert store is not None
    store.close()  # Ctrl-C: the command closes the store while calls are still in flight
    job = make_job("late")
    request, _ = job.request()
    assert store.lookup(job, request, None) is None
    store.record(make_result(), request)
    store.close()
    assert capsys.readouterr().err == ""
    assert db_rows(config) == []


def test_opening_retries_when_sqlite_reports_a_lock_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes switching a new file to WAL can deadlock; SQLite then fails at once."""
    from promptlab.store import db

    real = db._setup
    failures = iter([True, True, False])

    def flaky(con: sqlite3.Connection, path: Path, readonly: bool) -> None:
        if next(failures):
            raise sqlite3.OperationalError("database is locked")
        real(con, path, readonly)

    monkeypatch.setattr(db, "_setup", flaky)
    monkeypatch.setattr(db.time, "sleep", lambda s: None)
    con = connect(tmp_path / "s.db")
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    con.close()

    def broken(con: sqlite3.Connection, path: Path, readonly: bool) -> None:
        raise sqlite3.OperationalError("no such table: x")  # not a lock: no retry

    monkeypatch.setattr(db, "_setup", broken)
    with pytest.raises(db.StoreError, match="no such table"):
        connect(tmp_path / "t.db")

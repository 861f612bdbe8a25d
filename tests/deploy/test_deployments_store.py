"""Migration 5: the deployments table; an older store migrates and reads as before."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from promptlab.store.db import MIGRATIONS, connect, migrate
from promptlab.store.deployments import Deployment, read_all, record

ROW = Deployment(
    "greet",
    "1.2.0",
    "a" * 64,
    "prompts/greet.yaml",
    "b" * 40,
    "arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT1234",
    "3",
    "us-east-1",
)


def test_an_old_store_migrates_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    con = sqlite3.connect(path, isolation_level=None)
    migrate(con, upto=4)
    con.execute("INSERT INTO runs (id, command, started_ts) VALUES ('r1', 'run', 1.0)")
    con.close()
    assert read_all(path) == []  # no table yet: reads as empty, read-only
    assert record(path, ROW)
    con = connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 5
    assert con.execute("SELECT id FROM runs").fetchall()[0][0] == "r1"
    con.close()
    [back] = read_all(path)
    assert back.prompt_hash == ROW.prompt_hash and back.managed_version == "3" and back.ts > 0


def test_no_store_reads_as_empty(tmp_path: Path) -> None:
    assert read_all(tmp_path / "none.db") == []


def test_an_unwritable_store_warns_and_does_not_fail(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert record(blocker / "store.db", ROW) is False
    assert "not recorded" in capsys.readouterr().err

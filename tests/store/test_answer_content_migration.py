"""Migration 4 (answer content blocks): databases written before it read exactly as before."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from promptlab.store.core import cache_key, insert_call
from promptlab.store.db import MIGRATIONS, migrate
from tests.conftest import Cli
from tests.store.test_store_api import config_in, make_result


def test_rows_written_before_the_content_column_show_as_before(project: Path, cli: Cli) -> None:
    config = config_in(project)
    config.store_path.parent.mkdir(parents=True)
    con = sqlite3.connect(config.store_path, isolation_level=None)
    con.row_factory = sqlite3.Row
    migrate(con, upto=3)  # the schema before answer content blocks
    old = make_result(output="the answer of an older promptlab", run_id="old-run")
    con.execute("INSERT INTO runs(id, command, started_ts) VALUES ('old-run', 'run', 1.0)")
    insert_call(con, old, cache_key(old.model_id, old.region, old.request), command="run",
                git=(None, None))  # fmt: skip
    con.close()
    shown = json.loads(cli("log", "--format", "json").stdout)  # opening migrates the file
    assert shown[0]["output"] == "the answer of an older promptlab"
    assert shown[0]["content"] == [{"text": "the answer of an older promptlab"}]
    con = sqlite3.connect(config.store_path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 4
    assert con.execute("SELECT content FROM calls").fetchall() == [(None,)]
    con.close()

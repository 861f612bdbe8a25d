"""Migration 4 (answer content blocks): databases written before it read exactly as before."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from promptlab.store.db import MIGRATIONS
from tests.conftest import Cli
from tests.store.test_store_api import old_store


def test_rows_written_before_the_content_column_show_as_before(project: Path, cli: Cli) -> None:
    config = old_store(
        project, upto=3, output="the answer of an older promptlab"
    )  # the schema before answer content blocks
    shown = json.loads(cli("log", "--format", "json").stdout)  # opening migrates the file
    assert shown[0]["output"] == "the answer of an older promptlab"
    assert shown[0]["content"] == [{"text": "the answer of an older promptlab"}]
    con = sqlite3.connect(config.store_path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 4
    assert con.execute("SELECT content FROM calls").fetchall() == [(None,)]
    con.close()

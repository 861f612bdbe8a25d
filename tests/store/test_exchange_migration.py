"""Migration 7 (a tool exchange's turns, a structured answer): old files read as before, new
rows keep both through the history and the cache."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from promptlab.store.db import MIGRATIONS
from tests.conftest import Cli
from tests.store.test_store_api import old_store


def test_rows_written_before_the_exchange_columns_show_as_before(project: Path, cli: Cli) -> None:
    config = old_store(project, upto=6, output="older")
    [shown] = json.loads(cli("log", "--format", "json").stdout)  # opening migrates the file
    assert shown["output"] == "older"
    assert shown["turns"] == [] and shown["structured"] is None
    con = sqlite3.connect(config.store_path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 7
    assert con.execute("SELECT turns, structured FROM calls").fetchall() == [(None, None)]


def test_turns_and_structured_answers_are_kept_in_the_history(project: Path, cli: Cli) -> None:
    (project / "prompts" / "w.yaml").write_text(
        'version: "1.0.0"\ninput: Weather?\ntools:\n  - name: get_weather\n'
        "    input_schema: {type: object}\ntool_choice: any\ntool_results:\n"
        "  - {tool: get_weather, result: sunny}\noutput_schema: {type: object}\n",
        encoding="utf-8",
    )
    ran = json.loads(cli("run", "w", "-m", "echo", "-f", "json").stdout)[0]
    assert ran["turns"] and ran["structured"]["native"] is True
    [logged] = json.loads(cli("log", "--format", "json").stdout)
    assert logged["turns"] == ran["turns"]
    assert logged["structured"] == ran["structured"]

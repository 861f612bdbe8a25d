"""Migration 7 (a tool exchange's turns, a structured answer): old files read as before, new
rows keep both through the history and the cache."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from promptlab.store.core import cache_key, insert_call
from promptlab.store.db import MIGRATIONS, migrate
from tests.conftest import Cli
from tests.store.test_store_api import config_in, make_result


def test_rows_written_before_the_exchange_columns_show_as_before(project: Path, cli: Cli) -> None:
    config = config_in(project)
    config.store_path.parent.mkdir(parents=True)
    con = sqlite3.connect(config.store_path, isolation_level=None)
    con.row_factory = sqlite3.Row
    migrate(con, upto=6)
    old = make_result(output="older", run_id="old-run")
    con.execute("INSERT INTO runs(id, command, started_ts) VALUES ('old-run', 'run', 1.0)")
    insert_call(con, old, cache_key(old.model_id, old.region, old.request), command="run",
                git=(None, None))  # fmt: skip
    con.close()
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

"""Migration 9 (the stats indexes cover the prompt-cache columns): old files migrate and read as
before; a file opened read-only from before the cache columns still gives `stats`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from promptlab.store.db import MIGRATIONS
from tests.conftest import Cli
from tests.store.test_store_api import old_store as store_at


def old_store(project: Path, upto: int) -> Path:
    """A store at schema `upto` holding one call (10 in, 5 out, $0.001)."""
    return store_at(project, upto).store_path


def test_an_older_store_migrates_and_its_stats_read_as_before(project: Path, cli: Cli) -> None:
    path = old_store(project, upto=8)
    [group] = json.loads(cli("stats", "-f", "json").stdout)["groups"]  # opening migrates it
    assert (group["calls"], group["input_tokens"], group["cost_usd"]) == (1, 10, 0.001)
    assert (group["cache_read_tokens"], group["cache_hit_ratio"]) == (0, 0.0)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 9
    plan = " ".join(r[-1] for r in con.execute(
        "EXPLAIN QUERY PLAN SELECT model_id, SUM(cache_read_tokens), SUM(cost_usd) FROM calls "
        "GROUP BY model_id"))  # fmt: skip
    assert "COVERING INDEX calls_stats_model" in plan


def test_stats_read_a_store_opened_read_only_from_before_the_cache_columns(
    project: Path,
) -> None:
    """`stats` on a file it cannot migrate (opened read-only at schema 7)."""
    from promptlab.store.query import Filters, stats

    path = old_store(project, upto=7)
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    [group] = stats(con, Filters())
    assert (group.calls, group.cache_read_tokens, group.cache_saved_usd) == (1, 0, 0.0)

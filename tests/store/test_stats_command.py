"""`promptlab stats`: per-group numbers on a known dataset, cache hits kept out of latency."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from promptlab.config import Config
from promptlab.errors import UsageError
from promptlab.results import Result
from promptlab.store.core import cache_key, insert_call
from promptlab.store.db import migrate
from promptlab.store.query import Filters, parse_duration, parse_since, stats
from tests.conftest import Cli, write
from tests.store.test_store_api import config_in, make_result, seed

NOW = time.time()
PROMPT = (
    'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'
    "inference: {temperature: 0.7}\n"
)


@pytest.fixture
def dataset(project: Path) -> Config:
    """claude: latencies 1..100 ms, 10 errors, 5 cache hits (1 ms); nova: 20 calls of 500 ms
    at prompt v2, made three days ago."""
    config = config_in(project)
    rows: list[tuple[Result, float]] = []
    for ms in range(1, 101):
        rows.append((make_result(model="claude", latency=ms, cost=0.01, ttft=ms // 2), NOW - 60))
    rows += [(make_result(model="claude", error="ThrottlingException"), NOW - 60)] * 10
    rows += [(make_result(model="claude", latency=1, cached=True), NOW - 60)] * 5
    rows += [(make_result(model="nova", version="2.0.0", latency=500, cost=0.002),
              NOW - 3 * 86400)] * 20  # fmt: skip
    seed(config, rows)
    return config


def groups(cli: Cli, *args: str) -> dict[str, dict[str, Any]]:
    result = cli("stats", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return {g["alias"] or g["group"]: g for g in json.loads(result.stdout)["groups"]}


def test_stats_per_model_on_a_known_dataset(dataset: Config, cli: Cli) -> None:
    by_model = groups(cli)
    claude = by_model["claude"]
    assert (claude["calls"], claude["cached"], claude["errors"]) == (115, 5, 10)
    assert claude["error_rate"] == round(10 / 115, 4)
    # nearest-rank percentiles over the 100 uncached successes; the 1 ms cache hits are left out
    assert (claude["latency_p50_ms"], claude["latency_p95_ms"]) == (50, 95)
    assert claude["ttft_p50_ms"] == 25
    assert (claude["input_tokens"], claude["output_tokens"]) == (1000, 500)  # hits not counted
    assert claude["cost_usd"] == pytest.approx(1.0)
    nova = by_model["nova"]
    assert (nova["calls"], nova["latency_p50_ms"], nova["latency_p95_ms"]) == (20, 500, 500)
    assert nova["cost_usd"] == pytest.approx(0.04)


def test_stats_window_and_filters(dataset: Config, cli: Cli) -> None:
    assert set(groups(cli, "--since", "1d")) == {"claude"}
    assert set(groups(cli, "--model", "nova")) == {"nova"}
    versions = groups(cli, "--by", "version")
    assert {k: v["calls"] for k, v in versions.items()} == {"greet@1.0.0": 115, "greet@2.0.0": 20}
    assert groups(cli, "--by", "prompt")["greet"]["calls"] == 135


def test_stats_table_and_bar_chart(dataset: Config, cli: Cli) -> None:
    text = cli("stats").stdout
    assert "p50 ms" in text and "cost (USD)" in text
    claude_bar = next(
        line for line in text.splitlines() if line.startswith("claude") and "█" in line
    )
    nova_bar = next(line for line in text.splitlines() if line.startswith("nova") and "█" in line)
    assert claude_bar.count("█") > nova_bar.count("█")  # $1.00 against $0.04
    latency = cli("stats", "--chart", "latency").stdout
    assert "p50 latency" in latency and "500 ms" in latency
    assert "█" not in cli("stats", "--chart", "none").stdout


def test_stats_rejects_bad_options(dataset: Config, cli: Cli) -> None:
    for args in (("--by", "region"), ("--chart", "pie"), ("--format", "xml"), ("--since", "x")):
        result = cli("stats", *args)
        assert result.exit_code == 2 and "error:" in result.stderr, args


def test_stats_without_history_is_empty(project: Path, cli: Cli) -> None:
    assert json.loads(cli("stats", "--format", "json").stdout)["groups"] == []


def test_since_accepts_durations_and_dates() -> None:
    now = 1_800_000_000.0
    assert parse_since("90m", now=now) == now - 5400
    assert parse_since("2d", now=now) == now - 172800
    assert parse_since("1w", now=now) == now - 604800
    assert parse_since("2026-11-01T00:00:00+00:00", now=now) == 1793491200.0
    assert parse_duration("1h", option="--older-than") == pytest.approx(3600, abs=5)
    with pytest.raises(UsageError, match="neither a duration nor a date"):
        parse_since("soon")


def test_piped_stats_are_not_cut_at_80_columns(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS")
    write(project / "prompts" / "a-rather-long-prompt-name.yaml", PROMPT)
    write(project / "prompts" / "a-rather-long-prompt-name.tests.yaml",
          "tests:\n  - {name: a, vars: {text: x}, assert: [{contains: x}]}\n")  # fmt: skip
    assert cli("test", "-m", "echo").exit_code == 0
    result = cli("stats", "--by", "version", "--chart", "none")
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()[:2]
    assert header.split()[-1] == "cost"
    assert row.split()[0] == "a-rather-long-prompt-name@1.0.0" and row.split()[-1] == "$0"


def test_stats_count_retries_extra_attempts_and_throttled_failures(project: Path, cli: Cli) -> None:
    config = config_in(project)
    retried = [replace(make_result(model="claude"), attempts=n) for n in (2, 4)]
    throttled = replace(make_result(model="claude", error="ThrottlingException"), attempts=4)
    rows = [*retried, throttled, make_result(model="claude"),
            make_result(model="nova", error="ValidationException")]  # fmt: skip
    seed(config, [(r, NOW - 60) for r in rows])
    by_model = groups(cli)
    claude, nova = by_model["claude"], by_model["nova"]
    assert (claude["retried"], claude["extra_attempts"], claude["throttled"]) == (3, 7, 1)
    assert (nova["retried"], nova["extra_attempts"], nova["throttled"]) == (0, 0, 0)
    header = cli("stats", "--chart", "none").stdout.splitlines()[0].split()
    assert header[header.index("errors") + 1 : header.index("errors") + 4] == [
        "retried", "+tries", "throttled"
    ]  # fmt: skip


def test_stats_leave_out_the_retry_columns_when_nothing_was_retried_or_throttled(
    project: Path, cli: Cli
) -> None:
    seed(config_in(project), [(make_result(), NOW - 60),
                              (make_result(error="ValidationException"), NOW - 60)])  # fmt: skip
    text = cli("stats", "--chart", "none").stdout
    assert "errors" in text and "retried" not in text and "+tries" not in text


def test_stats_read_a_history_from_before_attempts_were_recorded(project: Path) -> None:
    config = config_in(project)
    config.store_path.parent.mkdir(parents=True)
    con = sqlite3.connect(config.store_path, isolation_level=None)
    con.row_factory = sqlite3.Row
    migrate(con, upto=7)  # no attempts column: as a file opened read-only would stay
    old = make_result(error="ThrottlingException")
    insert_call(con, old, cache_key(old.model_id, old.region, old.request), command="run",
                git=(None, None))  # fmt: skip
    [claude] = stats(con, Filters())
    con.close()
    assert (claude.calls, claude.retried, claude.extra_attempts, claude.throttled) == (1, 0, 0, 1)

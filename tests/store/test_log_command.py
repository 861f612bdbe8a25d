"""`promptlab log`: filters, full-text search, exports, `log show`, `log runs`, untrusted output."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest

from promptlab.config import Config
from tests.conftest import Cli
from tests.store.test_store_api import config_in, make_result, seed

NOW = time.time()
HOUR = 3600.0


@pytest.fixture
def history(project: Path) -> Config:
    """Five calls over three days, two runs, one error, one hostile output."""
    config = config_in(project)
    seed(config, [
        (make_result(model="claude", output="Refunds take five days", user="refund policy?",
                     run_id="20261101-090000-aaaaaa"), NOW - 50 * HOUR),
        (make_result(model="nova", version="1.1.0", output="We ship worldwide",
                     run_id="20261101-090000-aaaaaa"), NOW - 49 * HOUR),
        (make_result(model="nova", error="ThrottlingException",
                     run_id="20261103-090000-bbbbbb"), NOW - 2 * HOUR),
        (make_result(model="claude", prompt="summary", output="\x1b[31mRED\x1b]0;pwn\x07 text",
                     run_id="20261103-090000-bbbbbb"), NOW - 1 * HOUR),
        (make_result(model="claude", cached=True, output="Refunds take five days",
                     run_id="20261103-090000-bbbbbb"), NOW - 0.5 * HOUR),
    ])  # fmt: skip
    return config


def ids(cli: Cli, *args: str) -> list[int]:
    result = cli("log", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return [c["id"] for c in json.loads(result.stdout)]


def test_log_lists_newest_first_and_filters(history: Config, cli: Cli) -> None:
    assert ids(cli) == [5, 4, 3, 2, 1]
    assert ids(cli, "--limit", "2") == [5, 4]
    assert ids(cli, "--model", "nova") == [3, 2]
    assert ids(cli, "--model", "vendor.nova-v1") == [3, 2]  # the model id works too
    assert ids(cli, "--prompt", "summary") == [4]
    assert ids(cli, "--version", "1.1.0") == [2]
    assert ids(cli, "--errors") == [3]
    assert ids(cli, "--since", "1d") == [5, 4, 3]
    assert ids(cli, "--run", "20261101-090000-aaaaaa") == [2, 1]
    assert ids(cli, "--run", "bbbbbb") == [5, 4, 3]  # the short id `log` shows
    assert ids(cli, "--run", "last") == [5, 4, 3]
    assert ids(cli, "--model", "claude", "--since", "1d", "--prompt", "greet") == [5]


def test_search_finds_words_in_prompts_and_outputs(history: Config, cli: Cli) -> None:
    assert ids(cli, "--search", "refunds") == [5, 1]  # output
    assert ids(cli, "--search", "policy") == [1]  # the prompt text
    assert ids(cli, "--search", "ship worldwide") == [2]  # every word must appear
    assert ids(cli, "--search", 'ship* "(-') == [2]  # no query syntax leaks through
    assert ids(cli, "--search", "refunds", "--model", "claude", "--since", "1h") == [5]


def test_search_without_fts5_falls_back_to_substring_with_a_notice(
    history: Config, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("promptlab.store.query.has_fulltext", lambda con: False)
    result = cli("log", "--search", "worldwide", "--format", "json")
    assert [c["id"] for c in json.loads(result.stdout)] == [2]
    assert "no FTS5" in result.stderr


def test_json_and_jsonl_exports_carry_the_full_record(history: Config, cli: Cli) -> None:
    (call,) = json.loads(cli("log", "--errors", "--format", "json").stdout)
    assert call["error"]["code"] == "ThrottlingException"
    assert call["model"] == {"alias": "nova", "id": "vendor.nova-v1", "region": "us-east-1",
                             "real": True}  # fmt: skip
    assert call["command"] == "run" and call["run_id"] == "20261103-090000-bbbbbb"
    assert call["request"]["messages"][0]["content"][0]["text"] == "Hello"
    lines = cli("log", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [5, 4, 3, 2, 1]


def test_csv_export_has_a_header_and_one_row_per_call(history: Config, cli: Cli) -> None:
    rows = list(csv.DictReader(io.StringIO(cli("log", "--format", "csv").stdout)))
    assert [r["id"] for r in rows] == ["5", "4", "3", "2", "1"]
    assert rows[0]["cached"] == "true" and rows[0]["cost_usd"] == "0.0"
    assert rows[2]["error_code"] == "ThrottlingException"
    assert rows[3]["output"] == "We ship worldwide" and rows[3]["version"] == "1.1.0"


def test_model_output_never_reaches_the_terminal_as_escape_sequences(
    history: Config, cli: Cli
) -> None:
    outputs = [
        cli("log").stdout,
        cli("log", "show", "4").stdout,
        cli("log", "--format", "csv").stdout,
        cli("log", "--format", "json").stdout,
        cli("log", "show", "4", "--format", "json").stdout,
    ]
    for text in outputs:
        assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[31mRED" in outputs[1]  # shown, but inert
    assert json.loads(outputs[4])["output"].startswith("\x1b[31mRED")  # JSON keeps it escaped


def test_log_show_prints_one_call_in_full(history: Config, cli: Cli) -> None:
    result = cli("log", "show", "1")
    assert result.exit_code == 0
    expected = ("refund policy?", "Refunds take five days", "10 in / 5 out", "100 ms",
                "$0.001000", "claude → vendor.claude-v1", "temperature")  # fmt: skip
    for text in expected:
        assert text in result.stdout
    error = cli("log", "show", "3").stdout
    assert "ThrottlingException: ThrottlingException happened" in error
    missing = cli("log", "show", "99")
    assert missing.exit_code == 2 and "no call 99" in missing.stderr


def test_log_runs_lists_runs_with_counts(history: Config, cli: Cli) -> None:
    runs = json.loads(cli("log", "runs", "--format", "json").stdout)
    assert [(r["run_id"], r["calls"], r["errors"], r["cached"]) for r in runs] == [
        ("20261103-090000-bbbbbb", 3, 1, 1),
        ("20261101-090000-aaaaaa", 2, 0, 0),
    ]
    assert "20261103-090000-bbbbbb" in cli("log", "runs").stdout


def test_table_shows_status_and_short_run_ids(history: Config, cli: Cli) -> None:
    lines = cli("log").stdout.splitlines()
    assert lines[0].split()[:6] == ["id", "time", "run", "prompt", "model", "status"]
    assert "bbbbbb" in lines[1] and "cached" in lines[1]
    assert "ThrottlingExcep" in lines[3]


def test_bad_filters_are_usage_errors(history: Config, cli: Cli) -> None:
    for args, message in [
        (("--since", "yesterday"), "--since 'yesterday' is neither a duration nor a date"),
        (("--format", "xml"), "--format must be one of"),
        (("--run", "nope"), "unknown run id 'nope'"),
        (("--search", "!!!"), "has no words"),
    ]:
        result = cli("log", *args)
        assert result.exit_code == 2, args
        assert message in result.stderr
        assert "Traceback" not in result.output


def test_log_without_a_store_says_so_and_creates_nothing(project: Path, cli: Cli) -> None:
    result = cli("log")
    assert result.exit_code == 0 and "no calls recorded yet" in result.stderr
    assert cli("log", "--format", "json").stdout.strip() == "[]"
    assert not (project / ".promptlab").exists()


def test_log_help_lists_filters_subcommands_and_examples(cli: Cli) -> None:
    text = cli("log", "--help").stdout
    for expected in ("--prompt", "--since", "--search", "--format", "show", "runs",
                     "promptlab log show 9412"):  # fmt: skip
        assert expected in text

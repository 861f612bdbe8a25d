"""History listings as a new user meets them: one model however `-m` named it, full ids
labelled with their alias, JSON and CSV on every listing, counts in the right grammar."""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import replace
from pathlib import Path

import pytest

from promptlab.catalogue import resolve
from promptlab.config import Config
from tests.conftest import Cli
from tests.store.test_store_api import config_in, make_job, make_result, run_jobs, seed

NOW = time.time()
NOVA = "amazon.nova-lite-v1:0"


@pytest.fixture
def named_both_ways(project: Path) -> Config:
    """Three nova-lite calls: two made with `-m nova-lite`, one with `-m amazon.nova-lite-v1:0`;
    and one echo call."""
    config = config_in(project)
    nova = replace(make_result(cost=0.01), model_alias="nova-lite", model_id=NOVA)
    typed_id = replace(make_result(cost=0.01), model_alias=NOVA, model_id=NOVA)
    echo = replace(make_result(cost=0.0), model_alias="echo", model_id="echo")
    seed(config, [(nova, NOW - 30), (nova, NOW - 20), (typed_id, NOW - 10), (echo, NOW - 5)])
    return config


def stats_json(cli: Cli, *args: str) -> list[dict[str, object]]:
    result = cli("stats", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    groups: list[dict[str, object]] = json.loads(result.stdout)["groups"]
    return groups


def test_stats_counts_an_alias_and_its_model_id_as_one_model(
    named_both_ways: Config, cli: Cli
) -> None:
    by_id = {g["group"]: g for g in stats_json(cli)}
    assert set(by_id) == {NOVA, "echo"}
    assert by_id[NOVA]["calls"] == 3 and by_id[NOVA]["alias"] == "nova-lite"
    assert by_id[NOVA]["cost_usd"] == pytest.approx(0.03)
    assert by_id["echo"]["alias"] is None
    text = cli("stats", "--chart", "none").stdout
    header, *rows = text.splitlines()
    assert header.split()[:3] == ["model", "alias", "calls"]
    assert rows[0].split()[:3] == [NOVA, "nova-lite", "3"]
    assert rows[1].split()[:2] == ["echo", "1"]  # no alias: the alias cell is empty


def test_a_full_id_typed_alone_is_labelled_with_its_shipped_alias(project: Path, cli: Cli) -> None:
    config = config_in(project)
    seed(config, [(replace(make_result(), model_alias=NOVA, model_id=NOVA), NOW)])
    (group,) = stats_json(cli)
    assert (group["group"], group["alias"]) == (NOVA, "nova-lite")
    assert f"{NOVA} (nova-lite)" in cli("log").stdout
    assert f"model        {NOVA} (nova-lite)" in cli("log", "show", "1").stdout


def test_model_filter_finds_calls_made_with_the_alias_or_the_id(
    named_both_ways: Config, cli: Cli
) -> None:
    def ids(*args: str) -> list[int]:
        return [c["id"] for c in json.loads(cli("log", *args, "--format", "json").stdout)]

    assert ids("--model", "nova-lite") == [3, 2, 1]
    assert ids("--model", NOVA) == [3, 2, 1]
    assert [g["calls"] for g in stats_json(cli, "--model", "nova-lite")] == [3]
    assert ids("--model", "no-such-model") == []  # a name only the history could know: as typed


def test_log_labels_full_ids_with_their_alias(named_both_ways: Config, cli: Cli) -> None:
    models = {line.split()[0]: line for line in cli("log").stdout.splitlines()[1:]}
    assert f"{NOVA} (nova-lite)" in models["3"]
    assert "nova-lite" in models["1"] and NOVA not in models["1"]
    assert "echo" in models["4"]


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_every_history_listing_has_json_and_csv(named_both_ways: Config, cli: Cli) -> None:
    runs = read_csv(cli("log", "runs", "--format", "csv").stdout)
    assert [(r["run_id"], r["calls"]) for r in runs] == [("run-a", "4")]
    assert json.loads(cli("log", "runs", "--format", "json").stdout)[0]["calls"] == 4
    stats = read_csv(cli("stats", "--format", "csv").stdout)
    assert [(r["group"], r["alias"], r["calls"]) for r in stats] == [
        (NOVA, "nova-lite", "3"),
        ("echo", "", "1"),
    ]
    versions = read_csv(cli("stats", "--by", "version", "--format", "csv").stdout)
    assert [(r["group"], r["calls"]) for r in versions] == [("greet@1.0.0", "4")]
    cache = read_csv(cli("cache", "stats", "--format", "csv").stdout)
    assert cache == []  # the seeded calls wrote no cache entries
    header = next(csv.reader(io.StringIO(cli("cache", "stats", "-f", "csv").stdout)))
    assert header == ["model_id", "alias", "entries", "hits"]


def test_bad_formats_name_every_choice(named_both_ways: Config, cli: Cli) -> None:
    for args in (("log", "runs"), ("stats",), ("cache", "stats"), ("models", "--offline")):
        result = cli(*args, "--format", "xml")
        assert result.exit_code == 2, args
        assert "--format must be one of table, json, csv" in result.stderr, args


def test_cache_stats_counts_in_the_singular_and_labels_ids(project: Path, cli: Cli) -> None:
    config = config_in(project)
    nova = resolve("nova-lite")
    typed_id = replace(nova, alias=NOVA)
    run_jobs(config, [make_job("one", ref=typed_id)], cache=True)
    run_jobs(config, [make_job("one", ref=typed_id)], cache=True)  # answered from the cache
    text = cli("cache", "stats").stdout
    assert f"  {NOVA} (nova-lite): 1 entry, 1 hit" in text
    assert "1 entries" not in text and "1 hits" not in text
    (row,) = read_csv(cli("cache", "stats", "--format", "csv").stdout)
    assert row == {"model_id": NOVA, "alias": "nova-lite", "entries": "1", "hits": "1"}

"""The response cache: what is stored, what a hit looks like, what misses, expiry, commands."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from promptlab.catalogue import ModelRef
from promptlab.request import InferenceParams
from promptlab.store import cache_key, open_store
from tests.conftest import Cli
from tests.store.test_store_api import config_in, db_rows, make_job, run_jobs


def test_a_hit_is_marked_cached_free_and_keeps_the_original_latency(project: Path) -> None:
    config = config_in(project)
    first, pool = run_jobs(config, [make_job("hi", case="a")], cache=True)
    second, pool2 = run_jobs(config, [make_job("hi", case="b", vars={"x": 1})], cache=True)
    assert pool.provider.calls == ["hi"] and pool2.provider.calls == []
    (hit,) = second.results
    assert hit.cached and hit.ok
    assert hit.output == "answer to hi"
    assert hit.latency_ms == 123 and hit.ttft_ms == 45  # the original call's timings
    assert hit.wall_ms == 0 and hit.cost_usd == 0.0
    assert hit.run_id == second.run_id != first.run_id
    assert (hit.case, hit.vars) == ("b", {"x": 1})  # the current job's identity
    rows = db_rows(config)
    assert [r["cached"] for r in rows] == [0, 1]
    assert rows[1]["cached_from"] == first.run_id and rows[1]["run_id"] == second.run_id


def test_errors_are_never_cached(project: Path) -> None:
    config = config_in(project)
    run_jobs(config, [make_job("FAIL")], cache=True)
    again, pool = run_jobs(config, [make_job("FAIL")], cache=True)
    assert pool.provider.calls == ["FAIL"]
    assert not again.results[0].cached
    assert db_rows(config, "SELECT * FROM cache") == []


def test_jobs_that_are_not_cacheable_are_neither_stored_nor_answered(project: Path) -> None:
    config = config_in(project)
    repeats = [make_job("hi", repeat=i, cacheable=False) for i in range(3)]
    run_jobs(config, repeats, cache=True)
    assert db_rows(config, "SELECT * FROM cache") == []
    run_jobs(config, [make_job("hi")], cache=True)  # a cacheable one fills the cache...
    again, pool = run_jobs(config, repeats, cache=True)  # ...which repeats still don't use
    assert len(pool.provider.calls) == 3
    assert not any(r.cached for r in again.results)


def test_cache_off_ignores_stored_answers(project: Path) -> None:
    config = config_in(project)
    run_jobs(config, [make_job("hi")], cache=True)
    again, pool = run_jobs(config, [make_job("hi")], cache=False)
    assert pool.provider.calls == ["hi"] and not again.results[0].cached


@pytest.mark.parametrize(
    "change",
    [
        {"params": InferenceParams(temperature=0.0, max_tokens=10)},
        {"params": InferenceParams(temperature=0.0, stop=("END",))},
        {"ref": ModelRef("other", "vendor.other-v1", None, "echo")},
        {"user": "hi!"},
    ],
    ids=["max_tokens", "stop", "model", "text"],
)
def test_any_change_to_model_request_or_params_misses(project: Path, change: dict) -> None:
    config = config_in(project)
    run_jobs(config, [make_job("hi")], cache=True)
    again, pool = run_jobs(config, [make_job(**{"user": "hi", **change})], cache=True)
    assert len(pool.provider.calls) == 1 and not again.results[0].cached


def test_region_is_part_of_the_key(project: Path) -> None:
    config = config_in(project)
    store = open_store(config, "run", cache=True)
    assert store is not None
    job = make_job("hi")
    request, _ = job.request()
    assert store.lookup(job, request, "us-east-1") is None
    outcome, _ = run_jobs(config, [job], cache=False)  # any successful result to store
    result = outcome.results[0]
    result.region = "us-east-1"
    store.record(result, request)
    assert store.lookup(job, request, "us-east-1") is not None
    assert store.lookup(job, request, "eu-west-1") is None
    store.close()


def test_the_key_covers_model_region_and_whole_request_in_any_key_order() -> None:
    body = {"messages": [{"role": "user", "content": [{"text": "x"}]}],
            "inferenceConfig": {"temperature": 0, "maxTokens": 5}}  # fmt: skip
    reordered = {"inferenceConfig": {"maxTokens": 5, "temperature": 0},
                 "messages": [{"content": [{"text": "x"}], "role": "user"}]}  # fmt: skip
    key = cache_key("m", "us-east-1", body)
    assert key == cache_key("m", "us-east-1", reordered)
    assert len({key, cache_key("m2", "us-east-1", body), cache_key("m", None, body)}) == 3


def test_entries_older_than_the_ttl_are_not_used(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = config_in(project)
    run_jobs(config, [make_job("hi")], cache=True)
    fresh, pool = run_jobs(config, [make_job("hi")], cache=True, cache_ttl=3600)
    assert fresh.results[0].cached and pool.provider.calls == []
    later = time.time() + 7200
    monkeypatch.setattr("promptlab.store.core.time.time", lambda: later)
    stale, pool = run_jobs(config, [make_job("hi")], cache=True, cache_ttl=3600)
    assert not stale.results[0].cached and pool.provider.calls == ["hi"]
    # the fresh answer replaced the stale entry
    assert db_rows(config, "SELECT created_ts FROM cache")[0]["created_ts"] == later


def test_cache_stats_and_clear_commands(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = config_in(project)
    assert cli("cache", "stats").exit_code == 0  # no store yet: fine, nothing created
    assert not config.store_path.exists()
    with monkeypatch.context() as m:  # an entry from long ago
        m.setattr("promptlab.store.core.time.time", lambda: 1_000_000.0)
        run_jobs(config, [make_job("old")], cache=True)
    run_jobs(config, [make_job("new")], cache=True)
    run_jobs(config, [make_job("new"), make_job("new", case="again")], cache=True)
    info = json.loads(cli("cache", "stats", "--format", "json").stdout)
    assert (info["entries"], info["hits"]) == (2, 2)
    assert info["models"] == [{"model_id": "echo", "entries": 2, "hits": 2}]
    table = cli("cache", "stats").stdout
    assert "entries:  2" in table and "hits:     2" in table
    result = cli("cache", "clear", "--older-than", "30d")
    assert result.exit_code == 0 and "removed 1 cache entry" in result.stdout
    assert [r["hits"] for r in db_rows(config, "SELECT hits FROM cache")] == [2]
    assert "removed 1 cache entry" in cli("cache", "clear").stdout
    assert db_rows(config, "SELECT * FROM cache") == []
    assert len(db_rows(config)) == 4  # history is untouched
    bad = cli("cache", "clear", "--older-than", "soon")
    assert bad.exit_code == 2 and "--older-than 'soon'" in bad.stderr

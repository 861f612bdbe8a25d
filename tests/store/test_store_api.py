"""Run history through the store API: what every call records (and never records).

Also holds the small builders the other store/log/stats/cache tests share.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from promptlab.catalogue import ModelRef
from promptlab.config import Config, load_config
from promptlab.prompt import Prompt, Rendered
from promptlab.providers.base import ModelCallError, OnText, ProviderPool
from promptlab.request import InferenceParams, Request
from promptlab.results import Completion, ErrorInfo, Result
from promptlab.runner import Job, Runner, RunOutcome
from promptlab.store import open_store
from promptlab.store.core import cache_key, insert_call
from promptlab.store.db import connect, migrate
from promptlab.store.gitinfo import git_state

ECHO_REF = ModelRef("echo", "echo", None, "echo")


def make_job(
    user: str = "Hello",
    *,
    ref: ModelRef = ECHO_REF,
    params: InferenceParams | None = None,
    case: str | None = None,
    repeat: int = 0,
    cacheable: bool = True,
    name: str = "greet",
    version: str = "1.0.0",
    vars: dict[str, Any] | None = None,
) -> Job:
    prompt = Prompt(name, version, f"prompts/{name}.yaml", Path("."), f"hash-{name}-{version}")
    return Job(
        prompt, Rendered({}, "Be brief.", user), ref,
        params if params is not None else InferenceParams(temperature=0.0),
        vars=vars or {}, case=case, repeat_index=repeat, cacheable=cacheable,
    )  # fmt: skip


class ScriptedProvider:
    """Answers 'answer to <user text>' in 123 ms; user text containing FAIL raises."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def complete(
        self,
        ref: ModelRef,
        request: Request,
        *,
        stream: bool,
        on_text: OnText | None = None,
        on_reasoning: OnText | None = None,
    ) -> Completion:
        with self._lock:
            self.calls.append(request.user)
        if "FAIL" in request.user:
            raise ModelCallError("ThrottlingException", "Too many requests", infrastructure=True)
        return Completion(f"answer to {request.user}", "end_turn", 10, 5, 123, 45)

    def embed(self, ref: ModelRef, text: str) -> tuple[list[float], int]:
        raise NotImplementedError


class ScriptedPool(ProviderPool):
    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.provider = ScriptedProvider()

    def _create(self, kind: str) -> Any:
        return self.provider


def config_in(project: Path) -> Config:
    return load_config(project, env={})


def old_store(project: Path, upto: int, output: str = "older") -> Config:
    """The project's store at schema `upto` (as an older promptlab left it), holding one call
    of run `old-run` that answered `output`; its config."""
    config = config_in(project)
    config.store_path.parent.mkdir(parents=True)
    con = sqlite3.connect(config.store_path, isolation_level=None)
    con.row_factory = sqlite3.Row
    migrate(con, upto=upto)
    old = make_result(output=output, run_id="old-run")
    con.execute("INSERT INTO runs(id, command, started_ts) VALUES ('old-run', 'run', 1.0)")
    insert_call(con, old, cache_key(old.model_id, old.region, old.request), command="run",
                git=(None, None))  # fmt: skip
    con.close()
    return config


def run_jobs(
    config: Config, jobs: list[Job], *, command: str = "test", pool: ScriptedPool | None = None,
    **store_args: Any,
) -> tuple[RunOutcome, ScriptedPool]:  # fmt: skip
    """Open the store the way the commands do, run, close."""
    pool = pool or ScriptedPool(config)
    store_args.setdefault("cache", False)
    store = open_store(config, command, **store_args)
    try:
        runner = Runner(pool, config, store=store, run_id=store.run_id if store else None)
        outcome = runner.run(jobs)
    finally:
        if store is not None:
            store.close()
    return outcome, pool


def db_rows(config: Config, sql: str = "SELECT * FROM calls ORDER BY id") -> list[sqlite3.Row]:
    con = sqlite3.connect(config.store_path)
    con.row_factory = sqlite3.Row
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def make_result(
    *, model: str = "claude", prompt: str = "greet", version: str = "1.0.0",
    latency: int | None = 100, error: str | None = None, cached: bool = False,
    cost: float | None = 0.001, output: str = "fine", run_id: str = "run-a",
    user: str = "Hello", ttft: int | None = None,
) -> Result:  # fmt: skip
    """A finished Result for seeding the history directly."""
    return Result(
        prompt_name=prompt, prompt_version=version, prompt_hash=f"h-{prompt}-{version}",
        model_alias=model, model_id=f"vendor.{model}-v1", region="us-east-1",
        params={"temperature": 0}, request={"messages": [
            {"role": "user", "content": [{"text": user}]}]},
        output="" if error else output, stop_reason=None if error else "end_turn",
        input_tokens=None if error else 10, output_tokens=None if error else 5,
        latency_ms=None if error else latency, wall_ms=latency, ttft_ms=ttft,
        cost_usd=None if error else (0.0 if cached else cost),
        error=ErrorInfo(error, f"{error} happened") if error else None, cached=cached,
        run_id=run_id, started_at="2026-11-01T10:00:00.000+00:00",
    )  # fmt: skip


def seed(config: Config, results: list[tuple[Result, float]], command: str = "run") -> None:
    """Write (result, unix time) pairs straight into a fresh store, plus their runs."""
    connect(config.store_path).close()  # create and migrate
    con = sqlite3.connect(config.store_path, isolation_level=None)
    con.execute("BEGIN")
    for run_id in {r.run_id for r, _ in results}:
        con.execute(
            "INSERT OR IGNORE INTO runs(id, command, started_ts) VALUES (?, ?, ?)",
            (run_id, command, min(ts for r, ts in results if r.run_id == run_id)),
        )
    for result, ts in results:
        insert_call(con, result, cache_key(result.model_id, result.region, result.request),
                    command=command, git=(None, None), ts=ts)  # fmt: skip
    con.execute("COMMIT")
    con.close()


# ---------------------------------------------------------------- history


def test_every_call_is_recorded_with_identity_request_output_and_usage(project: Path) -> None:
    config = config_in(project)
    jobs = [
        make_job("Hi Ana", case="ana", vars={"name": "Ana"}),
        make_job("Hi Bo", case="bo", repeat=2, params=InferenceParams(0.5, max_tokens=64)),
    ]
    outcome, _ = run_jobs(config, jobs, command="test")
    rows = db_rows(config)
    assert len(rows) == 2
    by_case = {r["case_name"]: r for r in rows}
    ana, bo = by_case["ana"], by_case["bo"]
    assert ana["run_id"] == outcome.run_id and ana["command"] == "test"
    assert (ana["prompt_name"], ana["prompt_version"], ana["prompt_hash"]) == (
        "greet", "1.0.0", "hash-greet-1.0.0",
    )  # fmt: skip
    assert (ana["model_alias"], ana["model_id"]) == ("echo", "echo")
    assert ana["output"] == "answer to Hi Ana" and ana["stop_reason"] == "end_turn"
    assert (ana["input_tokens"], ana["output_tokens"]) == (10, 5)
    assert (ana["latency_ms"], ana["ttft_ms"]) == (123, 45)
    assert ana["vars"] == '{"name": "Ana"}'
    assert (
        '"text":"Hi Ana"' in ana["request"] and '"system":[{"text":"Be brief."}]' in ana["request"]
    )
    assert ana["cached"] == 0 and ana["error_code"] is None
    assert bo["repeat_index"] == 2
    assert bo["params"] == '{"max_tokens":64,"temperature":0.5}'
    assert '"inferenceConfig":{"maxTokens":64,"temperature":0.5}' in bo["request"]
    run = db_rows(config, "SELECT * FROM runs")
    assert [(r["id"], r["command"]) for r in run] == [(outcome.run_id, "test")]


def test_failed_calls_are_recorded_with_code_and_message(project: Path) -> None:
    config = config_in(project)
    run_jobs(config, [make_job("FAIL please")])
    (row,) = db_rows(config)
    assert row["error_code"] == "ThrottlingException"
    assert row["error_message"] == "Too many requests"
    assert row["error_infra"] == 1 and row["output"] == ""


def test_worker_threads_record_every_call(project: Path) -> None:
    config = config_in(project)
    jobs = [make_job(f"q{i}", case=str(i)) for i in range(64)]
    run_jobs(config, jobs, pool=None)
    assert len(db_rows(config)) == 64


def test_no_log_and_the_config_switch_turn_history_off(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = config_in(project)
    assert open_store(config, "run", cache=False, log=False) is None
    (project / "promptlab.yaml").write_text("store:\n  history: false\n", encoding="utf-8")
    assert open_store(config_in(project), "run", cache=False) is None
    (project / "promptlab.yaml").unlink()
    monkeypatch.setenv("PROMPTLAB_NO_LOG", "1")
    assert open_store(load_config(project), "run", cache=False) is None
    assert not config.store_path.exists()


def test_cache_without_history_writes_no_history_rows(project: Path) -> None:
    config = config_in(project)
    run_jobs(config, [make_job("hi")], cache=True, log=False)
    assert db_rows(config) == []
    assert len(db_rows(config, "SELECT * FROM cache")) == 1
    assert db_rows(config, "SELECT * FROM runs") == []


def test_environment_credentials_never_reach_the_store(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "SECRETzz9912")
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "BEARERqq5531")
    config = config_in(project)
    run_jobs(config, [make_job("hi")], cache=True)
    blob = b"".join(p.read_bytes() for p in config.store_path.parent.glob("promptlab.db*"))
    assert b"answer to hi" in blob  # the file holds the calls...
    assert b"SECRETzz9912" not in blob and b"BEARERqq5531" not in blob  # ...never credentials


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_commit_and_dirty_flag_are_recorded_inside_a_repository(project: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.email=a@b.c", "-c", "user.name=a", *args],
            cwd=project, check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip

    git("init", "-q")
    (project / "prompts" / "greet.yaml").write_text("input: hi\n", encoding="utf-8")
    git("add", ".")
    git("commit", "-q", "-m", "first")
    head = git("rev-parse", "HEAD")
    config = config_in(project)
    git_state.cache_clear()
    run_jobs(config, [make_job("one")])  # creates .promptlab/: must not make the tree dirty
    git_state.cache_clear()
    run_jobs(config, [make_job("two")])
    (project / "prompts" / "greet.yaml").write_text("input: changed\n", encoding="utf-8")
    git_state.cache_clear()
    run_jobs(config, [make_job("three")])
    git_state.cache_clear()
    rows = db_rows(config)
    assert [r["git_commit"] for r in rows] == [head] * 3
    assert [r["git_dirty"] for r in rows] == [0, 0, 1]


def test_outside_a_repository_git_fields_are_empty(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(project.parent))
    monkeypatch.setenv("PATH", str(project / "no-git-here"))  # and no git binary at all
    git_state.cache_clear()
    config = config_in(project)
    try:
        run_jobs(config, [make_job("hi")])
    finally:
        git_state.cache_clear()
    (row,) = db_rows(config)
    assert row["git_commit"] is None and row["git_dirty"] is None


def test_a_runner_with_its_own_run_id_still_gets_a_run_row(project: Path) -> None:
    config = config_in(project)
    store = open_store(config, "run", cache=False)
    assert store is not None
    outcome = Runner(ScriptedPool(config), config, store=store).run([make_job("hi")])
    store.close()
    runs = {r["id"] for r in db_rows(config, "SELECT id FROM runs")}
    assert runs == {store.run_id, outcome.run_id} and store.run_id != outcome.run_id
    assert [r["run_id"] for r in db_rows(config)] == [outcome.run_id]

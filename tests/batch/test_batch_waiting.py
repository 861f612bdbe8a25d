"""Ctrl-C while waiting leaves the jobs running and says how to collect them; a run cut short
between upload and submission finds its job by name instead of making a second one."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from promptlab.batch import service as batch_service
from promptlab.batch.service import BatchRun
from promptlab.config import load_config
from tests.batch.service import BatchService
from tests.conftest import Cli
from tests.fakebedrock import FakeBedrock


def interrupt(seconds: float) -> None:
    raise KeyboardInterrupt


def submitted_run(cli: Cli, service: BatchService) -> str:
    service.hold = True
    result = cli("run", "greet", "-m", "nova-micro", "--vars", "people.yaml", "--batch",
                 "--no-wait", "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return result.stderr.split("submitted run ", 1)[1].split(":", 1)[0]


def test_ctrl_c_while_waiting_leaves_the_jobs_running_and_says_how_to_collect(
    cli: Cli, service: BatchService, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = submitted_run(cli, service)
    monkeypatch.setattr(batch_service.time, "sleep", interrupt)
    result = cli("batch", "wait", run_id)
    assert result.exit_code == 130
    assert f"the batch jobs of run {run_id} keep running in AWS" in result.stderr
    assert f"promptlab batch collect {run_id}" in result.stderr
    [job] = fake_bedrock.batch.jobs.values()
    assert job["status"] == "InProgress"  # not stopped


def test_the_runner_keeps_a_batch_left_running_on_ctrl_c_as_pending(
    cli: Cli, service: BatchService, batch_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptlab.jobs import build_jobs
    from promptlab.providers.base import ProviderPool
    from promptlab.request import InferenceParams
    from promptlab.runner import Runner
    from promptlab.sources import open_prompt
    from promptlab.store import open_store

    service.hold = True
    config = load_config()
    people = [{"who": f"P{i}"} for i in range(120)]
    jobs = build_jobs(
        [open_prompt("greet", config)], people, {}, ["nova-micro"], InferenceParams(), config
    )
    store = open_store(config, "run", cache=False)
    assert store is not None
    batch = BatchRun(config, store.run_id)
    sleep = batch_service.time.sleep
    monkeypatch.setattr(batch_service.time, "sleep", interrupt)
    outcome = Runner(ProviderPool(config), config, store=store, run_id=store.run_id,
                     batch=batch).run(jobs)  # fmt: skip
    store.close()
    assert outcome.interrupted and outcome.batch_pending
    assert outcome.results == [] and len(outcome.batch_jobs) == 1
    monkeypatch.setattr(batch_service.time, "sleep", sleep)
    service.hold = False
    collected = cli("batch", "collect", outcome.run_id, "--format", "json")
    assert collected.exit_code == 0, collected.stderr
    assert len(json.loads(collected.stdout)) == 120


def test_a_job_recorded_but_not_confirmed_is_found_by_name_not_submitted_twice(
    cli: Cli, service: BatchService, fake_bedrock: FakeBedrock, batch_project: Path
) -> None:
    run_id = submitted_run(cli, service)
    con = sqlite3.connect(batch_project / ".promptlab" / "promptlab.db")
    with con:  # as if the process had died between CreateModelInvocationJob and its answer
        con.execute("UPDATE batch_jobs SET job_arn = NULL, status = 'Uploading'")
    service.hold = False
    result = cli("batch", "collect", run_id)
    assert result.exit_code == 0, result.stderr
    assert fake_bedrock.batch.created == 1


def test_status_of_a_run_without_batch_jobs_is_a_usage_error(cli: Cli, batch_project: Path) -> None:
    result = cli("run", "greet", "-m", "echo", "-v", "who=Ann")
    assert result.exit_code == 0
    status = cli("batch", "status", "last")
    assert status.exit_code == 2
    assert "has no batch jobs" in status.stderr

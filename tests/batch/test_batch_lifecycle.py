"""`run --batch` / `test --batch` end to end: records written and uploaded (moto S3), one
model invocation job per model (the fake control plane), progress, the output joined back by
record id, partial completion, failed, stopped and expired jobs, --no-wait then `batch
collect`, resume without resubmitting."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from promptlab.catalogue import cost_usd, resolve
from tests.batch.conftest import BUCKET, ROLE, SECRET, objects
from tests.batch.service import BatchService, Outcome
from tests.conftest import Cli
from tests.fakebedrock import FakeBedrock


def run_batch(cli: Cli, *more: str) -> Any:
    return cli("run", "greet", "-m", "nova-micro", "--vars", "people.yaml", "--batch",
               "--format", "json", *more)  # fmt: skip


def test_one_job_per_model_answers_joined_by_record_id_at_the_batch_price(
    cli: Cli, service: BatchService, fake_bedrock: FakeBedrock, s3: Any, batch_project: Path
) -> None:
    result = run_batch(cli)
    assert result.exit_code == 0, result.output + result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 120
    # the service answered in shuffled order: each answer still belongs to its own vars
    assert all(r["output"] == f"Batch: Say hello to {r['vars']['who']}." for r in rows)
    assert [r["vars"]["who"] for r in rows] == [f"P{i:03d}" for i in range(120)]
    price = cost_usd(resolve("nova-micro"), 1000, 200, batch=True)
    assert price is not None and price < cost_usd(resolve("nova-micro"), 1000, 200)  # type: ignore[operator]
    assert {r["cost_usd"] for r in rows} == {price}
    assert all(r["stop_reason"] == "end_turn" and r["usage"]["input_tokens"] == 1000 for r in rows)
    assert fake_bedrock.count(op="converse") == 0  # nothing ran online
    [job] = fake_bedrock.batch.jobs.values()
    assert fake_bedrock.batch.created == 1
    assert job["modelInvocationType"] == "Converse"
    assert job["modelId"] == "amazon.nova-micro-v1:0"
    assert job["roleArn"] == ROLE
    assert job["jobName"].startswith("promptlab-") and len(job["jobName"]) <= 63
    uri = job["inputDataConfig"]["s3InputDataConfig"]["s3Uri"]
    assert uri.startswith(f"s3://{BUCKET}/runs/")
    stored = objects(s3)
    assert all(head["ServerSideEncryption"] == "AES256" for head in stored.values())
    [record, *_] = service.records(job)
    assert set(record) == {"recordId", "modelInput"}
    assert record["modelInput"]["messages"][0]["content"][0]["text"] == "Say hello to P000."
    assert "requestMetadata" not in record["modelInput"]
    assert "batch price" in result.stderr
    assert "Completed" in result.stderr  # progress lines (stderr is not a terminal here)


def test_progress_reports_each_status_and_processed_records(
    cli: Cli, service: BatchService
) -> None:
    service.outcome = Outcome(polls=3)
    result = run_batch(cli)
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("batch: nova-micro")]
    assert "InProgress 0/120 records" in lines[0]
    assert any("InProgress 60/120 records" in line for line in lines)
    assert "Completed 120/120 records" in lines[-1] or "Completed" in lines[-1]


def test_record_errors_are_those_calls_errors_and_the_rest_are_kept(
    cli: Cli, service: BatchService
) -> None:
    service.outcome = Outcome(status="PartiallyCompleted", errors=3)
    result = run_batch(cli)
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    failed = [r for r in rows if r["error"]]
    assert len(rows) == 120 and len(failed) == 3
    assert {r["error"]["code"] for r in failed} == {"400"}
    assert failed[0]["error"]["message"] == "Malformed input request"


@pytest.mark.parametrize(
    ("status", "message"),
    [("Failed", "Access denied to s3://pl-batch-test/runs"), ("Expired", "timed out after 24h")],
)
def test_a_failed_or_expired_job_says_why_and_keeps_the_records_it_finished(
    cli: Cli, service: BatchService, status: str, message: str
) -> None:
    service.outcome = Outcome(status=status, message=message, finished=50)
    result = run_batch(cli)
    assert result.exit_code == 1
    assert f"{status.lower()}: {message}; the records it finished are kept" in result.stderr
    rows = json.loads(result.stdout)
    assert sum(1 for r in rows if r["error"] is None) == 50
    lost = [r for r in rows if r["error"]]
    assert len(lost) == 70
    assert {r["error"]["code"] for r in lost} == {f"BatchJob{status}"}
    assert message in lost[0]["error"]["message"]


def test_no_wait_submits_then_batch_collect_reads_the_answers_into_the_history(
    cli: Cli, service: BatchService, fake_bedrock: FakeBedrock, batch_project: Path
) -> None:
    service.hold = True
    submitted = run_batch(cli, "--no-wait")
    assert submitted.exit_code == 0, submitted.stderr
    assert json.loads(submitted.stdout) == []
    [job] = fake_bedrock.batch.jobs.values()
    job_id = job["jobArn"].rsplit("/", 1)[-1]
    assert job_id in submitted.stderr and "promptlab batch collect" in submitted.stderr
    run_id = submitted.stderr.split("submitted run ", 1)[1].split(":", 1)[0]
    status = cli("batch", "status", run_id)
    assert status.exit_code == 0 and "InProgress" in status.stdout and job_id in status.stdout
    service.hold = False
    collected = cli("batch", "collect", run_id, "--format", "json")
    assert collected.exit_code == 0, collected.stderr
    assert len(json.loads(collected.stdout)) == 120
    assert f"collected run {run_id}: 120 answered, 0 error(s)" in collected.stderr
    again = cli("batch", "collect", "last", "--format", "jsonl")  # collected once: same answers
    assert again.exit_code == 0 and len(again.stdout.splitlines()) == 120
    con = sqlite3.connect(batch_project / ".promptlab" / "promptlab.db")
    assert (
        con.execute("SELECT COUNT(*) FROM calls WHERE run_id = ?", (run_id,)).fetchone()[0] == 120
    )
    assert fake_bedrock.batch.created == 1


def test_test_resumed_with_batch_finds_the_submitted_jobs_and_submits_nothing_again(
    cli: Cli, service: BatchService, fake_bedrock: FakeBedrock, batch_project: Path
) -> None:
    service.hold = True
    first = cli("test", "greet", "-m", "nova-micro", "--repeat", "60", "--no-cache", "--batch",
                "--no-wait")  # fmt: skip
    assert first.exit_code == 0, first.output + first.stderr
    assert fake_bedrock.batch.created == 1
    service.hold = False
    resumed = cli("test", "greet", "-m", "nova-micro", "--repeat", "60", "--no-cache", "--batch",
                  "--resume", "last", "--json", "report.json")  # fmt: skip
    assert resumed.exit_code == 0, resumed.output + resumed.stderr
    assert fake_bedrock.batch.created == 1  # found by the run's record ids, not made again
    report = json.loads((batch_project / "report.json").read_text("utf-8"))
    assert [c["status"] for c in report["cases"]] == ["pass", "pass"]
    assert sum(len(c["samples"]) for c in report["cases"]) == 120
    assert fake_bedrock.count(op="converse") == 0


def test_a_stopped_job_is_reported_with_the_services_reason(
    cli: Cli, service: BatchService, fake_bedrock: FakeBedrock
) -> None:
    service.hold = True
    submitted = run_batch(cli, "--no-wait")
    run_id = submitted.stderr.split("submitted run ", 1)[1].split(":", 1)[0]
    assert cli("batch", "stop", run_id).exit_code == 0
    service.hold = False
    waited = cli("batch", "wait", run_id)
    assert waited.exit_code == 1
    assert "stopped: stopped by the user" in waited.stderr
    collected = cli("batch", "collect", run_id, "--format", "json")
    rows = json.loads(collected.stdout)
    assert collected.exit_code == 1 and {r["error"]["code"] for r in rows} == {"BatchJobStopped"}


def test_no_credentials_reach_the_records_the_store_or_the_output(
    cli: Cli, service: BatchService, fake_bedrock: FakeBedrock, s3: Any, batch_project: Path
) -> None:
    result = run_batch(cli)
    assert result.exit_code == 0
    assert SECRET not in result.stdout + result.stderr
    [job] = fake_bedrock.batch.jobs.values()
    assert SECRET not in json.dumps(service.records(job))
    assert SECRET.encode() not in (batch_project / ".promptlab" / "promptlab.db").read_bytes()

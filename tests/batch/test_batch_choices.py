"""What goes to batch and what runs online (with a notice), `--dry-run --batch`, `--cleanup`,
several jobs above a job's quota, and bad settings refused before anything is uploaded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from promptlab.batch import shapes
from tests.batch.conftest import BUCKET, objects
from tests.batch.service import BatchService
from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock


def run(cli: Cli, *args: str) -> Any:
    return cli("run", "greet", "--format", "json", *args)


def test_fewer_records_than_a_job_needs_run_online_with_a_notice(
    cli: Cli, service: BatchService, fake_bedrock: FakeBedrock, s3: Any
) -> None:
    result = run(cli, "-m", "nova-micro", "--vars", "few.yaml", "--batch")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 5
    assert fake_bedrock.count(op="converse") == 5
    assert fake_bedrock.batch.created == 0 and objects(s3) == {}
    assert "5 record(s), fewer than the 100 a batch job needs; its 5 call(s) run online" in (
        result.stderr
    )


def test_a_model_without_batch_inference_runs_online_beside_one_with_it(
    cli: Cli, service: BatchService, fake_bedrock: FakeBedrock
) -> None:
    result = run(cli, "-m", "nova-micro,nova-2-lite", "--vars", "people.yaml", "--batch")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 240
    assert fake_bedrock.count(model="us.amazon.nova-2-lite-v1:0", op="converse") == 120
    assert fake_bedrock.count(model="amazon.nova-micro-v1:0", op="converse") == 0
    assert "nova-2-lite: the model does not offer batch inference" in result.stderr
    assert [j["modelId"] for j in fake_bedrock.batch.jobs.values()] == ["amazon.nova-micro-v1:0"]


def test_batch_auto_stays_online_where_batch_is_not_known_to_be_cheaper(
    cli: Cli, service: BatchService, fake_bedrock: FakeBedrock, batch_project: Path
) -> None:
    config = batch_project / "promptlab.yaml"
    write(config, config.read_text() + "aliases: {l32: meta.llama3-2-11b-instruct-v1:0}\n")
    result = run(cli, "-m", "nova-micro,l32", "--vars", "people.yaml", "--batch=auto")
    assert result.exit_code == 0, result.stderr
    assert fake_bedrock.count(model="meta.llama3-2-11b-instruct-v1:0", op="converse") == 120
    assert "no batch price is known" in result.stderr
    assert fake_bedrock.batch.created == 1  # nova-micro: batch is cheaper


def test_dry_run_batch_shows_records_jobs_and_both_costs_and_calls_nothing(
    cli: Cli, service: BatchService, fake_bedrock: FakeBedrock, s3: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(shapes, "QUOTAS", (("amazon.nova-micro", shapes.Quotas(max_records=50)),))
    result = cli("run", "greet", "-m", "nova-micro,echo", "--vars", "people.yaml", "--batch",
                 "--dry-run")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("nova-micro │"))
    assert [cell.strip() for cell in line.split("│")[1:4]] == ["120", "batch", "3"]
    echo = next(x for x in result.stdout.splitlines() if x.startswith("echo       │"))
    assert "online" in echo and "not a Bedrock model with batch inference" in echo
    assert fake_bedrock.batch.created == 0 and objects(s3) == {}


def test_records_above_a_jobs_quota_go_to_several_jobs(
    cli: Cli, service: BatchService, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shapes, "QUOTAS", (("amazon.nova-micro", shapes.Quotas(max_records=50)),))
    result = run(cli, "-m", "nova-micro", "--vars", "people.yaml", "--batch")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 120
    counts = sorted(len(service.records(job)) for job in fake_bedrock.batch.jobs.values())
    assert counts == [20, 50, 50]


def test_cleanup_removes_the_uploaded_records_and_the_output(
    cli: Cli, service: BatchService, s3: Any
) -> None:
    result = run(cli, "-m", "nova-micro", "--vars", "people.yaml", "--batch", "--cleanup")
    assert result.exit_code == 0, result.stderr
    assert objects(s3) == {}


def test_without_cleanup_input_and_output_stay_under_the_run(
    cli: Cli, service: BatchService, s3: Any
) -> None:
    result = run(cli, "-m", "nova-micro", "--vars", "people.yaml", "--batch")
    assert result.exit_code == 0
    keys = sorted(objects(s3))
    assert len(keys) == 3  # the input file, its .out and manifest.json.out
    assert all(k.startswith("runs/") for k in keys)
    assert any(k.endswith("manifest.json.out") for k in keys)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role-arn", "arn:aws:iam::123:role/x"],
         "--role-arn: 'arn:aws:iam::123:role/x' is not an IAM role ARN"),
        (["--s3", "s3://Bad_Bucket/x"], "--s3: 's3://Bad_Bucket/x' is not an S3 URI Bedrock takes"),
        (["--s3", "s3://no-such-bucket-here/x"], "S3 bucket 'no-such-bucket-here' does not exist"),
        (["--batch=later"], "--batch=later: expected --batch or --batch=auto"),
    ],
)  # fmt: skip
def test_bad_batch_settings_are_one_line_and_exit_2_before_any_upload(
    cli: Cli, service: BatchService, fake_bedrock: FakeBedrock, s3: Any, args: list[str],
    message: str,
) -> None:  # fmt: skip
    flags = args if args[0].startswith("--batch=") else ["--batch", *args]
    result = run(cli, "-m", "nova-micro", "--vars", "people.yaml", *flags)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert fake_bedrock.batch.created == 0 and objects(s3) == {}
    assert fake_bedrock.count(op="converse") == 0


def test_a_bad_batch_setting_in_promptlab_yaml_names_its_line(
    cli: Cli, batch_project: Path
) -> None:
    write(
        batch_project / "promptlab.yaml", 'batch:\n  s3: "s3://pl-batch-test/x"\n  role_arn: me\n'
    )
    result = run(cli, "-m", "nova-micro", "--vars", "people.yaml", "--batch")
    assert result.exit_code == 2
    assert (
        "promptlab.yaml:3" in result.stderr
        and "batch role_arn: 'me' is not an IAM role ARN" in (result.stderr)
    )


def test_batch_without_a_bucket_or_role_says_which_setting_is_missing(
    cli: Cli, batch_project: Path, service: BatchService
) -> None:
    write(batch_project / "promptlab.yaml", "region: us-east-1\n")
    result = run(cli, "-m", "nova-micro", "--vars", "people.yaml", "--batch")
    assert result.exit_code == 2
    assert "batch inference needs --s3 (batch.s3) and --role-arn (batch.role_arn)" in result.stderr


def test_bucket_in_use_is_the_configured_one(s3: Any) -> None:
    assert s3.head_bucket(Bucket=BUCKET)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_test_dry_run_batch_plans_the_cases_calls_per_model(
    cli: Cli, fake_bedrock: FakeBedrock, batch_project: Path
) -> None:
    result = cli("test", "greet", "-m", "nova-micro", "--repeat", "60", "--batch", "--dry-run")
    assert result.exit_code == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("nova-micro │"))
    assert [cell.strip() for cell in line.split("│")[1:4]] == ["120", "batch", "1"]
    assert fake_bedrock.batch.created == 0


def test_batch_answers_show_in_the_run_table_like_online_ones(
    cli: Cli, service: BatchService
) -> None:
    result = cli("run", "greet", "-m", "nova-micro", "--vars", "people.yaml", "--batch")
    assert result.exit_code == 0, result.stderr
    assert "Batch: Say hello to P119." in result.stdout
    assert "120 call(s) · 0 error(s)" in result.stdout

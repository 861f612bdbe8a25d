"""A project set up for batch inference: a prompt with 120 variable sets and a suite, the
fake Bedrock (runtime and batch control plane), moto's S3 with the bucket, and the service
player (tests/batch/service.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from tests.batch.service import BatchService
from tests.conftest import write
from tests.fakebedrock import FakeBedrock

BUCKET = "pl-batch-test"
ROLE = "arn:aws:iam::123456789012:role/BedrockBatch"
SECRET = "SECRETKEYVALUE0123456789"  # must never appear in a record, the store or the output

GREET = """\
name: greet
version: "1.0.0"
input: Say hello to {{ who }}.
variables:
  who: {type: string}
inference: {temperature: 0, max_tokens: 50}
tests:
  - name: ann
    vars: {who: Ann}
    assert: [{contains: Ann}]
  - name: bob
    vars: {who: Bob}
    assert: [{contains: Bob}]
"""


def people(n: int) -> str:
    return "".join(f"- who: P{i:03d}\n" for i in range(n))


@pytest.fixture
def batch_project(
    project: Path, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    write(project / "prompts" / "greet.yaml", GREET)
    write(project / "people.yaml", people(120))
    write(project / "few.yaml", people(5))
    settings = f'{{s3: "s3://{BUCKET}/runs", role_arn: "{ROLE}", poll_seconds: 0.001}}'
    write(project / "promptlab.yaml", f"batch: {settings}\n")
    with mock_aws():
        yield project


@pytest.fixture
def s3(batch_project: Path) -> Any:
    import boto3

    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def service(fake_bedrock: FakeBedrock, s3: Any) -> BatchService:
    return BatchService(fake_bedrock, s3)


def objects(s3: Any) -> dict[str, dict[str, Any]]:
    """Key → head_object of every object in the bucket."""
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return {k: s3.head_object(Bucket=BUCKET, Key=k) for k in keys}

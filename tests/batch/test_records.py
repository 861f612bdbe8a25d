"""Batch records: stable ids, the JSONL line, files split at a job's quotas, shapes checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptlab.batch import records, shapes
from promptlab.batch.shapes import Quotas
from promptlab.config import BatchSettings, load_config
from promptlab.errors import ConfigError
from tests.conftest import write


def rid(repeat: int = 0, body: bytes = b'{"messages":[]}', case: str | None = "a") -> str:
    return records.record_id("greet", "h1", case, "amazon.nova-micro-v1:0", repeat, "us-east-1",
                             body)  # fmt: skip


def test_a_record_id_is_stable_and_changes_with_repeat_case_and_request() -> None:
    assert rid() == rid()
    assert len({rid(), rid(repeat=1), rid(case="b"), rid(body=b'{"messages":[1]}')}) == 4
    assert rid().isalnum() and len(rid()) == 32


def test_a_line_is_the_record_id_and_the_converse_body_with_bytes_in_base64() -> None:
    body = records.body_json({
        "messages": [{"role": "user", "content": [{"image": {"format": "png",
                                                             "source": {"bytes": b"\x89PNG"}}}]}],
        "requestMetadata": {"promptlab_run": "r1"},
        "inferenceConfig": {"maxTokens": 5},
    })  # fmt: skip
    line = json.loads(records.record_line("pl1", body))
    assert line["recordId"] == "pl1"
    assert set(line["modelInput"]) == {"messages", "inferenceConfig"}
    image = line["modelInput"]["messages"][0]["content"][0]["image"]
    assert image["source"]["bytes"] == "iVBORw=="


def test_records_go_to_a_new_file_where_a_jobs_record_or_size_quota_ends(tmp_path: Path) -> None:
    lines = [
        (f"r{i}", records.record_line(f"r{i}", b'{"x":"' + b"y" * 50 + b'"}')) for i in range(7)
    ]
    by_count = list(records.write_parts(lines, tmp_path / "a", "m", Quotas(max_records=3)))
    assert [part.number for part, _ in by_count] == [1, 1, 1, 2, 2, 2, 3]
    assert [p.records for p in {id(p): p for p, _ in by_count}.values()] == [3, 3, 1]
    size = len(lines[0][1])
    by_size = list(records.write_parts(lines, tmp_path / "b", "m",
                                       Quotas(max_file_bytes=2 * size)))  # fmt: skip
    assert max(part.number for part, _ in by_size) == 4
    assert (tmp_path / "b" / "m-1.jsonl").read_bytes() == lines[0][1] + lines[1][1]


@pytest.mark.parametrize(
    ("value", "ok"),
    [("arn:aws:iam::123456789012:role/BedrockBatch", True),
     ("arn:aws:iam::123456789012:role/service-role/x", True),
     ("arn:aws:iam::12345:role/x", False), ("BedrockBatch", False),
     ("arn:aws:iam::123456789012:user/x", False)],
)  # fmt: skip
def test_role_arn_shapes(value: str, ok: bool) -> None:
    assert (shapes.role_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("s3://my-bucket/prefix", True), ("s3://my-bucket", True), ("s3://my-bucket/a/b/", True),
     ("s3://My_Bucket/x", False), ("https://my-bucket/x", False), ("s3://my-bucket//x", False)],
)  # fmt: skip
def test_s3_uri_shapes(value: str, ok: bool) -> None:
    assert (shapes.s3_problem(value) is None) is ok


def test_batch_settings_are_read_from_promptlab_yaml(project: Path) -> None:
    write(project / "promptlab.yaml",
          "batch:\n  s3: s3://b-1/p\n  role_arn: arn:aws:iam::123456789012:role/r\n"
          "  kms_key: alias/pl\n  poll_seconds: 5\n  timeout_hours: 48\n")  # fmt: skip
    assert load_config(project).batch == BatchSettings(
        "s3://b-1/p", "arn:aws:iam::123456789012:role/r", "alias/pl", 5.0, 48
    )


def test_a_batch_timeout_outside_the_services_range_names_its_line(project: Path) -> None:
    write(project / "promptlab.yaml", "batch:\n  timeout_hours: 200\n")
    with pytest.raises(ConfigError) as caught:
        load_config(project)
    assert caught.value.line == 2 and "24 to 168" in caught.value.message

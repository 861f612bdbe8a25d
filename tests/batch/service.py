"""Plays Bedrock's batch inference service in tests: the fake control plane
(tests/fakebedrock.py, `fake.batch`) holds the jobs; this reads a job's input records from
moto's S3 and, after a few status checks, writes its output records (in shuffled order, some
as record errors) and manifest.json.out where Bedrock would, and sets the job's end status.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from promptlab.batch.shapes import split_s3
from tests.fakebedrock import FakeBedrock


def converse_answer(body: dict[str, Any]) -> dict[str, Any]:
    """The modelOutput of one record: a Converse response naming the record's user text."""
    text = body["messages"][0]["content"][0]["text"]
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": f"Batch: {text}"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 1000, "outputTokens": 200, "totalTokens": 1200},
        "metrics": {"latencyMs": 321},
    }


@dataclass
class Outcome:
    """How the service ends a job."""

    status: str = "Completed"
    message: str = ""
    polls: int = 2  # status checks answered InProgress before the job ends
    errors: int = 0  # the first N records (in input order) get a record error
    finished: int | None = None  # records with output at all (None: every one)
    shuffle: bool = True


@dataclass
class BatchService:
    fake: FakeBedrock
    s3: Any
    outcome: Outcome = field(default_factory=Outcome)
    hold: bool = False  # keep every job InProgress (a run submitted with --no-wait)

    def __post_init__(self) -> None:
        self.fake.batch.on_get = self.on_get

    def on_get(self, job: dict[str, Any]) -> None:
        if job["status"] in ("Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"):
            return
        job["_polls"] = job.get("_polls", 0) + 1
        records = self.records(job)
        job["totalRecordCount"] = len(records)
        if job["status"] == "Stopping":
            self.finish(job, records, Outcome("Stopped", "stopped by the user", finished=0))
        elif self.hold or job["_polls"] <= self.outcome.polls:
            job["status"] = "InProgress"
            job["processedRecordCount"] = len(records) * (job["_polls"] - 1) // 2
        else:
            self.finish(job, records, self.outcome)

    def records(self, job: dict[str, Any]) -> list[dict[str, Any]]:
        bucket, key = split_s3(job["inputDataConfig"]["s3InputDataConfig"]["s3Uri"])
        body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return [json.loads(line) for line in body.splitlines() if line.strip()]

    def finish(self, job: dict[str, Any], records: list[dict[str, Any]], outcome: Outcome) -> None:
        done = records if outcome.finished is None else records[: outcome.finished]
        lines = []
        for n, record in enumerate(done):
            line: dict[str, Any] = {
                "recordId": record["recordId"],
                "modelInput": record["modelInput"],
            }
            if n < outcome.errors:
                line["error"] = {"errorCode": 400, "errorMessage": "Malformed input request"}
            else:
                line["modelOutput"] = converse_answer(record["modelInput"])
            lines.append(json.dumps(line))
        if outcome.shuffle:
            random.Random(7).shuffle(lines)
        bucket, prefix = split_s3(job["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"])
        job_id = job["jobArn"].rsplit("/", 1)[-1]
        name = job["inputDataConfig"]["s3InputDataConfig"]["s3Uri"].rsplit("/", 1)[-1]
        extra = {"ServerSideEncryption": "AES256"}
        self.s3.put_object(Bucket=bucket, Key=f"{prefix}/{job_id}/{name}.out",
                           Body="\n".join(lines).encode(), **extra)  # fmt: skip
        manifest = {"totalRecordCount": len(records), "processedRecordCount": len(done),
                    "successRecordCount": len(done) - outcome.errors,
                    "errorRecordCount": outcome.errors}  # fmt: skip
        self.s3.put_object(Bucket=bucket, Key=f"{prefix}/{job_id}/manifest.json.out",
                           Body=json.dumps(manifest).encode(), **extra)  # fmt: skip
        job.update(status=outcome.status, message=outcome.message,
                   processedRecordCount=len(done), successRecordCount=len(done) - outcome.errors,
                   errorRecordCount=outcome.errors)  # fmt: skip

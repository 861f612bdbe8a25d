"""Model invocation jobs: create (idempotent), look up, find by name, stop.

Fields as in botocore's `bedrock` service model (2023-04-20): CreateModelInvocationJob with
modelInvocationType `Converse`; GetModelInvocationJob's status, message and record counts;
ListModelInvocationJobs' nameContains (how a resumed run finds the jobs it made).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from promptlab.errors import ConfigError

TERMINAL = ("Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired")
FAILED = ("Failed", "Stopped", "Expired")


@dataclass(frozen=True)
class JobStatus:
    status: str
    message: str = ""
    total: int | None = None  # totalRecordCount, when the service reports it
    processed: int | None = None
    succeeded: int | None = None
    failed: int | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL


def _code(exc: Exception) -> tuple[str, str]:
    error = (getattr(exc, "response", None) or {}).get("Error", {})
    return str(error.get("Code") or type(exc).__name__), str(error.get("Message") or exc)


def job_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def create(
    bedrock: Any,
    *,
    name: str,
    role_arn: str,
    model_id: str,
    input_uri: str,
    output_uri: str,
    kms_key: str | None,
    timeout_hours: int,
) -> str:
    """Submit one job; its ARN. The client request token is the job name's digest, so a
    retried submission returns the same job instead of a second one."""
    output: dict[str, Any] = {"s3Uri": output_uri}
    if kms_key:
        output["s3EncryptionKeyId"] = kms_key
    token = hashlib.sha256(f"{name}|{input_uri}".encode()).hexdigest()[:64]
    try:
        resp = bedrock.create_model_invocation_job(
            jobName=name, roleArn=role_arn, clientRequestToken=token, modelId=model_id,
            inputDataConfig={"s3InputDataConfig": {"s3Uri": input_uri, "s3InputFormat": "JSONL"}},
            outputDataConfig={"s3OutputDataConfig": output},
            timeoutDurationInHours=timeout_hours, modelInvocationType="Converse",
        )  # fmt: skip
    except Exception as exc:
        code, message = _code(exc)
        raise ConfigError(f"batch: Bedrock refused job {name}: {code}: {message}",
                          "check batch.role_arn (its trust policy and S3 permissions, see the "
                          "README's Batch inference) and the model's batch availability in "
                          "this region") from None  # fmt: skip
    return str(resp["jobArn"])


def status(bedrock: Any, arn: str) -> JobStatus:
    try:
        resp = bedrock.get_model_invocation_job(jobIdentifier=arn)
    except Exception as exc:
        code, message = _code(exc)
        raise ConfigError(f"batch: cannot read job {job_id(arn)}: {code}: {message}") from None
    return JobStatus(
        str(resp.get("status") or "Submitted"), str(resp.get("message") or ""),
        resp.get("totalRecordCount"), resp.get("processedRecordCount"),
        resp.get("successRecordCount"), resp.get("errorRecordCount"),
    )  # fmt: skip


def find(bedrock: Any, name: str) -> str | None:
    """The ARN of the job with exactly this name, if one exists (a submission cut short before
    its ARN was recorded)."""
    kwargs: dict[str, Any] = {"nameContains": name, "maxResults": 100}
    while True:
        resp = bedrock.list_model_invocation_jobs(**kwargs)
        for job in resp.get("invocationJobSummaries", []):
            if job.get("jobName") == name:
                return str(job["jobArn"])
        if not resp.get("nextToken"):
            return None
        kwargs["nextToken"] = resp["nextToken"]


def stop(bedrock: Any, arn: str) -> None:
    bedrock.stop_model_invocation_job(jobIdentifier=arn)

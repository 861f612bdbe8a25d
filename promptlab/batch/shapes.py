"""What Bedrock batch inference takes, checked before anything is uploaded: role ARNs, S3
URIs, KMS keys (the shapes of botocore's `bedrock` service model), and the service's quotas.

Pure functions and tables: the config reader and the CLI check values with them at file:line
or per option; nothing here imports boto3.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# CreateModelInvocationJob's patterns (botocore bedrock 2023-04-20 service-2.json).
ROLE_ARN = re.compile(r"arn:aws(-[^:]+)?:iam::[0-9]{12}:role/[\w+=,.@/-]+")
S3_URI = re.compile(r"s3://([a-z0-9][-.a-z0-9]{1,61}[a-z0-9])(/[-!_*'().a-zA-Z0-9/]*)?")
KMS_KEY = re.compile(
    r"(arn:aws(-[^:]+)?:kms:[a-zA-Z0-9-]*:[0-9]{12}:((key/[a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)))"
    r"|([a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)"
)
ROLE_FORM = "an IAM role ARN, arn:aws:iam::123456789012:role/NAME"
S3_FORM = "s3://BUCKET/PREFIX (lower-case bucket name; letters, digits and -_.!*'()/ in the prefix)"
KMS_FORM = "a KMS key id, key ARN or alias/NAME"
MODES = ("on", "auto", "off")  # --batch, --batch=auto, online


@dataclass(frozen=True)
class Quotas:
    """Bedrock's batch inference quotas for one model (Service Quotas defaults: "Minimum number
    of records per batch inference job", "Records per batch inference job", "Batch inference
    input file size", "Batch inference job size")."""

    min_records: int = 100
    max_records: int = 50_000
    max_file_bytes: int = 1_000_000_000  # 1 GB per input file
    max_job_bytes: int = 5_000_000_000  # 5 GB per job


DEFAULT_QUOTAS = Quotas()
# Rows for model families whose quotas differ from the defaults (base model id prefix, first
# match wins); an account's raised quotas go here too.
QUOTAS: tuple[tuple[str, Quotas], ...] = ()


def quotas_for(base_id: str | None) -> Quotas:
    for prefix, quotas in QUOTAS:
        if base_id and base_id.startswith(prefix):
            return quotas
    return DEFAULT_QUOTAS


def role_problem(value: str) -> str | None:
    """Why `value` is not a role ARN Bedrock takes, or None."""
    if ROLE_ARN.fullmatch(value):
        return None
    return f"{value!r} is not an IAM role ARN"


def s3_problem(value: str) -> str | None:
    """Why `value` is not an S3 URI (s3://bucket/prefix) Bedrock takes, or None."""
    if S3_URI.fullmatch(value) and "//" not in value[5:]:
        return None
    return f"{value!r} is not an S3 URI Bedrock takes"


def kms_problem(value: str) -> str | None:
    return None if KMS_KEY.fullmatch(value) else f"{value!r} is not a KMS key"


def split_s3(uri: str) -> tuple[str, str]:
    """s3://bucket/a/b → ("bucket", "a/b") (no leading or trailing slash)."""
    match = S3_URI.fullmatch(uri)
    if match is None:
        raise ValueError(s3_problem(uri))
    return match.group(1), (match.group(2) or "").strip("/")


def join_s3(bucket: str, *parts: str) -> str:
    path = "/".join(p.strip("/") for p in parts if p.strip("/"))
    return f"s3://{bucket}/{path}" if path else f"s3://{bucket}/"

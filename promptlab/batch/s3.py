"""The run's S3 objects: the bucket checked before anything is uploaded, input files uploaded
with server-side encryption, output records read as a stream, objects removed on --cleanup.

boto3 clients are passed in (made by aws.AwsClients); errors become one-line ConfigErrors.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from promptlab.batch.shapes import join_s3, split_s3
from promptlab.errors import ConfigError

MANIFEST = "manifest.json.out"


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or type(exc).__name__)


def check_bucket(s3: Any, uri: str) -> None:
    """HeadBucket: the bucket exists and these credentials may use it. ConfigError if not."""
    bucket, _ = split_s3(uri)
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception as exc:
        code = _code(exc)
        denied = "is not accessible with these credentials"
        why = {"404": "does not exist", "NoSuchBucket": "does not exist", "403": denied,
               "AccessDenied": denied}.get(code, f"cannot be used ({code})")  # fmt: skip
        raise ConfigError(
            f"batch: S3 bucket {bucket!r} {why}",
            "create it in the run's region, or set batch.s3 / --s3 to a bucket you can write",
        ) from None


def encryption(kms_key: str | None) -> dict[str, str]:
    """The put arguments for server-side encryption: SSE-KMS with the key, else SSE-S3."""
    if kms_key:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key}
    return {"ServerSideEncryption": "AES256"}


def upload(s3: Any, path: Path, uri: str, kms_key: str | None) -> None:
    bucket, key = split_s3(uri)
    try:
        s3.upload_file(str(path), bucket, key, ExtraArgs=encryption(kms_key))
    except Exception as exc:
        raise ConfigError(
            f"batch: cannot upload {path.name} to {uri}: {_code(exc)}",
            "check the bucket policy and your s3:PutObject permission",
        ) from None


def _keys(s3: Any, uri: str) -> Iterator[str]:
    bucket, prefix = split_s3(uri)
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix + "/" if prefix else ""):
        for item in page.get("Contents", []):
            yield str(item["Key"])


def output_files(s3: Any, uri: str) -> list[str]:
    """The record files a job wrote under its output URI (`<job id>/<input name>.out`)."""
    bucket, _ = split_s3(uri)
    return [join_s3(bucket, k) for k in _keys(s3, uri)
            if k.endswith(".out") and not k.endswith(MANIFEST)]  # fmt: skip


def lines(s3: Any, uri: str) -> Iterator[bytes]:
    """The lines of one object, streamed (a line at a time in memory)."""
    bucket, key = split_s3(uri)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        yield from body.iter_lines(chunk_size=1 << 16)
    finally:
        body.close()


def remove(s3: Any, uri: str, *, prefix: bool) -> int:
    """Delete one object, or every object under a prefix; how many were deleted."""
    bucket, key = split_s3(uri)
    keys = list(_keys(s3, uri)) if prefix else [key]
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk]})
    return len(keys)

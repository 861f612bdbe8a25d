"""Batch records: a stable record id per call, its Converse body, and the JSONL input files
written as a stream (one line at a time, split where a job's quotas end).

An input line is `{"recordId": ID, "modelInput": BODY}` with BODY the Converse request body
(the job's modelInvocationType is `Converse`); bytes (images, documents) are base64, as in
Converse's JSON wire form.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from promptlab.batch.shapes import Quotas

# The Converse keys a batch record carries. requestMetadata (labels for invocation logs; the
# run id is in the job's name instead) is left out; guardrails, latency-optimized inference,
# service tiers and scripted tool exchanges are run online (plan.py says why).
RECORD_KEYS = (
    "messages", "system", "inferenceConfig", "toolConfig", "outputConfig",
    "additionalModelRequestFields", "additionalModelResponseFieldPaths",
)  # fmt: skip


def record_id(prompt: str, prompt_hash: str, case: str | None, model_id: str, repeat: int,
              region: str | None, body: bytes) -> str:  # fmt: skip
    """A stable id for one call: the same prompt, case, model, repeat, region and request
    body (its canonical JSON) give the same id in every process."""
    parts = (prompt, prompt_hash, case or "", model_id, str(repeat), region or "")
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass"))
    digest.update(b"\x00" + body)
    return "pl" + digest.hexdigest()[:30]


def model_input(converse: dict[str, Any]) -> dict[str, Any]:
    """The batch record's modelInput: the Converse body's keys a batch job takes."""
    return {k: converse[k] for k in RECORD_KEYS if k in converse}


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON")


def body_json(converse: dict[str, Any]) -> bytes:
    """The record's modelInput as canonical JSON (sorted keys): written once, hashed once."""
    text = json.dumps(model_input(converse), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"), default=_json_default)  # fmt: skip
    return text.encode("utf-8", "surrogatepass")


_HEAD = b'{"recordId":"'
_BODY = b'","modelInput":'


def record_line(rid: str, body: bytes) -> bytes:
    """One input line: `{"recordId": ID, "modelInput": BODY}` and a newline."""
    return _HEAD + rid.encode("ascii") + _BODY + body + b"}\n"


def body_of(line: bytes) -> bytes:
    """The BODY of a line record_line wrote."""
    return line[line.index(_BODY, len(_HEAD)) + len(_BODY) : line.rindex(b"}")]


@dataclass
class Part:
    """One input file: becomes one model invocation job."""

    number: int  # 1, 2, … within its model
    path: Path
    records: int = 0
    size: int = 0


def write_parts(
    lines: Iterable[tuple[str, bytes]], directory: Path, stem: str, quotas: Quotas
) -> Iterator[tuple[Part, str]]:
    """Write (record id, line) pairs into JSONL files under `directory`, a new file whenever
    the next line would pass the job's record or size quota. Yields (part, record id) for each
    line as it is written, so that a caller can note where each record went without holding
    them; files are closed before the next one starts. Memory: one line at a time."""
    directory.mkdir(parents=True, exist_ok=True)
    limit = min(quotas.max_file_bytes, quotas.max_job_bytes)
    part: Part | None = None
    out: IO[bytes] | None = None
    try:
        for rid, line in lines:
            if part is None or part.records >= quotas.max_records or part.size + len(line) > limit:
                if out is not None:
                    out.close()
                number = 1 if part is None else part.number + 1
                part = Part(number, directory / f"{stem}-{number}.jsonl")
                out = open(part.path, "wb")  # noqa: SIM115 - closed above or below
            assert out is not None
            out.write(line)
            part.records += 1
            part.size += len(line)
            yield part, rid
    finally:
        if out is not None:
            out.close()


def iter_jsonl(stream: Iterable[bytes]) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """(line, parsed) of a JSONL stream (blank lines skipped; a line that is not JSON is
    skipped too: the join reports the records it never saw)."""
    for raw in stream:
        raw = raw.strip()
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict):
            yield raw, data


def safe_stem(text: str) -> str:
    """A file- and job-name-safe form of a model alias."""
    out = "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
    while "--" in out:
        out = out.replace("--", "-")
    return out or "model"


def scratch_dir(root: Path, run_id: str) -> Path:
    """Where a run's input files are written before upload (kept out of git by .promptlab)."""
    path = root / ".promptlab" / "batch" / run_id
    path.mkdir(parents=True, exist_ok=True)
    return path


__all__ = ["Part", "iter_jsonl", "model_input", "record_id", "record_line", "write_parts"]

"""Batch inference on the client: writing N records (record ids, JSONL input files, the
records kept in the store) and joining N output records back into Results, with S3 and the
Bedrock control plane replaced by local stand-ins (files on disk), so only promptlab's own
work is timed. Reports client time (target: write + join of 10,000 records < 2 s) and peak
memory above what was held before each phase (tracemalloc): it must not grow with the record
count beyond the Results themselves.

    .venv/bin/python bench/batch.py                  # 10,000 and 100,000 records
    .venv/bin/python bench/batch.py --records 10000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from promptlab.batch.plan import Call
from promptlab.batch.service import BatchRun
from promptlab.batch.shapes import split_s3
from promptlab.config import BatchSettings, load_config
from promptlab.jobs import build_jobs
from promptlab.request import InferenceParams
from promptlab.sources import open_prompt

PROMPT = """\
name: classify
version: "1.0.0"
instructions: Classify the support ticket into billing, shipping, account or other.
input: "Ticket {{ n }}: {{ text }}"
format: One word.
variables:
  n: {type: integer}
  text: {type: string}
inference: {temperature: 0, max_tokens: 5}
"""


class Body:
    def __init__(self, path: Path) -> None:
        self.file = open(path, "rb")  # noqa: SIM115 - closed by close()

    def iter_lines(self, chunk_size: int = 1024) -> Iterator[bytes]:
        for line in self.file:
            yield line.rstrip(b"\n")

    def read(self) -> bytes:
        return self.file.read()

    def close(self) -> None:
        self.file.close()


class DiskS3:
    """The few S3 calls batch inference makes, over a directory (nothing held in memory)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, bucket: str, key: str) -> Path:
        return self.root / bucket / key

    def head_bucket(self, Bucket: str) -> dict[str, Any]:
        return {}

    def upload_file(self, path: str, bucket: str, key: str, ExtraArgs: Any = None) -> None:
        target = self._path(bucket, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": Body(self._path(Bucket, Key))}

    def get_paginator(self, name: str) -> Any:
        s3 = self

        class Pages:
            def paginate(self, Bucket: str, Prefix: str) -> Iterator[dict[str, Any]]:
                base = s3.root / Bucket
                keys = [str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()]
                yield {"Contents": [{"Key": k} for k in sorted(keys) if k.startswith(Prefix)]}

        return Pages()


class Control:
    """CreateModelInvocationJob / GetModelInvocationJob: every job ends at once."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}

    def create_model_invocation_job(self, **kwargs: Any) -> dict[str, Any]:
        arn = f"arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/{len(self.jobs):012d}"
        self.jobs[arn] = {**kwargs, "status": "Completed"}
        return {"jobArn": arn}

    def get_model_invocation_job(self, jobIdentifier: str) -> dict[str, Any]:
        return {"status": "Completed", "processedRecordCount": 1}

    def list_model_invocation_jobs(self, **kwargs: Any) -> dict[str, Any]:
        return {"invocationJobSummaries": []}


class Clients:
    def __init__(self, s3: DiskS3, control: Control) -> None:
        self.s3, self.control = s3, control

    def client(self, name: str) -> Any:
        return self.s3


def play_service(s3: DiskS3, control: Control) -> None:
    """Each job's output: every record answered, in shuffled order (the service's work)."""
    for arn, job in control.jobs.items():
        bucket, key = split_s3(job["inputDataConfig"]["s3InputDataConfig"]["s3Uri"])
        lines = s3._path(bucket, key).read_bytes().splitlines()
        random.Random(1).shuffle(lines)
        _, out_prefix = split_s3(job["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"])
        out = s3._path(
            bucket, f"{out_prefix}/{arn.rsplit('/', 1)[-1]}/{key.rsplit('/', 1)[-1]}.out"
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        message = {"role": "assistant", "content": [{"text": "billing"}]}
        usage = {"inputTokens": 40, "outputTokens": 2}
        answer = {"output": {"message": message}, "stopReason": "end_turn", "usage": usage}
        with open(out, "wb") as f:
            for line in lines:
                rid = json.loads(line)["recordId"]
                f.write(json.dumps({"recordId": rid, "modelOutput": answer}).encode() + b"\n")


def measure(records: int, work: Path, trace: bool) -> dict[str, float]:
    """One pass: client time (trace False) or peak memory above what was held (trace True;
    tracemalloc slows everything down, so the two are measured apart)."""
    root = work / f"p{records}-{trace}"
    (root / "prompts").mkdir(parents=True)
    (root / "prompts" / "classify.yaml").write_text(PROMPT)
    (root / "promptlab.yaml").write_text("region: us-east-1\n")
    os.chdir(root)
    config = load_config(root)
    config = config.__class__(**{**config.__dict__, "batch": BatchSettings(
        s3="s3://bench-bucket/runs", role_arn="arn:aws:iam::123456789012:role/Batch")})  # fmt: skip
    values = [{"n": i, "text": f"my parcel {i} never arrived and I was charged twice"}
              for i in range(records)]  # fmt: skip
    jobs = build_jobs([open_prompt("classify", config)], values, {}, ["nova-micro"],
                      InferenceParams(), config)  # fmt: skip
    calls = [Call(i, job, *job.request(), "us-east-1") for i, job in enumerate(jobs)]
    s3, control = DiskS3(work / f"s3-{records}-{trace}"), Control()
    batch = BatchRun(config, f"bench-{records}")
    batch._aws = Clients(s3, control)

    if trace:
        tracemalloc.start()
    held = tracemalloc.get_traced_memory()[0]
    start = time.process_time()
    planned, _ = batch.split(calls)
    batch.submit(planned)
    write_s = time.process_time() - start
    write_peak = tracemalloc.get_traced_memory()[1] - held
    tracemalloc.stop()

    play_service(s3, control)
    batch.wait()

    if trace:
        tracemalloc.start()
    held = tracemalloc.get_traced_memory()[0]
    start = time.process_time()
    joined = sum(1 for _ in batch.collect())  # streamed: no Result kept
    join_s = time.process_time() - start
    join_peak = tracemalloc.get_traced_memory()[1] - held
    tracemalloc.stop()
    assert joined == records, joined
    batch.close()
    return {"write_s": write_s, "join_s": join_s, "write_peak_mb": write_peak / 1e6,
            "join_peak_mb": join_peak / 1e6, "jobs": len(control.jobs)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, action="append")
    sizes = parser.parse_args().records or [10_000, 100_000]
    with tempfile.TemporaryDirectory() as tmp:
        here = os.getcwd()
        try:
            rows = []
            for n in sizes:
                timed, traced = measure(n, Path(tmp), False), measure(n, Path(tmp), True)
                rows.append((n, {**timed, "write_peak_mb": traced["write_peak_mb"],
                                 "join_peak_mb": traced["join_peak_mb"]}))  # fmt: skip
        finally:
            os.chdir(here)
    print("records   write s   join s   total s   write peak MB   join peak MB   jobs")
    for n, m in rows:
        total = m["write_s"] + m["join_s"]
        peaks = f"{m['write_peak_mb']:>13.1f}   {m['join_peak_mb']:>12.1f}"
        print(f"{n:>7,}   {m['write_s']:>7.2f}   {m['join_s']:>6.2f}   {total:>7.2f}   "
              f"{peaks}   {m['jobs']:>4}")  # fmt: skip
    small = next((m for n, m in rows if n == 10_000), None)
    if small is not None:
        total = small["write_s"] + small["join_s"]
        print(f"10,000 records: {total:.2f} s of client time (target < 2 s): "
              f"{'ok' if total < 2 else 'SLOW'}")  # fmt: skip


if __name__ == "__main__":
    main()

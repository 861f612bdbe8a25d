"""How close `run`'s engine gets to ideal concurrency against an endpoint with fixed latency.

Runs one prompt on 3 models × 20 variable sets (60 calls) against a local fake Bedrock
endpoint (tests/fakebedrock.py) that answers after a fixed latency, through the same engine
`promptlab run` uses (Runner + ProviderPool + BedrockProvider + boto3), and reports:

    wall / ideal        ideal = ceil(calls / concurrency) × latency (target ≤ 1.15)
    wall / sequential   a plain boto3 loop making the same calls one by one, same run

    .venv/bin/python bench/concurrency.py
    .venv/bin/python bench/concurrency.py --latency 0.5 --concurrency 16 --stream

No network, no AWS: fake credentials and AWS_ENDPOINT_URL_BEDROCK_RUNTIME point at 127.0.0.1.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from promptlab.catalogue import resolve
from promptlab.config import Config
from promptlab.prompt import load_prompt, render
from promptlab.providers.base import ProviderPool
from promptlab.runner import Job, Runner
from tests.fakebedrock import first_user_text, start_fake_bedrock

MODELS = ("claude-haiku", "nova-lite", "llama-70b")
PROMPT = """\
version: "1.0.0"
instructions: Answer in one sentence.
input: "Summarise ticket {{ n }} for {{ customer }}."
variables:
  n: {type: integer}
  customer: {type: string}
"""


@contextmanager
def endpoint_in_subprocess(serve: Callable[..., None], *args: Any) -> Iterator[str]:
    """A local fake endpoint in a process of its own, so its memory and CPU are not counted
    as the run's: `serve(*args, urls, stop)` puts its URL on `urls` and waits for `stop`.
    Yields the URL."""
    ctx = multiprocessing.get_context("spawn")
    urls = ctx.Queue()
    stop = ctx.Event()
    server = ctx.Process(target=serve, args=(*args, urls, stop), daemon=True)
    server.start()
    try:
        yield urls.get(timeout=30)
    finally:
        stop.set()
        server.join(timeout=10)


def isolate_aws(endpoint: str, home: Path) -> None:
    """Fake credentials and the local endpoint; nothing from ~/.aws leaks in."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[key]
    os.environ.update(
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME=endpoint,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )


def build_jobs(root: Path, sets: int) -> list[Job]:
    path = root / "prompts" / "bench.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PROMPT, encoding="utf-8")
    prompt = load_prompt(path)
    jobs = []
    for n in range(sets):
        values = {"n": n, "customer": f"customer-{n}"}
        rendered = render(prompt, values)
        for alias in MODELS:
            jobs.append(Job(prompt, rendered, resolve(alias), prompt.inference, vars=values))
    return jobs


def run_engine(config: Config, jobs: list[Job], concurrency: int, stream: bool) -> float:
    pool = ProviderPool(config)
    pool.prepare([j.ref for j in jobs])  # clients up front, as `run` does
    runner = Runner(pool, config, concurrency=concurrency, stream=stream)
    start = time.perf_counter()
    outcome = runner.run(jobs)
    wall = time.perf_counter() - start
    failed = [r for r in outcome.results if r.error]
    if failed or len(outcome.results) != len(jobs):
        raise SystemExit(f"engine run failed: {failed[0].error if failed else 'missing results'}")
    return wall


def run_sequential(config: Config, jobs: list[Job]) -> float:
    """The baseline: one boto3 client, one call after another."""
    import boto3
    from botocore.config import Config as BotoConfig

    client = boto3.client(
        "bedrock-runtime",
        region_name=config.region,
        config=BotoConfig(retries={"mode": "standard"}),
    )
    client.converse(modelId="warm.up-v1", messages=[{"role": "user", "content": [{"text": "hi"}]}])
    start = time.perf_counter()
    for job in jobs:
        request, _ = job.request()
        client.converse(modelId=job.ref.model_id, **request.to_converse())
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per call")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--sets", type=int, default=20, help="variable sets per model")
    parser.add_argument("--stream", action="store_true", help="ConverseStream instead")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, start_fake_bedrock() as fake:
        root = Path(tmp)
        isolate_aws(fake.url, root)
        fake.default.latency = args.latency
        fake.default.text = lambda body: "Summary: " + first_user_text(body)
        config = Config(root=root, region="us-east-1", concurrency=args.concurrency)
        jobs = build_jobs(root, args.sets)
        calls = len(jobs)

        # warm-up (imports, first connections), then the measured runs
        run_engine(config, jobs[: args.concurrency], args.concurrency, args.stream)
        wall = run_engine(config, jobs, args.concurrency, args.stream)
        sequential = run_sequential(config, jobs)

    ideal = math.ceil(calls / args.concurrency) * args.latency
    mode = "ConverseStream" if args.stream else "Converse"
    print(f"{calls} calls ({len(MODELS)} models × {args.sets} sets), {mode}, "
          f"latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}")  # fmt: skip
    print(f"  ideal      {ideal:7.2f} s   ceil({calls}/{args.concurrency}) × {args.latency:g} s")
    print(f"  engine     {wall:7.2f} s   {wall / ideal:.3f}× ideal (target ≤ 1.15)")
    print(f"  sequential {sequential:7.2f} s   plain boto3 loop; engine is "
          f"{sequential / wall:.1f}× faster")  # fmt: skip


if __name__ == "__main__":
    main()

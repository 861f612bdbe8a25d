"""Fair scheduling under throttling: one throttled model must not slow the healthy ones down.

Three models × 40 variable sets (120 calls) against the local fake Bedrock endpoint
(tests/fakebedrock.py, in its own process) with a fixed latency per call; one model is
throttled on half of its requests (429 ThrottlingException, answered at once; botocore's
standard retry mode retries it with backoff, up to `retries.max_attempts`). The same jobs run
twice through the engine `promptlab run` uses (Runner → BedrockProvider → boto3), in one run:

    fair      per-model caps, models taking turns, each model's limit adapting to throttling
    shared    the behaviour before: one pool of `--concurrency` threads, first come first served

and, per model, it reports:

    wall / ideal   its last answer's time since the start, against ceil(calls / cap) × latency
                   (the healthy models' target under `fair`: ≤ 1.15)
    attempts       requests sent (botocore's retries included), and calls that failed
                   throttled after every attempt
    limit          (throttled model, fair) the adaptive limit: mean over its run, lowest, last;
                   and its own ideal: the time its calls took (backoff included) spread over
                   the mean limit, i.e. how close it ran to the limit it adapted to

    .venv/bin/python bench/throttling.py
    .venv/bin/python bench/throttling.py --latency 0.3 --calls 60 --cap 4 --concurrency 12

No network, no AWS: fake credentials and AWS_ENDPOINT_URL_BEDROCK_RUNTIME point at 127.0.0.1.
Times vary with botocore's random backoff: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.concurrency import isolate_aws
from promptlab.catalogue import resolve
from promptlab.config import Config
from promptlab.prompt import load_prompt, render
from promptlab.providers.base import ProviderPool
from promptlab.runner import Event, Job, Runner
from promptlab.scheduling import AdaptiveLimit, Scheduler
from tests.fakebedrock import start_fake_bedrock

HEALTHY = ("claude-haiku", "nova-lite")
THROTTLED = "llama-70b"
MODELS = (*HEALTHY, THROTTLED)
PROMPT = """\
version: "1.0.0"
instructions: Answer in one sentence.
input: "Summarise ticket {{ n }}."
variables:
  n: {type: integer}
"""


def serve(latency: float, ratio: float, throttled_id: str, urls: Any, stop: Any) -> None:
    """The fake endpoint, in its own process: its threads do not compete with the runner's
    for the GIL. The throttled model's 429s come at once; its answers after `latency`."""
    with start_fake_bedrock(seed=11) as fake:
        fake.default.latency = latency
        fake.default.text = "A summary."
        fake.script(throttled_id, throttle_ratio=ratio)
        urls.put(fake.url)
        stop.wait()


@dataclass
class Measured:
    """What one engine run gave, per model alias."""

    wall: float = 0.0
    last: dict[str, float] = field(default_factory=dict)  # alias → its last answer's time
    attempts: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    busy: dict[str, float] = field(default_factory=dict)  # alias → sum of its calls' wall time
    limits: dict[str, AdaptiveLimit] = field(default_factory=dict)  # alias → its limit
    end: float = 0.0


def build_jobs(root: Path, calls: int) -> list[Job]:
    path = root / "prompts" / "bench.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PROMPT, encoding="utf-8")
    prompt = load_prompt(path)
    jobs = []
    for n in range(calls):
        rendered = render(prompt, {"n": n})
        for alias in MODELS:
            jobs.append(Job(prompt, rendered, resolve(alias), prompt.inference, vars={"n": n}))
    return jobs


def run_engine(config: Config, jobs: list[Job], *, shared: bool) -> Measured:
    pool = ProviderPool(config)
    pool.prepare([j.ref for j in jobs])  # clients up front, as `run` does
    measured = Measured()
    lock = threading.Lock()
    start = time.perf_counter()

    def on_event(event: Event) -> None:
        if event.kind == "done" and event.result is not None:
            r = event.result
            with lock:
                measured.last[r.model_alias] = time.perf_counter() - start
                measured.attempts[r.model_alias] = measured.attempts.get(r.model_alias, 0) + (
                    r.attempts
                )
                measured.busy[r.model_alias] = measured.busy.get(r.model_alias, 0.0) + (
                    (r.wall_ms or 0) / 1000
                )
                if r.error:
                    measured.failed[r.model_alias] = measured.failed.get(r.model_alias, 0) + 1

    def shared_pool(total: int, caps: dict[str, int]) -> Scheduler[int]:
        return Scheduler.shared_pool(total)

    runner = Runner(pool, config, on_event=on_event, scheduler=shared_pool if shared else None)
    start = time.perf_counter()
    outcome = runner.run(jobs)
    measured.wall = time.perf_counter() - start
    measured.end = time.monotonic()
    names = {j.ref.model_id: j.ref.alias for j in jobs}
    measured.limits = {names[k]: v for k, v in runner.scheduler.limits().items()}
    wrong = [r for r in outcome.results if r.error and r.error.code != "ThrottlingException"]
    if wrong or len(outcome.results) != len(jobs):
        raise SystemExit(f"engine run failed: {wrong[0].error if wrong else 'missing results'}")
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per call")
    parser.add_argument("--calls", type=int, default=40, help="calls per model")
    parser.add_argument("--cap", type=int, default=4, help="each model's concurrency cap")
    parser.add_argument("--concurrency", type=int, default=12, help="overall (the pool)")
    parser.add_argument("--ratio", type=float, default=0.5, help="share of requests throttled")
    args = parser.parse_args()

    throttled_id = resolve(THROTTLED).model_id
    ctx = multiprocessing.get_context("spawn")
    urls: Any = ctx.Queue()
    stop = ctx.Event()
    server = ctx.Process(
        target=serve, args=(args.latency, args.ratio, throttled_id, urls, stop), daemon=True
    )
    server.start()
    url = urls.get(timeout=30)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        isolate_aws(url, root)
        caps = {alias: args.cap for alias in MODELS}
        config = Config(root=root, region="us-east-1", concurrency=args.concurrency,
                        model_concurrency=caps)  # fmt: skip
        jobs = build_jobs(root, args.calls)
        healthy_only = [j for j in jobs if j.ref.alias in HEALTHY]
        run_engine(config, healthy_only[: args.concurrency], shared=False)  # warm-up
        fair = run_engine(config, jobs, shared=False)
        shared = run_engine(config, jobs, shared=True)
    stop.set()
    server.join(timeout=10)

    ideal = math.ceil(args.calls / args.cap) * args.latency
    print(f"{len(jobs)} calls ({len(MODELS)} models × {args.calls}), latency "
          f"{args.latency * 1000:.0f} ms, {THROTTLED} throttled on {args.ratio:.0%} of requests; "
          f"concurrency {args.concurrency} overall, {args.cap} per model")  # fmt: skip
    print(f"ideal per model: ceil({args.calls}/{args.cap}) × {args.latency:g} s = {ideal:.2f} s\n")
    print(f"{'model':<14}{'run':<8}{'wall':>8}{'× ideal':>9}{'attempts':>10}{'failed':>8}")
    for alias in MODELS:
        for name, m in (("fair", fair), ("shared", shared)):
            wall = m.last.get(alias, 0.0)
            print(f"{alias:<14}{name:<8}{wall:7.2f}s{wall / ideal:8.2f}×"
                  f"{m.attempts.get(alias, 0):>10}{m.failed.get(alias, 0):>8}")  # fmt: skip
    limit = fair.limits[THROTTLED]
    mean = limit.mean(until=fair.end)
    own = fair.busy[THROTTLED] / mean
    wall = fair.last[THROTTLED]
    print(f"\n{THROTTLED} under fair scheduling: limit mean {mean:.2f} (lowest {limit.lowest}, "
          f"last {limit.limit}, cap {limit.cap}; {limit.cuts} cuts for {limit.throttled} "
          f"throttled calls)")  # fmt: skip
    print(
        f"  its own ideal: {fair.busy[THROTTLED]:.2f} s of calls (backoff included) / "
        f"{mean:.2f} = {own:.2f} s; wall {wall:.2f} s = {wall / own:.2f}× that"
    )
    slowest = max(fair.last[a] / ideal for a in HEALTHY)
    before = max(shared.last[a] / ideal for a in HEALTHY)
    print(
        f"healthy models, worst: fair {slowest:.2f}× ideal (target ≤ 1.15), "
        f"shared pool {before:.2f}× ideal"
    )


if __name__ == "__main__":
    main()

"""The HTML report of a large test run: time to write it and its size.

Builds a test run of 1,000 cases × 3 models (3,000 results with ~1 KB answers, every tenth
failing with two assertions) in memory, then writes `promptlab.views.html.test_page` for it,
and a run page of the same 3,000 results, and reports each one's time (median of -n runs) and
size against the targets: under 2 s and under 10 MB.

    python bench/html_report.py
    python bench/html_report.py -n 5 --cases 2000 --out /tmp/report.html   # keep the page
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from promptlab.results import Result
from promptlab.testing.outcomes import AssertionOutcome, CaseOutcome, Sample, TestRun
from promptlab.views.html import run_page, test_page

MODELS = (
    ("claude-haiku", "anthropic.claude-3-haiku-20240307-v1:0"),
    ("nova-lite", "amazon.nova-lite-v1:0"),
    ("llama-70b", "meta.llama3-70b-instruct-v1:0"),
)
ANSWER = ("The customer asked about a refund for order {n}. " * 22)[:1000]
TARGET_S, TARGET_MB = 2.0, 10.0


def build(cases: int) -> TestRun:
    outcomes = []
    for n in range(cases):
        for alias, model_id in MODELS:
            failing = n % 10 == 0
            result = Result(
                prompt_name="support-reply", prompt_version="1.2.0", prompt_hash="ab" * 32,
                model_alias=alias, model_id=model_id, region="us-east-1",
                params={"temperature": 0}, request={"messages": [{"role": "user", "content": [
                    {"text": f"Question {n}"}]}]}, output=ANSWER.format(n=n),
                content=[{"text": ANSWER.format(n=n)}], stop_reason="end_turn",
                input_tokens=400 + n % 50, output_tokens=250, latency_ms=800 + (n * 37) % 900,
                wall_ms=900, cost_usd=0.0004, case=f"case-{n:04d}", run_id="bench",
                started_at="2026-12-01T00:00:00+00:00",
            )  # fmt: skip
            checks = [
                AssertionOutcome("contains: refund", "contains", True, 1.0, 1.0, ""),
                AssertionOutcome("max-latency-ms", "max-latency-ms", not failing,
                                 0.0 if failing else 1.0, 1.0,
                                 "latency 1650 ms > 1500" if failing else ""),
            ]  # fmt: skip
            status = "fail" if failing else "pass"
            sample = Sample(result, status, 0.5 if failing else 1.0,
                            checks[1].reason, checks)  # fmt: skip
            outcomes.append(CaseOutcome(
                prompt={"name": "support-reply", "version": "1.2.0", "hash": "ab" * 32,
                        "path": "prompts/support-reply.yaml"},
                case=f"case-{n:04d}", model=alias, model_id=model_id, repeat=1, threshold=1.0,
                samples=[sample], status=status, reason=sample.reason,
            ))  # fmt: skip
    return TestRun(outcomes, "bench", "2026-12-01T00:00:00+00:00", 60_000)


def measure(make: object, runs: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        page = make()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
        size = len(page.encode("utf-8", "surrogatepass"))
    return statistics.median(times), size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3, help="runs of each page")
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--out", type=Path, help="also write the test page here")
    args = parser.parse_args()
    run = build(args.cases)
    results = [s.result for c in run.cases for s in c.samples]
    print(f"{args.cases} cases × {len(MODELS)} models = {len(results)} results; "
          f"median of {args.n} runs (targets: < {TARGET_S:g} s, < {TARGET_MB:g} MB)")  # fmt: skip
    ok = True
    for name, make in (("test page", lambda: test_page(run, source="bench")),
                       ("run page", lambda: run_page(results, source="bench"))):  # fmt: skip
        seconds, size = measure(make, args.n)
        mb = size / 1e6
        ok &= seconds < TARGET_S and mb < TARGET_MB
        print(f"  {name:10s} {seconds:6.2f} s   {mb:6.2f} MB")
    if args.out:
        args.out.write_text(test_page(run, source="bench"), "utf-8")
        print(f"wrote {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""How fast `log` and `stats` answer over a large history.

Fills a temporary store with synthetic calls (default 100,000) and times the queries behind
`promptlab log` (default listing, a filter, a full-text search, a time window) and
`promptlab stats`, then the same through the CLI in-process.

    .venv/bin/python bench/store.py            # 100,000 calls
    .venv/bin/python bench/store.py --calls 500000
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from promptlab.results import ErrorInfo, Result
from promptlab.store.core import cache_key, insert_call
from promptlab.store.db import connect
from promptlab.store.query import Filters, list_calls, stats

MODELS = ["claude-haiku", "nova-lite", "nova-pro", "llama-70b", "mistral-large"]
PROMPTS = [f"prompt-{i}" for i in range(20)]
WORDS = [
    "refund", "shipping", "invoice", "delivery", "account", "password", "order", "discount",
    "warranty", "return", "exchange", "billing", "subscription", "cancel", "upgrade", "support",
]  # fmt: skip


def synthetic(i: int, rng: random.Random, now: float) -> tuple[Result, float]:
    model = rng.choice(MODELS)
    prompt = rng.choice(PROMPTS)
    user = " ".join(rng.choices(WORDS, k=12)) + f" ticket {i}"
    failed = rng.random() < 0.03
    result = Result(
        prompt_name=prompt, prompt_version=f"1.{rng.randint(0, 4)}.0", prompt_hash=f"h{prompt}",
        model_alias=model, model_id=f"vendor.{model}-v1", region="us-east-1",
        params={"temperature": 0}, request={"messages": [
            {"role": "user", "content": [{"text": user}]}]},
        output="" if failed else " ".join(rng.choices(WORDS, k=40)),
        stop_reason=None if failed else "end_turn",
        input_tokens=rng.randint(50, 500), output_tokens=rng.randint(20, 800),
        latency_ms=None if failed else int(rng.lognormvariate(6.5, 0.5)),
        ttft_ms=int(rng.lognormvariate(5.5, 0.4)), cost_usd=rng.random() / 1000,
        error=ErrorInfo("ThrottlingException", "Too many requests") if failed else None,
        cached=rng.random() < 0.1, run_id=f"run-{i // 50}", case=f"case {i % 50}",
        cache_read_tokens=rng.randint(1000, 4000) if rng.random() < 0.3 else None,
    )  # fmt: skip
    return result, now - rng.random() * 30 * 86400  # spread over 30 days


def fill(path: Path, n: int) -> float:
    start = time.perf_counter()
    con = connect(path)
    rng = random.Random(7)
    now = time.time()
    rows = sorted((synthetic(i, rng, now) for i in range(n)), key=lambda rt: rt[1])
    con.execute("BEGIN")
    for run in sorted({r.run_id or "" for r, _ in rows}):
        con.execute("INSERT INTO runs(id, command, started_ts) VALUES (?, 'test', ?)", (run, now))
    for result, ts in rows:
        key = cache_key(result.model_id, result.region, result.request)
        insert_call(con, result, key, command="test", git=("0" * 40, False), ts=ts)
    con.execute("COMMIT")
    con.close()
    return time.perf_counter() - start


def timed(label: str, fn: Callable[[], Any], repeat: int = 5) -> None:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    print(f"  {label:<42} {best * 1000:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ".promptlab" / "promptlab.db"
        print(f"filling {args.calls:,} calls: {fill(path, args.calls):.1f} s, "
              f"{path.stat().st_size / 1e6:.0f} MB")  # fmt: skip
        con = connect(path)
        con.execute("PRAGMA optimize")
        day = time.time() - 86400
        print("queries (best of 5):")
        timed("log (50 newest)", lambda: list_calls(con, Filters()))
        timed("log --model nova-pro", lambda: list_calls(con, Filters(model="nova-pro")))
        timed("log --prompt prompt-3 --since 1d",
              lambda: list_calls(con, Filters(prompt="prompt-3", since=day)))  # fmt: skip
        timed("log --errors", lambda: list_calls(con, Filters(errors=True)))
        timed("log --search 'warranty invoice'",
              lambda: list_calls(con, Filters(search="warranty invoice")))  # fmt: skip
        timed("log --search 'ticket 99999' (rare)",
              lambda: list_calls(con, Filters(search="ticket 99999")))  # fmt: skip
        timed("stats (by model, all time)", lambda: stats(con, Filters()))
        timed("stats --since 1d", lambda: stats(con, Filters(since=day)))
        timed("stats --by version", lambda: stats(con, Filters(), "version"))
        con.close()
        cli_timings(Path(tmp))


def cli_timings(root: Path) -> None:
    """The same through the commands (in-process: no interpreter start-up counted)."""
    from typer.testing import CliRunner

    from promptlab.cli import app

    os.chdir(root)
    os.environ.pop("PROMPTLAB_STORE", None)
    runner = CliRunner()

    def invoke(*argv: str) -> Callable[[], None]:
        def go() -> None:
            result = runner.invoke(app, list(argv))
            assert result.exit_code == 0, result.output

        return go

    print("commands (in-process, best of 5):")
    timed("promptlab log", invoke("log"))
    timed("promptlab log --search refund -f jsonl", invoke("log", "--search", "refund", "-f",
                                                           "jsonl"))  # fmt: skip
    timed("promptlab stats", invoke("stats"))


if __name__ == "__main__":
    sqlite3.enable_callback_tracebacks(True)
    main()

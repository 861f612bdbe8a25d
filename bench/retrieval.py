"""Local retrieval over 1,000 generated documents: index build once, then query time.

Reports the import cost of the BM25 library, the index build (read, chunk, BM25) and each
query's time (median and p95 of 200 queries; target: under 50 ms). No AWS, no network.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DOCS = 1000
WORDS_PER_DOC = 300
QUERIES = 200
TARGET_MS = 50.0


def main() -> None:
    rng = random.Random(7)
    vocab = [f"term{i}" for i in range(8000)]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for n in range(DOCS):
            words = rng.choices(vocab, k=WORDS_PER_DOC)
            text = "\n\n".join(" ".join(words[i : i + 60]) for i in range(0, len(words), 60))
            (base / f"doc{n:04d}.md").write_text(text, "utf-8")
        started = time.perf_counter()
        import bm25s  # noqa: F401  (its import cost, numpy included)

        imported = time.perf_counter() - started
        from promptlab.retrieval.local import index_for, retrieve
        from promptlab.retrieval.spec import Source

        source = Source(None, ("*.md",), k=5, chunk=800, base=base)
        started = time.perf_counter()
        index = index_for(source)
        index.search("term1", 1)  # the BM25 index is built on the first query
        built = time.perf_counter() - started
        times = []
        for _ in range(QUERIES):
            query = " ".join(rng.choices(vocab, k=6))
            t0 = time.perf_counter()
            found = retrieve(source, query)
            times.append((time.perf_counter() - t0) * 1000)
            assert len(found) <= 5
    times.sort()
    median, p95 = statistics.median(times), times[int(len(times) * 0.95) - 1]
    print(f"documents {DOCS} ({len(index.chunks)} chunks of ≤800 characters)")
    print(f"bm25s import (numpy included): {imported * 1000:.0f} ms")
    print(f"index build (read, chunk, BM25), once per run: {built * 1000:.0f} ms")
    print(f"query: median {median:.2f} ms, p95 {p95:.2f} ms (target < {TARGET_MS:.0f} ms)")
    if p95 >= TARGET_MS:
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Images in a comparison run: memory held for the files, and wall time against the ideal.

Runs one prompt with an image variable on 3 models × 20 images (60 calls) against the local
fake Bedrock endpoint (tests/fakebedrock.py) with a fixed latency, through the engine
`promptlab run` uses (build_jobs → Runner → BedrockProvider → boto3), and reports:

    file copies      distinct bytes objects behind the 60 requests (target: one per file)
    peak / files     Python's peak allocation during the run (tracemalloc) over the files'
                     total size: the files once, plus what boto3 holds for the requests in
                     flight (each body base64-encoded: ~1.33× its image)
    wall / ideal     ideal = ceil(calls / concurrency) × latency (target ≤ 1.15)

    .venv/bin/python bench/attachments.py
    .venv/bin/python bench/attachments.py --size 1000000 --latency 0.5

No network, no AWS: fake credentials and AWS_ENDPOINT_URL_BEDROCK_RUNTIME point at 127.0.0.1.
"""

from __future__ import annotations

import argparse
import io
import math
import multiprocessing
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.concurrency import endpoint_in_subprocess, isolate_aws
from promptlab.config import Config
from promptlab.jobs import build_jobs
from promptlab.prompt import load_prompt
from promptlab.providers.base import ProviderPool
from promptlab.runner import Runner
from tests.fakebedrock import start_fake_bedrock

MODELS = ["claude-haiku", "nova-lite", "llama3.2-11b"]
PROMPT = """\
version: "1.0.0"
instructions: Describe the image in one sentence.
input: What is in screenshot {{ n }}?
variables:
  n: {type: integer}
  shot: {type: image}
"""


def write_images(folder: Path, count: int, size: int) -> int:
    """`count` PNG files of about `size` bytes each (noise does not compress); total bytes."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    side = max(8, int(math.sqrt(size / 3)))
    total = 0
    for i in range(count):
        img = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        buf = io.BytesIO()
        img.save(buf, "PNG", compress_level=1)
        path = folder / f"shot-{i:02d}.png"
        path.write_bytes(buf.getvalue())
        total += len(buf.getvalue())
    return total


def serve(latency: float, urls: multiprocessing.Queue[str], stop: Any) -> None:
    """The fake endpoint, in its own process: its memory (request bodies it parses and keeps)
    is not counted as promptlab's."""
    with start_fake_bedrock() as fake:
        fake.default.latency = latency
        fake.default.text = "A screenshot."
        urls.put(fake.url)
        stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--size", type=int, default=300_000, help="bytes per image, about")
    parser.add_argument("--latency", type=float, default=0.3, help="seconds per call")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with endpoint_in_subprocess(serve, args.latency) as url, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        isolate_aws(url, root)
        total = write_images(root / "shots", args.images, args.size)
        path = root / "prompts" / "shots.yaml"
        path.parent.mkdir(parents=True)
        path.write_text(PROMPT, encoding="utf-8")
        config = Config(root=root, region="us-east-1", concurrency=args.concurrency)
        prompt = load_prompt(path)
        sets = [{"n": i, "shot": f"@{root}/shots/shot-{i:02d}.png"} for i in range(args.images)]

        warm = build_jobs([prompt], sets[:1], {}, MODELS, prompt.inference, config)
        pool = ProviderPool(config)
        pool.prepare([j.ref for j in warm])
        Runner(pool, config, concurrency=args.concurrency).run(warm)  # imports, connections

        from promptlab import media

        media.clear_cache()
        tracemalloc.start()
        start = time.perf_counter()
        jobs = build_jobs([prompt], sets, {}, MODELS, prompt.inference, config)
        outcome = Runner(pool, config, concurrency=args.concurrency).run(jobs)
        wall = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        failed = [r for r in outcome.results if r.error]
        if failed or len(outcome.results) != len(jobs):
            raise SystemExit(f"run failed: {failed[0].error if failed else 'missing results'}")
        copies = {id(m.data) for j in jobs for _, m in j.rendered.attachments}

    calls = len(jobs)
    ideal = math.ceil(calls / args.concurrency) * args.latency
    print(f"{calls} calls ({len(MODELS)} models × {args.images} images of ~{total // args.images:,}"
          f" bytes, {total / 1e6:.1f} MB in all), latency {args.latency * 1000:.0f} ms, "
          f"concurrency {args.concurrency}")  # fmt: skip
    print(f"  file copies  {len(copies):5d}     for {args.images} files (target: one each)")
    print(f"  peak memory  {peak / 1e6:7.1f} MB  {peak / total:.2f}× the files' total size")
    print(
        f"  wall         {wall:7.2f} s   {wall / ideal:.3f}× ideal {ideal:.2f} s "
        "(target ≤ 1.15; rendering and reading the files included)"
    )


if __name__ == "__main__":
    main()

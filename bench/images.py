"""Image models side by side: wall time against the ideal, and the memory the images take.

Runs one image prompt on 4 image models × 4 seeds (16 calls, one 1024×1024 image each) against
the local fake Bedrock endpoint (tests/fakebedrock.py, in its own process) with a fixed latency,
through the engine `promptlab run` uses (build_jobs → Runner → BedrockImageProvider → boto3 →
imagefiles), and reports:

    wall / ideal     ideal = ceil(calls / concurrency) × latency (target ≤ 1.15): decoding,
                     hashing and writing every image included. The default latency, 5 s, is
                     that of a real 1024×1024 generation (Titan, Nova Canvas and Stability
                     take about 5 to 15 s); all 16 answers arrive at once, the worst case
    per image        promptlab's own CPU time per image (reading the answer, parsing its JSON,
                     decoding the base64, hashing, writing the file), measured once alone
    peak / images    Python's peak allocation during the run (tracemalloc) over the images'
                     total size: what is held while answers arrive (the answer's JSON text,
                     its base64 and the decoded bytes of the images in flight)
    files            images written, each once (checked against its sha256)

The fake's images are random pixels, so their PNGs are as large as photographs (~3 MB).

    .venv/bin/python bench/images.py
    .venv/bin/python bench/images.py --latency 5 --concurrency 8

No network, no AWS: fake credentials and AWS_ENDPOINT_URL_BEDROCK_RUNTIME point at 127.0.0.1.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import multiprocessing
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.concurrency import endpoint_in_subprocess, isolate_aws
from promptlab.config import Config
from promptlab.imagefiles import ImageFiles
from promptlab.jobs import build_jobs
from promptlab.prompt import load_prompt
from promptlab.providers.base import ProviderPool
from promptlab.runner import Runner
from tests.fakebedrock import start_fake_bedrock

MODELS = ["titan-image", "nova-canvas", "sd3.5-large", "stable-image-ultra"]
PROMPT = """\
kind: image
version: "1.0.0"
prompt: A studio photo of a ceramic mug on an oak table
image:
  size: 1024x1024
  seeds: [{seeds}]
"""


def serve(latency: float, urls: multiprocessing.Queue[str], stop: Any) -> None:
    """The fake endpoint, in its own process: its memory and its CPU (drawing and encoding the
    images it answers with) are not counted as promptlab's."""
    with start_fake_bedrock() as fake:
        fake.default.latency = latency
        fake.default.noise = True
        urls.put(fake.url)
        stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4, help="images per model (one call each)")
    parser.add_argument("--latency", type=float, default=5.0, help="seconds per call")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    with endpoint_in_subprocess(serve, args.latency) as url, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        isolate_aws(url, root)
        path = root / "prompts" / "mug.yaml"
        path.parent.mkdir(parents=True)
        path.write_text(PROMPT.format(seeds=", ".join(str(s) for s in range(1, args.seeds + 1))))
        config = Config(root=root, region="us-east-1", concurrency=args.concurrency)
        prompt = load_prompt(path)
        pool = ProviderPool(config)

        # Warm up: imports, connections, and the fake draws its images once. Then one call
        # alone, against no latency, for the CPU time of one image.
        warm = build_jobs([prompt], [{}], {}, MODELS, prompt.inference, config)
        pool.prepare([j.ref for j in warm])
        Runner(pool, config, concurrency=args.concurrency,
               images=ImageFiles(root / "warm")).run(warm)  # fmt: skip
        cpu = time.process_time()
        Runner(pool, config, concurrency=1, images=ImageFiles(root / "one")).run(warm[:1])
        cpu = time.process_time() - cpu  # waiting for the answer costs no CPU

        tracemalloc.start()
        start = time.perf_counter()
        jobs = build_jobs([prompt], [{}], {}, MODELS, prompt.inference, config)
        outcome = Runner(pool, config, concurrency=args.concurrency,
                         images=ImageFiles(root / "out")).run(jobs)  # fmt: skip
        wall = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        failed = [r for r in outcome.results if r.error]
        if failed or len(outcome.results) != len(jobs):
            raise SystemExit(f"run failed: {failed[0].error if failed else 'missing results'}")
        images = [i for r in outcome.results for i in r.images]
        files = sorted((root / "out").iterdir())
        intact = all(hashlib.sha256(Path(i["path"]).read_bytes()).hexdigest() == i["sha256"]
                     for i in images)  # fmt: skip
        total = sum(int(i["size"]) for i in images)
        size = f"{images[0]['width']}×{images[0]['height']}"

    calls = len(jobs)
    ideal = math.ceil(calls / args.concurrency) * args.latency
    print(f"{calls} calls ({len(MODELS)} models × {args.seeds} seeds, one {size} image each, "
          f"~{total / len(images) / 1e6:.1f} MB per PNG), latency {args.latency * 1000:.0f} ms, "
          f"concurrency {args.concurrency}")  # fmt: skip
    print(f"  files        {len(files):5d}     written once each, sha256 intact: {intact}")
    print(f"  peak memory  {peak / 1e6:7.1f} MB  {peak / total:.2f}× the images' total size "
          f"({total / 1e6:.1f} MB)")  # fmt: skip
    print(f"  wall         {wall:7.2f} s   {wall / ideal:.3f}× ideal {ideal:.2f} s (target ≤ 1.15)")
    print(f"  per image    {cpu * 1000:7.1f} ms  promptlab's CPU time for one image, alone")


if __name__ == "__main__":
    main()

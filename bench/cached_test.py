"""A fully cached `promptlab test` (120 calls) against the import floor.

Builds a throwaway project with one prompt and a 40-case suite on 3 Bedrock models
(120 calls), runs it once against the local fake Bedrock endpoint (tests/fakebedrock.py) to
fill the response cache, then measures, interleaved round-robin in one run:

    baseline   python -c "import typer, yaml, jinja2"      (the import floor)
    cached     promptlab test    (every call answered from the cache; target <= 2x baseline)

and reports the median of each and their ratio, and whether the cached run imported boto3
(it should not: providers are created on their first real call).

    python bench/cached_test.py            # 11 runs each
    python bench/cached_test.py -n 21 --check

No network, no AWS: fake credentials and AWS_ENDPOINT_URL_BEDROCK_RUNTIME point at 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.startup import bench_env, promptlab_command
from tests.fakebedrock import start_fake_bedrock

TARGET = 2.0
MODELS = ("claude-haiku", "nova-lite", "llama-70b")
CASES = 40
PROMPT = """\
version: "1.0.0"
instructions: Answer in one sentence.
input: "Summarise ticket {{ n }} for {{ customer }}."
variables:
  n: {type: integer}
  customer: {type: string}
inference: {temperature: 0, max_tokens: 200}
"""


def write_project(root: Path) -> None:
    (root / "prompts").mkdir(parents=True)
    (root / "promptlab.yaml").write_text("region: us-east-1\n", encoding="utf-8")
    (root / "prompts" / "ticket.yaml").write_text(PROMPT, encoding="utf-8")
    lines = ["prompt: ticket.yaml", f"defaults: {{models: [{', '.join(MODELS)}]}}", "tests:"]
    for i in range(CASES):
        lines += [f"  - name: case-{i}", f"    vars: {{n: {i}, customer: C{i}}}",
                  "    assert:", "      - not-contains: ERROR"]  # fmt: skip
    (root / "prompts" / "ticket.tests.yaml").write_text("\n".join(lines) + "\n", "utf-8")


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=11, help="runs of each command")
    parser.add_argument("--check", action="store_true", help=f"exit 1 over {TARGET}x")
    args = parser.parse_args()

    fake = start_fake_bedrock()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "proj"
            write_project(root)
            env = bench_env()
            for key in [k for k in env if k.startswith(("AWS_", "PROMPTLAB_"))]:
                del env[key]
            env.update(
                AWS_ENDPOINT_URL_BEDROCK_RUNTIME=fake.url, AWS_ACCESS_KEY_ID="testing",
                AWS_SECRET_ACCESS_KEY="testing", AWS_CONFIG_FILE=str(Path(tmp) / "none"),
                AWS_SHARED_CREDENTIALS_FILE=str(Path(tmp) / "none"),
                AWS_EC2_METADATA_DISABLED="true",
            )  # fmt: skip
            test = [*promptlab_command(), "test"]
            timed(test, root, env)  # fills the cache
            calls = fake.count()
            floor = [sys.executable, "-c", "import typer, yaml, jinja2"]
            for _ in range(2):  # warm-up: bytecode caches, page cache
                timed(floor, root, env)
                timed(test, root, env)
            times: dict[str, list[float]] = {"floor": [], "cached": []}
            for _ in range(args.n):
                times["floor"].append(timed(floor, root, env))
                times["cached"].append(timed(test, root, env))
            if fake.count() != calls:
                raise SystemExit("the cached runs called the model: the cache did not answer")
            probe = subprocess.run(
                [sys.executable, "-X", "importtime", "-m", "promptlab", "test"],
                cwd=root, env=env, capture_output=True, text=True,
            )  # fmt: skip
            boto = "botocore" in probe.stderr
    finally:
        fake.stop()
    floor_ms = statistics.median(times["floor"]) * 1000
    cached_ms = statistics.median(times["cached"]) * 1000
    ratio = cached_ms / floor_ms
    print(f"{calls} calls made to fill the cache; {args.n} runs each, medians:")
    print(f"  import floor              {floor_ms:7.0f} ms")
    print(f"  promptlab test (cached)   {cached_ms:7.0f} ms   {ratio:.2f}x   (target <= {TARGET}x)")
    print(f"  boto3 imported by the cached run: {'yes' if boto else 'no'}")
    return 1 if args.check and (ratio > TARGET or boto) else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())

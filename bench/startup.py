"""Start-up cost of promptlab's offline commands, relative to importing the libraries they need.

Measures, in one run and interleaved round-robin (so machine noise hits every command alike):

    baseline   python -c "import typer, yaml, jinja2"
    --help     promptlab --help
    render     promptlab render prompts/examples/support-reply.yaml --examples
    lint       promptlab lint prompts/

and reports each command's median wall time as a ratio to the baseline's (target: <= 1.5x for
--help and render; lint is reported for information — it also validates the test suites, and
checking their JSON schemas loads jsonschema, about 40 ms).

    python bench/startup.py                 # 21 runs each
    python bench/startup.py -n 51 --check   # exit 1 if a ratio is over the target
    python bench/startup.py --importtime    # the slowest imports of `render` (python -X importtime)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = "prompts/examples/support-reply.yaml"
TARGET = 1.5


def promptlab_command() -> list[str]:
    """The installed console script next to this Python, else `python -m promptlab`."""
    script = Path(sys.executable).parent / ("promptlab.exe" if os.name == "nt" else "promptlab")
    if script.exists():
        return [str(script)]
    found = shutil.which("promptlab")
    return [found] if found else [sys.executable, "-m", "promptlab"]


def commands() -> dict[str, list[str]]:
    pl = promptlab_command()
    libs = "import typer, yaml, jinja2"
    return {
        f'python -c "{libs}"': [sys.executable, "-c", libs],
        "promptlab --help": [*pl, "--help"],
        f"promptlab render {EXAMPLE} --examples": [*pl, "render", EXAMPLE, "--examples"],
        "promptlab lint prompts/": [*pl, "lint", "prompts/"],
    }  # fmt: skip


def bench_env() -> dict[str, str]:
    """The environment of a normal install: bytecode caching on (the warm-up runs fill it)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def time_once(argv: list[str]) -> float:
    """Wall time of one run, in seconds. A failing command aborts the benchmark."""
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, env=bench_env(), capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr.decode()[-2000:]}")
    return elapsed


def measure(runs: int, warmup: int = 2) -> dict[str, float]:
    """Median seconds per command, runs interleaved round-robin."""
    cmds = commands()
    samples: dict[str, list[float]] = {name: [] for name in cmds}
    for i in range(warmup + runs):
        for name, argv in cmds.items():
            t = time_once(argv)
            if i >= warmup:
                samples[name].append(t)
    return {name: statistics.median(ts) for name, ts in samples.items()}


def slowest_imports(limit: int = 15) -> list[tuple[int, str]]:
    """(cumulative µs, module) of the slowest imports of `render`, from python -X importtime."""
    argv = [sys.executable, "-X", "importtime", "-m", "promptlab", "render", EXAMPLE, "--examples"]
    proc = subprocess.run(argv, cwd=REPO, env=bench_env(), capture_output=True, text=True)
    rows: list[tuple[int, str]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        _self, cumulative, name = line.removeprefix("import time:").split("|")
        if cumulative.strip().isdigit():
            rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:limit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", "--runs", type=int, default=21, help="runs per command (median)")
    parser.add_argument("--check", action="store_true", help=f"exit 1 if a ratio > {TARGET}")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--importtime", action="store_true", help="show render's slowest imports")
    args = parser.parse_args()

    medians = measure(args.runs)
    names = list(medians)
    base = medians[names[0]]
    ratios = {name: medians[name] / base for name in names}
    over = [n for n in names[1:] if ratios[n] > TARGET and " lint " not in f" {n} "]

    if args.json:
        report = {
            "runs": args.runs,
            "target_ratio": TARGET,
            "python": sys.version.split()[0],
            "results": [
                {"command": n, "ms": round(medians[n] * 1e3, 1), "ratio": round(ratios[n], 2)}
                for n in names
            ],
        }  # fmt: skip
        print(json.dumps(report, indent=2))
    else:
        width = max(len(n) for n in names)
        print(
            f"{'command':<{width}}  {'median':>9}  {'ratio':>6}   (runs: {args.runs}, interleaved)"
        )
        for n in names:
            flag = "  over target" if n in over else ""
            flag = flag or ("  (no target)" if " lint " in f" {n} " else "")
            print(f"{n:<{width}}  {medians[n] * 1000:7.1f}ms  {ratios[n]:5.2f}x{flag}")
        print(f"target: promptlab --help and render <= {TARGET:.1f}x the baseline")
        if "PYTHONDONTWRITEBYTECODE" in os.environ:
            print("note: measured with bytecode caching on (PYTHONDONTWRITEBYTECODE ignored)")
    if args.importtime:
        print("\nslowest imports of render (cumulative):")
        for us, name in slowest_imports():
            print(f"  {us / 1000:7.1f}ms  {name.strip()}")
    return 1 if args.check and over else 0


if __name__ == "__main__":
    sys.exit(main())

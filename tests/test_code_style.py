"""The linters CI relies on, run as part of the suite: ruff, ruff format and mypy are clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "promptlab", "tests", "bench"],
        ["ruff", "format", "--check", "promptlab", "tests", "bench"],
        ["mypy"],
    ],
    ids=["ruff", "ruff-format", "mypy"],
)
def test_the_code_passes(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", *command], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]

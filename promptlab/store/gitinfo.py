"""The git commit and dirty flag recorded with each run (once per process, never failing)."""

from __future__ import annotations

import contextlib
import subprocess
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=8)
def git_state(root: Path, ignore: Path | None = None) -> tuple[str | None, bool | None]:
    """(HEAD commit, uncommitted changes?) for the repository holding `root`, else (None, None).

    Changes under `ignore` (the store's own directory) don't make the tree dirty.
    """
    head = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    if not head:
        return None, None
    pathspec = ["--", "."]
    if ignore is not None:
        with contextlib.suppress(ValueError):  # ValueError: the store is outside the project
            pathspec.append(f":(exclude){ignore.resolve().relative_to(root.resolve())}")
    status = _git(root, "status", "--porcelain", *pathspec)
    return head, (bool(status) if status is not None else None)


def _git(root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):  # no git, unreadable dir, hung
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.strip()

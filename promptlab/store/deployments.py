"""The `deployments` table: which prompt version and commit each managed prompt version holds.

Written by `promptlab publish`, read by `promptlab deployed`. Never fails a command: an
unusable store warns once (writing) or reads as empty (a file from before migration 5, or none).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from promptlab.store.core import warn_once
from promptlab.store.db import StoreError, connect

COLUMNS = (
    "prompt_name", "prompt_version", "prompt_hash", "prompt_path", "git_commit", "arn",
    "managed_version", "region", "ts",
)  # fmt: skip


@dataclass(frozen=True)
class Deployment:
    prompt_name: str
    prompt_version: str
    prompt_hash: str  # full sha256 content hash of the prompt file
    prompt_path: str | None
    git_commit: str | None
    arn: str  # the managed prompt's ARN (without a version)
    managed_version: str
    region: str | None
    ts: float = 0.0


def record(path: Path, deployment: Deployment) -> bool:
    """Append one row; False (with a warning) when the store cannot be written."""
    row = {c: getattr(deployment, c) for c in COLUMNS}
    row["ts"] = deployment.ts or time.time()
    try:
        con = connect(path)
    except StoreError as exc:
        warn_once(f"store:{path}", f"{exc}; the deployment is not recorded locally")
        return False
    try:
        con.execute(
            f"INSERT INTO deployments ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in COLUMNS)})",
            [row[c] for c in COLUMNS],
        )
    except sqlite3.Error as exc:
        warn_once(f"store:{path}", f"cannot write {path}: {exc}; the deployment is not recorded")
        return False
    finally:
        con.close()
    return True


def read_all(path: Path) -> list[Deployment]:
    """Every recorded deployment, oldest first; [] when there is no store or no table yet."""
    if not path.exists():
        return []
    try:
        con = connect(path, readonly=True)
    except StoreError:
        return []
    try:
        rows = con.execute(
            f"SELECT {', '.join(COLUMNS)} FROM deployments ORDER BY ts, id"
        ).fetchall()
    except sqlite3.Error:  # written before migration 5
        return []
    finally:
        con.close()
    return [Deployment(**{c: r[c] for c in COLUMNS}) for r in rows]

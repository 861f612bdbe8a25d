"""Retrieved passages kept in the store's response cache, like model answers.

An entry's key is `retrieval.key_of` (source settings, query, and for local files their
contents); its `model_id` is `retrieve:<knowledge base id>` or `retrieve:files`, so `promptlab
cache` lists retrieval next to the models. Used when the command's cache is on (`run --cache`,
`test`), with the same `--cache-ttl`. A store that cannot be opened is skipped with a warning.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from promptlab.retrieval.spec import Source


class PassageCache:
    def __init__(self, path: Path, ttl: float | None) -> None:
        self.path = path
        self.ttl = ttl
        self._con: sqlite3.Connection | None = None
        self._failed = False
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection | None:
        if self._con is None and not self._failed:
            from promptlab.store.core import warn_once
            from promptlab.store.db import StoreError, connect

            try:
                self._con = connect(self.path)
            except StoreError as exc:
                self._failed = True
                warn_once(f"open:{self.path}", f"{exc}; retrieval is not cached")
        return self._con

    def get(self, key: str) -> list[dict[str, Any]] | None:
        with self._lock:
            con = self._connection()
            if con is None:
                return None
            try:
                row = con.execute("SELECT answer, created_ts FROM cache WHERE key = ?",
                                  (key,)).fetchone()  # fmt: skip
                if row is None or (self.ttl is not None and time.time() - row[1] > self.ttl):
                    return None
                con.execute("UPDATE cache SET hits = hits + 1 WHERE key = ?", (key,))
            except sqlite3.Error:
                return None
        found: list[dict[str, Any]] = json.loads(row[0]).get("passages") or []
        return found

    def put(self, key: str, source: Source, passages: list[dict[str, Any]]) -> None:
        model = f"retrieve:{source.knowledge_base or 'files'}"
        answer = json.dumps({"passages": passages}, ensure_ascii=False, sort_keys=True)
        with self._lock:
            con = self._connection()
            if con is None:
                return
            try:
                con.execute(
                    "INSERT OR REPLACE INTO cache(key, model_id, created_ts, answer, hits) "
                    "VALUES (?, ?, ?, ?, 0)",
                    (key, model, time.time(), answer),
                )
            except sqlite3.Error:
                return

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

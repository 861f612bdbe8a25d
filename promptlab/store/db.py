"""The SQLite file: connection settings and the ordered list of schema migrations.

WAL mode lets readers and one writer work at once; every write is a short
`BEGIN IMMEDIATE` transaction, and `busy_timeout` makes a second process wait
for the lock instead of failing with "database is locked".
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BUSY_TIMEOUT_MS = 30_000
SETUP_ATTEMPTS = 50


class StoreError(Exception):
    """The store cannot be opened or written (unwritable path, newer schema, corrupt file)."""


def fts5_available() -> bool:
    """Whether this Python's SQLite was built with the FTS5 full-text extension."""
    try:
        con = sqlite3.connect(":memory:")
        try:
            con.execute("CREATE VIRTUAL TABLE t USING fts5(a)")
        finally:
            con.close()
    except sqlite3.Error:
        return False
    return True


def connect(path: Path, *, readonly: bool = False, immutable: bool = False) -> sqlite3.Connection:
    """Open (and, when writable, create and migrate) the store. Raises StoreError.

    `immutable` (read-only only) is for a file nothing can change, on a read-only directory or
    file system: SQLite then needs no -shm/-wal files beside it, which it could not create."""
    try:
        if readonly:
            query = "?mode=ro&immutable=1" if immutable else "?mode=ro"
            con = sqlite3.connect(
                f"{path.resolve().as_uri()}{query}", uri=True, check_same_thread=False,
                isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
            )  # fmt: skip
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(
                path, check_same_thread=False, isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )  # fmt: skip
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open {path}: {exc}") from exc
    con.row_factory = sqlite3.Row
    try:
        con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        for attempt in range(SETUP_ATTEMPTS):
            try:
                _setup(con, path, readonly)
                break
            except sqlite3.OperationalError as exc:
                # Two processes creating the file at once: switching to WAL can deadlock, and
                # SQLite then answers "locked" at once instead of waiting. Back off and retry.
                if attempt + 1 == SETUP_ATTEMPTS or not _is_busy(exc):
                    raise
                time.sleep(random.uniform(0.02, 0.1))
    except sqlite3.Error as exc:
        con.close()
        raise StoreError(f"cannot use {path}: {exc}") from exc
    except StoreError:
        con.close()
        raise
    return con


def _setup(con: sqlite3.Connection, path: Path, readonly: bool) -> None:
    version = con.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise StoreError(
            f"{path} was written by a newer promptlab (schema {version}, "
            f"this one knows {len(MIGRATIONS)}): upgrade promptlab"
        )
    if not readonly:
        if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = NORMAL")
        migrate(con)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def migrate(con: sqlite3.Connection, upto: int | None = None) -> int:
    """Apply pending migrations in one immediate transaction; return the schema version."""
    target = len(MIGRATIONS) if upto is None else upto
    if con.execute("PRAGMA user_version").fetchone()[0] >= target:
        return target
    con.execute("BEGIN IMMEDIATE")  # another process may be migrating: wait, then re-check
    try:
        version = con.execute("PRAGMA user_version").fetchone()[0]
        for number in range(version, target):
            MIGRATIONS[number](con)
            con.execute(f"PRAGMA user_version = {number + 1}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return max(version, target)


# ---------------------------------------------------------------- migrations (append only)


def _m1_tables(con: sqlite3.Connection) -> None:
    con.execute("""
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            command TEXT NOT NULL,
            started_ts REAL NOT NULL,
            git_commit TEXT,
            git_dirty INTEGER,
            resumed_ts REAL
        )""")
    con.execute("""
        CREATE TABLE calls (
            id INTEGER PRIMARY KEY,
            ts REAL NOT NULL,
            started_at TEXT,
            run_id TEXT NOT NULL,
            command TEXT NOT NULL,
            prompt_name TEXT NOT NULL,
            prompt_version TEXT NOT NULL,
            prompt_hash TEXT NOT NULL,
            prompt_path TEXT,
            prompt_ref TEXT,
            git_commit TEXT,
            git_dirty INTEGER,
            model_alias TEXT NOT NULL,
            model_id TEXT NOT NULL,
            region TEXT,
            real_model INTEGER NOT NULL DEFAULT 1,
            params TEXT NOT NULL,
            request TEXT NOT NULL,
            vars TEXT NOT NULL,
            case_name TEXT,
            repeat_index INTEGER NOT NULL DEFAULT 0,
            output TEXT NOT NULL DEFAULT '',
            stop_reason TEXT,
            input_tokens INTEGER,
            output_tokens INTEGER,
            tokens_estimated INTEGER NOT NULL DEFAULT 0,
            latency_ms INTEGER,
            wall_ms INTEGER,
            ttft_ms INTEGER,
            cost_usd REAL,
            error_code TEXT,
            error_message TEXT,
            error_hint TEXT,
            error_infra INTEGER,
            cached INTEGER NOT NULL DEFAULT 0,
            cached_from TEXT,
            cache_key TEXT NOT NULL,
            notices TEXT NOT NULL DEFAULT '[]'
        )""")
    con.execute("""
        CREATE TABLE cache (
            key TEXT PRIMARY KEY,
            model_id TEXT NOT NULL,
            created_ts REAL NOT NULL,
            answer TEXT NOT NULL,
            hits INTEGER NOT NULL DEFAULT 0,
            last_hit_ts REAL
        )""")


def _m2_indexes(con: sqlite3.Connection) -> None:
    con.execute("CREATE INDEX calls_ts ON calls(ts)")
    con.execute("CREATE INDEX calls_run ON calls(run_id, cache_key)")
    con.execute("CREATE INDEX calls_prompt ON calls(prompt_name, prompt_version, ts)")
    con.execute("CREATE INDEX calls_model ON calls(model_alias, ts)")
    con.execute("CREATE INDEX calls_errors ON calls(ts) WHERE error_code IS NOT NULL")
    # covers every column `stats` reads, so it never touches the wide rows
    con.execute(
        "CREATE INDEX calls_stats ON calls(model_alias, prompt_name, prompt_version, ts, cached, "
        "error_code, latency_ms, wall_ms, ttft_ms, input_tokens, output_tokens, cost_usd)"
    )
    con.execute("CREATE INDEX runs_started ON runs(command, started_ts)")
    con.execute("CREATE INDEX cache_created ON cache(created_ts)")


def _m3_fulltext(con: sqlite3.Connection) -> None:
    """Full-text index over the prompt text and output (skipped when FTS5 is missing)."""
    if not fts5_available():
        return
    con.execute("CREATE VIRTUAL TABLE calls_fts USING fts5(prompt, output, content='')")
    rows = con.execute("SELECT id, request, output FROM calls").fetchall()
    con.executemany(
        "INSERT INTO calls_fts(rowid, prompt, output) VALUES (?, ?, ?)",
        [(r["id"], prompt_text(json.loads(r["request"])), r["output"]) for r in rows],
    )


def _m4_answer_content(con: sqlite3.Connection) -> None:
    """The answer's content blocks (JSON); NULL means the answer is `output` as one text block,
    which every row written before this migration is."""
    con.execute("ALTER TABLE calls ADD COLUMN content TEXT")


def _m5_deployments(con: sqlite3.Connection) -> None:
    """Prompt Management versions published by `promptlab publish`, and where they came from."""
    con.execute("""
        CREATE TABLE deployments (
            id INTEGER PRIMARY KEY,
            ts REAL NOT NULL,
            prompt_name TEXT NOT NULL,
            prompt_version TEXT NOT NULL,
            prompt_hash TEXT NOT NULL,
            prompt_path TEXT,
            git_commit TEXT,
            arn TEXT NOT NULL,
            managed_version TEXT NOT NULL,
            region TEXT
        )""")
    con.execute("CREATE INDEX deployments_arn ON deployments(arn, managed_version)")


def _m6_stats_by_model_id(con: sqlite3.Connection) -> None:
    """`stats` groups by resolved model id: an index that covers what it reads, by model id."""
    con.execute(
        "CREATE INDEX calls_stats_model ON calls(model_id, model_alias, prompt_name, "
        "prompt_version, ts, cached, error_code, latency_ms, wall_ms, ttft_ms, input_tokens, "
        "output_tokens, cost_usd)"
    )


def _m7_exchange(con: sqlite3.Connection) -> None:
    """A scripted tool exchange's turns and a structured answer's parsed value (JSON each);
    NULL when a call had none, which every row written before this migration is."""
    con.execute("ALTER TABLE calls ADD COLUMN turns TEXT")
    con.execute("ALTER TABLE calls ADD COLUMN structured TEXT")


def _m8_billing(con: sqlite3.Connection) -> None:
    """What the bill needs besides input and output tokens: prompt-cache reads and writes,
    requests sent (retries included), the model that actually served the call, and the
    service's notes on the call (trace, tier). NULL in rows written before."""
    for column in ("cache_read_tokens INTEGER", "cache_write_tokens INTEGER",
                   "attempts INTEGER", "served_model_id TEXT", "response_meta TEXT"):  # fmt: skip
        con.execute(f"ALTER TABLE calls ADD COLUMN {column}")


def _m9_retried_calls(con: sqlite3.Connection) -> None:
    """`stats` counts retries per group: an index of the few calls that needed more than one
    attempt (`attempts` is NULL for the others), so it reads those rows only."""
    con.execute(
        "CREATE INDEX IF NOT EXISTS calls_retried ON calls(attempts) WHERE attempts IS NOT NULL"
    )


def _m10_stats_prompt_cache(con: sqlite3.Connection) -> None:
    """`stats` reads prompt-cache tokens too: its two covering indexes are made again with the
    cache columns (and what pricing the cache's savings needs) at the end."""
    stats = (
        "ts, cached, error_code, latency_ms, wall_ms, ttft_ms, input_tokens, output_tokens, "
        "cost_usd, cache_read_tokens, cache_write_tokens, real_model, served_model_id"
    )
    con.execute("DROP INDEX IF EXISTS calls_stats")
    con.execute("DROP INDEX IF EXISTS calls_stats_model")
    con.execute(f"CREATE INDEX calls_stats ON calls(model_alias, prompt_name, prompt_version, "
                f"{stats})")  # fmt: skip
    con.execute(f"CREATE INDEX calls_stats_model ON calls(model_id, model_alias, prompt_name, "
                f"prompt_version, {stats})")  # fmt: skip


def _m11_images(con: sqlite3.Connection) -> None:
    """An image model's images (JSON, one entry per image: the file's path and sha256, size,
    pixels, format, seed, index, why it was filtered); NULL for calls without images, which
    every row written before this migration is."""
    con.execute("ALTER TABLE calls ADD COLUMN images TEXT")


def _m12_ratings(con: sqlite3.Connection) -> None:
    """Human ratings (`promptlab review`): one row per rater and case of a run. `call_ids` are
    the answers shown, in the order shown (JSON list of calls.id); `winner_call_id` the one
    picked as better (NULL: no pick, or `tie`); `scores` JSON {call id: 1..5}; `source` the
    file a rating was imported from (NULL: rated in this store)."""
    con.execute("""
        CREATE TABLE ratings (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL,
            case_key TEXT NOT NULL,
            rater TEXT NOT NULL,
            call_ids TEXT NOT NULL,
            winner_call_id INTEGER REFERENCES calls(id),
            tie INTEGER NOT NULL DEFAULT 0,
            scores TEXT NOT NULL DEFAULT '{}',
            note TEXT,
            blind INTEGER NOT NULL DEFAULT 1,
            source TEXT,
            created_ts REAL NOT NULL,
            updated_ts REAL NOT NULL,
            UNIQUE (run_id, case_key, rater)
        )""")
    con.execute("CREATE INDEX ratings_run ON ratings(run_id)")


def _m13_fallback_chains(con: sqlite3.Connection) -> None:
    """A fallback chain's call: the link that served it (`served_by`) and the links passed
    over before it (`fallback`, JSON: model, reason, error, tokens, cost each); NULL for calls
    of single models, which every row written before this migration is."""
    con.execute("ALTER TABLE calls ADD COLUMN served_by TEXT")
    con.execute("ALTER TABLE calls ADD COLUMN fallback TEXT")
    con.execute("CREATE INDEX calls_chains ON calls(model_id) "
                "WHERE served_by IS NOT NULL OR fallback IS NOT NULL")  # fmt: skip


def _m14_passages(con: sqlite3.Connection) -> None:
    """The passages retrieved for a call (JSON list of {id, text, source, score, metadata,
    cited}) and the retrieval variant's label; NULL for calls without retrieval, which every
    row written before this migration is."""
    con.execute("ALTER TABLE calls ADD COLUMN passages TEXT")
    con.execute("ALTER TABLE calls ADD COLUMN retrieval TEXT")


def _m15_batch_jobs(con: sqlite3.Connection) -> None:
    """Bedrock batch inference: a run's model invocation jobs (one row per job: the model, the
    job's name and ARN, its input and output S3 URIs, its last known status and message, when it
    was collected and whether its S3 objects were removed); each record of those jobs (what
    its Result needs besides the answer, as JSON, and its output line once collected); and
    what the records of one prompt and model share (a Result before any answer, as JSON)."""
    con.execute("""
        CREATE TABLE IF NOT EXISTS batch_jobs (
            run_id TEXT NOT NULL,
            job_name TEXT NOT NULL,
            model_alias TEXT NOT NULL,
            model_id TEXT NOT NULL,
            job_arn TEXT,
            input_uri TEXT NOT NULL,
            output_uri TEXT NOT NULL,
            records INTEGER NOT NULL,
            status TEXT,
            message TEXT,
            submitted_ts REAL,
            collected_ts REAL,
            cleaned_ts REAL,
            PRIMARY KEY (run_id, job_name)
        )""")
    con.execute("""
        CREATE TABLE IF NOT EXISTS batch_records (
            run_id TEXT NOT NULL,
            record_id TEXT NOT NULL,
            job_name TEXT NOT NULL,
            asked TEXT NOT NULL,
            answered TEXT,
            PRIMARY KEY (run_id, record_id)
        )""")
    con.execute("""
        CREATE TABLE IF NOT EXISTS batch_templates (
            run_id TEXT NOT NULL,
            key TEXT NOT NULL,
            template TEXT NOT NULL,
            PRIMARY KEY (run_id, key)
        )""")


def _m16_batch_test_args(con: sqlite3.Connection) -> None:
    """The `promptlab test` arguments a batch run was submitted with (what selects its cases
    and calls, as a JSON list), so that `batch collect RUN` gives the verdict through the same
    `test` command without the user repeating them."""
    con.execute("""
        CREATE TABLE IF NOT EXISTS batch_test_args (
            run_id TEXT PRIMARY KEY,
            args TEXT NOT NULL
        )""")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _m1_tables, _m2_indexes, _m3_fulltext, _m4_answer_content, _m5_deployments,
    _m6_stats_by_model_id, _m7_exchange, _m8_billing, _m9_retried_calls, _m10_stats_prompt_cache,
    _m11_images, _m12_ratings, _m13_fallback_chains, _m14_passages, _m15_batch_jobs,
    _m16_batch_test_args,
]  # fmt: skip


def has_fulltext(con: sqlite3.Connection) -> bool:
    row = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'calls_fts'").fetchone()
    return row is not None


IMAGE_TEXT_KEYS = ("prompt", "negative_prompt", "text", "negativeText", "maskPrompt")


def prompt_text(converse: dict[str, Any]) -> str:
    """The searchable text of a request body: system and message texts (Converse), or the
    prompt and negative prompt of an image model's body."""
    if "messages" not in converse and "system" not in converse:
        parts = [converse, *(v for v in converse.values() if isinstance(v, dict))]
        return "\n".join(p[k] for p in parts for k in IMAGE_TEXT_KEYS
                         if isinstance(p.get(k), str))  # fmt: skip
    blocks: list[Any] = list(converse.get("system") or [])
    for message in converse.get("messages") or []:
        if isinstance(message, dict):
            blocks.extend(message.get("content") or [])
    return "\n".join(
        b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str)
    )

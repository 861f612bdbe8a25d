"""The Store: run history and response cache behind the runner's ResultStore hooks."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlab.errors import ConfigError, UsageError
from promptlab.imagefiles import intact as images_intact
from promptlab.results import ErrorInfo, Result, plain_content
from promptlab.store.db import StoreError, connect, has_fulltext, prompt_text
from promptlab.store.gitinfo import git_state

if TYPE_CHECKING:
    from promptlab.config import Config
    from promptlab.jobs import Job
    from promptlab.request import Request

HIT_BATCH = 64  # cache hits written to the history in one transaction
# The answer part of a Result: what a cache entry keeps and a hit copies.
ANSWER_FIELDS = (
    "output", "content", "stop_reason", "input_tokens", "output_tokens", "latency_ms", "ttft_ms",
    "tokens_estimated", "notices", "cost_usd", "run_id", "turns", "structured",
    "cache_read_tokens", "cache_write_tokens", "response_meta", "served_model_id", "images",
    "passages", "served_by", "fallback",
)  # fmt: skip

# Request fields that do not change the answer: left out of cache keys.
UNKEYED = ("requestMetadata",)

_warned: set[str] = set()
# UTF-16 halves without a partner (a JSON "\ud800" escape in an answer): SQLite cannot store them.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def warn_once(key: str, message: str) -> None:
    """One warning line on stderr per process and key."""
    if key not in _warned:
        _warned.add(key)
        sys.stderr.write(f"warning: {message}\n")
        sys.stderr.flush()


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def cache_key(
    model_id: str,
    region: str | None,
    converse: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> str:
    """sha256 over model id, region and the full request in its record form (every field but
    `requestMetadata`, labels for Bedrock's logs that carry the run id; attached files by their
    content's sha256, never by path), and `extra`: what else decides the answer (scripted tool
    results; see Job.key_extra)."""
    asked = {k: v for k, v in converse.items() if k not in UNKEYED}
    keyed = {"model_id": model_id, "region": region, "request": asked}
    if extra:
        keyed["extra"] = extra
    blob = canonical(keyed)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


def result_key(result: Result, extra: dict[str, Any] | None = None) -> str:
    return cache_key(result.model_id, result.region, result.request, extra)


class Store:
    """History rows and cache entries in one SQLite file. Safe to share across worker threads.

    Use `open_store()` rather than the constructor.
    """

    def __init__(
        self,
        con: sqlite3.Connection,
        path: Path,
        *,
        command: str,
        run_id: str,
        history: bool,
        cache: bool,
        cache_ttl: float | None,
        git: tuple[str | None, bool | None],
        resumed: dict[tuple[str, str | None, int], Result] | None = None,
    ) -> None:
        self.con = con
        self.path = path
        self.command = command
        self.run_id = run_id
        self.history = history
        self.cache = cache
        self.cache_ttl = cache_ttl
        self.git_commit, self.git_dirty = git
        self.resumed = resumed is not None
        self._resume = resumed or {}
        self._lock = threading.Lock()
        self._pending: set[str] = set()  # cache keys of cacheable jobs that missed
        self._broken = False  # a write failed: stop trying (warned once)
        self._failure = ""  # why (the first failed write's error)
        self._closed = False
        self._runs = {run_id}  # run ids with a row in `runs`
        self._hits: list[tuple[Result, str, str | None]] = []  # cache hits not yet written
        self._recorded = 0  # history rows this store wrote (committed)
        self._writing = 0  # history rows in the transaction being written
        self.fulltext = has_fulltext(con)

    # ------------------------------------------------------------ ResultStore hooks

    def lookup(
        self,
        job: Job,
        request: Request,
        region: str | None,
        notices: list[str] | None = None,
        key: str | None = None,
    ) -> Result | None:
        """A finished result of the resumed run, or a cache hit (cacheable jobs only).

        `notices`: what adapting the request to the model noted (computed again if not given).
        `key`: the call's cache key when the request alone is not it (a fallback chain's covers
        every link: chains.cache_key).
        """
        key = key or cache_key(job.ref.model_id, region, request.to_record(), job.key_extra())
        done = self._resume.get((key, job.case, job.repeat_index))
        if done is not None:
            return replace(done, notices=list(done.notices), vars=dict(done.vars))
        if not (self.cache and job.cacheable) or self._broken:
            return None
        answer = self._cached_answer(key)
        if answer is not None and answer.get("images") and not images_intact(answer["images"]):
            answer = None  # an image file is gone or changed: make the images again
        if answer is None:
            with self._lock:
                self._pending.add(key)
            return None
        if notices is None:
            notices = job.request()[1]
        hit = self._hit(job, request, region, answer, notices)
        with self._lock:
            self._hits.append((hit, key, answer.get("run_id")))
            full = len(self._hits) >= HIT_BATCH
        if full:
            self._write(lambda: None)  # writes the batch of hits
        return hit

    def record(
        self,
        result: Result,
        request: Request,
        extra: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> None:
        """Write one finished call (committed at once); fill the cache for cacheable jobs.

        `extra`: the job's `key_extra()`, part of the cache key; `key`: the key itself when the
        result's request alone is not it (a fallback chain's, as `lookup` was given)."""
        if self._broken:
            return
        key = key or result_key(result, extra)
        with self._lock:
            fill = self.cache and result.ok and key in self._pending
            self._pending.discard(key)
        if not (self.history or fill):
            return

        def write() -> None:
            if self.history:
                self._insert_call(result, key)
            if fill:
                self._put_cache(key, result)

        self._write(write)

    @property
    def broken(self) -> bool:
        """A write failed (warned once): nothing after it was recorded."""
        return self._broken

    def incomplete(self) -> str | None:
        """After a failed write (a full disk, say): one line saying what the history kept, for
        the end of the run, where it is not lost behind a live view. None when nothing failed."""
        if not self._broken:
            return None
        return (f"the history is incomplete: {self._recorded} call(s) of run {self.run_id} were "
                f"recorded before writing to {self.path} failed ({self._failure}); the results "
                "shown and the reports written are complete")  # fmt: skip

    def close(self) -> None:
        """Close the file. Calls still finishing after Ctrl-C are then quietly not recorded.

        A new run that recorded nothing (a bad AWS set-up ended it before any call) leaves no
        empty entry in `log runs`.
        """
        if self._hits:
            self._write(lambda: None)
        if self.history and not self.resumed and not self._recorded:
            self._write(self._forget_if_empty)
        with self._lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(sqlite3.Error):
                self.con.execute("PRAGMA optimize")  # keeps the query planner's statistics fresh
            self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ internals

    def _write(self, body: Any) -> None:
        """Run `body` in one immediate transaction, with the cache hits waiting to be written;
        a failure disables the store (one warning)."""
        with self._lock:
            if self._broken or self._closed:
                return
            hits, self._hits = self._hits, []
            self._writing = 0
            try:
                self.con.execute("BEGIN IMMEDIATE")
                try:
                    self._write_hits(hits)
                    body()
                    self.con.execute("COMMIT")
                    self._recorded += self._writing
                except BaseException:
                    # SQLite may have rolled back already (a full disk): keep the first error
                    with contextlib.suppress(sqlite3.Error):
                        self.con.execute("ROLLBACK")
                    raise
            except (sqlite3.Error, ValueError) as exc:  # ValueError: text SQLite cannot take
                self._broken = True
                self._failure = str(exc)
                warn_once(
                    f"write:{self.path}",
                    f"cannot write to {self.path} ({exc}); continuing without history and cache",
                )

    def _forget_if_empty(self) -> None:
        """A run with no calls and no batch jobs (submitted with --no-wait) is left out."""
        self.con.execute(
            "DELETE FROM runs WHERE id = ? AND NOT EXISTS (SELECT 1 FROM calls WHERE run_id = ?) "
            "AND NOT EXISTS (SELECT 1 FROM batch_jobs WHERE run_id = ?)",
            (self.run_id, self.run_id, self.run_id),
        )

    def _write_hits(self, hits: list[tuple[Result, str, str | None]]) -> None:
        """History rows of cache hits, and each entry's hit count (written in batches: a hit
        costs nothing to answer again if a crash loses its row)."""
        for hit, key, cached_from in hits:
            self._insert_call(hit, key, cached_from=cached_from)
        now = time.time()
        self.con.executemany(
            "UPDATE cache SET hits = hits + 1, last_hit_ts = ? WHERE key = ?",
            [(now, key) for _, key, _ in hits],
        )

    def _cached_answer(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            if self._closed:
                return None
            try:
                row = self.con.execute(
                    "SELECT answer, created_ts FROM cache WHERE key = ?", (key,)
                ).fetchone()
            except sqlite3.Error:
                return None
        if row is None:
            return None
        if self.cache_ttl is not None and time.time() - row["created_ts"] > self.cache_ttl:
            return None
        answer: dict[str, Any] = json.loads(row["answer"])
        return answer

    def _hit(
        self,
        job: Job,
        request: Request,
        region: str | None,
        answer: dict[str, Any],
        notices: list[str],
    ) -> Result:
        """The current job's identity with the stored answer: free, instant, original latency."""
        result = job.new_result(request, notices, region, self.run_id)
        result.output = answer["output"]
        result.content = answer.get("content") or plain_content(result.output)
        result.stop_reason = answer.get("stop_reason")
        result.input_tokens = answer.get("input_tokens")
        result.output_tokens = answer.get("output_tokens")
        result.latency_ms = answer.get("latency_ms")  # the original call's latency, kept
        result.ttft_ms = answer.get("ttft_ms")
        result.tokens_estimated = bool(answer.get("tokens_estimated"))
        result.turns = list(answer.get("turns") or [])
        result.structured = answer.get("structured")
        result.cache_read_tokens = answer.get("cache_read_tokens")
        result.cache_write_tokens = answer.get("cache_write_tokens")
        result.response_meta = answer.get("response_meta")
        result.served_model_id = answer.get("served_model_id")
        result.images = [dict(i) for i in answer.get("images") or []]
        if answer.get("passages"):  # a managed RAG answer's; else the job's retrieval
            result.passages = [dict(p) for p in answer["passages"]]
        result.served_by = answer.get("served_by")  # a fallback chain's: as it was answered,
        result.fallback = [dict(a) for a in answer.get("fallback") or []]  # with their costs
        result.wall_ms = 0
        result.cost_usd = 0.0
        result.cached = True
        result.notices = [*notices, *(n for n in answer.get("notices", []) if n not in notices)]
        return result

    def _put_cache(self, key: str, result: Result) -> None:
        answer = {name: getattr(result, name) for name in ANSWER_FIELDS}
        self.con.execute(
            "INSERT OR REPLACE INTO cache(key, model_id, created_ts, answer, hits) "
            "VALUES (?, ?, ?, ?, 0)",
            (key, result.model_id, time.time(), storable(canonical(answer))),
        )

    def _insert_call(self, result: Result, key: str, cached_from: str | None = None) -> None:
        if not self.history:
            return
        self._writing += 1
        run_id = result.run_id or self.run_id
        if run_id not in self._runs:  # a Runner given another run id: still list its run
            self.con.execute(
                "INSERT OR IGNORE INTO runs(id, command, started_ts, git_commit, git_dirty) "
                "VALUES (?, ?, ?, ?, ?)",
                (run_id, self.command, time.time(), self.git_commit, self.git_dirty),
            )
            self._runs.add(run_id)
        result = result if result.run_id else replace(result, run_id=run_id)
        insert_call(self.con, result, key, command=self.command, git=(self.git_commit,
                    self.git_dirty), cached_from=cached_from, fulltext=self.fulltext)  # fmt: skip


def storable(value: Any) -> Any:
    """Text SQLite accepts: lone surrogates, which UTF-8 cannot encode, become U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value


def insert_call(
    con: sqlite3.Connection,
    result: Result,
    key: str,
    *,
    command: str,
    git: tuple[str | None, bool | None],
    cached_from: str | None = None,
    fulltext: bool = True,
    ts: float | None = None,
) -> int:
    """One history row (the caller owns the transaction). Returns its id.

    `content` is written only when the answer is more than its text (NULL means `output` as one
    text block), and the later columns only when set, so a row of a plain answer has the
    shape every schema version accepts.
    """
    err = result.error
    row: dict[str, Any] = {
        "ts": time.time() if ts is None else ts, "started_at": result.started_at,
        "run_id": result.run_id or "", "command": command, "prompt_name": result.prompt_name,
        "prompt_version": result.prompt_version, "prompt_hash": result.prompt_hash,
        "prompt_path": result.prompt_path, "prompt_ref": result.prompt_ref,
        "git_commit": git[0], "git_dirty": git[1], "model_alias": result.model_alias,
        "model_id": result.model_id, "region": result.region, "real_model": result.real_model,
        "params": canonical(result.params), "request": canonical(result.request),
        "vars": json.dumps(result.vars, ensure_ascii=False, default=str),
        "case_name": result.case, "repeat_index": result.repeat_index, "output": result.output,
        "stop_reason": result.stop_reason, "input_tokens": result.input_tokens,
        "output_tokens": result.output_tokens, "tokens_estimated": result.tokens_estimated,
        "latency_ms": result.latency_ms, "wall_ms": result.wall_ms, "ttft_ms": result.ttft_ms,
        "cost_usd": result.cost_usd, "error_code": err.code if err else None,
        "error_message": err.message if err else None, "error_hint": err.hint if err else None,
        "error_infra": err.infrastructure if err else None, "cached": result.cached,
        "cached_from": cached_from, "cache_key": key,
        "notices": json.dumps(result.notices, ensure_ascii=False),
    }  # fmt: skip
    content = stored_content(result)
    if content is not None:
        row["content"] = content
    if result.turns:
        row["turns"] = canonical(result.turns)
    if result.structured is not None:
        row["structured"] = canonical(result.structured)
    extra = {"cache_read_tokens": result.cache_read_tokens, "served_model_id":
             result.served_model_id, "cache_write_tokens": result.cache_write_tokens,
             "attempts": result.attempts if result.attempts > 1 else None}  # fmt: skip
    row.update({k: v for k, v in extra.items() if v is not None})  # older files lack them
    if result.response_meta:
        row["response_meta"] = canonical(result.response_meta)
    if result.images:
        row["images"] = canonical(result.images)
    if result.served_by:
        row["served_by"] = result.served_by
    if result.fallback:
        row["fallback"] = canonical(result.fallback)
    if result.passages:
        row["passages"] = canonical(result.passages)
    if result.retrieval:
        row["retrieval"] = result.retrieval
    cur = con.execute(
        f"INSERT INTO calls({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        tuple(storable(v) for v in row.values()),
    )
    rowid = int(cur.lastrowid or 0)
    if fulltext:
        con.execute(
            "INSERT INTO calls_fts(rowid, prompt, output) VALUES (?, ?, ?)",
            (rowid, storable(prompt_text(result.request)), storable(result.output)),
        )
    return rowid


def stored_content(result: Result) -> str | None:
    """The answer's content blocks as stored: NULL when they are just `output` as one text."""
    if not result.content or result.content == plain_content(result.output):
        return None
    return canonical(result.content)


def stored_blocks(row: sqlite3.Row) -> list[dict[str, Any]]:
    """A row's answer content blocks (a file read-only at an older schema has no column)."""
    raw = row["content"] if "content" in row.keys() else None  # noqa: SIM118 (sqlite3.Row)
    return json.loads(raw) if raw else plain_content(row["output"])


def row_to_result(row: sqlite3.Row) -> Result:
    """Rebuild the Result of a history row."""
    error = None
    if row["error_code"] is not None:
        error = ErrorInfo(
            row["error_code"], row["error_message"] or "", row["error_hint"],
            bool(row["error_infra"]),
        )  # fmt: skip
    return Result(
        prompt_name=row["prompt_name"],
        prompt_version=row["prompt_version"],
        prompt_hash=row["prompt_hash"],
        prompt_path=row["prompt_path"],
        prompt_ref=row["prompt_ref"],
        model_alias=row["model_alias"],
        model_id=row["model_id"],
        region=row["region"],
        real_model=bool(row["real_model"]),
        params=json.loads(row["params"]),
        request=json.loads(row["request"]),
        vars=json.loads(row["vars"]),
        case=row["case_name"],
        repeat_index=row["repeat_index"],
        output=row["output"],
        content=stored_blocks(row),
        stop_reason=row["stop_reason"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        tokens_estimated=bool(row["tokens_estimated"]),
        latency_ms=row["latency_ms"],
        wall_ms=row["wall_ms"],
        ttft_ms=row["ttft_ms"],
        cost_usd=row["cost_usd"],
        error=error,
        cached=bool(row["cached"]),
        notices=json.loads(row["notices"]),
        started_at=row["started_at"],
        run_id=row["run_id"],
        turns=_json_column(row, "turns") or [],
        structured=_json_column(row, "structured"),
        cache_read_tokens=_column(row, "cache_read_tokens"),
        cache_write_tokens=_column(row, "cache_write_tokens"),
        attempts=_column(row, "attempts") or 1,
        served_model_id=_column(row, "served_model_id"),
        response_meta=_json_column(row, "response_meta"),
        images=_json_column(row, "images") or [],
        served_by=_column(row, "served_by"),
        fallback=_json_column(row, "fallback") or [],
        passages=_json_column(row, "passages") or [],
        retrieval=_column(row, "retrieval"),
    )


def _column(row: sqlite3.Row, name: str) -> Any:
    """A column that older files (opened read-only, not migrated) may lack."""
    return row[name] if name in row.keys() else None  # noqa: SIM118 (sqlite3.Row)


def _json_column(row: sqlite3.Row, name: str) -> Any:
    """A JSON column that older files (opened read-only, not migrated) may lack."""
    raw = _column(row, name)
    return json.loads(raw) if raw else None


# ---------------------------------------------------------------- opening


def open_store(
    config: Config,
    command: str,
    *,
    cache: bool,
    cache_ttl: float | None = None,
    log: bool = True,
    resume: str | None = None,
) -> Store | None:
    """The store for one `run`/`test` invocation, or None when history and cache are both off.

    An unusable store location prints one warning and returns None (the run goes on), except
    with `resume`, which needs the history: then ConfigError. An unknown run id: UsageError.
    """
    from promptlab.runner import new_run_id

    history = log and config.history
    if resume is not None and not history:
        raise UsageError(
            "--resume needs the run history, which is off",
            "drop --no-log / PROMPTLAB_NO_LOG, or set store: {history: true} in promptlab.yaml",
        )
    if not history and not cache:
        return None
    path = config.store_path
    try:
        con = connect(path)
    except StoreError as exc:
        if resume is not None:
            raise ConfigError(f"cannot resume: {exc}") from None
        warn_once(f"open:{path}", f"{exc}; continuing without history and cache")
        return None
    _ignore_store_dir(path)
    git = git_state(config.root, path.parent)
    try:
        if resume is not None:
            run_id = find_run(con, resume, command)
            _check_resumable(con, run_id, command)
            done = _finished_calls(con, run_id)
            con.execute("UPDATE runs SET resumed_ts = ? WHERE id = ?", (time.time(), run_id))
        else:
            run_id, done = new_run_id(), None
            if history:
                con.execute(
                    "INSERT INTO runs(id, command, started_ts, git_commit, git_dirty) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (run_id, command, time.time(), *git),
                )
    except sqlite3.Error as exc:
        con.close()
        if resume is not None:
            raise ConfigError(f"cannot resume from {path}: {exc}") from None
        warn_once(f"open:{path}", f"cannot write to {path} ({exc}); continuing without history")
        return None
    except BaseException:
        con.close()
        raise
    return Store(
        con, path, command=command, run_id=run_id, history=history, cache=cache,
        cache_ttl=cache_ttl, git=git, resumed=done,
    )  # fmt: skip


def _ignore_store_dir(path: Path) -> None:
    """Keep the database out of git even before `promptlab init` updates .gitignore."""
    marker = path.parent / ".gitignore"
    if path.parent.name == ".promptlab" and not marker.exists():
        with contextlib.suppress(OSError):
            marker.write_text("*\n", encoding="utf-8")


def find_run(con: sqlite3.Connection, wanted: str, command: str | None = None) -> str:
    """A run id from an id, a unique prefix or suffix, or 'last' (newest run of `command`)."""
    if wanted == "last":
        row = con.execute(
            "SELECT id FROM runs WHERE command = ? OR ? IS NULL ORDER BY started_ts DESC LIMIT 1",
            (command, command),
        ).fetchone()
        if row is None:
            what = f"`{command}` run" if command else "run"
            raise UsageError(f"no {what} in the history yet", _recent_hint(con))
        return str(row["id"])
    pattern = _like_escape(wanted)
    rows = con.execute(
        "SELECT id FROM runs WHERE id = ? OR id LIKE ? ESCAPE '\\' OR id LIKE ? ESCAPE '\\' "
        "ORDER BY id = ? DESC LIMIT 3",
        (wanted, pattern + "%", "%" + pattern, wanted),
    ).fetchall()
    ids = [r["id"] for r in rows]
    if wanted in ids:
        return wanted
    if len(ids) == 1:
        return str(ids[0])
    if len(ids) > 1:
        raise UsageError(f"run id {wanted!r} is ambiguous", "give more characters")
    raise UsageError(f"unknown run id {wanted!r}", _recent_hint(con))


def _check_resumable(con: sqlite3.Connection, run_id: str, command: str) -> None:
    """Only a run of the same command can be resumed (a `run`'s calls are no test's samples)."""
    row = con.execute("SELECT command FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is not None and row["command"] != command:
        raise UsageError(
            f"run {run_id} was made by `promptlab {row['command']}`; "
            f"`promptlab {command} --resume` continues a `{command}` run",
            f"give the id of a `{command}` run, or 'last'; " + _recent_hint(con),
        )


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _recent_hint(con: sqlite3.Connection) -> str:
    rows = con.execute(
        "SELECT r.id, r.command, (SELECT COUNT(*) FROM calls c WHERE c.run_id = r.id) AS n "
        "FROM runs r ORDER BY started_ts DESC LIMIT 5"
    ).fetchall()
    if not rows:
        return "the history is empty"
    listed = ", ".join(f"{r['id']} ({r['command']}, {r['n']} calls)" for r in rows)
    return f"recent runs: {listed} (see `promptlab log runs`)"


def _finished_calls(
    con: sqlite3.Connection, run_id: str
) -> dict[tuple[str, str | None, int], Result]:
    """The successful calls of a run, keyed by (cache key, case, repeat index)."""
    done: dict[tuple[str, str | None, int], Result] = {}
    for row in con.execute(
        "SELECT * FROM calls WHERE run_id = ? AND error_code IS NULL ORDER BY id", (run_id,)
    ):
        done[(row["cache_key"], row["case_name"], row["repeat_index"])] = row_to_result(row)
    return done

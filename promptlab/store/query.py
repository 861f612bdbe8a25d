"""Read side of the store: filtered call listings, full-text search, stats, cache upkeep.

Everything aggregates in SQL (indexes on time, prompt, model and run), so `log` and `stats`
stay fast over hundreds of thousands of calls.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from promptlab.config import Config
from promptlab.errors import ConfigError, UsageError
from promptlab.scheduling import THROTTLE_CODES
from promptlab.store.db import StoreError, connect, has_fulltext

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}

GROUPS = {
    "model": "model_id",  # the resolved id: `-m nova-lite` and `-m amazon.nova-lite-v1:0` are one
    "prompt": "prompt_name",
    "version": "prompt_name || '@' || prompt_version",
}


def parse_since(text: str, *, option: str = "--since", now: float | None = None) -> float:
    """'90m', '1h', '2d', '1w', '2026-11-01' or '2026-11-01T14:00' → a Unix time. UsageError."""
    now = time.time() if now is None else now
    m = _DURATION.match(text)
    if m:
        return now - float(m.group(1)) * _UNIT_SECONDS[m.group(2).lower()]
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is neither a duration nor a date",
            "use e.g. 30m, 1h, 2d, 1w, 2026-11-01 or 2026-11-01T14:00 (local time)",
        ) from None
    return moment.timestamp()  # naive dates are local time


def parse_duration(text: str, *, option: str) -> float:
    """'30d' → seconds; a date means 'older than that date'. UsageError."""
    now = time.time()
    return now - parse_since(text, option=option, now=now)


@dataclass
class Filters:
    """What `log` and `stats` narrow the history to. None/False: no filter."""

    prompt: str | None = None
    version: str | None = None
    model: str | None = None
    model_id: str | None = None  # what `model` resolves to: calls typed either way match
    run: str | None = None
    errors: bool = False
    since: float | None = None
    search: str | None = None
    notices: list[str] = field(default_factory=list)  # filled by where(): e.g. no FTS5

    def where(self, con: sqlite3.Connection) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if self.prompt:
            clauses.append("prompt_name = ?")
            args.append(self.prompt)
        if self.version:
            clauses.append("prompt_version = ?")
            args.append(self.version)
        if self.model:
            clauses.append("(model_alias = ? OR model_id IN (?, ?))")
            args += [self.model, self.model, self.model_id or self.model]
        if self.run:
            clauses.append("run_id = ?")
            args.append(self.run)
        if self.errors:
            clauses.append("error_code IS NOT NULL")
        if self.since is not None:
            clauses.append("ts >= ?")
            args.append(self.since)
        if self.search:
            if has_fulltext(con):
                clauses.append("id IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH ?)")
                args.append(fts_query(self.search))
            else:
                self.notices.append(
                    "this SQLite has no FTS5 full-text search: using a slower substring match"
                )
                like = "%" + self.search.replace("\\", "\\\\").replace("%", "\\%")
                like = like.replace("_", "\\_") + "%"
                clauses.append("(request LIKE ? ESCAPE '\\' OR output LIKE ? ESCAPE '\\')")
                args += [like, like]
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def fts_query(text: str) -> str:
    """User text → an FTS5 query: every word must appear (quoted, so no query syntax)."""
    words = re.findall(r"\w+", text)
    if not words:
        raise UsageError(f"--search {text!r} has no words to look for")
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


# ---------------------------------------------------------------- opening for reading


def open_reader(path: Path) -> sqlite3.Connection | None:
    """The store for `log`/`stats`/`cache`, or None when nothing was ever recorded."""
    if not path.exists():
        return None
    try:
        return connect(path)
    except StoreError as exc:
        for immutable in (False, True):  # a read-only directory: no -shm/-wal can be made
            try:
                return connect(path, readonly=True, immutable=immutable)
            except StoreError:
                pass
        raise ConfigError(
            str(exc),
            f"check the store path (store.path, PROMPTLAB_STORE), or move the file aside "
            f"(mv {path} {path}.broken); the next run starts a new one",
        ) from None


def resolve_run(con: sqlite3.Connection, wanted: str) -> str:
    from promptlab.store.core import find_run

    return find_run(con, wanted)


# ---------------------------------------------------------------- log


def list_calls(con: sqlite3.Connection, filters: Filters, limit: int = 50) -> list[sqlite3.Row]:
    """The newest matching calls first."""
    where, args = filters.where(con)
    return con.execute(
        f"SELECT * FROM calls{where} ORDER BY id DESC LIMIT ?", [*args, limit]
    ).fetchall()


def get_call(con: sqlite3.Connection, call_id: int) -> sqlite3.Row | None:
    row: sqlite3.Row | None = con.execute("SELECT * FROM calls WHERE id = ?", (call_id,)).fetchone()
    return row


def list_runs(con: sqlite3.Connection, since: float | None = None, limit: int = 20) -> list[Any]:
    """Recent runs with their call counts, errors and cost."""
    return con.execute(
        "SELECT r.id, r.command, r.started_ts, r.resumed_ts, r.git_commit, r.git_dirty, "
        "COUNT(c.id) AS calls, COUNT(c.error_code) AS errors, "
        "COALESCE(SUM(c.cached), 0) AS cached, SUM(c.cost_usd) AS cost_usd "
        "FROM runs r LEFT JOIN calls c ON c.run_id = r.id "
        "WHERE r.started_ts >= ? GROUP BY r.id ORDER BY r.started_ts DESC LIMIT ?",
        (since if since is not None else 0, limit),
    ).fetchall()


# ---------------------------------------------------------------- stats


@dataclass
class GroupStats:
    group: str
    alias: str | None = None  # by model: the names typed for the id, or its shipped alias
    calls: int = 0
    cached: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_p50_ms: int | None = None
    latency_p95_ms: int | None = None
    ttft_p50_ms: int | None = None
    retried: int = 0  # calls that needed more than one attempt (throttling, 5xx)
    extra_attempts: int = 0  # requests sent beyond the first, over all calls
    throttled: int = 0  # calls that failed throttled after every attempt
    cache_read_tokens: int = 0  # prompt-cache reads and writes (not part of input_tokens)
    cache_write_tokens: int = 0
    cache_saved_usd: float | None = 0.0  # what the reads would have cost as input, less their cost
    # Fallback chains: calls that passed over at least one link, and how many calls each
    # link served (link alias → calls; "none" when every link failed).
    fell_back: int = 0
    served_by: dict[str, int] = field(default_factory=dict)

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0

    @property
    def cache_hit_ratio(self) -> float:
        """Prompt-cache reads over every input token: input, cache reads and cache writes."""
        read = self.input_tokens + self.cache_read_tokens + self.cache_write_tokens
        return self.cache_read_tokens / read if read else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "alias": self.alias,
            "calls": self.calls,
            "cached": self.cached,
            "errors": self.errors,
            "error_rate": round(self.error_rate, 4),
            "latency_p50_ms": self.latency_p50_ms,
            "latency_p95_ms": self.latency_p95_ms,
            "ttft_p50_ms": self.ttft_p50_ms,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "cache_hit_ratio": round(self.cache_hit_ratio, 4),
            "cache_saved_usd": _rounded(self.cache_saved_usd),
            "cost_usd": round(self.cost_usd, 6),
            "retried": self.retried,
            "extra_attempts": self.extra_attempts,
            "throttled": self.throttled,
            "fell_back": self.fell_back,
            "served_by": dict(self.served_by),
        }


def _rounded(usd: float | None) -> float | None:
    return None if usd is None else round(usd, 6)


def stats(
    con: sqlite3.Connection, filters: Filters, by: str = "model", config: Config | None = None
) -> list[GroupStats]:
    """Per group: calls, cache hits, errors, tokens and cost of real (uncached) calls, and
    nearest-rank p50/p95 latency and p50 time to first token over successful uncached calls;
    prompt-cache reads and writes, and what the reads saved at `config`'s prices.

    Sums run in SQL; the percentiles sort one narrow column per group (from a covering index).
    """
    if by not in GROUPS:
        raise UsageError(f"--by must be one of {', '.join(GROUPS)}, got {by!r}")
    group = GROUPS[by]
    where, args = filters.where(con)
    out: dict[str, GroupStats] = {}
    aliases = (
        "GROUP_CONCAT(DISTINCT CASE WHEN model_alias != model_id THEN model_alias END)"
        if by == "model" else "NULL"
    )  # fmt: skip
    caching = _has_columns(con, "cache_read_tokens", "cache_write_tokens", "served_model_id")
    read, write = ("cache_read_tokens", "cache_write_tokens") if caching else ("0", "0")
    for row in con.execute(
        f"SELECT {group} AS g, {aliases} AS aliases, COUNT(*) AS calls, SUM(cached) AS cached, "
        "COUNT(error_code) AS errors, "
        "SUM(CASE WHEN cached = 0 THEN input_tokens ELSE 0 END) AS tin, "
        "SUM(CASE WHEN cached = 0 THEN output_tokens ELSE 0 END) AS tout, "
        f"SUM(CASE WHEN cached = 0 THEN {read} ELSE 0 END) AS cread, "
        f"SUM(CASE WHEN cached = 0 THEN {write} ELSE 0 END) AS cwrite, "
        f"SUM(cost_usd) AS cost FROM calls{where} GROUP BY g ORDER BY g",
        args,
    ):
        out[row["g"]] = GroupStats(
            row["g"], _alias(row["g"], row["aliases"]) if by == "model" else None, row["calls"],
            row["cached"] or 0, row["errors"], row["tin"] or 0, row["tout"] or 0,
            row["cost"] or 0.0, cache_read_tokens=row["cread"] or 0,
            cache_write_tokens=row["cwrite"] or 0,
        )  # fmt: skip
    _add_retries(con, out, group, where, args)
    _add_fallbacks(con, out, group, where, args)
    if caching:
        for g, saved in _cache_savings(con, group, where, args, config).items():
            out[g].cache_saved_usd = saved
    latencies: dict[str, list[int]] = {}
    ttfts: dict[str, list[int]] = {}
    cond = "cached = 0 AND error_code IS NULL"
    for g, latency, ttft in con.execute(
        f"SELECT {group}, COALESCE(latency_ms, wall_ms), ttft_ms FROM calls"
        + (f"{where} AND {cond}" if where else f" WHERE {cond}"),
        args,
    ):
        if latency is not None:
            latencies.setdefault(g, []).append(latency)
        if ttft is not None:
            ttfts.setdefault(g, []).append(ttft)
    for g, values in latencies.items():
        out[g].latency_p50_ms, out[g].latency_p95_ms = percentiles(values, 50, 95)
    for g, values in ttfts.items():
        out[g].ttft_p50_ms = percentiles(values, 50)[0]
    return list(out.values())


def _add_retries(
    con: sqlite3.Connection, out: dict[str, GroupStats], group: str, where: str, args: list[Any]
) -> None:
    """Per group: calls that needed more than one attempt, the attempts beyond the first, and
    calls that failed throttled. Each reads only the rows concerned: errors (their partial
    index), and calls with `attempts` set, which only retried calls have (migration 9 indexes
    them). Files from before migration 8 have no attempts: no retries to count."""

    def grouped(cond: str, what: str, indexed: str = "") -> list[Any]:
        clause = f"{where} AND {cond}" if where else f" WHERE {cond}"
        sql = f"SELECT {group}, {what} FROM calls{indexed}{clause} GROUP BY 1"
        return con.execute(sql, args).fetchall()

    def by_index(name: str) -> str:
        found = con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone()
        return f" INDEXED BY {name}" if found else ""

    codes = ", ".join(f"'{code}'" for code in sorted(THROTTLE_CODES))
    throttled = f"error_code IS NOT NULL AND error_code IN ({codes})"
    for g, n in grouped(throttled, "COUNT(*)", by_index("calls_errors")):
        out[g].throttled = n
    if not any(row[1] == "attempts" for row in con.execute("PRAGMA table_info(calls)")):
        return
    retried = "COUNT(*), SUM(attempts - 1)"
    for g, n, extra in grouped("attempts > 1", retried, by_index("calls_retried")):
        out[g].retried, out[g].extra_attempts = n, extra


CHAIN_CALLS = "(served_by IS NOT NULL OR fallback IS NOT NULL)"  # migration 13's index


def _add_fallbacks(
    con: sqlite3.Connection, out: dict[str, GroupStats], group: str, where: str, args: list[Any]
) -> None:
    """Per group of fallback-chain calls: how many fell back past their first link, and
    which link served how many (reading only chain calls, through their partial index).
    Files from before migration 13 have no chains."""
    if not _has_columns(con, "served_by", "fallback"):
        return
    clause = f"{where} AND {CHAIN_CALLS}" if where else f" WHERE {CHAIN_CALLS}"
    sql = (f"SELECT {group}, COALESCE(served_by, 'none'), SUM(fallback IS NOT NULL), COUNT(*) "
           f"FROM calls{clause} GROUP BY 1, 2")  # fmt: skip
    for g, link, fell, n in con.execute(sql, args):
        out[g].fell_back += fell or 0
        out[g].served_by[link] = n


def _has_columns(con: sqlite3.Connection, *names: str) -> bool:
    """Whether `calls` has these columns (a file opened read-only may predate them)."""
    columns = {row[1] for row in con.execute("PRAGMA table_info(calls)")}
    return all(n in columns for n in names)


def _cache_savings(
    con: sqlite3.Connection, group: str, where: str, args: list[Any], config: Config | None
) -> dict[str, float | None]:
    """Per group: what its prompt-cache reads saved (input price less cache-read price, for
    the model that served each call, at the tier it asked for); None when a price is unknown,
    and so when a call's own cost is.

    Read from the covering index; the tier (inside the recorded request) is read only for
    models priced per tier."""
    from promptlab.catalogue import ModelRef, base_id_of, cache_savings_usd, price_for

    cond = "cached = 0 AND real_model = 1 AND cache_read_tokens > 0"
    scope = f"{where} AND {cond}" if where else f" WHERE {cond}"
    keys = "g, model_alias, model_id, served_model_id"
    rows = con.execute(
        f"SELECT {group} AS g, model_alias, model_id, served_model_id, "
        "SUM(cache_read_tokens) AS n, COUNT(*) - COUNT(cost_usd) AS unpriced "
        f"FROM calls{scope} GROUP BY {keys}",
        args,
    ).fetchall()
    saved: dict[str, float | None] = {}
    for r in rows:
        ref = ModelRef(r["model_alias"], r["model_id"], base_id_of(r["model_id"]))
        served = base_id_of(r["served_model_id"]) if r["served_model_id"] else None
        price = price_for(ref if served is None else ModelRef(ref.alias, ref.model_id, served),
                          config)  # fmt: skip
        tiers: list[tuple[str | None, int]] = [(None, r["n"])]
        if price is not None and any((price.priority_input, price.flex_input)):
            tiers = [(t, n) for t, n in con.execute(
                f"SELECT json_extract(request, '$.serviceTier.type'), SUM(cache_read_tokens) "
                f"FROM calls{scope} AND model_alias = ? AND model_id = ? "
                "AND served_model_id IS ? GROUP BY 1",
                [*args, r["model_alias"], r["model_id"], r["served_model_id"]])]  # fmt: skip
        before = saved.get(r["g"], 0.0)
        for tier, n in tiers:
            amount = None if r["unpriced"] else cache_savings_usd(
                ref, n, config, tier=tier, served_by=served)  # fmt: skip
            before = None if amount is None or before is None else before + amount
        saved[r["g"]] = before
    return saved


def _alias(model_id: str, typed: str | None) -> str | None:
    """The names `-m` used for a model id (sorted), else its shipped alias."""
    from promptlab.modellist import alias_of

    if typed:
        return ", ".join(sorted(set(typed.split(","))))
    return alias_of(model_id)


def percentiles(values: list[int], *ranks: int) -> list[int]:
    """Nearest-rank percentiles (the smallest value with at least p% of values at or below)."""
    ordered = sorted(values)
    n = len(ordered)
    return [ordered[max(0, (p * n + 99) // 100 - 1)] for p in ranks]


# ---------------------------------------------------------------- cache


def cache_stats(con: sqlite3.Connection) -> dict[str, Any]:
    """Entries, hits, money saved (original cost × hits), age range, per-model counts."""
    row = con.execute(
        "SELECT COUNT(*) AS entries, COALESCE(SUM(hits), 0) AS hits, "
        "MIN(created_ts) AS oldest, MAX(created_ts) AS newest, "
        "COALESCE(SUM(LENGTH(answer)), 0) AS bytes FROM cache"
    ).fetchone()
    saved = sum(
        r["hits"] * (json.loads(r["answer"]).get("cost_usd") or 0.0)
        for r in con.execute("SELECT answer, hits FROM cache WHERE hits > 0")
    )
    models = con.execute(
        "SELECT model_id, COUNT(*) AS entries, SUM(hits) AS hits FROM cache "
        "GROUP BY model_id ORDER BY entries DESC"
    ).fetchall()
    return {
        "entries": row["entries"],
        "hits": row["hits"],
        "saved_usd": round(saved, 6),
        "answer_bytes": row["bytes"],
        "oldest": _iso(row["oldest"]),
        "newest": _iso(row["newest"]),
        "models": [
            {"model_id": m["model_id"], "entries": m["entries"], "hits": m["hits"]} for m in models
        ],
    }


def clear_cache(con: sqlite3.Connection, older_than: float | None = None) -> int:
    """Delete cache entries (those older than `older_than` seconds); return how many."""
    con.execute("BEGIN IMMEDIATE")
    try:
        if older_than is None:
            cur = con.execute("DELETE FROM cache")
        else:
            cur = con.execute("DELETE FROM cache WHERE created_ts < ?", (time.time() - older_than,))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return cur.rowcount


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")

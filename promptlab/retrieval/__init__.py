"""Context from sources: a prompt's `retrieve:` turned into passages, once per query.

`fetch(source, query)` gives the passages of one retrieval variant for one rendered query:
local files (local.py, offline) or a knowledge base (kb.py, through bedrock-agent-runtime).
Results are kept for the process (keyed by source settings, query and, for files, their
contents), so a variant is searched once per vars set however many models answer it.

A knowledge base is searched only where the command allows it (`allow_remote`): `run` and
`test` do; `render`, `lint` and `--help` import no boto3 and show a notice instead. `lint`
also ranks nothing (`unranked`): local files are read and give every passage in file order,
so templates are checked without building the BM25 index (numpy and bm25s stay unimported).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from promptlab.retrieval.spec import Retrieval, Source

if TYPE_CHECKING:
    from promptlab.config import Config
    from promptlab.retrieval.cache import PassageCache

Searcher = Callable[[Source, str], list[dict[str, Any]]]


@dataclass
class _State:
    remote: Searcher | None = None  # searches a knowledge base (None: not in this command)
    memo: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    searches: int = 0  # passages looked up (searched, or found in the store's cache)
    cache: PassageCache | None = None  # the store's cache (run --cache, test)
    ranked: bool = True  # False (lint): local files give every passage, unranked


STATE = _State()


def allow_remote(searcher: Searcher | None) -> None:
    """Let knowledge bases be searched with `searcher` (kb.Searcher); None: not allowed."""
    STATE.remote = searcher


@contextmanager
def unranked() -> Iterator[None]:
    """Within it, local files are read but nothing is ranked: every passage in file order
    (lint checks templates and files, not what a query finds)."""
    before, STATE.ranked = STATE.ranked, False
    try:
        yield
    finally:
        STATE.ranked = before


def use_cache(config: Config, ttl: float | None) -> None:
    """Keep and reuse retrieved passages in the store's cache (the command's cache is on)."""
    from promptlab.retrieval.cache import PassageCache

    STATE.cache = PassageCache(config.store_path, ttl)


def forget() -> None:
    """No knowledge-base access and no passages remembered (a new command, or a test)."""
    with STATE.lock:
        STATE.remote = None
        STATE.memo.clear()
        STATE.searches = 0
        STATE.ranked = True
        if STATE.cache is not None:
            STATE.cache.close()
        STATE.cache = None
    from promptlab.retrieval import local

    local.forget()


def key_of(source: Source, query: str | None) -> str:
    """What decides the passages: the source's settings, the query, the files' contents."""
    keyed: dict[str, Any] = {"settings": source.settings(), "query": query,
                             "base": str(source.base)}  # fmt: skip
    if not source.knowledge_base:
        from promptlab.retrieval.local import content_key

        keyed["contents"] = content_key(source)
    blob = json.dumps(keyed, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _search(source: Source, query: str | None) -> list[dict[str, Any]]:
    if source.knowledge_base:
        assert STATE.remote is not None and query is not None
        return STATE.remote(source, query)
    from promptlab.retrieval.local import retrieve

    return retrieve(source, query)


def fetch(source: Source, query: str | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The passages of `source` for `query`, and notices (a knowledge base not searched)."""
    if source.knowledge_base and STATE.remote is None:
        return [], [f"retrieve {source.label}: knowledge base {source.knowledge_base} not "
                    "searched here (run and test search it); no passages shown"]  # fmt: skip
    if not source.knowledge_base and not STATE.ranked:
        query = None  # every passage of the files read, none ranked
    key = key_of(source, query)
    with STATE.lock:
        found = STATE.memo.get(key)
    if found is not None:
        return [dict(p) for p in found], []
    got = STATE.cache.get(key) if STATE.cache is not None else None
    if got is None:
        got = _search(source, query)
        if STATE.cache is not None:
            STATE.cache.put(key, source, got)
    with STATE.lock:
        STATE.searches += 1
        STATE.memo[key] = got
    return [dict(p) for p in got], []


def prefetch(asked: Iterable[tuple[Source, str]], workers: int) -> None:
    """Search knowledge bases for every (source, query) at once, up to `workers` searches in
    threads, so rendering finds the passages remembered (`run`'s jobs and `test`'s cases).
    A failed search raises here, as rendering would; local files are left to rendering."""
    pending = {(id(s), q): (s, q) for s, q in asked if s.knowledge_base and q}
    if STATE.remote is None or len(pending) < 2:
        return  # nothing to search here, or one search: rendering makes it
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(len(pending), max(1, workers))) as pool:
        for _ in pool.map(lambda pair: fetch(*pair), pending.values()):
            pass


__all__ = [
    "Retrieval",
    "Source",
    "allow_remote",
    "fetch",
    "forget",
    "key_of",
    "prefetch",
    "unranked",
    "use_cache",
]

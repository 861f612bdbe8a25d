"""Run history and response cache: one SQLite database per project.

The database lives at `config.store_path` (default `<project root>/.promptlab/promptlab.db`,
`store: {path: ...}` in promptlab.yaml or PROMPTLAB_STORE). WAL mode, a busy timeout and short
immediate transactions let worker threads and several promptlab processes write at once.

API for the commands that call models (`run`, `test`)::

    store = open_store(config, "test", cache=True, cache_ttl=None, log=not no_log,
                       resume=resume)          # None when history and cache are both off
    runner = Runner(pool, config, store=store, run_id=store.run_id if store else None)
    try:
        outcome = runner.run(jobs)
    finally:
        if store is not None:
            store.close()

- `cache`: the cache may answer jobs with `job.cacheable` (set it for temperature 0 and
  non-repeated samples). A hit is a copy of the stored answer for the current job: `cached=True`,
  the current run id, `wall_ms=0`, `cost_usd=0.0`, and the original call's `latency_ms` and
  `ttft_ms` kept. Only successful answers of cacheable jobs are stored; `cache_ttl` (seconds)
  bounds their age. The key is sha256 over model id, region and the whole Converse request.
- `log`: False for `--no-log`; `config.history` (store.history / PROMPTLAB_NO_LOG) also turns
  history off. Every call (cache hits included) becomes a history row, committed at once.
- `resume`: a run id (or unique prefix) or "last" (newest run of the same command). Calls that
  succeeded in that run are answered from its history (whatever `cacheable` says), and the
  resumed run keeps its run id: pass `store.run_id` to the Runner. Unknown id: UsageError.
- An unusable store location warns once on stderr and yields None (or stops writing mid-run);
  it never fails a run, except `resume`, which needs the history (ConfigError).

Read side for `log`, `stats` and `cache`: `promptlab.store.query`.
"""

from __future__ import annotations

from promptlab.store.core import Store, cache_key, open_store
from promptlab.store.db import StoreError

__all__ = ["Store", "StoreError", "cache_key", "open_store"]

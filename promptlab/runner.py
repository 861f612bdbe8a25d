"""Fan jobs (prompt × vars × model × repeat) out over worker threads; collect Results.

Concurrency, retries of mid-stream failures, caching and history hooks live here once.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from promptlab.catalogue import cost_usd
from promptlab.config import Config
from promptlab.errors import PromptlabError
from promptlab.jobs import Job
from promptlab.providers.base import ModelCallError, Provider, ProviderPool
from promptlab.request import Request
from promptlab.results import ErrorInfo, Result


@dataclass(frozen=True)
class Event:
    """Progress for live views: kind is 'start', 'text', 'retry' or 'done'."""

    kind: str
    index: int
    text: str = ""
    result: Result | None = None


class ResultStore(Protocol):
    """Cache and history (see promptlab.store). Both are optional for a run."""

    def lookup(
        self, job: Job, request: Request, region: str | None, notices: list[str] | None = None
    ) -> Result | None: ...

    def record(self, result: Result, request: Request) -> None: ...


@dataclass
class RunOutcome:
    results: list[Result]
    interrupted: bool = False
    run_id: str = ""
    wall_ms: int = 0


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + os.urandom(3).hex()


class Runner:
    def __init__(
        self,
        pool: ProviderPool,
        config: Config,
        *,
        concurrency: int | None = None,
        stream: bool = False,
        on_event: Callable[[Event], None] | None = None,
        store: ResultStore | None = None,
        run_id: str | None = None,
    ) -> None:
        self.pool = pool
        self.config = config
        self.concurrency = max(1, concurrency or config.concurrency)
        pool.reserve(self.concurrency)  # a connection per worker thread
        self.stream = stream
        self.on_event = on_event or (lambda e: None)
        self.store = store
        self.run_id = run_id or new_run_id()
        self.cancelled = threading.Event()

    def run(self, jobs: Sequence[Job]) -> RunOutcome:
        """Run every job; results keep job order. Ctrl-C returns what had finished.

        The store answers what it can (cache hits, a resumed run's finished calls) here, in the
        calling thread: that is quicker than handing work that takes microseconds to threads.
        The rest go to worker threads. Providers are created on their first real call; if that
        fails (a bad AWS set-up), no call is made through it, the run stops, and that
        PromptlabError is raised here.
        """
        results: list[Result | None] = [None] * len(jobs)
        start = time.perf_counter()
        interrupted = False
        executor = ThreadPoolExecutor(max_workers=min(self.concurrency, max(1, len(jobs))))
        futures: dict[Future[Result], int] = {}
        try:
            for i, job in enumerate(jobs):
                request, notices = job.request()
                region = self.pool.region_for(job.ref)
                answered = self._answered(i, job, request, notices, region)
                if answered is not None:
                    results[i] = answered
                    continue
                call = executor.submit(self._call, i, job, request, notices, region)
                futures[call] = i
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                for fut in done:
                    results[futures[fut]] = fut.result()
        except PromptlabError:
            self.cancelled.set()
            executor.shutdown(wait=True, cancel_futures=True)
            raise
        except KeyboardInterrupt:
            interrupted = True
            self.cancelled.set()
            for fut in futures:
                fut.cancel()
        finally:
            executor.shutdown(wait=not interrupted, cancel_futures=True)
        for fut, i in futures.items():  # collect what finished while we were stopping
            if results[i] is None and fut.done() and not fut.cancelled():
                results[i] = fut.result()
        wall = int((time.perf_counter() - start) * 1000)
        return RunOutcome([r for r in results if r is not None], interrupted, self.run_id, wall)

    # ------------------------------------------------------------ one job

    def _answered(
        self, index: int, job: Job, request: Request, notices: list[str], region: str | None
    ) -> Result | None:
        """The store's answer, if it has one: the store decides (cache for cacheable jobs, or
        the finished calls of a resumed run)."""
        if self.store is None:
            return None
        hit = self.store.lookup(job, request, region, notices)
        if hit is not None:
            self.on_event(Event("done", index, result=hit))
        return hit

    def _call(
        self, index: int, job: Job, request: Request, notices: list[str], region: str | None
    ) -> Result:
        provider = self.pool.get(job.ref)  # its first use creates it: set-up errors end the run
        self.on_event(Event("start", index))
        result = job.new_result(request, notices, region, self.run_id)
        started = time.perf_counter()
        try:
            completion = self._call_with_retry(index, provider, job, request)
        except ModelCallError as exc:
            result.error = exc.info()
        except Exception as exc:  # a bug or an unexpected SDK error: still only this cell
            result.error = ErrorInfo(type(exc).__name__, str(exc) or repr(exc))
        else:
            result.take(completion)
            result.cost_usd = cost_usd(
                job.ref, completion.input_tokens, completion.output_tokens, self.config
            )
        result.wall_ms = int((time.perf_counter() - started) * 1000)
        if self.store is not None:
            self.store.record(result, request)
        self.on_event(Event("done", index, result=result))
        return result

    def _call_with_retry(self, index: int, provider: Provider, job: Job, request: Request) -> Any:
        """botocore retries plain calls; this retries failures it cannot see (mid-stream)."""
        attempts = max(1, self.config.max_attempts)
        for attempt in range(1, attempts + 1):
            sent_text = False

            def on_text(text: str) -> None:
                nonlocal sent_text
                if self.cancelled.is_set():
                    raise ModelCallError("Cancelled", "stopped by Ctrl-C")
                sent_text = True
                self.on_event(Event("text", index, text=text))

            try:
                return provider.complete(job.ref, request, stream=self.stream, on_text=on_text)
            except ModelCallError as exc:
                if not exc.retryable or attempt == attempts or self.cancelled.is_set():
                    raise
                if sent_text:  # the partial answer on screen is discarded
                    self.on_event(Event("retry", index, text=exc.code))
                time.sleep(min(20.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable")

"""Fan jobs (prompt × vars × model × repeat) out over worker threads; collect Results.

Concurrency (fair per model, adaptive to throttling: scheduling.py), retries of mid-stream
failures, caching and history hooks live here once.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from promptlab import chains
from promptlab.catalogue import (
    ModelRef,
    TooLarge,
    Unsupported,
    completion_cost,
    cost_usd,
    unpriced_mode,
    unsupported,
)
from promptlab.config import Config
from promptlab.controls import ran, with_run
from promptlab.errors import PromptlabError
from promptlab.estimate import estimate_tokens
from promptlab.exchange import combine, follow_up, tool_uses
from promptlab.guardrails import for_calls
from promptlab.jobs import Job, chain_override_note, link_job, overflow, too_long
from promptlab.profiles import served_ref
from promptlab.providers.base import ModelCallError, Provider, ProviderPool
from promptlab.request import Message, Request, record_form
from promptlab.results import SETUP_ERROR_CODES, Completion, ErrorInfo, Result, plain_content
from promptlab.scheduling import (
    Scheduler,
    Ticket,
    is_throttle,
    lane_key,
    model_caps,
    throttled_attempts,
)
from promptlab.schemas import check_structured

if TYPE_CHECKING:
    from promptlab.batch.service import BatchRun
    from promptlab.batch.state import JobRow
    from promptlab.imagefiles import ImageFiles

INTERRUPTED = "Interrupted"  # the error code of a call cut short by Ctrl-C (its text is kept)


@dataclass(frozen=True)
class Event:
    """Progress for live views: kind is 'start', 'text' (answer text), 'reasoning' (reasoning
    text), 'retry' or 'done'."""

    kind: str
    index: int
    text: str = ""
    result: Result | None = None


class ResultStore(Protocol):
    """Cache and history (see promptlab.store). Both are optional for a run."""

    def lookup(
        self,
        job: Job,
        request: Request,
        region: str | None,
        notices: list[str] | None = None,
        key: str | None = None,
    ) -> Result | None: ...

    def record(
        self,
        result: Result,
        request: Request,
        extra: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> None: ...


@dataclass
class _InFlight:
    """A call being made: what has streamed so far (kept on Ctrl-C) and what retries discarded."""

    result: Result
    request: Request  # the request of the exchange's current call
    started: float
    first: Request = field(init=False)  # the request as the job made it
    turns: list[Message] = field(default_factory=list)  # tool exchange turns added to it
    follow_ups: int = 0  # the exchange's calls after the first (not retries)
    text: list[str] = field(default_factory=list)  # the current attempt's streamed text
    thoughts: list[str] = field(default_factory=list)  # ... and its streamed reasoning
    attempts: int = 0  # requests sent so far (botocore's own retries included, where known)
    discarded: list[int] = field(default_factory=list)  # ~tokens of each partial answer lost
    throttled: int = 0  # attempts that were throttled (botocore's retries included)

    def __post_init__(self) -> None:
        self.first = self.request


class _Step(NamedTuple):
    """One link of a fallback chain, prepared before the chain runs (Runner._prepare)."""

    job: Job
    request: Request
    notices: list[str]
    region: str | None
    refused: Unsupported | None


@dataclass
class RunOutcome:
    results: list[Result]
    interrupted: bool = False
    run_id: str = ""
    wall_ms: int = 0
    batch_jobs: list[JobRow] = field(default_factory=list)  # the run's batch jobs
    batch_pending: bool = False  # --no-wait or Ctrl-C: jobs left running, to collect later


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
        scheduler: Callable[[int, dict[str, int]], Scheduler[int]] | None = None,
        images: ImageFiles | None = None,
        batch: BatchRun | None = None,
    ) -> None:
        self.pool = pool
        self.batch = batch  # batch inference: takes the calls it can (see _submit_batch)
        if batch is not None and store is not None:  # collected answers go to the history
            from promptlab.batch.service import store_recorder

            batch.record = store_recorder(store)
        self.images = images  # where image models' answers are written (made on first use)
        self.config = config
        self.concurrency = max(1, concurrency or config.concurrency)
        pool.reserve(self.concurrency)  # a connection per worker thread
        # (overall cap, model caps) → the run's Scheduler; the default one is fair and adaptive
        self.make_scheduler = scheduler or Scheduler
        self.scheduler: Scheduler[int] = Scheduler(self.concurrency)  # the last run's
        self._names: dict[str, str] = {}  # lane key → the name the jobs used
        self.stream = stream
        self.on_event = on_event or (lambda e: None)
        self.store = store
        self.run_id = run_id or new_run_id()
        self.cancelled = threading.Event()
        self._lock = threading.Lock()
        self._in_flight: dict[int, _InFlight] = {}
        self._settled: dict[int, Result] = {}  # index → its result, whoever made it first
        self._served: dict[ModelRef, tuple[ModelRef, str | None]] = {}  # see _serving
        self.batch_jobs: list[JobRow] = []
        self.batch_pending = False

    def run(self, jobs: Sequence[Job]) -> RunOutcome:
        """Run every job; results keep job order. Ctrl-C returns what had finished, and the
        calls that had streamed part of their answer, cut short (error `Interrupted`, the text
        so far kept, tokens estimated), recorded in the store too.

        The store answers what it can (cache hits, a resumed run's finished calls) here, in the
        calling thread: that is quicker than handing work that takes microseconds to threads.
        The rest go to worker threads. Providers are created on their first real call; if that
        fails (a bad AWS set-up), no call is made through it, the run stops, and that
        PromptlabError is raised here.
        """
        results: list[Result | None] = [None] * len(jobs)
        jobs = list(jobs)
        start = time.perf_counter()
        interrupted = False
        executor = ThreadPoolExecutor(max_workers=min(self.concurrency, max(1, len(jobs))))
        futures: dict[Future[Result], int] = {}
        pending: set[Future[Result]] = set()
        asked: dict[int, tuple[Request, list[str], str | None] | None] = {}
        batched: dict[str, int] = {}  # record id → job index of the calls batch inference took
        chained: dict[int, tuple[list[_Step], str | None]] = {}  # a chain's links and cache key
        sched = self.scheduler = self.make_scheduler(
            self.concurrency, model_caps((j.ref for j in jobs), self.config)
        )
        self._names = {lane_key(j.ref): j.ref.alias for j in jobs}

        def start_ready() -> None:
            """Hand the calls the scheduler admits now to the pool."""
            for ticket in sched.ready():
                i = ticket.item
                prepared = asked.pop(i)
                if prepared is None:
                    call = executor.submit(self._chain, i, jobs[i], *chained.pop(i), ticket)
                else:
                    call = executor.submit(self._call, i, jobs[i], *prepared, ticket)
                futures[call] = i
                pending.add(call)

        try:
            for i, job in enumerate(jobs):
                if job.ref.links:  # a fallback chain: its links are tried in one worker
                    steps = [self._step(job, link) for link in job.ref.links]
                    key = self._chain_key(job, steps)
                    answered = self._chain_answered(i, job, steps, key)
                    if answered is not None:
                        results[i] = answered
                        continue
                    chained[i] = (steps, key)
                    asked[i] = None
                    sched.add(lane_key(job.ref), i)
                    start_ready()
                    continue
                jobs[i] = job = self._serving(job)
                request, notices, region, refused = self._prepare(job)
                if refused is not None:  # that cell's error, no call made
                    results[i] = self._refuse(i, job, request, notices, region, refused)
                    continue
                answered = self._answered(i, job, request, notices, region)
                if answered is not None:
                    results[i] = answered
                    continue
                asked[i] = (request, notices, region)
                if self.batch is None:
                    sched.add(lane_key(job.ref), i)
                    start_ready()
            if self.batch is not None:
                batched = self._submit_batch(jobs, asked)
                taken = set(batched.values())
                for i in sorted(asked):
                    if i not in taken and asked[i] is not None:  # chains are queued already
                        sched.add(lane_key(jobs[i].ref), i)
                start_ready()
            while pending:
                done, _ = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                pending.difference_update(done)
                for fut in done:
                    results[futures[fut]] = fut.result()
                start_ready()
            if self.batch is not None and batched:
                self._collect_batch(batched, results)
        except PromptlabError:
            self.cancelled.set()
            executor.shutdown(wait=True, cancel_futures=True)
            raise
        except KeyboardInterrupt:
            interrupted = True
            self.cancelled.set()
            for fut in futures:
                fut.cancel()
            self.batch_pending = self.batch is not None and bool(self.batch_jobs)
        finally:
            executor.shutdown(wait=not interrupted, cancel_futures=True)
        for fut, i in futures.items():  # collect what finished while we were stopping
            if results[i] is None and fut.done() and not fut.cancelled():
                results[i] = fut.result()
        if interrupted:  # keep what the calls still streaming had received
            for i, job in enumerate(jobs):
                results[i] = results[i] or self._stop(i, job)
        wall = int((time.perf_counter() - start) * 1000)
        return RunOutcome([r for r in results if r is not None], interrupted, self.run_id, wall,
                          self.batch_jobs, self.batch_pending)  # fmt: skip

    # ------------------------------------------------------------ batch inference

    def _submit_batch(
        self, jobs: list[Job], asked: dict[int, tuple[Request, list[str], str | None] | None]
    ) -> dict[str, int]:
        """Hand the calls batch inference takes to it (submitted now, or found among the jobs
        a resumed run made); record id → job index of each. The rest run online, and so do
        fallback chains (their links are tried one after another)."""
        from promptlab.batch.plan import Call

        assert self.batch is not None
        calls = [Call(i, jobs[i], *prepared) for i, prepared in sorted(asked.items())
                 if prepared is not None]  # fmt: skip
        planned, held = self.batch.split(calls)
        self.batch.submit(planned)
        taken = [*held, *(c for b in planned.batches for c in b.calls)]
        self.batch_jobs = self.batch.state.jobs(self.run_id)
        for call in taken:
            self.on_event(Event("start", call.index))
        return {call.record_id: call.index for call in taken}

    def _collect_batch(self, batched: dict[str, int], results: list[Result | None]) -> None:
        """Wait for the run's jobs (unless --no-wait) and place each record's Result."""
        assert self.batch is not None
        if not self.batch.wait_for_jobs:
            self.batch_pending = True
            return
        self.batch_pending = True  # until every job has ended (Ctrl-C while waiting)
        self.batch_jobs = self.batch.wait()
        self.batch_pending = False
        for rid, result in self.batch.collect():
            i = batched.get(rid)
            if i is not None and results[i] is None:
                results[i] = result
                self.on_event(Event("done", i, result=result))
        self.batch_jobs = self.batch.state.jobs(self.run_id)

    def throttling(self) -> list[str]:
        """A line for each model the last run had to slow down: throttled calls, and how far
        its concurrency went down."""
        lines = []
        for key, limit in self.scheduler.limits().items():
            if not limit.throttled:
                continue
            line = f"{self._names.get(key, key)}: {limit.throttled} call(s) throttled"
            if limit.lowest < limit.cap:
                line += (f"; its concurrency went from {limit.cap} down to {limit.lowest} "
                         f"(ended at {limit.limit})")  # fmt: skip
            lines.append(line)
        return lines

    def _prepare(
        self, job: Job, chained: bool = False
    ) -> tuple[Request, list[str], str | None, Unsupported | None]:
        """The request a job sends (its model's quirks applied, labelled with the run), its
        notices, the region it goes to, and why its model cannot take it (None: it can).
        `chained`: a link of a fallback chain (the prompt's `require:` checks apply)."""
        request, notices = job.request()
        request = with_run(request, self.run_id)
        looked_up = self._served[job.ref][1]  # why a profile's model is unknown
        if looked_up:
            notices.insert(0, looked_up)
        request = for_calls(request, stream=self.stream)  # what this operation takes
        if job.prompt.require and not chained:
            notices.append(chains.SINGLE_MODEL_NOTE)
        refused = (unsupported(request, job.ref) or overflow(job, request)
                   or too_long(job, request))  # fmt: skip
        return request, notices, self.pool.region_for(job.ref), refused

    def _serving(self, job: Job) -> Job:
        """The job with the model its application inference profile serves (looked up once
        per run and profile; profiles.py), so that it is adapted and priced as that model."""
        ref = job.ref
        if ref not in self._served:
            resolved, note = served_ref(ref, self.pool)
            self._served[ref] = self._served[resolved] = (resolved, note)
        resolved = self._served[ref][0]
        return job if resolved is ref else replace(job, ref=resolved)

    # ------------------------------------------------------------ one job

    def _refuse(
        self,
        index: int,
        job: Job,
        request: Request,
        notices: list[str],
        region: str | None,
        why: PromptlabError,
    ) -> Result:
        """The result of a job its model cannot take: an error in its cell, no call made."""
        result = job.new_result(request, notices, region, self.run_id)
        code = "ContextWindowExceeded" if isinstance(why, TooLarge) else "UnsupportedInput"
        result.error = ErrorInfo(code, why.message, why.hint)
        result.wall_ms = 0
        if self.store is not None:
            self.store.record(result, request, job.key_extra())
        self.on_event(Event("done", index, result=result))
        return result

    def _answered(
        self, index: int, job: Job, request: Request, notices: list[str], region: str | None
    ) -> Result | None:
        """The store's answer, if it has one: the store decides (cache for cacheable jobs, or
        the finished calls of a resumed run)."""
        if self.store is None:
            return None
        hit = self.store.lookup(job, request, region, notices)
        if hit is not None:
            if hit.images:  # the stored files, read again into this run's folder (if one has
                # gone since the store checked them, the recorded paths stay)
                with contextlib.suppress(OSError, ValueError):
                    hit.images = self.image_files().place(hit)
            self.on_event(Event("done", index, result=hit))
        return hit

    def image_files(self) -> ImageFiles:
        """Where images are written: the run's folder, or `.promptlab/images` by default."""
        if self.images is None:
            from promptlab.imagefiles import DEFAULT_DIR, ImageFiles

            self.images = ImageFiles(self.config.root / DEFAULT_DIR)
        return self.images

    def _call(
        self,
        index: int,
        job: Job,
        request: Request,
        notices: list[str],
        region: str | None,
        ticket: Ticket[int],
    ) -> Result:
        call = _InFlight(job.new_result(request, notices, region, self.run_id), request, 0.0)
        try:
            return self._make_call(index, job, call)
        finally:  # its model's place is free; throttling lowers the model's limit
            clean = call.result.ok and not call.throttled
            self.scheduler.finish(ticket, throttled=call.throttled > 0, clean=clean)

    def _step(self, job: Job, link: ModelRef) -> _Step:
        """One link of a chain's job, prepared as `_prepare` prepares a single model's."""
        step = self._serving(link_job(job, link))
        request, notices, region, refused = self._prepare(step, chained=True)
        note = chain_override_note(job)
        return _Step(step, request, [*notices, note] if note else notices, region, refused)

    def _chain_key(self, job: Job, steps: Sequence[_Step]) -> str | None:
        """The chain's cache key (every link's request, the `require:` checks): None without a
        store."""
        if self.store is None:
            return None
        links = [(s.job.ref.model_id, s.region, s.request.to_record()) for s in steps]
        return chains.cache_key(links, job.prompt.require, job.key_extra())

    def _chain_answered(
        self, index: int, job: Job, steps: Sequence[_Step], key: str | None
    ) -> Result | None:
        """The store's answer to a chain's call (a cache hit, a resumed run's finished call),
        labelled with the chain and the request of the link that served it."""
        if self.store is None or key is None:
            return None
        first = steps[0]
        hit = self.store.lookup(job, first.request, first.region, list(first.notices), key=key)
        if hit is None:
            return None
        link = next((s for s in steps if s.job.ref.alias == hit.served_by), steps[-1])
        hit = chains.restored(job.ref, hit, link.request, link.region)
        self.on_event(Event("done", index, result=hit))
        return hit

    def _chain(
        self, index: int, job: Job, steps: list[_Step], key: str | None, ticket: Ticket[int]
    ) -> Result:
        """A fallback chain's job: each link in turn (with its own retries) until one answers
        and passes the prompt's `require:` checks; the links passed over go into the result's
        `fallback`, their cost into its cost (chains.py). The chain holds one place of its
        first link's lane while it runs. Recorded under `key`, the chain's cache key."""
        passed: list[dict[str, Any]] = []
        throttled = False
        links = job.ref.links
        try:
            for n, (link, prepared) in enumerate(zip(links, steps, strict=True)):
                step, request, notices, region, refused = prepared
                call = _InFlight(step.new_result(request, notices, region, self.run_id), request,
                                 time.perf_counter())  # fmt: skip
                if refused is not None:  # passed over without a call
                    result = call.result
                    result.error = ErrorInfo("UnsupportedInput", refused.message, refused.hint)
                    result.wall_ms = 0
                else:
                    result = self._attempt(index, step, call)
                    throttled = throttled or call.throttled > 0
                why = chains.pass_over(result, partial(self._unmet, step))
                if why is None or n == len(links) - 1:
                    if why is not None and result.ok:
                        result.notices.append(f"{link.alias}'s answer is kept although it is "
                                              f"the last link and {why}")  # fmt: skip
                    break
                passed.append(chains.attempt(result, why))
                if refused is None:  # the live view drops what this link streamed
                    self.on_event(Event("retry", index, text=f"{link.alias}: {why}"))
        finally:
            clean = not passed and not throttled
            self.scheduler.finish(ticket, throttled=throttled, clean=clean)
        return self._settle(index, step, chains.served(job.ref, result, passed), call.first, key)

    def _unmet(self, job: Job, result: Result) -> str | None:
        """The first of the prompt's `require:` checks the answer fails, as a reason."""
        return chains.unmet(job.prompt.require, result, job.vars, job.case, self.config.root,
                            job.rendered.output_schema)  # fmt: skip

    def _make_call(self, index: int, job: Job, call: _InFlight) -> Result:
        return self._settle(index, job, self._attempt(index, job, call), call.first)

    def _settle(
        self, index: int, job: Job, result: Result, request: Request, key: str | None = None
    ) -> Result:
        """The job's result is final: recorded once (unless Ctrl-C recorded it first), shown.
        `key`: its cache key when the request alone is not it (a fallback chain's)."""
        with self._lock:
            settled = self._settled.setdefault(index, result)
        if settled is not result:  # Ctrl-C: the main thread has recorded it already
            return settled
        if self.store is not None and key is not None:
            self.store.record(result, request, job.key_extra(), key=key)
        elif self.store is not None:
            self.store.record(result, request, job.key_extra())
        self.on_event(Event("done", index, result=result))
        return result

    def _attempt(self, index: int, job: Job, call: _InFlight) -> Result:
        """Make the call (retries, tool exchange) and price its answer; not recorded yet."""
        provider = self.pool.get(job.ref)  # its first use creates it: set-up errors end the run
        self.on_event(Event("start", index))
        result, request = call.result, call.request
        call.started = time.perf_counter()
        with self._lock:
            self._in_flight[index] = call
        try:
            completion = self._call_with_retry(index, provider, job, call)
            completion = self._follow_tools(index, provider, job, call, completion)
        except ModelCallError as exc:
            if self.cancelled.is_set() and (call.text or call.thoughts):
                result = self._cut_short(job, call)
            else:
                result.error = exc.info()
        except Exception as exc:  # a bug or an unexpected SDK error: still only this cell
            result.error = ErrorInfo(type(exc).__name__, str(exc) or repr(exc))
        else:
            result.take(completion)
            if completion.images:  # decoded once by the provider, written once here
                result.images = self.image_files().save(result, completion.images)
            result.turns = [record_form(m.to_converse()) for m in call.turns]
            result.cost_usd = completion_cost(job.ref, completion, request, self.config)
            if result.cost_usd is None:  # say so when the tier or latency mode has no price
                why = unpriced_mode(job.ref, completion, request, self.config)
                if why and why not in result.notices:
                    result.notices.append(why)
            if job.rendered.output_schema:
                native = bool(request.output_config)
                result.structured = check_structured(job.rendered.output_schema, result.output,
                                                     native)  # fmt: skip
        if not (result.error and result.error.code == INTERRUPTED):
            result.attempts = max(1, call.attempts - call.follow_ups)
        _note_discarded(result, call)
        result.wall_ms = int((time.perf_counter() - call.started) * 1000)
        return result

    def _follow_tools(
        self, index: int, provider: Provider, job: Job, call: _InFlight, completion: Completion
    ) -> Completion:
        """While the model calls tools with scripted results, send them back and ask again
        (up to the job's turn limit); the Completion sums every call of the exchange."""
        calls = 1
        while tool_uses(completion.content):
            step = follow_up(call.request, completion.content, job.scripts)
            if step.request is None:
                why = (f"no scripted result for {', '.join(step.unanswered)}" if job.scripts
                       else "no tool_results scripted")  # fmt: skip
                note = f"the exchange stopped at a tool call: {why}"
            elif calls >= job.turn_limit:
                note = f"the exchange stopped after {calls} model calls (max_turns)"
            else:
                call.turns.extend(step.added)
                call.request = step.request
                call.follow_ups += 1
                then = self._call_with_retry(index, provider, job, call)
                completion = combine(completion, then)
                calls += 1
                continue
            return replace(completion, notices=(*completion.notices, note))
        return completion

    def _stop(self, index: int, job: Job) -> Result | None:
        """After Ctrl-C: the call's result if it has one, else the call cut short if part of
        its answer had arrived (recorded), else None (nothing to keep)."""
        with self._lock:
            if index in self._settled:
                return self._settled[index]
            call = self._in_flight.get(index)
            if call is None or not (call.text or call.thoughts):
                return None
            result = self._settled[index] = self._cut_short(job, call)
        if self.store is not None:
            self.store.record(result, call.first, job.key_extra())
        return result

    def _cut_short(self, job: Job, call: _InFlight) -> Result:
        """A copy of the call's result holding what streamed before Ctrl-C, marked Interrupted.

        Usage arrives only at the end of a stream: tokens are estimated (~4 characters each,
        the reasoning that streamed included), and so is the cost of what was generated."""
        text = "".join(call.text)
        thought = "".join(call.thoughts)
        result = replace(call.result, notices=list(call.result.notices))
        result.output, result.content = text, plain_content(text)
        if thought:
            result.content.insert(0, {"reasoningContent": {"reasoningText": {"text": thought}}})
        result.input_tokens = estimate_tokens(call.request.text)
        result.output_tokens = estimate_tokens(text) + estimate_tokens(thought)
        result.tokens_estimated = True
        tier, latency = ran(None, call.request)
        ref = job.ref  # a fallback chain: the link that was answering, labelled as the chain
        link = next((x for x in ref.links if x.alias == result.model_alias), ref)
        result.cost_usd = cost_usd(link, result.input_tokens, result.output_tokens, self.config,
                                   tier=tier, latency=latency)  # fmt: skip
        if ref.links:
            result.model_alias, result.model_id = ref.alias, chains.spelled(ref.links)
        result.error = ErrorInfo(
            INTERRUPTED,
            f"stopped by Ctrl-C after ~{result.output_tokens:,} output tokens; "
            "the answer so far is kept",
            infrastructure=True,
        )
        result.attempts = max(1, call.attempts + 1)
        _note_discarded(result, call)
        result.wall_ms = int((time.perf_counter() - call.started) * 1000)
        return result

    def _call_with_retry(
        self, index: int, provider: Provider, job: Job, call: _InFlight
    ) -> Completion:
        """botocore retries plain calls; this retries failures it cannot see (mid-stream)."""
        attempts = max(1, self.config.max_attempts)
        mid_stream = 0  # attempts that failed after text had arrived
        for attempt in range(1, attempts + 1):
            parts: list[str] = []
            thoughts: list[str] = []
            with self._lock:
                call.text, call.thoughts = parts, thoughts
            try:
                completion = provider.complete(
                    job.ref, call.request, stream=self.stream,
                    on_text=self._on_text(index, parts, "text"),
                    on_reasoning=self._on_text(index, thoughts, "reasoning"),
                )  # fmt: skip
            except ModelCallError as exc:
                if self.cancelled.is_set():
                    raise
                call.attempts += exc.attempts
                call.throttled += is_throttle(exc.code)
                if parts or thoughts:  # the partial answer on screen is discarded
                    mid_stream += 1
                    call.discarded.append(estimate_tokens("".join(parts))
                                          + estimate_tokens("".join(thoughts)))  # fmt: skip
                if not exc.retryable or attempt == attempts:
                    raise _gave_up(exc, attempt, mid_stream) from None
                if parts or thoughts:
                    self.on_event(Event("retry", index, text=exc.code))
                time.sleep(min(20.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0))
            else:
                call.attempts += completion.attempts
                call.throttled += throttled_attempts(completion.retried)
                return completion
        raise AssertionError("unreachable")

    def _on_text(self, index: int, parts: list[str], kind: str) -> Callable[[str], None]:
        """What a stream calls with each piece of answer text (`kind` "text") or reasoning text
        ("reasoning"): kept in `parts`, shown live."""

        def on_text(text: str) -> None:
            if self.cancelled.is_set():
                raise ModelCallError("Cancelled", "stopped by Ctrl-C")
            parts.append(text)
            self.on_event(Event(kind, index, text=text))

        return on_text


def _gave_up(exc: ModelCallError, attempts: int, mid_stream: int) -> ModelCallError:
    """The last error, saying how many attempts failed mid-stream and what to try instead."""
    if not mid_stream:
        return exc
    if exc.code in SETUP_ERROR_CODES:  # the endpoint went away after answering: not set-up
        return ModelCallError(
            "ConnectionLost",
            f"the endpoint stopped answering mid-stream, then {exc.code}: {exc.message}",
            exc.hint, infrastructure=True,
        )  # fmt: skip
    tries = f"{attempts} attempts" if attempts > 1 else "1 attempt"
    which = "each" if mid_stream == attempts else f"{mid_stream} of them"
    first = exc.hint if exc.code == "ThrottlingException" else ""
    hint = "; ".join(filter(None, [
        first or "try again later",
        "or use --no-stream: botocore retries a plain call before any text is generated",
    ]))  # fmt: skip
    return ModelCallError(
        exc.code,
        f"{exc.message} ({tries}, {which} failed mid-stream)",
        hint,
        retryable=exc.retryable,
        infrastructure=exc.infrastructure,
    )


def _note_discarded(result: Result, call: _InFlight) -> None:
    """A notice counting what was generated and thrown away by mid-stream retries."""
    if not call.discarded:
        return
    n, tokens = len(call.discarded), sum(call.discarded)
    note = (
        f"{n} partial answer(s) discarded after mid-stream failures: ~{tokens:,} output tokens "
        "generated (estimated; Bedrock may bill them)"
    )
    if note not in result.notices:
        result.notices.append(note)

"""Running and evaluating: model calls through one Runner, graders on a second pool."""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlab.assertions import Context, evaluate, is_quick
from promptlab.catalogue import ModelRef, adapt, completion_cost, cost_usd, resolve
from promptlab.config import Config
from promptlab.controls import Controls, with_run
from promptlab.guardrails import INTERVENED, Guardrail, Outcome, effective, from_apply
from promptlab.imagegen import IMAGE_EMBEDDING_MODEL
from promptlab.profiles import served_ref
from promptlab.providers.base import ModelCallError, ProviderPool
from promptlab.request import Request
from promptlab.results import GRADER_NOTICE, Completion, PromptId, Result, new_result
from promptlab.runner import Event, ResultStore, Runner, RunOutcome
from promptlab.scheduling import Budget, is_throttle, throttled_attempts
from promptlab.store.verdicts import RatingsLookup
from promptlab.testing.outcomes import AssertionOutcome, CaseOutcome, Sample, TestRun
from promptlab.testing.plan import Planned, embedding_model, jobs_for, plan_line

if TYPE_CHECKING:
    from promptlab.assertions.rated import Ratings
    from promptlab.batch.service import BatchRun


class GraderServices:
    """Judge, embedding and ApplyGuardrail calls for assertions, through the shared provider
    pool.

    They have their own budget, `grader_concurrency` calls at once (lowered while they are
    throttled), apart from the calls under test: neither starves the other.
    With a store, each grader call is recorded in history like any model call, under the
    graded prompt's name with " (judge)" / " (embedding)" / " (guardrail)" appended, so its
    cost and usage show in stats.
    """

    def __init__(
        self,
        pool: ProviderPool,
        config: Config,
        refs: dict[str, ModelRef],
        store: ResultStore | None = None,
        run_id: str | None = None,
    ) -> None:
        self.pool = pool
        self.config = config
        self.refs = refs
        self.store = store
        self.run_id = run_id
        self.budget = Budget(config.grader_concurrency)
        self._lock = threading.Lock()
        self._embeddings: dict[tuple[str, str], tuple[list[float], int, float | None]] = {}

    def _ref(self, model: str) -> ModelRef:
        ref = self.refs.get(model)
        if ref is None:
            ref = resolve(model, self.config, self.config.region)
            self.refs[model] = ref
        return ref

    def complete(
        self, model: str, request: Request, about: Result | None = None
    ) -> tuple[Completion, float | None]:
        ref, note = served_ref(self._ref(model), self.pool)
        graded = about.prompt_id if about else PromptId("grader", "-", "")
        labelled = Controls(metadata=self.config.request_metadata).apply(
            request, replace(graded, name=f"{graded.name} judge")
        )
        adapted, notices = adapt(with_run(labelled, self.run_id), ref)
        if note:
            notices.insert(0, note)
        provider = self.pool.get(ref)
        with self.budget.slot() as slot:
            started = time.perf_counter()
            try:
                completion = provider.complete(ref, adapted, stream=False)
            except ModelCallError as exc:
                slot.throttled = is_throttle(exc.code)
                self._record("judge", ref, adapted, about, started, None, None, exc)
                raise
            slot.throttled = throttled_attempts(completion.retried) > 0
            slot.clean = not slot.throttled
        cost = completion_cost(ref, completion, adapted, self.config)
        self._record("judge", ref, adapted, about, started, completion, cost, None, notices)
        return completion, cost

    def embed(
        self, model: str, text: str, about: Result | None = None
    ) -> tuple[list[float], int, float | None]:
        """Embeddings are cached per run (expected texts repeat across samples): cost once."""
        key = (model, text)
        with self._lock:
            if key in self._embeddings:
                vec, _, _ = self._embeddings[key]
                return vec, 0, 0.0
        ref = self._ref(model)
        request = Request.of(None, text)
        provider = self.pool.get(ref)
        with self.budget.slot() as slot:
            started = time.perf_counter()
            try:
                vec, tokens = provider.embed(ref, text)
            except ModelCallError as exc:
                slot.throttled = is_throttle(exc.code)
                self._record("embedding", ref, request, about, started, None, None, exc)
                raise
            slot.clean = True
        cost = cost_usd(ref, tokens, 0, self.config)
        done = Completion(output="", input_tokens=tokens, output_tokens=0)
        self._record("embedding", ref, request, about, started, done, cost, None)
        with self._lock:
            self._embeddings[key] = (vec, tokens, cost)
        return vec, tokens, cost

    def apply_guardrail(
        self, guardrail: Guardrail, source: str, text: str, about: Result | None = None
    ) -> tuple[Outcome, float | None]:
        """ApplyGuardrail (a Bedrock runtime call, whatever model answered). Its price per
        text unit is not known: the cost is None, the units are in the recorded response."""
        ref = ModelRef(f"guardrail {guardrail.label}", guardrail.label, None)
        request = Request.of(None, text)
        started = time.perf_counter()
        try:
            provider: Any = self.pool.for_kind(ref.provider)
            response = provider.apply_guardrail(guardrail, source, text)
        except ModelCallError as exc:
            self._record("guardrail", ref, request, about, started, None, None, exc)
            raise
        applied = {**response, "source": source.upper()}
        said = [o["text"] for o in response.get("outputs") or [] if isinstance(o.get("text"), str)]
        stop = INTERVENED if response.get("action") == "GUARDRAIL_INTERVENED" else None
        done = Completion(output="\n".join(said), stop_reason=stop,
                          response_meta={"applyGuardrail": applied})  # fmt: skip
        self._record("guardrail", ref, request, about, started, done, None, None)
        return from_apply(applied), None

    def embed_image(
        self, model: str, text: str | None, image: bytes | None, about: Result | None = None
    ) -> tuple[list[float], int, float | None]:
        """A multimodal embedding (Titan Multimodal Embeddings; echo offline), cached per run
        by text and image digest: each reference is paid for once."""
        digest = hashlib.sha256(image).hexdigest() if image is not None else ""
        key = (model, f"{text or ''}\0{digest}")
        with self._lock:
            if key in self._embeddings:
                return self._embeddings[key][0], 0, 0.0
        ref = self._ref(model)
        started = time.perf_counter()
        request = Request.of(None, text or f"[image sha256:{digest[:12]}]")
        try:
            provider = self.pool.get(ref)
            embed = getattr(provider, "embed_image", None)
            if embed is None:
                raise ModelCallError(
                    "NotAMultimodalModel", f"{ref.alias} cannot embed images",
                    f"use a multimodal embedding model, e.g. model: {IMAGE_EMBEDDING_MODEL}",
                )  # fmt: skip
            vec, tokens = embed(ref, text, image)
        except ModelCallError as exc:
            self._record("embedding", ref, request, about, started, None, None, exc)
            raise
        cost = cost_usd(ref, tokens, 0, self.config, images=int(image is not None))
        done = Completion(output="", input_tokens=tokens, output_tokens=0)
        self._record("embedding", ref, request, about, started, done, cost, None)
        with self._lock:
            self._embeddings[key] = (vec, tokens, cost)
        return vec, tokens, cost

    def _record(
        self,
        kind: str,
        ref: ModelRef,
        request: Request,
        about: Result | None,
        started: float,
        completion: Completion | None,
        cost: float | None,
        error: ModelCallError | None,
        notices: list[str] | None = None,
    ) -> None:
        if self.store is None:
            return
        graded = about.prompt_id if about else PromptId("grader", "-", "")
        result = new_result(
            replace(graded, name=f"{graded.name} ({kind})"), ref, request,
            region=self.pool.region_for(ref), run_id=self.run_id,
            notices=[f"{kind} {GRADER_NOTICE}", *(notices or [])],
            case=about.case if about else None, repeat_index=about.repeat_index if about else 0,
        )  # fmt: skip
        result.wall_ms = int((time.perf_counter() - started) * 1000)
        result.cost_usd = cost
        if completion is not None:
            result.take(completion)
        if error is not None:
            result.error = error.info()
        self.store.record(result, request)


def evaluate_sample(
    result: Result, case: Any, config: Config, services: GraderServices | None,
    ratings: Ratings | None = None,
) -> Sample:  # fmt: skip
    """Run the case's assertions on one result and decide pass / fail / error."""
    if result.error is not None:
        status = "error" if result.error.infrastructure else "fail"
        return Sample(result, status, 0.0, f"model error: {result.error.code}: "
                      f"{result.error.message}")  # fmt: skip
    ctx = Context(
        output=result.output, result=result, vars=case.vars, case=case.name, root=config.root,
        services=services, judge_model=case.judge_model or config.judge_model,
        embedding_model=embedding_model(case, config),
        user_prompt=case.rendered.user, output_schema=case.prompt.output_schema,
        reasoning=result.reasoning, reasoning_redacted=result.reasoning_redacted,
        guardrail=effective(case.prompt.guardrail, config), ratings=ratings,
        case_context=case.context, prompts_dir=config.prompts_dir,
        question=case.rendered.sections.get("input") or case.rendered.user,
    )  # fmt: skip
    outcomes: list[AssertionOutcome] = []
    for a in case.asserts:
        v = evaluate(a, ctx)
        outcomes.append(AssertionOutcome(a.label, a.full_type, v.passed, v.score, a.weight,
                                         v.reason, v.error, v.tokens, v.cost_usd))  # fmt: skip
    return decide(result, outcomes, case.min_score)


def decide(result: Result, outcomes: list[AssertionOutcome], min_score: float | None) -> Sample:
    """A sample passes when every weighted assertion passes, or — with `min_score` — when the
    weighted mean score reaches it. Weight-0 assertions are reported but never decide."""
    counted = [o for o in outcomes if o.weight > 0]
    total_w = sum(o.weight for o in counted)
    score = sum(o.weight * o.score for o in counted) / total_w if total_w else 1.0
    infra = next((o for o in outcomes if o.error is not None and o.error.infrastructure), None)
    if infra is not None:
        return Sample(result, "error", score, f"{infra.name}: {infra.reason}", outcomes)
    failing = [o for o in counted if not o.passed]
    first = f"{failing[0].name}: {failing[0].reason}" if failing else ""
    if min_score is None:
        ok = not failing
        reason = first
    else:
        ok = score >= min_score
        reason = "" if ok else f"score {score:.2f} < min_score {min_score:g}" + (
            f"; {first}" if first else "")  # fmt: skip
    return Sample(result, "pass" if ok else "fail", score, reason, outcomes)


def aggregate(
    p: Planned, samples: list[Sample], interrupted: bool = False, root: Path | None = None
) -> CaseOutcome:
    """Pass rate vs threshold; any infrastructure error (or a missing sample) makes it an error.

    Paths (the prompt's, the case's `where`) are relative to `root` (the project) when inside it.
    """
    case = p.case
    samples = sorted(samples, key=lambda s: s.result.repeat_index)
    out = CaseOutcome(
        prompt={"name": case.prompt.name, "version": case.prompt.version,
                "hash": case.prompt.content_hash, "path": relative(case.prompt.path, root)},
        case=case.name, model=p.ref.alias, model_id=p.ref.model_id, repeat=p.repeat,
        threshold=case.threshold, samples=samples, description=case.description,
        where=relative(case.file, root) + (f":{case.line}" if case.line else ""),
    )  # fmt: skip
    errors = [s for s in samples if s.status == "error"]
    if errors:
        out.status, out.reason = "error", errors[0].reason
    elif len(samples) < p.repeat:
        out.status = "error"
        out.reason = "interrupted" if interrupted else "not run"
    elif out.pass_rate >= case.threshold:
        out.status = "pass"
    else:
        out.status = "fail"
        first = next(s for s in samples if s.status != "pass")
        out.reason = first.reason
    return out


@functools.lru_cache(maxsize=1024)  # a suite's few files, asked about for every case
def relative(path: str, root: Path | None) -> str:
    """`path` relative to `root` (POSIX separators) when it is inside it, else unchanged."""
    if not path or root is None:
        return path
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return path


# ---------------------------------------------------------------- running


def grader_throttling(budget: Budget) -> list[str]:
    """A line when judge and embedding calls were throttled (and slowed down)."""
    limit = budget.limit
    if not limit.throttled:
        return []
    line = f"judge and embedding calls: {limit.throttled} throttled"
    if limit.lowest < limit.cap:
        line += f"; their concurrency went from {limit.cap} down to {limit.lowest}"
    return [line]


class Progress:
    """Live-view hooks; the default does nothing."""

    def start(self, cases: int, samples: int, plan: str = "") -> None:
        """`plan`: what will be called and paid for (`plan.plan_line`)."""

    def sample(self, result: Result) -> None: ...

    def case(self, outcome: CaseOutcome) -> None: ...

    def finish(self) -> None: ...


class TestEngine:
    """Runs planned cases: one Runner for model calls, one pool for evaluation."""

    __test__ = False

    def __init__(
        self,
        config: Config,
        pool: ProviderPool,
        *,
        concurrency: int | None = None,
        store: ResultStore | None = None,
        run_id: str | None = None,
        progress: Progress | None = None,
        batch: BatchRun | None = None,
    ) -> None:
        self.config = config
        self.batch = batch  # batch inference takes the calls it can (runner.Runner)
        self.outcome: RunOutcome | None = None  # the last run's, batch jobs included
        self.pool = pool
        self.concurrency = max(1, concurrency or config.concurrency)
        # a connection for every call under test and every grader call that may run at once
        pool.reserve(self.concurrency + max(1, config.grader_concurrency))
        self.store = store
        self.run_id = run_id
        self.progress = progress or Progress()
        self.throttling: list[str] = []  # the models the last run slowed down, one line each

    def run(self, planned: list[Planned], graders: dict[str, ModelRef] | None = None) -> TestRun:
        started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        jobs, index = jobs_for(planned, Controls.of(self.config))
        graders = graders or {}
        services = GraderServices(self.pool, self.config, dict(graders), self.store, self.run_id)
        ratings = RatingsLookup(self.config.store_path) if self.config.history else None
        samples: list[list[Sample]] = [[] for _ in planned]
        root = self.config.root
        started_calls: set[int] = set()  # jobs sent to a model (the rest: answered by the store)
        reused = cached = 0
        done_cases: set[int] = set()
        lock = threading.Lock()
        futures: list[Future[None]] = []
        # user code and grader calls (at most grader_concurrency of them at once: the budget)
        evaluator = ThreadPoolExecutor(max_workers=max(self.concurrency, services.budget.limit.cap))

        def finish_sample(pi: int, result: Result) -> None:
            sample = evaluate_sample(result, planned[pi].case, self.config, services, ratings)
            with lock:
                samples[pi].append(sample)
                complete = len(samples[pi]) == planned[pi].repeat and pi not in done_cases
                if complete:
                    done_cases.add(pi)
                    outcome = aggregate(planned[pi], list(samples[pi]), root=root)
            if complete:
                self.progress.case(outcome)

        def on_event(event: Event) -> None:
            nonlocal reused, cached
            if event.kind == "start":
                started_calls.add(event.index)
            if event.kind != "done" or event.result is None:
                return
            if event.index not in started_calls:  # the store answered: --resume or the cache
                if event.result.cached:
                    cached += 1
                else:
                    reused += 1
            self.progress.sample(event.result)
            pi, _ = index[event.index]
            if all(is_quick(a) for a in planned[pi].case.asserts):
                finish_sample(pi, event.result)  # where the result arrives
            else:  # model calls (graders) or user code: on the evaluation pool
                futures.append(evaluator.submit(finish_sample, pi, event.result))

        self.progress.start(len(planned), len(jobs), plan_line(planned))
        runner = Runner(self.pool, self.config, concurrency=self.concurrency, on_event=on_event,
                        store=self.store, run_id=self.run_id, batch=self.batch)  # fmt: skip
        interrupted = False
        wall_ms = 0
        try:
            outcome = self.outcome = runner.run(jobs)
            interrupted, wall_ms = outcome.interrupted, outcome.wall_ms
            for fut in list(futures):
                fut.result()
        except KeyboardInterrupt:
            interrupted = True
        finally:
            evaluator.shutdown(wait=not interrupted, cancel_futures=True)
            self.progress.finish()
        with lock:
            cases = [aggregate(p, list(samples[i]), interrupted, root)
                     for i, p in enumerate(planned)]  # fmt: skip
        run = TestRun(cases, runner.run_id, started, wall_ms, interrupted)
        run.reused, run.cached = reused, cached
        run.collected = self.batch.held if self.batch is not None else 0
        self.throttling = runner.throttling() + grader_throttling(services.budget)
        return run

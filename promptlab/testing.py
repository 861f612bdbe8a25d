"""The test engine: cases × models × repeats → runner Jobs → evaluated outcomes.

Model calls go through one Runner; each finished sample is evaluated at once on a second pool
(so judge/similar calls run concurrently with the remaining model calls).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from promptlab.assertions import Context, evaluate, is_remote
from promptlab.catalogue import ModelRef, adapt, cost_usd, price_for, resolve, split_models
from promptlab.config import Config
from promptlab.errors import UsageError
from promptlab.providers.base import ProviderPool
from promptlab.request import Request
from promptlab.results import Completion, ErrorInfo, Result
from promptlab.runner import Event, Job, ResultStore, Runner

REPORT_SCHEMA = "promptlab.test/1"


# ---------------------------------------------------------------- planning


@dataclass(frozen=True)
class Planned:
    """One case × model, run `repeat` times."""

    case: Any  # suite.Case
    ref: ModelRef
    repeat: int

    @property
    def key(self) -> str:
        return case_key(self.case.prompt.name, self.case.name, self.ref.alias)


def case_key(prompt: str, case: str, model: str) -> str:
    return f"{prompt}/{case}@{model}"


def shard_of(prompt_name: str, case_name: str, total: int) -> int:
    """1-based shard of a case: a stable hash of prompt + case name, not list order."""
    digest = hashlib.sha256(f"{prompt_name}\0{case_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % total + 1


def parse_shard(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise UsageError(f"--shard {text!r} must be I/N with 1 ≤ I ≤ N", "e.g. --shard 2/4")
    return int(m.group(1)), int(m.group(2))


def matches(case: Any, pattern: str) -> bool:
    """Glob (when the pattern has * ? [) or case-insensitive substring on the case name or id."""
    names = (case.name.lower(), case.id.lower())
    p = pattern.lower()
    if any(ch in p for ch in "*?["):
        return any(fnmatch.fnmatchcase(n, p) for n in names)
    return any(p in n for n in names)


def select(cases: list[Any], pattern: str | None, shard: tuple[int, int] | None) -> list[Any]:
    out = cases
    if pattern:
        out = [c for c in out if matches(c, pattern)]
        if not out:
            raise UsageError(f"no test case matches --filter {pattern!r}",
                             "the pattern is a glob or substring of the case name")  # fmt: skip
    if shard:
        index, total = shard
        out = [c for c in out if shard_of(c.prompt.name, c.name, total) == index]
    return out


def plan(
    cases: list[Any], config: Config, *, models: list[str] | None = None, repeat: int | None = None
) -> list[Planned]:
    """Resolve each case's models (-m, case, suite defaults, prompt, config). UsageError early."""
    override = split_models(models or [])
    out: list[Planned] = []
    cache: dict[str, ModelRef] = {}
    for case in cases:
        names = override or list(case.models) or list(case.prompt.models) or list(config.models)
        if not names:
            raise UsageError(f"{case.where}: no models for case '{case.name}'",
                             "pass -m MODEL, or set models: in the suite, prompt or "
                             "promptlab.yaml (-m echo runs offline)")  # fmt: skip
        for name in names:
            if name not in cache:
                try:
                    cache[name] = resolve(name, config, config.region)
                except UsageError as exc:
                    where = "-m" if override else _model_where(case)
                    raise UsageError(f"{where}: {exc.message}", exc.hint) from None
            out.append(Planned(case, cache[name], repeat or case.repeat))
    return out


def _model_where(case: Any) -> str:
    file, line = case.model_lines
    if case.models and file:
        return f"{file}:{line}" if line else file
    return case.prompt.path


def grader_models(planned: list[Planned], config: Config) -> dict[str, ModelRef]:
    """Judge and embedding models the assertions need, resolved up front."""
    out: dict[str, ModelRef] = {}
    for p in planned:
        for a in p.case.asserts:
            if not is_remote(a):
                continue
            default = (p.case.judge_model or config.judge_model) if a.type == "judge" else (
                p.case.embedding_model or config.embedding_model)  # fmt: skip
            name = a.options.get("model") or default
            if name not in out:
                try:
                    out[name] = resolve(name, config, config.region)
                except UsageError as exc:
                    raise UsageError(f"{a.where}: {a.full_type}: {exc.message}", exc.hint) from None
    return out


def jobs_for(planned: list[Planned]) -> tuple[list[Job], list[tuple[int, int]]]:
    """Runner jobs and, for each, (planned index, repeat index)."""
    jobs: list[Job] = []
    index: list[tuple[int, int]] = []
    for pi, p in enumerate(planned):
        case = p.case
        params = case.prompt.params_for(p.ref.alias, p.ref.model_id)
        cacheable = p.repeat == 1 and params.temperature == 0
        for r in range(p.repeat):
            jobs.append(Job(case.prompt, case.rendered, p.ref, params, dict(case.vars), case.name,
                            r, cacheable))  # fmt: skip
            index.append((pi, r))
    return jobs, index


# ---------------------------------------------------------------- outcomes


@dataclass
class AssertionOutcome:
    name: str
    type: str
    passed: bool
    score: float
    weight: float
    reason: str
    error: ErrorInfo | None = None
    tokens: int = 0
    cost_usd: float | None = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "type": self.type, "passed": self.passed,
            "score": round(self.score, 4), "weight": self.weight, "reason": self.reason,
            "error": self.error.to_dict() if self.error else None,
            "tokens": self.tokens, "cost_usd": self.cost_usd,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AssertionOutcome:
        err = d.get("error")
        return cls(d["name"], d["type"], d["passed"], d["score"], d["weight"], d["reason"],
                   ErrorInfo(**err) if err else None, d.get("tokens", 0),
                   d.get("cost_usd", 0.0))  # fmt: skip


@dataclass
class Sample:
    """One model call and its evaluation. status: pass | fail | error (infrastructure)."""

    result: Result
    status: str
    score: float
    reason: str = ""
    assertions: list[AssertionOutcome] = field(default_factory=list)

    @property
    def eval_tokens(self) -> int:
        return sum(a.tokens for a in self.assertions)

    @property
    def eval_cost_usd(self) -> float:
        return sum(a.cost_usd or 0.0 for a in self.assertions)

    @property
    def latency_ms(self) -> int | None:
        r = self.result
        return r.latency_ms if r.latency_ms is not None else r.wall_ms

    def to_dict(self) -> dict[str, Any]:
        return {
            "repeat_index": self.result.repeat_index, "status": self.status,
            "score": round(self.score, 4), "reason": self.reason,
            "eval_tokens": self.eval_tokens, "eval_cost_usd": round(self.eval_cost_usd, 8),
            "assertions": [a.to_dict() for a in self.assertions],
            "result": self.result.to_dict(),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Sample:
        return cls(Result.from_dict(d["result"]), d["status"], d["score"], d.get("reason", ""),
                   [AssertionOutcome.from_dict(a) for a in d.get("assertions", [])])  # fmt: skip


@dataclass
class CaseOutcome:
    """One case × model over its repeats."""

    prompt: dict[str, Any]  # name, version, hash, path
    case: str
    model: str
    model_id: str
    repeat: int
    threshold: float
    samples: list[Sample]
    description: str = ""
    where: str = ""
    status: str = "fail"  # pass | fail | error
    reason: str = ""

    @property
    def key(self) -> str:
        return case_key(self.prompt["name"], self.case, self.model)

    @property
    def passes(self) -> int:
        return sum(s.status == "pass" for s in self.samples)

    @property
    def pass_rate(self) -> float:
        return self.passes / self.repeat if self.repeat else 0.0

    @property
    def agreement(self) -> float | None:
        outs = [normalize(s.result.output) for s in self.samples if s.result.ok]
        if self.repeat < 2 or not outs:
            return None
        return Counter(outs).most_common(1)[0][1] / len(outs)

    @property
    def output(self) -> str:
        """The majority output (first sample's when all differ)."""
        ok = [s.result.output for s in self.samples if s.result.ok]
        if not ok:
            return ""
        top = Counter(normalize(o) for o in ok).most_common(1)[0][0]
        return next(o for o in ok if normalize(o) == top)

    @property
    def tokens(self) -> int:
        return sum(s.result.total_tokens + s.eval_tokens for s in self.samples)

    @property
    def cost_usd(self) -> float:
        return sum((s.result.cost_usd or 0.0) + s.eval_cost_usd for s in self.samples)

    @property
    def cost_complete(self) -> bool:
        return all(s.result.cost_usd is not None or not s.result.ok for s in self.samples)

    @property
    def latency_ms(self) -> float | None:
        values = [s.latency_ms for s in self.samples if s.latency_ms is not None and s.result.ok]
        return sum(values) / len(values) if values else None

    @property
    def score(self) -> float:
        return sum(s.score for s in self.samples) / len(self.samples) if self.samples else 0.0

    def to_dict(self) -> dict[str, Any]:
        agreement = self.agreement
        latency = self.latency_ms
        return {
            "key": self.key, "prompt": self.prompt, "case": self.case,
            "description": self.description, "where": self.where,
            "model": {"alias": self.model, "id": self.model_id},
            "status": self.status, "reason": self.reason,
            "repeat": self.repeat, "passes": self.passes, "pass_rate": round(self.pass_rate, 4),
            "threshold": self.threshold,
            "agreement": round(agreement, 4) if agreement is not None else None,
            "score": round(self.score, 4), "tokens": self.tokens,
            "cost_usd": round(self.cost_usd, 8), "cost_complete": self.cost_complete,
            "latency_ms": round(latency, 1) if latency is not None else None,
            "output": self.output,
            "samples": [s.to_dict() for s in self.samples],
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CaseOutcome:
        return cls(
            prompt=d["prompt"], case=d["case"], model=d["model"]["alias"],
            model_id=d["model"]["id"], repeat=d["repeat"], threshold=d["threshold"],
            samples=[Sample.from_dict(s) for s in d.get("samples", [])],
            description=d.get("description", ""), where=d.get("where", ""),
            status=d["status"], reason=d.get("reason", ""),
        )  # fmt: skip


def normalize(text: str) -> str:
    """For agreement: strip, collapse whitespace, lowercase."""
    return " ".join(text.split()).lower()


@dataclass
class Totals:
    cases: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    samples: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    eval_tokens: int = 0
    cost_usd: float = 0.0
    eval_cost_usd: float = 0.0

    @property
    def pass_rate(self) -> float:
        return self.passed / self.cases if self.cases else 1.0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.eval_tokens

    def to_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases, "passed": self.passed, "failed": self.failed,
            "errors": self.errors, "pass_rate": round(self.pass_rate, 4), "samples": self.samples,
            "tokens": {"input": self.input_tokens, "output": self.output_tokens,
                       "graders": self.eval_tokens, "total": self.tokens},
            "cost_usd": {"models": round(self.cost_usd, 8), "graders": round(self.eval_cost_usd, 8),
                         "total": round(self.cost_usd + self.eval_cost_usd, 8)},
        }  # fmt: skip


@dataclass
class TestRun:
    """Everything `promptlab test` reports; `to_dict` is the documented --json schema."""

    __test__ = False  # not a pytest class

    cases: list[CaseOutcome]
    run_id: str = ""
    started_at: str = ""
    wall_ms: int = 0
    interrupted: bool = False
    shard: str | None = None
    baseline: BaselineDiff | None = None

    @property
    def totals(self) -> Totals:
        t = Totals()
        for c in self.cases:
            t.cases += 1
            t.passed += c.status == "pass"
            t.failed += c.status == "fail"
            t.errors += c.status == "error"
            for s in c.samples:
                t.samples += 1
                t.input_tokens += s.result.input_tokens or 0
                t.output_tokens += s.result.output_tokens or 0
                t.eval_tokens += s.eval_tokens
                t.cost_usd += s.result.cost_usd or 0.0
                t.eval_cost_usd += s.eval_cost_usd
        return t

    def exit_code(self, fail_under: float | None = None) -> int:
        """0 pass, 1 failures, 3 infrastructure errors, 130 interrupted."""
        t = self.totals
        if self.interrupted:
            return 130
        if t.errors:
            return 3
        if t.failed == 0 or (fail_under is not None and t.pass_rate >= fail_under):
            return 0
        return 1

    def slowest(self, n: int = 3) -> list[CaseOutcome]:
        timed = [c for c in self.cases if c.latency_ms is not None]
        return sorted(timed, key=lambda c: c.latency_ms or 0.0, reverse=True)[:n]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA, "run_id": self.run_id, "started_at": self.started_at,
            "wall_ms": self.wall_ms, "interrupted": self.interrupted, "shard": self.shard,
            "summary": self.totals.to_dict(),
            "cases": [c.to_dict() for c in self.cases],
            "baseline": self.baseline.to_dict() if self.baseline else None,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TestRun:
        return cls([CaseOutcome.from_dict(c) for c in d.get("cases", [])], d.get("run_id", ""),
                   d.get("started_at", ""), d.get("wall_ms", 0), d.get("interrupted", False),
                   d.get("shard"))  # fmt: skip


def read_report(path: Path, *, what: str = "report") -> dict[str, Any]:
    """A `--json` file written by `promptlab test`. UsageError (exit 2) when it is not one."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: {what} not found", "write one with --json FILE") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: not a JSON {what}: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != REPORT_SCHEMA:
        raise UsageError(f"{path}: not a 'promptlab test --json' report",
                         f"expected schema {REPORT_SCHEMA!r}")  # fmt: skip
    return data


def load_run(path: Path, *, what: str = "report") -> TestRun:
    data = read_report(path, what=what)
    try:
        return TestRun.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{path}: malformed {what}: {exc!r}") from None


# ---------------------------------------------------------------- evaluation


class GraderServices:
    """Judge and embedding calls for assertions, through the shared provider pool."""

    def __init__(self, pool: ProviderPool, config: Config, refs: dict[str, ModelRef]) -> None:
        self.pool = pool
        self.config = config
        self.refs = refs
        self._lock = threading.Lock()
        self._embeddings: dict[tuple[str, str], tuple[list[float], int, float | None]] = {}

    def _ref(self, model: str) -> ModelRef:
        ref = self.refs.get(model)
        if ref is None:
            ref = resolve(model, self.config, self.config.region)
            self.refs[model] = ref
        return ref

    def complete(self, model: str, request: Request) -> tuple[Completion, float | None]:
        ref = self._ref(model)
        adapted, _ = adapt(request, ref)
        completion = self.pool.get(ref).complete(ref, adapted, stream=False)
        cost = cost_usd(ref, completion.input_tokens, completion.output_tokens, self.config)
        return completion, cost

    def embed(self, model: str, text: str) -> tuple[list[float], int, float | None]:
        """Embeddings are cached per run (expected texts repeat across samples): cost once."""
        key = (model, text)
        with self._lock:
            if key in self._embeddings:
                vec, _, _ = self._embeddings[key]
                return vec, 0, 0.0
        ref = self._ref(model)
        vec, tokens = self.pool.get(ref).embed(ref, text)
        if not ref.real:
            cost: float | None = 0.0
        else:
            price = price_for(ref, self.config)
            cost = round(tokens / 1000 * price.input, 8) if price else None
        with self._lock:
            self._embeddings[key] = (vec, tokens, cost)
        return vec, tokens, cost


def evaluate_sample(
    result: Result, case: Any, config: Config, services: GraderServices | None
) -> Sample:
    """Run the case's assertions on one result and decide pass / fail / error."""
    if result.error is not None:
        status = "error" if result.error.infrastructure else "fail"
        return Sample(result, status, 0.0, f"model error: {result.error.code}: "
                      f"{result.error.message}")  # fmt: skip
    ctx = Context(
        output=result.output, result=result, vars=case.vars, case=case.name, root=config.root,
        services=services, judge_model=case.judge_model or config.judge_model,
        embedding_model=case.embedding_model or config.embedding_model,
        user_prompt=case.rendered.user,
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


def aggregate(p: Planned, samples: list[Sample], interrupted: bool = False) -> CaseOutcome:
    """Pass rate vs threshold; any infrastructure error (or a missing sample) makes it an error."""
    case = p.case
    samples = sorted(samples, key=lambda s: s.result.repeat_index)
    out = CaseOutcome(
        prompt={"name": case.prompt.name, "version": case.prompt.version,
                "hash": case.prompt.content_hash, "path": case.prompt.path},
        case=case.name, model=p.ref.alias, model_id=p.ref.model_id, repeat=p.repeat,
        threshold=case.threshold, samples=samples, description=case.description,
        where=case.where,
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


# ---------------------------------------------------------------- running


class Progress:
    """Live-view hooks; the default does nothing."""

    def start(self, cases: int, samples: int) -> None: ...

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
    ) -> None:
        self.config = config
        self.pool = pool
        self.concurrency = max(1, concurrency or config.concurrency)
        self.store = store
        self.run_id = run_id
        self.progress = progress or Progress()

    def run(self, planned: list[Planned], graders: dict[str, ModelRef] | None = None) -> TestRun:
        started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        jobs, index = jobs_for(planned)
        graders = graders or {}
        self.pool.prepare([*(p.ref for p in planned), *graders.values()])
        services = GraderServices(self.pool, self.config, dict(graders))
        samples: list[list[Sample]] = [[] for _ in planned]
        done_cases: set[int] = set()
        lock = threading.Lock()
        futures: list[Future[None]] = []
        evaluator = ThreadPoolExecutor(max_workers=self.concurrency)

        def finish_sample(pi: int, result: Result) -> None:
            sample = evaluate_sample(result, planned[pi].case, self.config, services)
            with lock:
                samples[pi].append(sample)
                complete = len(samples[pi]) == planned[pi].repeat and pi not in done_cases
                if complete:
                    done_cases.add(pi)
                    outcome = aggregate(planned[pi], list(samples[pi]))
            if complete:
                self.progress.case(outcome)

        def on_event(event: Event) -> None:
            if event.kind != "done" or event.result is None:
                return
            self.progress.sample(event.result)
            pi, _ = index[event.index]
            futures.append(evaluator.submit(finish_sample, pi, event.result))

        self.progress.start(len(planned), len(jobs))
        runner = Runner(self.pool, self.config, concurrency=self.concurrency, on_event=on_event,
                        store=self.store, run_id=self.run_id)  # fmt: skip
        interrupted = False
        wall_ms = 0
        try:
            outcome = runner.run(jobs)
            interrupted, wall_ms = outcome.interrupted, outcome.wall_ms
            for fut in list(futures):
                fut.result()
        except KeyboardInterrupt:
            interrupted = True
        finally:
            evaluator.shutdown(wait=not interrupted, cancel_futures=True)
            self.progress.finish()
        with lock:
            cases = [aggregate(p, list(samples[i]), interrupted) for i, p in enumerate(planned)]
        return TestRun(cases, runner.run_id, started, wall_ms, interrupted)


# ---------------------------------------------------------------- baselines and merging


@dataclass
class BaselineDiff:
    """What changed since an earlier --json report (compared by prompt/case@model)."""

    file: str
    newly_failing: list[str] = field(default_factory=list)
    newly_passing: list[str] = field(default_factory=list)
    changed_outputs: list[str] = field(default_factory=list)
    new_cases: list[str] = field(default_factory=list)
    missing_cases: list[str] = field(default_factory=list)
    cost_usd: float = 0.0  # this run's cost on the cases both share
    baseline_cost_usd: float = 0.0
    latency_ms: float | None = None  # mean latency over shared cases
    baseline_latency_ms: float | None = None
    per_case: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def cost_delta_usd(self) -> float:
        return self.cost_usd - self.baseline_cost_usd

    @property
    def latency_delta_ms(self) -> float | None:
        if self.latency_ms is None or self.baseline_latency_ms is None:
            return None
        return self.latency_ms - self.baseline_latency_ms

    def to_dict(self) -> dict[str, Any]:
        lat = self.latency_delta_ms
        return {
            "file": self.file, "newly_failing": self.newly_failing,
            "newly_passing": self.newly_passing, "changed_outputs": self.changed_outputs,
            "new_cases": self.new_cases, "missing_cases": self.missing_cases,
            "cost_usd": {"baseline": round(self.baseline_cost_usd, 8),
                         "current": round(self.cost_usd, 8),
                         "delta": round(self.cost_delta_usd, 8)},
            "latency_ms": {"baseline": _r(self.baseline_latency_ms), "current": _r(self.latency_ms),
                           "delta": _r(lat)},
            "cases": self.per_case,
        }  # fmt: skip


def _r(v: float | None) -> float | None:
    return round(v, 1) if v is not None else None


def compare(run: TestRun, baseline: TestRun, file: str) -> BaselineDiff:
    diff = BaselineDiff(file)
    old = {c.key: c for c in baseline.cases}
    new = {c.key: c for c in run.cases}
    lat_new: list[float] = []
    lat_old: list[float] = []
    for key, cur in new.items():
        prev = old.get(key)
        if prev is None:
            diff.new_cases.append(key)
            continue
        if prev.status == "pass" and cur.status != "pass":
            diff.newly_failing.append(key)
        elif prev.status != "pass" and cur.status == "pass":
            diff.newly_passing.append(key)
        changed = normalize(prev.output) != normalize(cur.output)
        if changed:
            diff.changed_outputs.append(key)
        diff.cost_usd += cur.cost_usd
        diff.baseline_cost_usd += prev.cost_usd
        entry: dict[str, Any] = {
            "status": [prev.status, cur.status], "output_changed": changed,
            "cost_delta_usd": round(cur.cost_usd - prev.cost_usd, 8),
        }  # fmt: skip
        if cur.latency_ms is not None and prev.latency_ms is not None:
            lat_new.append(cur.latency_ms)
            lat_old.append(prev.latency_ms)
            entry["latency_delta_ms"] = round(cur.latency_ms - prev.latency_ms, 1)
        diff.per_case[key] = entry
    diff.missing_cases = [k for k in old if k not in new]
    if lat_new:
        diff.latency_ms = sum(lat_new) / len(lat_new)
        diff.baseline_latency_ms = sum(lat_old) / len(lat_old)
    return diff


def merge(runs: list[TestRun]) -> tuple[TestRun, list[str]]:
    """One report from shard reports. Returns it and the keys that appeared more than once."""
    by_key: dict[str, CaseOutcome] = {}
    duplicates: list[str] = []
    for run in runs:
        for c in run.cases:
            if c.key in by_key:
                duplicates.append(c.key)
            by_key[c.key] = c
    started = min((r.started_at for r in runs if r.started_at), default="")
    merged = TestRun(
        list(by_key.values()), run_id="+".join(r.run_id for r in runs if r.run_id),
        started_at=started, wall_ms=max((r.wall_ms for r in runs), default=0),
        interrupted=any(r.interrupted for r in runs),
    )  # fmt: skip
    return merged, duplicates

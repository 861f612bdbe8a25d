"""Planning: which case runs on which model, filters, shards, and the runner Jobs."""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from promptlab.assertions import is_remote, judgeprompts, uses_judge, uses_model
from promptlab.catalogue import ModelRef, resolve, split_models
from promptlab.config import Config
from promptlab.controls import NO_CONTROLS, Controls, ran
from promptlab.errors import Problem, PromptFileError, UsageError
from promptlab.guardrails import Guardrail, effective
from promptlab.imagegen import IMAGE_EMBEDDING_MODEL
from promptlab.jobs import image_problems, image_seeds, kind_problem
from promptlab.runner import Job


@dataclass(frozen=True)
class Planned:
    """One case × model, run `repeat` times."""

    case: Any  # suite.Case
    ref: ModelRef
    repeat: int
    guardrail: Guardrail | None = None  # what the calls are sent with (guardrails.effective)

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
    cases: list[Any],
    config: Config,
    *,
    models: list[str] | None = None,
    repeat: int | None = None,
    override_pinned: bool = False,
) -> list[Planned]:
    """Resolve each case's models (case, -m, suite defaults, prompt, config). UsageError early."""
    return prepare(cases, config, models=models, repeat=repeat, graders=False,
                   override_pinned=override_pinned)[0]  # fmt: skip


def grader_models(planned: list[Planned], config: Config) -> dict[str, ModelRef]:
    """Judge and embedding models the assertions need, resolved up front."""
    problems: list[Problem] = []
    out = _graders([p.case for p in planned], config, problems)
    _raise(problems)
    return out


def prepare(
    cases: list[Any],
    config: Config,
    *,
    models: list[str] | None = None,
    repeat: int | None = None,
    graders: bool = True,
    override_pinned: bool = False,
    need_models: bool = True,
) -> tuple[list[Planned], dict[str, ModelRef]]:
    """The planned case × model pairs and the grader models, before any call.

    `-m` (`models`) replaces the suite's, prompt's and config's models, but not a case's own
    `models:` (pinned: e.g. the free offline `echo` checks) unless `override_pinned`.
    Every unknown model in the suites (case, prompt, judge and embedding models) is listed at
    once with its file and line (PromptFileError); an unknown `-m` is a UsageError.
    `need_models=False` (lint): a case with no models at all is not a problem (`-m` may come).
    """
    override = split_models(models or [])
    problems: list[Problem] = []
    out: list[Planned] = []
    refs: dict[str, ModelRef | UsageError] = {}
    for name in override:  # checked even when every case keeps its pinned models
        refs[name] = ref = _resolve(name, config)
        if isinstance(ref, UsageError):
            raise UsageError(f"-m: {ref.message}", ref.hint) from None
    for case in cases:
        guardrail = effective(case.prompt.guardrail, config)
        if need_models:  # lint: --guardrail may come, as -m may
            problems += _apply_without_guardrail(case, guardrail)
        keep = case.pinned and not override_pinned
        own = list(case.models) or list(case.prompt.models) or list(config.models)
        names = override if override and not keep else own
        if not names and not need_models:
            continue
        if not names:
            problems.append(Problem(case.file, f"no models for case '{case.name}'", case.line,
                                    "pass -m MODEL, or set models: in the suite, prompt or "
                                    "promptlab.yaml (-m echo runs offline)"))  # fmt: skip
            continue
        for name in names:
            ref = refs.get(name) or _resolve(name, config)
            refs[name] = ref
            if isinstance(ref, UsageError):
                file, line = _model_where(case)
                problems.append(Problem(file, ref.message, line, ref.hint))
                continue
            wrong = kind_problem(case.prompt, ref)
            if wrong is not None:
                file, line = _model_where(case)
                problems.append(Problem(file, wrong.message, line, wrong.hint))
                continue
            problems += _without_evidence(case, ref)
            seeds = [s for s in image_seeds(case.prompt, ref) if s is not None]
            out.append(Planned(case, ref, len(seeds) or repeat or case.repeat, guardrail))
    problems.extend(image_problems(jobs_for(out)[0]))
    grader_refs = _graders(cases, config, problems) if graders else {}
    _raise(problems)
    return out, grader_refs


# Checks against the sources: they need a case's `context:`, a prompt that retrieves, or a
# model that answers from a knowledge base (kb:…), else they could only fail.
EVIDENCE_CHECKS = frozenset({"grounded", "context-relevance", "context-recall", "cites",
                             "numbers-grounded"})  # fmt: skip


def _without_evidence(case: Any, ref: ModelRef) -> list[Problem]:
    """A check against the sources in a case that can have no sources on this model."""
    if case.context or case.prompt.retrieval is not None:
        return []
    if any(link.provider == "kb" for link in (ref, *ref.links)):
        return []
    hint = ("add context: to the case, retrieve: to the prompt, or run it on a "
            "kb:KNOWLEDGE_BASE_ID/MODEL model")  # fmt: skip
    problems = []
    for a in case.asserts:
        if a.type in EVIDENCE_CHECKS:
            message = (f"'{a.full_type}' in case '{case.name}' has no sources to check against "
                       f"on {ref.alias}: the case has no context: and prompt "
                       f"'{case.prompt.name}' retrieves nothing")  # fmt: skip
            problems.append(Problem(a.file or case.file, message, a.line or case.line, hint))
    return problems


def _apply_without_guardrail(case: Any, guardrail: Guardrail | None) -> list[Problem]:
    """An `apply-guardrail` with no guardrail of its own needs the prompt's (or the config's)."""
    if guardrail is not None:
        return []
    hint = (
        "add guardrail: ID:VERSION to the assertion, or set guardrail: in the prompt or "
        "promptlab.yaml (or pass --guardrail)"
    )
    return [Problem(a.file or case.file, f"{a.full_type}: no guardrail to apply", a.line, hint)
            for a in case.asserts
            if a.type == "apply-guardrail" and a.compiled.guardrail is None]  # fmt: skip


def guardrails_used(planned: list[Planned]) -> tuple[list[Guardrail], list[Guardrail]]:
    """The guardrails the run will use: (those real models are sent with, those the
    `apply-guardrail` assertions apply whatever the model, echo included)."""
    calls: dict[Guardrail, None] = {}
    applied: dict[Guardrail, None] = {}
    for p in planned:
        if p.guardrail is not None and p.ref.real:
            calls[p.guardrail] = None
        for a in p.case.asserts:
            chosen = a.compiled.guardrail or p.guardrail if a.type == "apply-guardrail" else None
            if chosen is not None:
                applied[chosen] = None
    return list(calls), list(applied)


def paid_calls(planned: list[Planned]) -> tuple[int, int]:
    """(calls on real, billed models; calls on offline models such as echo)."""
    real = sum(p.repeat for p in planned if p.ref.real)
    return real, sum(p.repeat for p in planned) - real


def plan_line(planned: list[Planned]) -> str:
    """What a run will call and what is paid for: "12 call(s): 8 on real models (billed), 4
    offline" — the first line of the progress and of `--dry-run`."""
    real, offline = paid_calls(planned)
    parts = [f"{real} on real models (billed)"] if real else []
    parts += [f"{offline} offline (free)"] if offline else []
    return f"{real + offline} call(s)" + (f": {', '.join(parts)}" if parts else "")


def kept_pinned(planned: list[Planned], models: list[str] | None) -> list[str]:
    """Case ids that kept their own `models:` although `-m` was given."""
    override = set(split_models(models or []))
    if not override:
        return []
    out = [p.case.id for p in planned if p.case.pinned and p.ref.alias not in override
           and p.ref.model_id not in override]  # fmt: skip
    return list(dict.fromkeys(out))


def _resolve(name: str, config: Config) -> ModelRef | UsageError:
    try:
        return resolve(name, config, config.region)
    except UsageError as exc:
        return exc


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise PromptFileError(list(dict.fromkeys(problems)))  # one line per file:line:problem


def _model_where(case: Any) -> tuple[str, int | None]:
    """Where the case's models are named: the case or suite defaults, else the prompt."""
    file, line = case.model_lines
    if case.models and file:
        return file, line
    doc = case.prompt.doc
    if case.prompt.models and doc is not None:
        return case.prompt.path, doc.line(("models",))
    return case.prompt.path, None


def embedding_model(case: Any, config: Config) -> str:
    """The embedding model of a case's `similar`: the case's (suite defaults), else for an image
    prompt the multimodal one (images need it), else the configured one."""
    if case.embedding_model:
        return str(case.embedding_model)
    return IMAGE_EMBEDDING_MODEL if case.prompt.kind == "image" else config.embedding_model


def _graders(cases: list[Any], config: Config, problems: list[Problem]) -> dict[str, ModelRef]:
    out: dict[str, ModelRef] = {}
    for case in cases:
        for a in case.asserts:
            if not uses_model(a):
                continue
            bad = judge_prompt_problem(a, config)
            if bad is not None:
                problems.append(bad)
            default = (case.judge_model or config.judge_model) if uses_judge(a) else (
                embedding_model(case, config))  # fmt: skip
            name = a.options.get("model") or default
            if name in out:
                continue
            ref = _resolve(name, config)
            if isinstance(ref, UsageError):
                problems.append(Problem(a.file or case.file, f"{a.full_type}: {ref.message}",
                                        a.line, ref.hint))  # fmt: skip
            else:
                out[name] = ref
    return out


def calls_grader(a: Any, case: Any, config: Config) -> bool:
    """The assertion calls a grader model: a remote check, unless it is a check against the
    sources judged offline (echo as the judge calls nothing)."""
    if not is_remote(a):
        return False
    if a.type not in judgeprompts.NEEDS:
        return True
    from promptlab.assertions.offline import is_offline

    return not is_offline(str(a.options.get("model") or case.judge_model or config.judge_model))


def judge_prompt_problem(a: Any, config: Config) -> Problem | None:
    """What is wrong with the project's judge prompt for a judged check
    (`<prompts_dir>/judges/<type>.yaml`), at that file; None when it is fine or there is none."""
    if a.type not in judgeprompts.NEEDS or a.compiled.prompt is not None:
        return None
    path = judgeprompts.override(a.type, config.prompts_dir)
    try:
        if path is not None:
            judgeprompts.load(a.type, path)
    except judgeprompts.BadJudgePrompt as exc:
        return exc.problem
    return None


def supported(planned: list[Planned]) -> tuple[list[Planned], list[str]]:
    """`--skip-unsupported`: the pairs whose model can take the case's request, and a notice
    for each model left out (jobs.skip_unsupported)."""
    from promptlab.jobs import skip_unsupported

    return skip_unsupported(planned, lambda p: jobs_for([p])[0][0], lambda p: f" for {p.case.id}")


def jobs_for(
    planned: list[Planned], controls: Controls = NO_CONTROLS
) -> tuple[list[Job], list[tuple[int, int]]]:
    """Runner jobs and, for each, (planned index, repeat index); `controls`: the run's latency
    mode, service tier and request metadata."""
    jobs: list[Job] = []
    index: list[tuple[int, int]] = []
    for pi, p in enumerate(planned):
        case = p.case
        params = case.prompt.params_for(p.ref.alias, p.ref.model_id)
        cacheable = p.repeat == 1 and params.temperature == 0
        if p.ref.links:  # a chain's answer is as repeatable as its least repeatable link
            every = [case.prompt.params_for(x.alias, x.model_id, p.ref.alias) for x in p.ref.links]
            cacheable = p.repeat == 1 and all(x.temperature == 0 for x in every)
        seeds = [s for s in image_seeds(case.prompt, p.ref) if s is not None]
        for r in range(p.repeat):
            seed = seeds[r] if r < len(seeds) else None
            if case.prompt.kind == "image":  # a fixed seed makes the same image again
                cacheable = seed is not None
            jobs.append(Job(case.prompt, case.rendered, p.ref, params, dict(case.vars), case.name,
                            r, cacheable, tool_results=case.tool_results,
                            controls=controls, guardrail=p.guardrail,
                            seed=seed))  # fmt: skip
            index.append((pi, r))
    return jobs, index


@dataclass(frozen=True)
class PlanCost:
    """What a test run would cost before it runs (estimates, ~4 characters a token)."""

    input_usd: float | None  # the model calls' input; None when a price is unknown
    worst_usd: float | None  # input plus max_tokens answers; None when unknown or unbounded
    grader_calls: int  # judge and embedding calls on top (priced once they have run)


def plan_cost(planned: list[Planned], config: Config) -> PlanCost:
    """Estimated input cost of every model call, the worst case with full-length answers, and
    how many grader calls (judge, similar) the assertions will add. A fallback chain is priced
    at its worst case: every link called once."""
    from promptlab.catalogue import cost_usd
    from promptlab.estimate import estimate_tokens, image_cost
    from promptlab.imagegen import ImageRequest

    inputs: list[float | None] = []
    worst: list[float | None] = []
    from promptlab.jobs import link_job

    jobs = jobs_for(planned, Controls.of(config))[0]
    # a fallback chain's worst case: every link called once, with its own overrides
    for job in (link for j in jobs for link in ([link_job(j, x) for x in j.ref.links] or [j])):
        request, _ = job.request()
        if isinstance(request, ImageRequest):  # priced per image: known before the call
            each = image_cost(job, request, config)
            inputs.append(each)
            worst.append(each)
            continue
        tokens = estimate_tokens(request.text)
        tier, latency = ran(None, request)
        inputs.append(cost_usd(job.ref, tokens, 0, config, tier=tier, latency=latency))
        limit = request.params.max_tokens
        worst.append(cost_usd(job.ref, tokens, limit, config, tier=tier, latency=latency)
                     if limit is not None else None)  # fmt: skip
    graders = sum(p.repeat * sum(1 for a in p.case.asserts if calls_grader(a, p.case, config))
                  for p in planned)  # fmt: skip
    total_in = None if None in inputs else round(sum(c or 0.0 for c in inputs), 8)
    total_worst = None if None in worst else round(sum(c or 0.0 for c in worst), 8)
    return PlanCost(total_in, total_worst, graders)

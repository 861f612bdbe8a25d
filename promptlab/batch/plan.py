"""Which calls go to batch inference and which run online, and why (a notice each).

A call runs online when it cannot be a batch record (image prompts, scripted tool exchanges,
guardrails, latency-optimized inference, service tiers, offline models); a model's calls run
online when the model does not offer batch inference (the catalogue's capability table),
when they are fewer than a job's minimum, or, with `--batch=auto`, when batch is not known
to be cheaper.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from promptlab.batch.shapes import Quotas, quotas_for
from promptlab.catalogue import ModelRef, cost_usd, price_for, quirk_for
from promptlab.config import Config
from promptlab.jobs import Job
from promptlab.request import Request

if TYPE_CHECKING:
    from promptlab.estimate import Estimate


@dataclass
class Call:
    """One call waiting for an answer: its place in the run, job and request as sent."""

    index: int
    job: Job
    request: Request
    notices: list[str]
    region: str | None
    record_id: str = ""


@dataclass
class ModelBatch:
    """One model's records: one job per `quotas.max_records` (or file size) of them."""

    ref: ModelRef
    calls: list[Call]
    quotas: Quotas

    @property
    def jobs(self) -> int:
        return max(1, math.ceil(len(self.calls) / self.quotas.max_records))


@dataclass
class BatchPlan:
    batches: list[ModelBatch] = field(default_factory=list)
    online: list[Call] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    why: dict[str, str] = field(default_factory=dict)  # model alias → why it runs online


def record_problem(job: Job, request: Request) -> str | None:
    """Why this call cannot be a batch record (it runs online), or None."""
    if job.prompt.kind == "image":
        return "image prompts"
    if job.key_extra():
        return "scripted tool exchanges (each turn needs the answer before it)"
    if getattr(request, "guardrail_config", None):
        return "guardrails"
    performance = getattr(request, "performance_config", None) or {}
    if performance.get("latency") == "optimized":
        return "latency-optimized inference"
    tier = (getattr(request, "service_tier", None) or {}).get("type")
    if tier not in (None, "default"):
        return f"the {tier} service tier"
    return None


def model_problem(ref: ModelRef, count: int, mode: str, config: Config) -> str | None:
    """Why this model's calls run online (without its name), or None: they go to batch."""
    if not ref.real or ref.provider != "bedrock":
        return "not a Bedrock model with batch inference"
    if not quirk_for(ref).batch:
        return "the model does not offer batch inference"
    quotas = quotas_for(ref.base_id)
    if count < quotas.min_records:
        return f"{count} record(s), fewer than the {quotas.min_records} a batch job needs"
    if mode == "auto":
        price = price_for(ref, config)
        if price is None or price.batch_input is None or price.batch_output is None:
            return "--batch=auto: no batch price is known, so batch is not known to be cheaper"
        if price.batch_input >= price.input and price.batch_output >= price.output:
            return "--batch=auto: batch is not cheaper than on-demand"
    return None


def plan(calls: Sequence[Call], mode: str, config: Config) -> BatchPlan:
    """Split calls into batch jobs per model and online calls, with a notice for each reason
    a call or model runs online (once per model and reason)."""
    out = BatchPlan()
    if mode == "off":
        out.online = list(calls)
        return out
    by_model: dict[ModelRef, list[Call]] = {}
    reasons: dict[tuple[str, str], int] = {}
    for call in calls:
        why = record_problem(call.job, call.request)
        if why is None:
            by_model.setdefault(call.job.ref, []).append(call)
            continue
        out.online.append(call)
        key = (call.job.ref.alias, why)
        reasons[key] = reasons.get(key, 0) + 1
    for (alias, why), n in reasons.items():
        out.notices.append(f"batch: {n} call(s) of {alias} run online: batch jobs take no {why}")
        out.why.setdefault(alias, f"batch jobs take no {why}")
    for ref, group in by_model.items():
        why = model_problem(ref, len(group), mode, config)
        if why is None:
            out.batches.append(ModelBatch(ref, group, quotas_for(ref.base_id)))
        else:
            out.online.extend(group)
            out.notices.append(f"batch: {ref.alias}: {why}; its {len(group)} call(s) run online")
            out.why[ref.alias] = why
    out.online.sort(key=lambda c: c.index)
    return out


def dry_run(estimates: Sequence[Estimate], mode: str, config: Config) -> list[dict[str, Any]]:
    """`--dry-run --batch`: per model, its records, batch or online (and why), the jobs that
    would be made, and the input cost online and at the batch price (None: unknown)."""
    calls = [Call(i, e.job, e.request, e.notices, None) for i, e in enumerate(estimates)]
    planned = plan(calls, mode, config)

    def costs(group: Sequence[Call]) -> tuple[float | None, float | None]:
        online = [estimates[c.index].input_cost for c in group]
        batch = [cost_usd(c.job.ref, estimates[c.index].input_tokens, 0, config, batch=True)
                 for c in group]  # fmt: skip
        return (None if None in online else sum(x or 0.0 for x in online),
                None if None in batch else sum(x or 0.0 for x in batch))  # fmt: skip

    lines: list[dict[str, Any]] = []
    for b in planned.batches:
        online, batch = costs(b.calls)
        lines.append({"model": b.ref.alias, "records": len(b.calls), "runs": "batch",
                      "jobs": b.jobs, "online_usd": online, "batch_usd": batch,
                      "why": ""})  # fmt: skip
    by_alias: dict[str, list[Call]] = {}
    for call in planned.online:
        by_alias.setdefault(call.job.ref.alias, []).append(call)
    for alias, group in by_alias.items():
        online, batch = costs(group)  # batch: what it would cost if it could be batched
        lines.append({"model": alias, "records": len(group), "runs": "online", "jobs": 0,
                      "online_usd": online, "batch_usd": batch,
                      "why": planned.why.get(alias, "")})  # fmt: skip
    return lines

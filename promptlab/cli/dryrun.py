"""`run --dry-run`: what would be sent to which model, and what its input would cost."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from typing import Any

from promptlab.catalogue import price_for
from promptlab.config import Config
from promptlab.errors import PromptlabError
from promptlab.providers.base import ModelCallError, ProviderPool
from promptlab.providers.echo import estimate_tokens
from promptlab.runner import Job
from promptlab.views.format import usd, vars_label
from promptlab.views.sanitize import inert


@dataclass(frozen=True)
class Planned:
    job: Job
    request: dict[str, Any]
    notices: list[str]
    input_tokens: int
    counted: bool  # True: Bedrock CountTokens; False: the ~4 characters/token estimate
    input_cost: float | None


# CountTokens only refines an estimate: a dry run never waits minutes for it.
COUNT_CONNECT_TIMEOUT = 5.0
COUNT_READ_TIMEOUT = 15.0
COUNT_MAX_ATTEMPTS = 2


def plan(jobs: list[Job], config: Config) -> tuple[list[Planned], list[str]]:
    """Each job's request, input tokens and input cost. Token counts run concurrently."""
    from concurrent.futures import ThreadPoolExecutor

    quick = replace(
        config,
        connect_timeout=min(config.connect_timeout, COUNT_CONNECT_TIMEOUT),
        read_timeout=min(config.read_timeout, COUNT_READ_TIMEOUT),
        max_attempts=min(config.max_attempts, COUNT_MAX_ATTEMPTS),
    )
    pool = ProviderPool(quick)
    warnings: list[str] = []
    counter: Any = None
    if any(j.ref.real for j in jobs):
        try:
            pool.prepare([j.ref for j in jobs if j.ref.real][:1])
            counter = pool.get(next(j.ref for j in jobs if j.ref.real))
        except PromptlabError as exc:
            from promptlab.aws import UnknownProfile

            if isinstance(exc, UnknownProfile):
                raise
            warnings.append(f"token counts are estimates (CountTokens unavailable: {exc.message})")
    requests = [job.request() for job in jobs]
    unusable: list[str] = []  # set once Bedrock can't be reached: stop asking

    def count(i: int) -> int | None:
        job, (request, _) = jobs[i], requests[i]
        if not job.ref.real or counter is None or not hasattr(counter, "count_tokens"):
            return None
        if unusable:
            return None
        try:
            n: int | None = counter.count_tokens(job.ref, request)
        except ModelCallError as exc:
            timeout = f"no answer within {quick.read_timeout:g}s"
            unusable.append(f"{exc.code}: {timeout if exc.code == 'ReadTimeout' else exc.message}")
            return None
        return n

    with ThreadPoolExecutor(max_workers=max(1, min(config.concurrency, len(jobs)))) as ex:
        counted = list(ex.map(count, range(len(jobs))))
    if unusable:
        warnings.append(f"token counts are estimates (CountTokens unavailable: {unusable[0]})")
    out: list[Planned] = []
    for job, (request, notices), n in zip(jobs, requests, counted, strict=True):
        text = (request.system or "") + request.user
        tokens = n if n is not None else estimate_tokens(text)
        price = price_for(job.ref, config) if job.ref.real else None
        cost = 0.0 if not job.ref.real else (
            round(tokens / 1000 * price.input, 8) if price else None
        )  # fmt: skip
        out.append(Planned(job, request.to_converse(), notices, tokens, n is not None, cost))
    return out, warnings


def show_dry_run(jobs: list[Job], config: Config, fmt: str) -> None:
    planned, warnings = plan(jobs, config)
    if fmt in ("json", "jsonl"):
        rows = [
            {
                "prompt": p.job.prompt.identity,
                "model": {
                    "alias": p.job.ref.alias,
                    "id": p.job.ref.model_id,
                    "real": p.job.ref.real,
                },
                "region": config.region if p.job.ref.real else None,
                "vars": p.job.vars,
                "request": p.request,
                "input_tokens": p.input_tokens,
                "input_tokens_counted": p.counted,
                "estimated_input_cost_usd": p.input_cost,
                "notices": p.notices,
            }
            for p in planned
        ]
        if fmt == "json":
            sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        return
    from rich.console import Console
    from rich.text import Text

    out = Console(highlight=False, soft_wrap=True)
    out.print(Text("dry run: nothing was sent", style="bold"))
    several = len({p.job.case for p in planned}) > 1
    for p in planned:
        req = p.job.request()[0]
        ref = p.job.ref
        head = Text(f"\n{ref.label}", style="bold")
        if not ref.real:
            head.append(" (not a real model)", style="dim")
        out.print(head)
        if several:
            out.print(Text(inert(f"  {p.job.case}: {vars_label(p.job.vars, 100)}")))
        params = ", ".join(f"{k}={v}" for k, v in req.params.to_dict().items()) or "–"
        tokens = f"{p.input_tokens:,}" + ("" if p.counted else " (estimate)")
        out.print(Text(f"  characters: system {len(req.system or '')}, user {len(req.user)}"
                       f" · params: {params}"))  # fmt: skip
        out.print(Text(f"  input tokens: {tokens} · input cost: "
                       f"{usd(p.input_cost, real=ref.real)}"))  # fmt: skip
    costs = [p.input_cost for p in planned if p.job.ref.real]
    total = "unknown (some prices unknown)" if None in costs else usd(sum(c or 0 for c in costs))
    out.print(Text(f"\n{len(planned)} call(s) · estimated input cost {total}", style="bold"))
    for note in dict.fromkeys([*warnings, *(n for p in planned for n in p.notices)]):
        out.print(Text(f"note: {note}", style="yellow"))
    out.print(
        Text("estimates: ~4 characters per token where CountTokens is not available", style="dim")
    )

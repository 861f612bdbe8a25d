"""What a run would send and what its input would cost, without calling any model (`--dry-run`).

Input tokens come from the provider's token counter (Bedrock CountTokens) where it can count,
else from the ~4 characters a token estimate, marked as such. The worst-case output cost is
max_tokens at the model's output price (unknown without a max_tokens). A request with
prompt-cache points is also priced as a first call (writing the cache) and a later one
(reading it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from promptlab.catalogue import cost_usd, quirk_for, unsupported
from promptlab.config import Config
from promptlab.controls import ran
from promptlab.errors import PromptlabError
from promptlab.imagegen import ImageRequest
from promptlab.jobs import Job, link_job
from promptlab.providers.base import ModelCallError, ProviderPool
from promptlab.request import ATTACHMENT_BLOCKS, Request
from promptlab.results import estimate_tokens

__all__ = ["Estimate", "estimate", "estimate_tokens"]


@dataclass(frozen=True)
class Estimate:
    """One job as it would be sent, with its input tokens and input cost."""

    job: Job
    request: Request
    notices: list[str]
    input_tokens: int
    counted: bool  # True: the provider counted (CountTokens); False: the estimate
    input_cost: float | None
    max_output_tokens: int | None = None  # the request's max_tokens
    max_output_cost: float | None = None  # max_output_tokens at the output price: worst case
    cache: CacheEstimate | None = None  # the request has prompt-cache points
    # A fallback chain's: each link as it would be sent. The chain's costs are their sums, the
    # worst case (every link called once, none answering until the last).
    links: tuple[Estimate, ...] = ()

    @property
    def real(self) -> bool:
        """A real model would be called (for a chain: any of its links)."""
        return self.job.ref.real or any(link.job.ref.real for link in self.links)


@dataclass(frozen=True)
class CacheEstimate:
    """The input cost with the prompt cache: the tokens before the last cache point (always an
    estimate) written to the cache on a first call and read from it by later ones."""

    prefix_tokens: int
    ttl: str  # how long the cache is kept: 5m or 1h
    first_call_cost: float | None  # the rest at the input price, the prefix at the write price
    later_call_cost: float | None  # the rest at the input price, the prefix at the read price


# CountTokens only refines an estimate: a dry run never waits minutes for it.
COUNT_CONNECT_TIMEOUT = 5.0
COUNT_READ_TIMEOUT = 15.0
COUNT_MAX_ATTEMPTS = 2


def _attaches(request: Request) -> bool:
    return any(isinstance(b, ATTACHMENT_BLOCKS) for m in request.messages for b in m.content)


def _refused_noted(job: Job) -> tuple[Request, list[str]]:
    """The job's request and notices, with a notice when its model cannot take it."""
    request, notices = job.request()
    why = unsupported(request, job.ref)
    if why is not None:
        notices = [f"{why.message}: a run gives this call an error (or --skip-unsupported)",
                   *notices]  # fmt: skip
    return request, notices


def image_cost(job: Job, request: ImageRequest, config: Config) -> float | None:
    """What the images a request asks for cost, at the model's price for their size and
    quality (images a filter withholds would cost less)."""
    size = (request.width, request.height) if request.width and request.height else None
    wanted = 1 if request.task == "background-removal" else request.count
    return cost_usd(job.ref, None, None, config, images=wanted, size=size,
                    quality=request.quality)  # fmt: skip


def estimate(jobs: list[Job], config: Config) -> tuple[list[Estimate], list[str]]:
    """Each job's request, input tokens and input cost. Token counts run concurrently.

    A fallback chain's job is estimated link by link (each link's request, with its own
    inference overrides) and priced at the worst case: every link called once."""
    flat: list[Job] = []
    spans: list[tuple[Job, int, int]] = []  # job, its first estimate, how many
    for job in jobs:
        members = [link_job(job, link) for link in job.ref.links] or [job]
        spans.append((job, len(flat), len(members)))
        flat += members
    each, warnings = _estimate_each(flat, config)
    out = [each[at] if not job.ref.links else chained(job, each[at : at + n])
           for job, at, n in spans]  # fmt: skip
    return out, warnings


def chained(job: Job, links: list[Estimate]) -> Estimate:
    """A chain's estimate from its links': tokens and costs summed (each link may be called
    once), the first link's request, every link's notices."""
    real = [e for e in links if e.job.ref.real] or links
    worst = [e.max_output_cost for e in real]
    longest = [e.max_output_tokens for e in links if e.max_output_tokens is not None]
    notices = list(dict.fromkeys(n for e in links for n in e.notices))
    return Estimate(job, links[0].request, notices, sum(e.input_tokens for e in links),
                    all(e.counted for e in links), _total([e.input_cost for e in real]),
                    max(longest) if len(longest) == len(links) else None, _total(worst),
                    links=tuple(links))  # fmt: skip


def _total(costs: list[float | None]) -> float | None:
    return None if None in costs else round(sum(c or 0.0 for c in costs), 8)


def _estimate_each(jobs: list[Job], config: Config) -> tuple[list[Estimate], list[str]]:
    """Each single-model job's estimate (see `estimate`)."""
    from concurrent.futures import ThreadPoolExecutor

    quick = replace(
        config,
        connect_timeout=min(config.connect_timeout, COUNT_CONNECT_TIMEOUT),
        read_timeout=min(config.read_timeout, COUNT_READ_TIMEOUT),
        max_attempts=min(config.max_attempts, COUNT_MAX_ATTEMPTS),
    )
    pool = ProviderPool(quick)
    warnings: list[str] = []
    counters: dict[str, Any] = {}  # provider kind → its provider, where it could be made
    countable = [j for j in jobs if j.ref.real and j.prompt.kind != "image"]
    for ref in {j.ref.provider: j.ref for j in countable}.values():
        try:
            counters[ref.provider] = pool.get(ref)
        except PromptlabError as exc:
            from promptlab.aws import UnknownProfile

            if isinstance(exc, UnknownProfile):
                raise
            warnings.append(f"token counts are estimates (CountTokens unavailable: {exc.message})")
    requests = [_refused_noted(job) for job in jobs]
    unusable: list[str] = []  # set once Bedrock can't be reached: stop asking

    def count(i: int) -> int | None:
        job, (request, _) = jobs[i], requests[i]
        if isinstance(request, ImageRequest):
            return None  # priced per image, not per token
        counter = counters.get(job.ref.provider) if job.ref.real else None
        if counter is None or not hasattr(counter, "count_tokens") or unusable:
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
    if any(n is None and j.ref.real and _attaches(r)
           for j, (r, _), n in zip(jobs, requests, counted, strict=True)):  # fmt: skip
        warnings.append("estimates count text only: attached images, documents and video are "
                        "counted where CountTokens answers")  # fmt: skip
    out: list[Estimate] = []
    for job, (request, notices), n in zip(jobs, requests, counted, strict=True):
        if isinstance(request, ImageRequest):
            out.append(Estimate(job, request, notices, 0, True, image_cost(job, request, config),
                                None, 0.0))  # fmt: skip
            continue
        tokens = n if n is not None else estimate_tokens(request.tools_text + request.text)
        tier, latency = ran(None, request)  # as asked: the tier and latency mode's prices
        cost = cost_usd(job.ref, tokens, 0, config, tier=tier, latency=latency)
        most = request.params.max_tokens
        worst = (cost_usd(job.ref, 0, most, config, tier=tier, latency=latency)
                 if most is not None else None)  # fmt: skip
        cache = cache_estimate(job, request, tokens, n is not None, config)
        if cache is not None:
            notices = [*notices, *_under_minimum(job, cache)]
        out.append(Estimate(job, request, notices, tokens, n is not None, cost, most, worst, cache))
    return out, warnings


def cache_estimate(
    job: Job, request: Request, input_tokens: int, counted: bool, config: Config
) -> CacheEstimate | None:
    """The prompt cache's effect on the input cost, for a request with cache points. The
    prefix is ~4 characters a token, or its share of the counted tokens when CountTokens
    counted the request."""
    ttl = request.cache_write_ttl
    if ttl is None:
        return None
    prefix = request.cached_prefix_text()
    if counted:
        whole = len(request.tools_text) + len(request.text)
        tokens = round(input_tokens * len(prefix) / whole) if whole else 0
    else:
        tokens = estimate_tokens(prefix)
    tokens = min(tokens, input_tokens)
    rest = input_tokens - tokens
    first = cost_usd(job.ref, rest, 0, config, cache_write=tokens, cache_ttl=ttl)
    later = cost_usd(job.ref, rest, 0, config, cache_read=tokens)
    return CacheEstimate(tokens, ttl, first, later)


def _under_minimum(job: Job, cache: CacheEstimate) -> list[str]:
    """A notice when the cached prefix is too short for the model to cache at all."""
    least = quirk_for(job.ref).cache_min_tokens
    if least is None or cache.prefix_tokens >= least:
        return []
    return [f"{job.ref.alias}: the prompt before the last cache point is ~{cache.prefix_tokens:,} "
            f"tokens, under the {least:,} the model caches: it will not be cached"]  # fmt: skip

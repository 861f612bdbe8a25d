"""Fallback chains: a model spec naming models to try in order (`claude-sonnet>nova-pro`).

A chain is a ModelRef whose `links` are the models it tries; it is written with `>` anywhere a
model is named (`-m`, `models:`, a suite's models) or given a name in `promptlab.yaml`
`aliases:` (`careful: claude-sonnet>nova-pro`). The runner tries each link after the one
before failed (after its retries) or gave an answer a `require:` check refused; this module
reads the spelling and says, per attempt, why a link was passed over (`pass_over`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlab.errors import UsageError

if TYPE_CHECKING:
    from promptlab.catalogue import ModelRef
    from promptlab.config import Config
    from promptlab.request import Request
    from promptlab.results import ErrorInfo, Result

SEP = ">"
EXAMPLE = "e.g. -m 'claude-sonnet>nova-pro>nova-lite'"

# Why a failed link is passed over, by error code: what a cell and `stats` say. A code not
# listed is passed over too, under its own name; set-up failures (SETUP_ERROR_CODES) and
# Ctrl-C end the chain instead: the next link would fail the same way.
REASONS: dict[str, str] = {
    "ThrottlingException": "throttled",
    "ServiceQuotaExceededException": "throttled",
    "TooManyRequestsException": "throttled",
    "ServiceUnavailableException": "unavailable",
    "ModelNotReadyException": "unavailable",
    "InternalServerException": "unavailable",
    "ModelTimeoutException": "timed out",
    "ReadTimeout": "timed out",
    "AccessDeniedException": "access denied",
    "ResourceNotFoundException": "not found",
    "ValidationException": "rejected the request",
    "ModelErrorException": "model error",
    "ModelStreamErrorException": "model error",
    "UnsupportedInput": "cannot take the input",
}
STOP_CODES = frozenset({"Interrupted", "Cancelled"})
SINGLE_MODEL_NOTE = ("require: is checked on fallback chains (-m 'a>b'); a single model's "
                     "answer is kept as it is")  # fmt: skip
GUARDRAIL_STOP = "guardrail_intervened"


def is_chain(name: str, aliases: Mapping[str, str]) -> bool:
    """The name is a chain: written with `>`, or a user alias that stands for one."""
    return SEP in name or SEP in str(aliases.get(name, ""))


def resolve_chain(
    name: str,
    config: Config | None,
    region: str | None,
    resolve_one: Callable[[str, Config | None, str | None], ModelRef],
) -> ModelRef:
    """The chain `name` spells, as a ModelRef labelled `name` whose `links` are its models
    (the first link's id, kind and prices stand for the chain before any call).

    Raises UsageError for an empty link (`a>>b`), a model named twice or a chain that names
    itself through an alias (`a>b>a`), an unknown member, and image models."""
    aliases = config.aliases if config else {}
    members = _expand(name, name, aliases, [])
    seen: set[str] = set()
    for member in members:
        if member in seen:
            raise UsageError(f"chain {name!r} names {member!r} twice: a chain tries each model "
                             "once, in order", f"list each model once, {EXAMPLE}")  # fmt: skip
        seen.add(member)
    links: list[ModelRef] = []
    for member in members:
        try:
            ref = resolve_one(member, config, region)
        except UsageError as exc:
            raise UsageError(f"chain {name!r}: {exc.message}", exc.hint) from None
        if ref.provider == "bedrock-image":
            raise UsageError(f"chain {name!r}: {member} is an image model; chains run text "
                             "models", "run image models on their own")  # fmt: skip
        links.append(ref)
    if len({link.model_id for link in links}) < len(links):
        raise UsageError(f"chain {name!r} names one model twice (under two names)",
                         f"list each model once, {EXAMPLE}")  # fmt: skip
    return replace(links[0], alias=name, links=tuple(links))


def _expand(top: str, spec: str, aliases: Mapping[str, str], trail: list[str]) -> list[str]:
    """The member names of `spec`, aliases standing for chains expanded in place."""
    if spec in aliases and SEP in str(aliases[spec]):
        if spec in trail:
            path = " → ".join([*trail, spec])
            raise UsageError(f"chain {top!r} goes round in a circle: {path}",
                             "a chain cannot name itself; list models instead")  # fmt: skip
        return _expand(top, str(aliases[spec]), aliases, [*trail, spec])
    if SEP not in spec:
        return [spec]
    parts = [p.strip() for p in spec.split(SEP)]
    if any(not p for p in parts):
        where = f" ({spec!r})" if spec != top else ""
        raise UsageError(
            f"chain {top!r} has an empty link{where}",
            f"name a model on each side of every '>', {EXAMPLE}",
        )
    out: list[str] = []
    for part in parts:
        out += _expand(top, part, aliases, trail)
    return out


def cache_key(
    links: Sequence[tuple[str, str | None, dict[str, Any]]],
    require: Sequence[Any],
    extra: dict[str, Any] | None,
) -> str:
    """The cache key of a chain's call: every link's (model id, region, request in its record
    form, as it is sent), in order, the prompt's `require:` checks and the job's `key_extra`
    (scripted tool results), so that changing any of them misses. The history keeps it too,
    which is how `--resume` finds the chain's finished call."""
    from promptlab.store.core import cache_key as key_of

    keyed = [key_of(model_id, region, record) for model_id, region, record in links]
    checks = [json.loads(json.dumps(_check_form(c), default=str)) for c in require]
    return key_of(SEP.join(m for m, _, _ in links), None, {},
                  {"links": keyed, "require": checks, "extra": extra})  # fmt: skip


def _check_form(check: Any) -> dict[str, Any]:
    """What decides a `require:` check's verdict (not where it is written)."""
    return {"type": check.type, "negate": check.negate, "value": check.value, "on": check.on,
            "threshold": check.threshold, "options": dict(check.options)}  # fmt: skip


def restored(chain: ModelRef, hit: Result, request: Request, region: str | None) -> Result:
    """A chain's answer found in the store (a cache hit or a resumed run's call), labelled as
    `served` labels a fresh one: the chain's name and links, the request of the link that
    served it (`request`, sent to `region`). Its `served_by` and `fallback` (with the links'
    costs when they were called) are kept as they were recorded."""
    hit.model_alias, hit.model_id = chain.alias, spelled(chain.links)
    hit.request, hit.params, hit.region = request.to_record(), request.params.to_dict(), region
    return hit


def spelled(links: Sequence[ModelRef]) -> str:
    """`claude-sonnet>nova-pro`: the links by the names they were given."""
    return SEP.join(link.alias for link in links)


def failure_reason(error: ErrorInfo) -> str | None:
    """Why a link that failed is passed over ("throttled", …), or None when the chain stops
    (a bad AWS set-up or Ctrl-C: every later link would fail the same way)."""
    from promptlab.results import SETUP_ERROR_CODES

    if error.code in SETUP_ERROR_CODES or error.code in STOP_CODES:
        return None
    return REASONS.get(error.code, error.code)


def pass_over(result: Result, refused: Callable[[Result], str | None]) -> str | None:
    """Why the chain goes on past this link's result, or None to stop at it: the call failed
    (failure_reason), the guardrail intervened, or a `require:` check refused the answer
    (`refused`: the first failing check's reason)."""
    if result.error is not None:
        return failure_reason(result.error)
    if result.stop_reason == GUARDRAIL_STOP:
        return "guardrail intervened"
    return refused(result)


def attempt(result: Result, reason: str) -> dict[str, Any]:
    """The record of a link passed over (Result.fallback): which model, why, what it cost."""
    error = result.error
    cost = result.cost_usd
    if error is not None and cost is None and not result.input_tokens:
        cost = 0.0  # a refused or failed request is not billed
    return {
        "model": result.model_alias,
        "model_id": result.model_id,
        "served_model_id": result.served_model_id,
        "reason": reason,
        "error": error.code if error else None,
        "message": error.message if error else None,
        "input_tokens": result.input_tokens,
        "output_tokens": result.output_tokens,
        "cost_usd": cost,
        "attempts": result.attempts,
        "wall_ms": result.wall_ms,
    }


def unmet(
    checks: Sequence[Any],
    result: Result,
    values: Mapping[str, Any],
    case: str | None,
    root: Path,
    output_schema: Mapping[str, Any] | None,
) -> str | None:
    """`failed is-json: …`: the first `require:` check (assertions.Assertion) the answer
    fails, or None when it passes them all (or there are none)."""
    if not checks:
        return None
    from promptlab.assertions import Context, evaluate

    ctx = Context(output=result.output, result=result, vars=values, case=case or "", root=root,
                  output_schema=output_schema, reasoning=result.reasoning,
                  reasoning_redacted=result.reasoning_redacted)  # fmt: skip
    for check in checks:
        verdict = evaluate(check, ctx)
        if not verdict.passed:
            return f"failed {check.label}" + (f" ({verdict.reason})" if verdict.reason else "")
    return None


def served(chain: ModelRef, result: Result, passed: Sequence[dict[str, Any]]) -> Result:
    """The chain's result: the last link's, labelled with the chain (`model_alias` the name it
    was given, `model_id` its links), naming the link that served it (`served_by`,
    `served_model_id`) and the links passed over (`fallback`), costing them all."""
    link_id = result.model_id
    if result.ok:
        result.served_by = result.model_alias
        result.served_model_id = result.served_model_id or link_id
    own = result.cost_usd
    if result.error is not None and own is None and not result.input_tokens:
        own = 0.0  # a refused or failed request is not billed
    result.fallback = list(passed)
    result.cost_usd = total_cost(own, passed)
    result.model_alias, result.model_id = chain.alias, spelled(chain.links)
    result.wall_ms = (result.wall_ms or 0) + sum(a.get("wall_ms") or 0 for a in passed)
    if passed:
        note = f"fell back: {passed_over_line(passed)}"
        result.notices.insert(0, note + (f"; served by {result.served_by}" if result.ok else ""))
    return result


def total_cost(served: float | None, passed: Sequence[dict[str, Any]]) -> float | None:
    """The chain's cost: the answer's and every link passed over (None when one is unknown)."""
    costs = [served, *(a.get("cost_usd") for a in passed)]
    if any(c is None for c in costs):
        return None
    return round(sum(c or 0.0 for c in costs), 8)


def passed_over_line(passed: Sequence[dict[str, Any]]) -> str:
    """`claude-sonnet: throttled; nova-pro: failed is-json`, for cells and notices."""
    return "; ".join(f"{a['model']}: {a['reason']}" for a in passed)

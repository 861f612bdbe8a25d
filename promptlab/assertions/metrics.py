"""Assertions on the call itself: latency, output tokens, cost, stop reason, which model
served it."""

from __future__ import annotations

from pathlib import Path

from promptlab.assertions.base import Assertion, BadAssertion, Context, Verdict
from promptlab.results import Result

STOP_REASONS = (
    "end_turn", "tool_use", "max_tokens", "stop_sequence", "guardrail_intervened",
    "content_filtered", "malformed_model_output", "malformed_tool_use",
    "model_context_window_exceeded",
)  # fmt: skip


def need_number(a: Assertion, root: Path) -> float:
    v = a.value
    if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
        raise BadAssertion(f"'{a.full_type}' needs a non-negative number, got {v!r}",
                           f"e.g. {{type: {a.full_type}, value: 100}}", "value")  # fmt: skip
    return float(v)


def prepare_stop(a: Assertion, root: Path) -> list[str]:
    v = [a.value] if isinstance(a.value, str) else a.value
    if not isinstance(v, list) or not v or not all(isinstance(s, str) for s in v):
        raise BadAssertion(f"'stop-reason' needs a stop reason or a list, got {a.value!r}",
                           "e.g. value: end_turn", "value")  # fmt: skip
    unknown = [s for s in v if s not in STOP_REASONS]
    if unknown:
        raise BadAssertion(f"unknown stop reason(s): {', '.join(unknown)}",
                           "one of " + ", ".join(STOP_REASONS), "value")  # fmt: skip
    return list(v)


def _limit(value: float | int | None, limit: float, what: str, unit: str) -> Verdict:
    if value is None:
        return Verdict(False, 0.0, f"{what} unknown")
    ok = value <= limit
    shown = f"{value:.6f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    lim = f"{limit:g}"
    return Verdict(ok, 1.0 if ok else 0.0, f"{what} {shown}{unit} {'≤' if ok else '>'} {lim}{unit}")


def max_latency_ms(a: Assertion, ctx: Context) -> Verdict:
    r = ctx.result
    latency = r.latency_ms if r.latency_ms is not None else r.wall_ms
    return _limit(latency, a.compiled, "latency", " ms")


def max_output_tokens(a: Assertion, ctx: Context) -> Verdict:
    return _limit(ctx.result.output_tokens, a.compiled, "output tokens", "")


def max_cost_usd(a: Assertion, ctx: Context) -> Verdict:
    cost = ctx.result.cost_usd
    if cost is None:
        return Verdict(False, 0.0, "cost unknown (no price for this model; add one under prices:)")
    return _limit(cost, a.compiled, "cost $", "")


def stop_reason(a: Assertion, ctx: Context) -> Verdict:
    got = ctx.result.stop_reason
    ok = got in a.compiled
    return Verdict(ok, 1.0 if ok else 0.0, f"stop reason {got}" + ("" if ok else
                   f", expected {' or '.join(a.compiled)}"))  # fmt: skip


def prepare_served_by(a: Assertion, root: Path) -> list[str]:
    v = [a.value] if isinstance(a.value, str) else a.value
    if not isinstance(v, list) or not v or not all(isinstance(s, str) and s for s in v):
        raise BadAssertion(f"'served-by' needs a model name or a list, got {a.value!r}",
                           "e.g. served-by: nova-pro (a link of the chain, or the model a "
                           "prompt router picked)", "value")  # fmt: skip
    return list(v)


def served_names(r: Result) -> list[str]:
    """The names of the model that answered: a chain's link (`served_by`), the model a router
    or profile served (its id and shipped alias), else the model asked."""
    from promptlab.catalogue import alias_for, base_id_of

    names = [r.served_by] if r.served_by else []
    if r.served_model_id:
        base = base_id_of(r.served_model_id)
        names += [r.served_model_id, base or "", alias_for(base) or ""]
    if not r.served_by and not r.fallback:
        names += [r.model_alias, r.model_id]
    return list(dict.fromkeys(n for n in names if n))


def served_by(a: Assertion, ctx: Context) -> Verdict:
    r = ctx.result
    if r.error is not None:
        passed_over = ", ".join(f["model"] for f in r.fallback)
        return Verdict(False, 0.0, "no model answered"
                       + (f" ({passed_over} passed over)" if passed_over else ""))  # fmt: skip
    names = served_names(r)
    ok = any(n in a.compiled for n in names)
    shown = names[0] if names else "unknown"
    passed = f" after {', '.join(f['model'] for f in r.fallback)}" if r.fallback else ""
    return Verdict(ok, 1.0 if ok else 0.0, f"served by {shown}{passed}" + ("" if ok else
                   f", expected {' or '.join(a.compiled)}"))  # fmt: skip

"""Guardrail assertions: `guardrail` checks what the call's own guardrail did; `apply-guardrail`
runs ApplyGuardrail on the output (or the rendered input) of any model, echo included."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from promptlab import guardrails
from promptlab.assertions.base import Assertion, BadAssertion, Context, Verdict
from promptlab.assertions.graders import call_failed
from promptlab.fields import did_you_mean
from promptlab.guardrails import POLICIES, VERDICTS, WHERE, Guardrail, Outcome

SOURCES = ("output", "input")


@dataclass(frozen=True)
class Expect:
    """What an assertion wants of a guardrail: `intervened` or `passed`, optionally by one
    policy and on one side (input or output)."""

    verdict: str = "passed"
    policy: str | None = None
    where: str | None = None
    guardrail: Guardrail | None = None  # apply-guardrail: its own (else the prompt's)
    source: str = "output"  # apply-guardrail: what is checked


def _choice(a: Assertion, key: str, options: tuple[str, ...], hint: str) -> str | None:
    value = a.options.get(key)
    if value is None:
        return None
    if value not in options:
        close = did_you_mean(str(value), options)
        raise BadAssertion(f"'{key}' must be one of {', '.join(options)}, got {value!r}",
                           close or hint, key=key)  # fmt: skip
    return str(value)


def _verdict(a: Assertion, default: str | None) -> str:
    value = a.value if a.value is not None else default
    if value not in VERDICTS:
        raise BadAssertion(f"the value must be intervened or passed, got {a.value!r}",
                           "e.g. - guardrail: intervened", key="value")  # fmt: skip
    return str(value)


def prepare_guardrail(a: Assertion, root: Path) -> Expect:
    verdict = _verdict(a, None)
    policy = _choice(a, "policy", POLICIES, "content, topic, word, pii, grounding or reasoning")
    where = _choice(a, "where", WHERE, "input (the prompt) or output (the answer)")
    return Expect(verdict, policy, where)


def prepare_apply(a: Assertion, root: Path) -> Expect:
    verdict = _verdict(a, "passed")
    policy = _choice(a, "policy", POLICIES, "content, topic, word, pii, grounding or reasoning")
    source = _choice(a, "source", SOURCES, "output (the answer, default) or input (the prompt)")
    ref = a.options.get("guardrail")
    guardrail = None
    if ref is not None:
        if not isinstance(ref, str):
            raise BadAssertion(f"'guardrail' must be ID:VERSION, got {ref!r}",
                               guardrails.REF_HINT, key="guardrail")  # fmt: skip
        try:
            guardrail = guardrails.parse_ref(ref, a.where)
        except guardrails.BadGuardrail as exc:
            raise BadAssertion(exc.message, exc.hint, key="guardrail") from None
    return Expect(verdict, policy, None, guardrail, source or "output")


def judged(expect: Expect, found: Outcome, what: str = "") -> Verdict:
    """Does `found` (what a guardrail did) give what `expect` asks for? `what` prefixes the
    reason (`ApplyGuardrail gr1:1 on the output: `)."""
    said = what + found.line()
    causes = [c for c in found.causes if (expect.policy is None or c.policy == expect.policy)
              and (expect.where is None or c.where == expect.where)]  # fmt: skip
    if expect.policy and found.intervened and not found.findings:
        return Verdict(False, 0.0, f"{said}; which policy is unknown: set the guardrail's trace "
                       "to enabled", broken=True)  # fmt: skip
    side = expect.where is None or found.where in (None, expect.where)
    if expect.verdict == "intervened":
        if not found.intervened:
            return Verdict(False, 0.0, f"{said}, expected it to intervene")
        if not side:
            return Verdict(False, 0.0, f"{said}; not on the {expect.where}")
        if expect.policy and not causes:
            return Verdict(False, 0.0, f"{said}; not a {expect.policy} policy")
        return Verdict(True, 1.0, said)
    scoped = expect.policy is not None or expect.where is not None
    if found.intervened and (not scoped or (side and causes)):
        return Verdict(False, 0.0, said)
    return Verdict(True, 1.0, said)


def guardrail(a: Assertion, ctx: Context) -> Verdict:
    """The call's own guardrail (its stop reason and trace)."""
    found = guardrails.outcome(ctx.result)
    if found is None:
        why = (
            "no guardrail on this call: set guardrail: in the prompt or promptlab.yaml, or "
            "--guardrail (echo applies none)"
        )
        return Verdict(False, 0.0, why, broken=True)
    return judged(a.compiled, found)


def apply_guardrail(a: Assertion, ctx: Context) -> Verdict:
    """ApplyGuardrail on the case's output (or rendered input), through the test's services:
    its usage is recorded in the history like a judge call's."""
    expect: Expect = a.compiled
    chosen = expect.guardrail or ctx.guardrail
    if chosen is None:
        return Verdict(False, 0.0, "no guardrail to apply: add guardrail: ID:VERSION",
                       broken=True)  # fmt: skip
    what = f"ApplyGuardrail {chosen.label} on the {expect.source}: "
    text = ctx.output if expect.source == "output" else ctx.user_prompt
    if not text.strip():
        return judged(expect, Outcome(False, None), f"{what}empty, nothing to check: ")
    if ctx.services is None:
        return Verdict(False, 0.0, "no AWS access for 'apply-guardrail'", broken=True)
    try:
        found, cost = ctx.services.apply_guardrail(chosen, expect.source, text, ctx.result)
    except Exception as exc:
        return call_failed(f"guardrail {chosen.label}", exc)
    v = judged(expect, found, what)
    return Verdict(v.passed, v.score, v.reason, cost_usd=cost)

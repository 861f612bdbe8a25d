"""Text assertions: equals, contains family, starts-with/ends-with, regex, length."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from promptlab import timedregex
from promptlab.assertions.base import Assertion, BadAssertion, Context, Verdict, quote

LENGTH_UNITS = ("chars", "words")


def _ok(passed: bool, reason: str) -> Verdict:
    return Verdict(passed, 1.0 if passed else 0.0, reason)


# ---------------------------------------------------------------- preparation


def need_string(a: Assertion, root: Path) -> str:
    if not isinstance(a.value, str) or a.value == "":
        raise BadAssertion(f"'{a.full_type}' needs a non-empty string value, got {a.value!r}",
                           f"e.g. {{type: {a.full_type}, value: \"text\"}}", "value")  # fmt: skip
    return a.value


def need_strings(a: Assertion, root: Path) -> list[str]:
    v = a.value
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not v or not all(isinstance(s, str) and s for s in v):
        raise BadAssertion(f"'{a.full_type}' needs a non-empty list of strings, got {a.value!r}",
                           f"e.g. {{type: {a.full_type}, value: [refund, credit]}}",
                           "value")  # fmt: skip
    return list(v)


def prepare_equals(a: Assertion, root: Path) -> Any:
    if a.value is None:
        raise BadAssertion("'equals' needs a value (text, or a mapping/list compared as JSON)",
                           key="value")  # fmt: skip
    return a.value


def prepare_regex(a: Assertion, root: Path) -> re.Pattern[str]:
    pattern = need_string(a, root)
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise BadAssertion(f"invalid regular expression {pattern!r}: {exc}",
                           "Python 're' syntax; quote the YAML value with single quotes",
                           "value") from None  # fmt: skip


def prepare_length(a: Assertion, root: Path) -> tuple[int | None, int | None, str]:
    opts: dict[str, Any] = dict(a.options)
    if isinstance(a.value, dict):  # shorthand: `length: {min: 10, max: 200}`
        for k, v in a.value.items():
            if k not in ("min", "max", "unit"):
                raise BadAssertion(f"unknown key '{k}' in length", "use min, max, unit", "value")
            opts[k] = v
    elif a.value is not None:
        raise BadAssertion("'length' takes min, max and unit, not a value",
                           "e.g. {type: length, max: 120, unit: words}", "value")  # fmt: skip
    lo, hi, unit = opts.get("min"), opts.get("max"), opts.get("unit", "chars")
    for key, v in (("min", lo), ("max", hi)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise BadAssertion(f"'{key}' of length must be a non-negative integer, got {v!r}",
                               key=key)  # fmt: skip
    if lo is None and hi is None:
        raise BadAssertion("'length' needs 'min', 'max' or both", "e.g. max: 120", None)
    if lo is not None and hi is not None and lo > hi:
        raise BadAssertion(f"length min {lo} is greater than max {hi}", key="min")
    if unit not in LENGTH_UNITS:
        raise BadAssertion(f"length unit must be chars or words, got {unit!r}", key="unit")
    return lo, hi, unit


# ---------------------------------------------------------------- checks


def equals(a: Assertion, ctx: Context) -> Verdict:
    expected = a.compiled
    if isinstance(expected, dict | list):
        from promptlab.assertions.structured import extract_json

        try:
            got = extract_json(ctx.output)
        except ValueError as exc:
            return _ok(False, f"output is not JSON ({exc})")
        return _ok(got == expected, "JSON equal" if got == expected else "JSON differs: "
                   + quote(json.dumps(got, ensure_ascii=False)))  # fmt: skip
    want = str(expected).strip()
    got_text = ctx.output.strip()
    if got_text == want:
        return _ok(True, f"equals {quote(want)}")
    return _ok(False, f"output {quote(got_text)} is not {quote(want)}")


def contains(a: Assertion, ctx: Context) -> Verdict:
    v = a.compiled
    found = v in ctx.output
    return _ok(found, f"found {quote(v)}" if found else f"{quote(v)} not found")


def icontains(a: Assertion, ctx: Context) -> Verdict:
    v = a.compiled
    found = v.lower() in ctx.output.lower()
    return _ok(
        found, f"found {quote(v)} (any case)" if found else f"{quote(v)} not found (any case)"
    )


def _contains_set(a: Assertion, ctx: Context, *, every: bool, fold: bool) -> Verdict:
    out = ctx.output.lower() if fold else ctx.output
    items: list[str] = a.compiled
    found = [s for s in items if (s.lower() if fold else s) in out]
    missing = [s for s in items if s not in found]
    if every:
        passed = not missing
        reason = "found all" if passed else "missing " + ", ".join(map(quote, missing))
    else:
        passed = bool(found)
        reason = "found " + ", ".join(map(quote, found)) if passed else "none of " + ", ".join(
            map(quote, items)) + " found"  # fmt: skip
    return Verdict(passed, len(found) / len(items) if every else float(passed), reason)


def contains_any(a: Assertion, ctx: Context) -> Verdict:
    return _contains_set(a, ctx, every=False, fold=False)


def contains_all(a: Assertion, ctx: Context) -> Verdict:
    return _contains_set(a, ctx, every=True, fold=False)


def icontains_any(a: Assertion, ctx: Context) -> Verdict:
    return _contains_set(a, ctx, every=False, fold=True)


def icontains_all(a: Assertion, ctx: Context) -> Verdict:
    return _contains_set(a, ctx, every=True, fold=True)


def starts_with(a: Assertion, ctx: Context) -> Verdict:
    v = a.compiled
    ok = ctx.output.lstrip().startswith(v)
    return _ok(
        ok,
        f"starts with {quote(v)}"
        if ok
        else f"starts with {quote(ctx.output.lstrip()[: len(v) + 10])}, not {quote(v)}",
    )


def ends_with(a: Assertion, ctx: Context) -> Verdict:
    v = a.compiled
    ok = ctx.output.rstrip().endswith(v)
    tail = ctx.output.rstrip()[-(len(v) + 10) :]
    return _ok(ok, f"ends with {quote(v)}" if ok else f"ends with {quote(tail)}, not {quote(v)}")


def regex(a: Assertion, ctx: Context) -> Verdict:
    """The pattern searched in the output with a time limit (timedregex.py): model output is
    untrusted. Out of time is this check's failure, never negated into a pass."""
    pattern: re.Pattern[str] = a.compiled
    try:
        m = timedregex.search(pattern.pattern, pattern.flags, ctx.output)
    except TimeoutError:
        return Verdict(False, 0.0, timedregex.gave_up(pattern.pattern), broken=True)
    if m:
        return _ok(True, f"/{pattern.pattern}/ matched {quote(m.group(0))}")
    return _ok(False, f"/{pattern.pattern}/ did not match")


def length(a: Assertion, ctx: Context) -> Verdict:
    lo, hi, unit = a.compiled
    n = len(ctx.output.split()) if unit == "words" else len(ctx.output.strip())
    bounds = f"{lo if lo is not None else 0}..{hi if hi is not None else '∞'}"
    ok = (lo is None or n >= lo) and (hi is None or n <= hi)
    return _ok(ok, f"{n} {unit} ({'within' if ok else 'outside'} {bounds})")

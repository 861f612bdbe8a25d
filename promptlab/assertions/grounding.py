"""Deterministic checks against the sources: `cites`, `numbers-grounded`, `context-recall`.

The evidence is the case's `context:` or the call's passages (evidence.py); with neither, each
check fails as undecidable (a `not-` does not pass either).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from promptlab.assertions.base import Assertion, BadAssertion, Context, Verdict, quote
from promptlab.assertions.evidence import (
    Passage,
    cited_ids,
    evidence,
    no_evidence,
    without_markers,
)
from promptlab.assertions.text import need_strings

# ---------------------------------------------------------------- cites


@dataclass(frozen=True)
class CiteSpec:
    at_least: int = 1  # distinct sources cited
    sources: tuple[str, ...] = ()  # each of these must be cited (an id or part of a source)


def prepare_cites(a: Assertion, root: Path) -> CiteSpec:
    v = a.value
    if v is None:
        return CiteSpec()
    if isinstance(v, int) and not isinstance(v, bool):
        if v < 1:
            raise BadAssertion(f"'cites' needs at least 1 source, got {v}",
                               "cites: 2 asks for two distinct sources", "value")  # fmt: skip
        return CiteSpec(at_least=v)
    if isinstance(v, str | list):
        wanted = need_strings(a, root)
        return CiteSpec(at_least=0, sources=tuple(s.strip() for s in wanted))
    raise BadAssertion(f"'cites' takes a number of sources or the source(s) to cite, got {v!r}",
                       "e.g. cites: 2, cites: returns-policy.md or cites: '1'",
                       "value")  # fmt: skip


def _matches(want: str, p: Passage) -> bool:
    want = want.strip().strip("[]")
    return want == p.id or (p.source is not None and want.lower() in p.source.lower())


def cites(a: Assertion, ctx: Context) -> Verdict:
    """The answer cites passages by `[id]` markers, or the service reports them cited.
    Distinct sources count (two passages of one file count once); a marker that names no
    passage fails the check (a citation of nothing is a made-up source)."""
    spec: CiteSpec = a.compiled
    ev = evidence(ctx)
    if ev is None:
        return no_evidence()
    by_id = {p.id: p for p in ev.passages}
    markers = cited_ids(ctx.output)
    unknown = [i for i in markers if i not in by_id]
    cited = [p for p in ev.passages if p.id in markers or p.cited]
    if unknown:
        shown = ", ".join(f"[{i}]" for i in unknown)
        return Verdict(False, 0.0, f"cites {shown}: no passage has that id "
                       f"(ids: {', '.join(by_id)})")  # fmt: skip
    named = "; ".join(p.label for p in cited) or "nothing"
    missing = [s for s in spec.sources if not any(_matches(s, p) for p in cited)]
    if missing:
        found = len(spec.sources) - len(missing)
        wanted = ", ".join(map(quote, missing))
        return Verdict(False, found / len(spec.sources), f"does not cite {wanted} (cites {named})")
    distinct = len({p.source or f"[{p.id}]" for p in cited})
    if distinct < spec.at_least:
        return Verdict(False, distinct / spec.at_least, f"cites {distinct} source(s), "
                       f"{spec.at_least} needed (cites {named})")  # fmt: skip
    return Verdict(True, 1.0, f"cites {named}")


# ---------------------------------------------------------------- numbers-grounded

# A number: digits with optional thousands separators (`1,000`: a comma then exactly three
# digits) and decimals; not the tail of a word or identifier (`v2`, `B2B`, `H2O`).
NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+(?!\d)|\d+)(\.\d+)?")
# `1. ` / `2) ` at the start of a line: a list's numbering, not a number the answer states.
LIST_ITEM = re.compile(r"(?m)^[ \t]*\d+[.)][ \t]+")


def normalise(whole: str, fraction: str | None) -> str:
    """`1,000` → `1000`, `007` → `7`, `2.50` → `2.5`, `3.0` → `3`: the same value, one text."""
    digits = whole.replace(",", "").lstrip("0") or "0"
    frac = (fraction or "").rstrip("0").rstrip(".")
    return digits + frac if frac not in ("", ".") else digits


def numbers(text: str) -> list[tuple[str, str]]:
    """(as written, normalised) for each number in the text, in order, each value once."""
    seen: dict[str, str] = {}
    for m in NUMBER.finditer(text):
        value = normalise(m.group(1), m.group(2))
        seen.setdefault(value, m.group(0))
    return [(written, value) for value, written in seen.items()]


def prepare_numbers(a: Assertion, root: Path) -> frozenset[str]:
    if a.value is not None:
        raise BadAssertion("'numbers-grounded' takes no value",
                           "write - numbers-grounded (ignore: [2025] lets a number through)",
                           "value")  # fmt: skip
    ignore = a.options.get("ignore", [])
    if not isinstance(ignore, list) or not all(
        isinstance(n, int | float | str) and not isinstance(n, bool) for n in ignore
    ):
        raise BadAssertion(f"'ignore' must be a list of numbers, got {ignore!r}",
                           "e.g. ignore: [2025, 24]", "ignore")  # fmt: skip
    out = set()
    for n in ignore:
        found = numbers(str(n))
        if len(found) != 1:
            raise BadAssertion(f"'ignore' must list numbers, got {n!r}", key="ignore")
        out.add(found[0][1])
    return frozenset(out)


def numbers_grounded(a: Assertion, ctx: Context) -> Verdict:
    """Every number in the answer (citation markers and list numbering left out) appears in
    the evidence, compared as values: `1,000` matches `1000`, `2.50` matches `2.5`; signs,
    currency symbols and `%` are not part of the number."""
    ev = evidence(ctx)
    if ev is None:
        return no_evidence()
    ignored: frozenset[str] = a.compiled
    said = [(w, v) for w, v in numbers(LIST_ITEM.sub("", without_markers(ctx.output)))
            if v not in ignored]  # fmt: skip
    if not said:
        return Verdict(True, 1.0, "no numbers in the answer")
    known = {v for _, v in numbers(ev.text)}
    missing = [w for w, v in said if v not in known]
    score = 1.0 - len(missing) / len(said)
    if missing:
        return Verdict(False, score, f"{len(missing)} of {len(said)} number(s) not in "
                       f"{ev.describe()}: {', '.join(missing)}")  # fmt: skip
    return Verdict(True, 1.0, f"all {len(said)} number(s) appear in {ev.describe()}")


# ---------------------------------------------------------------- context-recall


def _plain(text: str) -> str:
    return " ".join(text.lower().split())


def prepare_recall(a: Assertion, root: Path) -> list[str]:
    return need_strings(a, root)


def context_recall(a: Assertion, ctx: Context) -> Verdict:
    """Each expected fact (plain text) appears in the evidence, ignoring case and runs of
    whitespace. Score: the share found; passes at ≥ threshold (default 1.0: every fact)."""
    ev = evidence(ctx)
    if ev is None:
        return no_evidence()
    facts: list[str] = a.compiled
    text = _plain(ev.text)
    missing = [f for f in facts if _plain(f) not in text]
    score = 1.0 - len(missing) / len(facts)
    threshold = a.threshold if a.threshold is not None else 1.0
    ok = score >= threshold
    found = f"{len(facts) - len(missing)} of {len(facts)} fact(s) in {ev.describe()}"
    if missing:
        return Verdict(ok, score, f"{found}; missing: {', '.join(quote(m, 40) for m in missing)}")
    return Verdict(ok, score, found)

"""What the judged checks against the sources do when the judge is offline (echo): echo answers
with its prompt and cannot judge, so they score by word overlap instead — deterministic, free,
and good enough to exercise a suite offline; it measures no quality.

Words: runs of letters and digits, lowercased, a final "s" dropped from words over three
letters (refunds = refund); common English function words are left out, as are words of one or
two letters other than numbers.
"""

from __future__ import annotations

import re

SUPPORTED_SHARE = 0.75  # a claim is supported when this share of its words is in the sources
_WORD = re.compile(r"[^\W_]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_STOPWORDS = """
a about above after again all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has
have having he her here hers him his how i if in into is it its itself just me more most my no
nor not now of off on once only or other our ours out over own same she should so some such
than that the their theirs them then there these they this those through to too under until
up very was we were what when where which while who whom why will with would you your yours
"""
STOPWORDS = frozenset(_STOPWORDS.split())


def is_offline(model: str) -> bool:
    """The judge is an offline stand-in (echo), per the provider registry."""
    from promptlab.catalogue import resolve
    from promptlab.errors import UsageError

    try:
        return not resolve(model).real
    except UsageError:
        return False  # a user's alias: a real model


def words(text: str) -> set[str]:
    out = set()
    for w in _WORD.findall(text.lower()):
        if w in STOPWORDS or (len(w) < 3 and not w.isdigit()):
            continue
        out.add(w[:-1] if len(w) > 3 and w.endswith("s") else w)
    return out


def claims(answer: str) -> list[str]:
    """The answer's sentences that say something (citation markers removed)."""
    from promptlab.assertions.evidence import without_markers

    parts = (" ".join(s.split()) for s in _SENTENCE.split(without_markers(answer)))
    return [p for p in parts if words(p)]


def supported(claim: str, known: set[str]) -> bool:
    """At least SUPPORTED_SHARE of the claim's words are among the sources' `known` words."""
    said = words(claim)
    return len(said & known) >= SUPPORTED_SHARE * len(said)


def relevant(passage: str, question: str) -> bool:
    """The passage shares a word with the question."""
    return bool(words(passage) & words(question))


def addresses(answer: str, question: str) -> str:
    """fully: half the question's words or more are in the answer; partly: some; no: none."""
    asked = words(question)
    if not asked:
        return "fully"
    share = len(asked & words(answer)) / len(asked)
    return "fully" if share >= 0.5 else "partly" if share > 0 else "no"

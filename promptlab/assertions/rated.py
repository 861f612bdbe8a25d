"""`rated`: the human verdict on this case, from the ratings in the store (`promptlab review`).

`{type: rated, min_score: 4}` passes when the mean 1–5 score people gave this model's answers
to this case (same prompt name and version) is at least 4; `{type: rated, win_rate: 0.5,
against: nova-lite}` when its win rate against that model on this case (a tie counts half) is
at least 0.5. The answers rated are earlier runs' (a run's own new answers have no ratings
yet). No ratings: the assertion fails and says so, so a required human verdict that does not
exist yet never passes silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from promptlab.assertions.base import Assertion, BadAssertion, Context, Verdict
from promptlab.ratingstats import Tally
from promptlab.results import Result


@dataclass
class RatedFacts:
    """What the ratings say of a model on a case: its scores, and its tally against each
    other model shown with it (keyed by model id and by alias)."""

    scores: list[int] = field(default_factory=list)
    against: dict[str, Tally] = field(default_factory=dict)


class Ratings(Protocol):
    def __call__(self, result: Result) -> RatedFacts: ...


def prepare_rated(a: Assertion, root: Path) -> tuple[str, float, str | None]:
    opts: dict[str, Any] = dict(a.options)
    if "min_score" in opts and ("win_rate" in opts or "against" in opts):
        raise BadAssertion("give 'rated' min_score, or win_rate with against, not both",
                           key="min_score")  # fmt: skip
    if "min_score" in opts:
        v = opts["min_score"]
        if isinstance(v, bool) or not isinstance(v, int | float) or not 1 <= v <= 5:
            raise BadAssertion(f"'min_score' of rated is a score from 1 to 5, got {v!r}",
                               key="min_score")  # fmt: skip
        return "min_score", float(v), None
    if "win_rate" in opts:
        v, against = opts["win_rate"], opts.get("against")
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
            raise BadAssertion(f"'win_rate' of rated is a share from 0 to 1, got {v!r}",
                               key="win_rate")  # fmt: skip
        if not isinstance(against, str) or not against:
            raise BadAssertion("'win_rate' of rated needs 'against': the model it is compared "
                               "with", "e.g. against: nova-lite", "against")  # fmt: skip
        return "win_rate", float(v), against
    raise BadAssertion("'rated' needs min_score or win_rate (with against)",
                       "e.g. {type: rated, min_score: 4}")  # fmt: skip


def rated(a: Assertion, ctx: Context) -> Verdict:
    what, bound, against = a.compiled
    if ctx.ratings is None:
        return Verdict(False, 0.0, "no run history to read ratings from (history is off)")
    facts = ctx.ratings(ctx.result)
    who = f"{ctx.result.model_alias} on {ctx.case}"
    if what == "min_score":
        if not facts.scores:
            return Verdict(False, 0.0, f"no scores for {who} yet (rate a run with "
                                       "`promptlab review`)")  # fmt: skip
        mean = sum(facts.scores) / len(facts.scores)
        ok = mean >= bound
        return Verdict(ok, 1.0 if ok else 0.0, f"mean score {mean:.2f} of {len(facts.scores)} "
                       f"rating(s), expected ≥ {bound:g}")  # fmt: skip
    tally = facts.against.get(against or "")
    if tally is None or tally.win_rate is None:
        return Verdict(False, 0.0, f"no picks between {who} and {against} yet (rate a run "
                                   "with both in `promptlab review`)")  # fmt: skip
    ok = tally.win_rate >= bound
    return Verdict(ok, 1.0 if ok else 0.0, f"win rate {tally.win_rate:.0%} against {against} "
                   f"({tally.wins} wins, {tally.ties} ties, {tally.losses} losses), expected "
                   f"≥ {bound:.0%}")  # fmt: skip

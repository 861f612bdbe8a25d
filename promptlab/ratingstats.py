"""What human ratings add up to: win rates with a Wilson interval, mean scores, and how well
raters agree. Pure functions of `Judgement`s (a rating with each answer named by its subject:
a model id, or prompt@version).

- A pick among N answers is a win of the picked subject over each other subject shown and a
  loss for each of them; answers that were not picked are not compared with one another.
  A tie is a tie between every pair shown. Each rater's rating counts once.
- Win rate of A against B = (wins + ties / 2) / comparisons; the 95 % interval is Wilson's
  score interval on that proportion (it stays inside 0..1 and is honest for small n).
- Agreement, over cases rated by two or more raters: each rater's verdict is the subject
  picked, or "tie". Percent agreement = agreeing rater pairs / rater pairs. Cohen's kappa per
  pair of raters over the cases both rated: (p_o - p_e) / (1 - p_e), p_e from each rater's own
  verdict frequencies; None when p_e is 1 (both always said the same one thing).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Judgement:
    case: tuple[str, str]  # (run id, case key)
    rater: str
    subjects: tuple[str, ...]  # per answer shown
    winner: int | None  # index into subjects
    tie: bool
    scores: tuple[int | None, ...]  # per answer shown

    @property
    def verdict(self) -> str | None:
        if self.tie:
            return "tie"
        return self.subjects[self.winner] if self.winner is not None else None


@dataclass
class Tally:
    wins: int = 0
    ties: int = 0
    losses: int = 0

    @property
    def n(self) -> int:
        return self.wins + self.ties + self.losses

    @property
    def win_rate(self) -> float | None:
        return (self.wins + self.ties / 2) / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.wins + self.ties / 2, self.n) if self.n else None


def wilson(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for successes out of n (n > 0)."""
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def head_to_head(judgements: list[Judgement]) -> dict[tuple[str, str], Tally]:
    """(subject, opponent) → its tally against that opponent; both directions present."""
    out: dict[tuple[str, str], Tally] = {}

    def tally(a: str, b: str) -> Tally:
        return out.setdefault((a, b), Tally())

    for j in judgements:
        if j.tie:
            for a, b in combinations(sorted(set(j.subjects)), 2):
                tally(a, b).ties += 1
                tally(b, a).ties += 1
        elif j.winner is not None:
            best = j.subjects[j.winner]
            for other in sorted(set(j.subjects) - {best}):
                tally(best, other).wins += 1
                tally(other, best).losses += 1
    return out


@dataclass
class ScoreSummary:
    count: int = 0
    total: int = 0

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


def mean_scores(judgements: list[Judgement]) -> dict[str, ScoreSummary]:
    out: dict[str, ScoreSummary] = {}
    for j in judgements:
        for subject, score in zip(j.subjects, j.scores, strict=True):
            if score is not None:
                s = out.setdefault(subject, ScoreSummary())
                s.count += 1
                s.total += score
    return out


@dataclass
class PairAgreement:
    raters: tuple[str, str]
    cases: int
    agreed: int
    kappa: float | None


@dataclass
class Agreement:
    raters: list[str] = field(default_factory=list)
    cases: int = 0  # rated by two or more raters
    pairs: int = 0  # rater pairs over those cases
    agreed: int = 0
    by_pair: list[PairAgreement] = field(default_factory=list)

    @property
    def percent(self) -> float | None:
        return self.agreed / self.pairs if self.pairs else None


def agreement(judgements: list[Judgement]) -> Agreement:
    verdicts: dict[tuple[str, str], dict[str, str]] = {}
    for j in judgements:
        if j.verdict is not None:
            verdicts.setdefault(j.case, {})[j.rater] = j.verdict
    raters = sorted({r for v in verdicts.values() for r in v})
    out = Agreement(raters=raters)
    for by_rater in verdicts.values():
        if len(by_rater) < 2:
            continue
        out.cases += 1
        for a, b in combinations(sorted(by_rater), 2):
            out.pairs += 1
            out.agreed += by_rater[a] == by_rater[b]
    for a, b in combinations(raters, 2):
        shared = [(v[a], v[b]) for v in verdicts.values() if a in v and b in v]
        if shared:
            agreed = sum(x == y for x, y in shared)
            out.by_pair.append(PairAgreement((a, b), len(shared), agreed, cohen_kappa(shared)))
    return out


def cohen_kappa(pairs: list[tuple[str, str]]) -> float | None:
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[k] * second[k] for k in first) / (n * n)
    if expected >= 1:
        return None
    return (observed - expected) / (1 - expected)


@dataclass
class RatingSummary:
    """Everything `stats` shows about ratings, for one grouping (model or version)."""

    by: str
    judgements: int
    head_to_head: dict[tuple[str, str], Tally]
    scores: dict[str, ScoreSummary]
    agreement: Agreement
    names: dict[str, str]  # subject → what to call it (alias)

    def to_dict(self) -> dict[str, Any]:
        def rounded(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {
            "by": self.by,
            "ratings": self.judgements,
            "win_rates": [
                {"group": a, "name": self.names.get(a, a), "against": b,
                 "against_name": self.names.get(b, b), "wins": t.wins, "ties": t.ties,
                 "losses": t.losses, "win_rate": rounded(t.win_rate),
                 "ci95": [rounded(x) for x in t.interval] if t.interval else None}
                for (a, b), t in sorted(self.head_to_head.items())
            ],
            "scores": [
                {"group": g, "name": self.names.get(g, g), "count": s.count,
                 "mean": rounded(s.mean)}
                for g, s in sorted(self.scores.items())
            ],
            "agreement": {
                "raters": self.agreement.raters, "cases": self.agreement.cases,
                "percent": rounded(self.agreement.percent),
                "pairs": [{"raters": list(p.raters), "cases": p.cases, "agreed": p.agreed,
                           "kappa": rounded(p.kappa)} for p in self.agreement.by_pair],
            },
        }  # fmt: skip


def summarise(by: str, judgements: list[Judgement], names: dict[str, str]) -> RatingSummary:
    return RatingSummary(
        by, len(judgements), head_to_head(judgements), mean_scores(judgements),
        agreement(judgements), names,
    )  # fmt: skip

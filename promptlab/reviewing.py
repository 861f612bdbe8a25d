"""One person reviewing one run: where they are, what they rated, saved as it changes.

No display here (the terminal UI is `views/reviewapp.py`): the session keeps the cases, the
order each case's answers are shown in, and the rater's rating of each case, and writes every
change to the store at once, so quitting at any point loses nothing and the next `review` of
the run starts at the first case this rater has not rated.
"""

from __future__ import annotations

import sqlite3
import string
from dataclasses import dataclass, field

from promptlab.store.ratings import Answer, Case, Rating, load, save, shown_order

LETTERS = string.ascii_uppercase


@dataclass
class ReviewSession:
    con: sqlite3.Connection
    run_id: str
    cases: list[Case]
    rater: str
    blind: bool = True
    index: int = 0
    ratings: dict[str, Rating] = field(default_factory=dict)

    @classmethod
    def open(
        cls, con: sqlite3.Connection, run_id: str, cases: list[Case], rater: str, *, blind: bool
    ) -> ReviewSession:
        """Load the rater's earlier ratings of the run; start at the first unrated case."""
        session = cls(con, run_id, cases, rater, blind)
        for r in load(con, [run_id], rater):
            session.ratings[r.case_key] = r
        session.index = next(
            (i for i, c in enumerate(cases) if c.key not in session.ratings), 0
        )  # fmt: skip
        return session

    @property
    def case(self) -> Case:
        return self.cases[self.index]

    @property
    def shown(self) -> list[Answer]:
        return shown_order(self.case, self.run_id, self.rater, blind=self.blind)

    def letter(self, position: int) -> str:
        return LETTERS[position]

    def title(self, position: int) -> str:
        """'A' when blind; 'A · nova-lite' when not."""
        answer = self.shown[position]
        letter = self.letter(position)
        return letter if self.blind else f"{letter} · {self.case.label(answer)}"

    @property
    def rating(self) -> Rating:
        existing = self.ratings.get(self.case.key)
        if existing is not None:
            return existing
        return Rating(self.run_id, self.case.key, self.rater, [a.call_id for a in self.shown],
                      blind=self.blind)  # fmt: skip

    @property
    def rated(self) -> int:
        return sum(1 for c in self.cases if c.key in self.ratings)

    def _store(self, rating: Rating) -> None:
        rating.call_ids = [a.call_id for a in self.shown]
        rating.blind = self.blind
        save(self.con, rating)
        if rating.empty:
            self.ratings.pop(rating.case_key, None)
        else:
            self.ratings[rating.case_key] = rating

    # ------------------------------------------------------------ what the keys do

    def pick(self, position: int) -> bool:
        """The answer at this position is the better one (pressed again: no pick)."""
        shown = self.shown
        if position >= len(shown) or len(shown) < 2:
            return False
        rating = self.rating
        chosen = shown[position].call_id
        rating.winner = None if rating.winner == chosen else chosen
        rating.tie = False
        self._store(rating)
        return True

    def tie(self) -> bool:
        if len(self.shown) < 2:
            return False
        rating = self.rating
        rating.tie = not rating.tie
        rating.winner = None
        self._store(rating)
        return True

    def score(self, position: int, value: int) -> None:
        rating = self.rating
        call = self.shown[position].call_id
        if rating.scores.get(call) == value:
            del rating.scores[call]  # the same score again clears it
        else:
            rating.scores[call] = value
        self._store(rating)

    def note(self, text: str) -> None:
        rating = self.rating
        rating.note = text.strip()
        self._store(rating)

    def move(self, step: int) -> bool:
        target = self.index + step
        if 0 <= target < len(self.cases):
            self.index = target
            return True
        return False

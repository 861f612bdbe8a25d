"""Human ratings in the store: the cases of a run to review, and one rating per rater and case.

A *case* is one prompt with one set of variables (or one test case) and one repeat; its
*answers* are the run's successful calls for it, one per model (or prompt version). A rating
holds the answers shown (in the order shown), the one picked as better or a tie, a 1–5 score
per answer and a note. Saving the same rater's rating of a case again replaces it, so a review
is saved as it goes and can be resumed.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from promptlab.errors import UsageError

SCORES = range(1, 6)


@dataclass(frozen=True)
class Answer:
    call_id: int
    model_id: str
    model_alias: str
    prompt_version: str
    output: str

    @property
    def digest(self) -> str:
        """sha256 of the answer text: an imported rating applies only to the same answer."""
        return hashlib.sha256(self.output.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Case:
    key: str
    prompt: str
    title: str  # the test case's name, or the variables in short
    repeat: int
    question: str  # the last user message's text, as sent
    answers: tuple[Answer, ...]

    def label(self, answer: Answer) -> str:
        """The answer's model alias, with its prompt version where the case has several."""
        versions = {a.prompt_version for a in self.answers}
        return answer.model_alias + (f" @{answer.prompt_version}" if len(versions) > 1 else "")


@dataclass
class Rating:
    run_id: str
    case_key: str
    rater: str
    call_ids: list[int]
    winner: int | None = None  # a call id
    tie: bool = False
    scores: dict[int, int] = field(default_factory=dict)  # call id → 1..5
    note: str = ""
    blind: bool = True
    source: str | None = None

    @property
    def empty(self) -> bool:
        return self.winner is None and not self.tie and not self.scores and not self.note


def case_key(prompt: str, case: str | None, vars_json: str, repeat: int) -> str:
    who = case if case is not None else vars_json
    return hashlib.sha256(f"{prompt}\x1f{who}\x1f{repeat}".encode()).hexdigest()[:16]


def _title(case: str | None, vars_json: str) -> str:
    if case is not None:
        return case
    try:
        values = json.loads(vars_json)
    except ValueError:
        values = {}
    if not isinstance(values, dict) or not values:
        return "(no variables)"
    text = ", ".join(f"{k}={v}" for k, v in values.items())
    return text if len(text) <= 60 else text[:59] + "…"


def _question(request_json: str) -> str:
    try:
        request = json.loads(request_json)
    except ValueError:
        return ""
    for message in reversed(request.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            texts = [b.get("text") for b in message.get("content") or [] if isinstance(b, dict)]
            return "\n".join(t for t in texts if isinstance(t, str))
    return ""


def run_cases(con: sqlite3.Connection, run_id: str) -> list[Case]:
    """The run's cases in the order they were first called, each with its successful answers.
    Failed calls are not shown (there is nothing to rate), nor a test run's judge calls."""
    from promptlab.results import GRADER_NOTICE

    grouped: dict[str, list[sqlite3.Row]] = {}
    for row in con.execute(
        "SELECT id, prompt_name, prompt_version, case_name, vars, repeat_index, model_id, "
        "model_alias, output, request FROM calls WHERE run_id = ? AND error_code IS NULL "
        "AND instr(notices, ?) = 0 ORDER BY id",
        (run_id, GRADER_NOTICE),
    ):
        key = case_key(row["prompt_name"], row["case_name"], row["vars"], row["repeat_index"])
        grouped.setdefault(key, []).append(row)
    cases = []
    for key, rows in grouped.items():
        first = rows[0]
        answers = tuple(
            Answer(r["id"], r["model_id"], r["model_alias"], r["prompt_version"], r["output"])
            for r in rows
        )
        cases.append(Case(
            key, first["prompt_name"], _title(first["case_name"], first["vars"]),
            first["repeat_index"], _question(first["request"]), answers,
        ))  # fmt: skip
    return cases


def shown_order(case: Case, run_id: str, rater: str, *, blind: bool) -> list[Answer]:
    """Blind: the answers shuffled by a seed made of the run, case and rater, so a resumed
    review shows each case with the same letters. Not blind: the order of the run."""
    if not blind:
        return list(case.answers)
    seed = int(hashlib.sha256(f"{run_id}\x1f{case.key}\x1f{rater}".encode()).hexdigest()[:12], 16)
    order = list(case.answers)
    random.Random(seed).shuffle(order)
    return order


# ---------------------------------------------------------------- reading and writing


def save(con: sqlite3.Connection, rating: Rating) -> None:
    """Insert or replace this rater's rating of the case (an empty one is deleted)."""
    now = time.time()
    con.execute("BEGIN IMMEDIATE")
    try:
        if rating.empty:
            con.execute(
                "DELETE FROM ratings WHERE run_id = ? AND case_key = ? AND rater = ?",
                (rating.run_id, rating.case_key, rating.rater),
            )
        else:
            con.execute(
                "INSERT INTO ratings(run_id, case_key, rater, call_ids, winner_call_id, tie, "
                "scores, note, blind, source, created_ts, updated_ts) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(run_id, case_key, rater) DO UPDATE SET call_ids = excluded.call_ids, "
                "winner_call_id = excluded.winner_call_id, tie = excluded.tie, "
                "scores = excluded.scores, note = excluded.note, blind = excluded.blind, "
                "source = excluded.source, updated_ts = excluded.updated_ts",
                (
                    rating.run_id, rating.case_key, rating.rater, json.dumps(rating.call_ids),
                    rating.winner, int(rating.tie),
                    json.dumps({str(k): v for k, v in sorted(rating.scores.items())}),
                    rating.note or None, int(rating.blind), rating.source, now, now,
                ),
            )  # fmt: skip
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _rating(row: sqlite3.Row) -> Rating:
    return Rating(
        row["run_id"], row["case_key"], row["rater"], [int(i) for i in json.loads(row["call_ids"])],
        row["winner_call_id"], bool(row["tie"]),
        {int(k): int(v) for k, v in json.loads(row["scores"] or "{}").items()},
        row["note"] or "", bool(row["blind"]), row["source"],
    )  # fmt: skip


def has_ratings_table(con: sqlite3.Connection) -> bool:
    found = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'ratings'").fetchone()
    return found is not None


def load(
    con: sqlite3.Connection, run_ids: list[str] | None = None, rater: str | None = None
) -> list[Rating]:
    """Ratings of these runs (all runs: None), of one rater or all, oldest first."""
    if not has_ratings_table(con):  # a store opened read-only before the ratings migration
        return []
    sql, args = "SELECT * FROM ratings WHERE 1 = 1", []
    if run_ids is not None:
        sql += f" AND run_id IN ({', '.join('?' * len(run_ids))})"
        args += run_ids
    if rater is not None:
        sql += " AND rater = ?"
        args.append(rater)
    return [_rating(r) for r in con.execute(sql + " ORDER BY id", args)]


def default_rater() -> str:
    """`git config user.name`, else $USER (or $USERNAME), else 'anonymous'."""
    import os
    import subprocess

    try:
        name = subprocess.run(
            ["git", "config", "user.name"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        name = ""
    return name or os.environ.get("USER") or os.environ.get("USERNAME") or "anonymous"


def check_score(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in SCORES:
        raise UsageError(f"{where}: a score is a whole number from 1 to 5, got {value!r}")
    return value

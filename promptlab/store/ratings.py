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
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlab.errors import UsageError

if TYPE_CHECKING:
    from promptlab.assertions.rated import RatedFacts
    from promptlab.finetune import Candidate
    from promptlab.ratingstats import Judgement
    from promptlab.results import Result

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
    Failed calls are not shown (there is nothing to rate)."""
    grouped: dict[str, list[sqlite3.Row]] = {}
    for row in con.execute(
        "SELECT id, prompt_name, prompt_version, case_name, vars, repeat_index, model_id, "
        "model_alias, output, request FROM calls WHERE run_id = ? AND error_code IS NULL "
        "ORDER BY id",
        (run_id,),
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


GROUPINGS = ("model", "version")


def judgements(
    con: sqlite3.Connection, by: str, *, call_ids: set[int] | None = None
) -> tuple[list[Judgement], dict[str, str]]:
    """Every rating as a Judgement whose subjects are model ids (`by="model"`) or
    prompt@version; with `call_ids`, only ratings whose answers are all among them. Also the
    name to show for each subject (a model's alias)."""
    from promptlab.ratingstats import Judgement

    ratings = load(con)
    wanted = sorted({i for r in ratings for i in r.call_ids})
    info: dict[int, sqlite3.Row] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for row in con.execute(
            "SELECT id, model_id, model_alias, prompt_name, prompt_version FROM calls "
            f"WHERE id IN ({', '.join('?' * len(chunk))})",
            chunk,
        ):
            info[row["id"]] = row
    out: list[Judgement] = []
    names: dict[str, str] = {}
    for r in ratings:
        if any(i not in info for i in r.call_ids):
            continue  # a call removed from the history
        if call_ids is not None and not set(r.call_ids) <= call_ids:
            continue
        subjects = []
        for i in r.call_ids:
            row = info[i]
            if by == "model":
                subject = row["model_id"]
                names.setdefault(subject, row["model_alias"])
            else:
                subject = f"{row['prompt_name']}@{row['prompt_version']}"
            subjects.append(subject)
        winner = r.call_ids.index(r.winner) if r.winner in r.call_ids else None
        out.append(Judgement(
            (r.run_id, r.case_key), r.rater, tuple(subjects), winner, r.tie,
            tuple(r.scores.get(i) for i in r.call_ids),
        ))  # fmt: skip
    return out, names


def finetune_candidates(con: sqlite3.Connection, run_ids: list[str]) -> list[Candidate]:
    """Every call of the runs with what the ratings say of it: the mean of its scores (all
    raters) and whether most raters who picked in its case picked it."""
    from promptlab.finetune import Candidate, read_pair

    scores: dict[int, list[int]] = {}
    picks: dict[int, list[bool]] = {}
    for r in load(con, run_ids):
        for call, score in r.scores.items():
            scores.setdefault(call, []).append(score)
        if r.winner is not None or r.tie:
            for call in r.call_ids:
                picks.setdefault(call, []).append(call == r.winner)
    out = []
    for row in con.execute(
        f"SELECT id, request, output, error_code, input_tokens, output_tokens, tokens_estimated "
        f"FROM calls WHERE run_id IN ({', '.join('?' * len(run_ids))}) ORDER BY id",
        run_ids,
    ):
        counted = (row["input_tokens"] is not None and row["output_tokens"] is not None
                   and not row["tokens_estimated"])  # fmt: skip
        tokens = row["input_tokens"] + row["output_tokens"] if counted else None
        if row["error_code"] is not None:
            pair: Any = "the call failed"
        else:
            try:
                request = json.loads(row["request"])
            except ValueError:
                request = {}
            pair = read_pair(request, row["output"] or "", tokens)
        given = scores.get(row["id"], [])
        votes = picks.get(row["id"], [])
        out.append(Candidate(
            row["id"], pair, sum(given) / len(given) if given else None,
            bool(votes) and sum(votes) * 2 > len(votes), not counted,
        ))  # fmt: skip
    return out


class RatingsLookup:
    """What the ratings in the store say of a result's model on its case (the `rated`
    assertion): opened read-only on first use, once, shared by the evaluating threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con: sqlite3.Connection | None = None
        self._opened = False
        self._lock = threading.Lock()

    def __call__(self, result: Result) -> RatedFacts:
        from promptlab.assertions.rated import RatedFacts

        with self._lock:
            if not self._opened:
                self._opened = True
                if self.path.exists():
                    from promptlab.store.db import StoreError, connect

                    try:
                        self._con = connect(self.path, readonly=True)
                    except StoreError:
                        self._con = None
            if self._con is None:
                return RatedFacts()
            return rated_facts(self._con, result)


def rated_facts(con: sqlite3.Connection, result: Result) -> RatedFacts:
    """Scores given to this model's earlier answers to this case (same prompt name and version,
    same test case or variables), and its tally against each model shown beside it."""
    from promptlab.assertions.rated import RatedFacts
    from promptlab.ratingstats import head_to_head

    facts = RatedFacts()
    if not has_ratings_table(con):
        return facts
    same_case = "case_name = ?" if result.case is not None else "case_name IS NULL AND vars = ?"
    who = result.case if result.case is not None else json.dumps(
        result.vars, ensure_ascii=False, default=str
    )  # fmt: skip
    calls = {
        row["id"]: row
        for row in con.execute(
            "SELECT id, model_id, model_alias FROM calls WHERE prompt_name = ? AND "
            f"prompt_version = ? AND {same_case} AND error_code IS NULL",
            (result.prompt_name, result.prompt_version, who),
        )
    }
    mine = {i for i, row in calls.items() if row["model_id"] == result.model_id}
    if not mine:
        return facts
    from promptlab.ratingstats import Judgement

    judged = []
    for r in load(con):
        if not set(r.call_ids) & mine or not set(r.call_ids) <= calls.keys():
            continue
        facts.scores += [s for c, s in r.scores.items() if c in mine]
        subjects = tuple(calls[c]["model_id"] for c in r.call_ids)
        winner = r.call_ids.index(r.winner) if r.winner in r.call_ids else None
        judged.append(Judgement((r.run_id, r.case_key), r.rater, subjects, winner, r.tie,
                                tuple(r.scores.get(c) for c in r.call_ids)))  # fmt: skip
    names = {row["model_id"]: row["model_alias"] for row in calls.values()}
    for (a, b), tally in head_to_head(judged).items():
        if a == result.model_id:
            facts.against[b] = tally
            facts.against.setdefault(names.get(b, b), tally)
    return facts

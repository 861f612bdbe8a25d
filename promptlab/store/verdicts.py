"""What people's ratings say, read from the store for the commands that use them: `stats`
and the HTML report (`judgements`: each rating with its answers named by model or prompt
version), `export finetune` (`finetune_candidates`: every call of some runs with its mean score
and whether it was picked) and the `rated` assertion (`RatingsLookup`: a model's scores and
tallies on one case)."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlab.store.ratings import has_ratings_table, load

if TYPE_CHECKING:
    from promptlab.assertions.rated import RatedFacts
    from promptlab.finetune import Candidate
    from promptlab.ratingstats import Judgement
    from promptlab.results import Result


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

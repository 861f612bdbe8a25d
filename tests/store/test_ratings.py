"""Human ratings in the store: the cases of a run, one rating per rater and case, the ratings
migration on an older file, and the numbers `stats` shows (checked against hand computation)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from promptlab.config import Config
from promptlab.ratingstats import (
    Judgement,
    agreement,
    cohen_kappa,
    head_to_head,
    mean_scores,
    wilson,
)
from promptlab.results import Result
from promptlab.store.db import MIGRATIONS, connect, migrate
from promptlab.store.ratings import Rating, load, run_cases, save, shown_order
from promptlab.store.verdicts import judgements
from tests.store.test_store_api import config_in, make_result, seed

RUN = "run-r"


def two_model_run(
    config: Config, cases: int = 3, outputs: dict[str, str] | None = None, run_id: str = RUN
) -> None:
    """`cases` test cases, each answered by nova and claude (and one failed call of llama)."""
    rows: list[tuple[Result, float]] = []
    for n in range(cases):
        for model in ("nova", "claude"):
            text = (outputs or {}).get(model, f"{model} answer {n}")
            result = make_result(model=model, output=text, run_id=run_id, user=f"question {n}")
            rows.append((replace(result, case=f"case-{n}"), 1000.0 + n))
        failed = make_result(model="llama", error="ThrottlingException", run_id=run_id)
        rows.append((replace(failed, case=f"case-{n}"), 1000.0 + n))
    seed(config, rows)


@pytest.fixture
def store(project: Path) -> Iterator[sqlite3.Connection]:
    config = config_in(project)
    two_model_run(config)
    con = connect(config.store_path)
    yield con
    con.close()


def test_a_case_holds_each_models_successful_answer_in_run_order(store: sqlite3.Connection) -> None:
    cases = run_cases(store, RUN)
    assert [c.title for c in cases] == ["case-0", "case-1", "case-2"]
    assert [a.model_alias for a in cases[0].answers] == ["nova", "claude"]  # llama failed
    assert cases[1].question == "question 1"
    assert len({c.key for c in cases}) == 3


def test_blind_order_is_the_same_every_time_and_not_always_the_run_order(
    store: sqlite3.Connection,
) -> None:
    case = run_cases(store, RUN)[0]
    orders = {tuple(a.model_alias for a in shown_order(case, RUN, f"rater-{i}", blind=True))
              for i in range(20)}  # fmt: skip
    assert orders == {("nova", "claude"), ("claude", "nova")}
    first = shown_order(case, RUN, "ana", blind=True)
    assert shown_order(case, RUN, "ana", blind=True) == first
    assert shown_order(case, RUN, "ana", blind=False) == list(case.answers)


def test_saving_again_replaces_the_raters_rating_and_an_empty_one_is_removed(
    store: sqlite3.Connection,
) -> None:
    case = run_cases(store, RUN)[0]
    ids = [a.call_id for a in case.answers]
    save(store, Rating(RUN, case.key, "ana", ids, winner=ids[0], scores={ids[0]: 4}))
    save(store, Rating(RUN, case.key, "ana", ids, winner=ids[1], note="B is kinder"))
    save(store, Rating(RUN, case.key, "ben", ids, tie=True))
    got = {r.rater: r for r in load(store, [RUN])}
    assert (got["ana"].winner, got["ana"].scores, got["ana"].note) == (ids[1], {}, "B is kinder")
    assert got["ben"].tie and got["ben"].winner is None
    save(store, Rating(RUN, case.key, "ben", ids))
    assert [r.rater for r in load(store, [RUN])] == ["ana"]


def test_an_older_store_gains_the_ratings_table_and_keeps_its_calls(project: Path) -> None:
    config = config_in(project)
    config.store_path.parent.mkdir(parents=True)
    con = sqlite3.connect(config.store_path, isolation_level=None)
    con.row_factory = sqlite3.Row
    migrate(con, upto=11)  # the schema before ratings
    assert con.execute("SELECT 1 FROM sqlite_master WHERE name = 'ratings'").fetchone() is None
    assert load(con) == []  # read tolerantly before the migration
    con.close()
    two_model_run(config)  # seed opens (and migrates) the file, then writes calls
    con = connect(config.store_path)
    assert len(run_cases(con, RUN)) == 3
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_judgements_name_models_by_id_or_prompt_versions(store: sqlite3.Connection) -> None:
    case = run_cases(store, RUN)[0]
    ids = [a.call_id for a in case.answers]
    save(store, Rating(RUN, case.key, "ana", ids[::-1], winner=ids[0], scores={ids[1]: 2}))
    by_model, names = judgements(store, "model")
    assert by_model[0].subjects == ("vendor.claude-v1", "vendor.nova-v1")
    assert (by_model[0].verdict, by_model[0].scores) == ("vendor.nova-v1", (2, None))
    assert names == {"vendor.claude-v1": "claude", "vendor.nova-v1": "nova"}
    by_version, _ = judgements(store, "version")
    assert by_version[0].subjects == ("greet@1.0.0", "greet@1.0.0")
    assert judgements(store, "model", call_ids={ids[0]})[0] == []


# ---------------------------------------------------------------- the numbers


def judged(case: str, rater: str, winner: int | None, tie: bool = False,
           scores: tuple[int | None, ...] = (None, None)) -> Judgement:  # fmt: skip
    return Judgement(("r", case), rater, ("nova", "claude"), winner, tie, scores)


def test_win_rate_counts_a_tie_as_half_and_its_interval_is_wilsons() -> None:
    ratings = [judged(f"c{i}", "ana", 0) for i in range(7)]
    ratings += [judged("c7", "ana", None, tie=True), judged("c8", "ana", 1), judged("c9", "ana", 1)]
    tallies = head_to_head(ratings)
    nova = tallies[("nova", "claude")]
    assert (nova.wins, nova.ties, nova.losses, nova.win_rate) == (7, 1, 2, 0.75)
    # by hand: p = 7.5/10, z = 1.96: centre (0.75 + 0.19207) / 1.38415 = 0.68062,
    # half 1.96 * sqrt(0.01875 + 0.0096037) / 1.38415 = 0.23843
    low, high = nova.interval or (0, 0)
    assert (round(low, 4), round(high, 4)) == (0.4422, 0.9191)
    claude = tallies[("claude", "nova")]
    assert (claude.wins, claude.ties, claude.losses, claude.win_rate) == (2, 1, 7, 0.25)


def test_a_pick_among_three_compares_the_winner_with_each_other_answer_only() -> None:
    three = Judgement(("r", "c"), "ana", ("nova", "claude", "llama"), 2, False, (5, 3, None))
    tallies = head_to_head([three])
    assert tallies[("llama", "nova")].wins == tallies[("llama", "claude")].wins == 1
    assert ("nova", "claude") not in tallies  # not picked: not compared with each other
    scores = mean_scores([three, judged("d", "ana", None, scores=(4, None))])
    assert (scores["nova"].count, scores["nova"].mean) == (2, 4.5)
    assert "llama" not in scores


def test_wilson_interval_stays_inside_zero_and_one() -> None:
    low, high = wilson(0, 3)
    assert 0.0 <= low < 1e-9 and round(high, 4) == 0.5615  # none of 3: at most about 56 %
    low, high = wilson(3, 3)
    assert round(low, 4) == 0.4385 and 1 - 1e-9 < high <= 1.0


def test_agreement_is_the_share_of_agreeing_rater_pairs_and_cohens_kappa() -> None:
    # ana and ben: agree on c1 (nova) and c3 (claude); differ on c2 and c4. cid rated c1 alone.
    ratings = [
        judged("c1", "ana", 0), judged("c1", "ben", 0),
        judged("c2", "ana", 0), judged("c2", "ben", 1),
        judged("c3", "ana", 1), judged("c3", "ben", 1),
        judged("c4", "ana", None, tie=True), judged("c4", "ben", 1),
        judged("c1", "cid", 1),
    ]  # fmt: skip
    a = agreement(ratings)
    assert (a.cases, a.pairs, a.agreed) == (4, 6, 2)  # c1 has 3 pairs: ana–ben agree
    ana_ben = next(p for p in a.by_pair if p.raters == ("ana", "ben"))
    # by hand: observed 2/4; ana says nova 2, claude 1, tie 1; ben nova 1, claude 3:
    # expected (2*1 + 1*3 + 1*0) / 16 = 0.3125; kappa = (0.5 - 0.3125) / 0.6875 = 0.2727
    assert (ana_ben.cases, ana_ben.agreed, round(ana_ben.kappa or 0, 4)) == (4, 2, 0.2727)
    assert cohen_kappa([("x", "x"), ("x", "x")]) is None  # nothing to chance-correct


def test_a_test_runs_judge_calls_are_not_cases_to_review(project: Path) -> None:
    config = config_in(project)
    answer = replace(make_result(model="nova", run_id=RUN), case="c")
    judge = replace(make_result(model="judge", prompt="greet (judge)", run_id=RUN), case="c",
                    notices=["judge call grading a test output"])  # fmt: skip
    seed(config, [(answer, 1.0), (judge, 2.0)])
    con = connect(config.store_path)
    assert [[a.model_alias for a in c.answers] for c in run_cases(con, RUN)] == [["nova"]]

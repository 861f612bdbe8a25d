"""`rated`: the human verdict kept in CI — a mean score, or a win rate against another model, on
the same prompt version and case, from the ratings in the store."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from promptlab.assertions import Context, evaluate
from promptlab.store.core import find_run
from promptlab.store.db import connect
from promptlab.store.ratings import Rating, run_cases, save
from promptlab.store.verdicts import RatingsLookup
from tests.conftest import Cli
from tests.store.test_ratings import RUN, two_model_run
from tests.store.test_store_api import config_in, make_result
from tests.testing.test_assertion_types import parse
from tests.testing.test_test_command import project_with


def check(spec: str, project: Path, model: str = "nova", case: str = "case-0") -> tuple[bool, str]:
    a, problems = parse(spec, None)
    assert a is not None, problems
    new = replace(make_result(model=model, run_id="later"), case=case)
    ctx = Context(new.output, new, {}, case, project,
                  ratings=RatingsLookup(config_in(project).store_path))  # fmt: skip
    v = evaluate(a, ctx)
    return v.passed, v.reason


@pytest.fixture
def rated(project: Path) -> Iterator[sqlite3.Connection]:
    """case-0: ana picks nova (scores 5 and 2), ben a tie (scores 4 and 3); case-1 unrated."""
    two_model_run(config_in(project))
    con = connect(config_in(project).store_path)
    case = run_cases(con, RUN)[0]
    ids = {a.model_alias: a.call_id for a in case.answers}
    save(con, Rating(RUN, case.key, "ana", list(ids.values()), winner=ids["nova"],
                     scores={ids["nova"]: 5, ids["claude"]: 2}))  # fmt: skip
    save(con, Rating(RUN, case.key, "ben", list(ids.values()), tie=True,
                     scores={ids["nova"]: 4, ids["claude"]: 3}))  # fmt: skip
    yield con
    con.close()


def test_min_score_is_the_mean_over_every_rater(rated: sqlite3.Connection, project: Path) -> None:
    assert check("{type: rated, min_score: 4.5}", project) == (
        True, "mean score 4.50 of 2 rating(s), expected ≥ 4.5")  # fmt: skip
    assert check("{type: rated, min_score: 3}", project, model="claude") == (
        False, "mean score 2.50 of 2 rating(s), expected ≥ 3")  # fmt: skip


def test_win_rate_against_a_model_named_by_alias_or_id(
    rated: sqlite3.Connection, project: Path
) -> None:
    # a win and a tie: (1 + 0.5) / 2 = 75 %
    passed, reason = check("{type: rated, win_rate: 0.75, against: claude}", project)
    assert passed and reason.startswith("win rate 75% against claude (1 wins, 1 ties, 0 losses)")
    assert check("{type: rated, win_rate: 0.3, against: vendor.nova-v1}", project,
                 model="claude")[0] is False  # fmt: skip


def test_no_ratings_fail_and_say_how_to_get_them(rated: sqlite3.Connection, project: Path) -> None:
    assert check("{type: rated, min_score: 1}", project, case="case-1") == (
        False, "no scores for nova on case-1 yet (rate a run with `promptlab review`)")  # fmt: skip
    passed, reason = check("{type: rated, win_rate: 0.1, against: llama}", project)
    assert not passed and reason.startswith("no picks between nova on case-0 and llama yet")


def test_without_any_history_the_check_fails_rather_than_passing(project: Path) -> None:
    assert check("{type: rated, min_score: 1}", project)[0] is False


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{type: rated}", "'rated' needs min_score or win_rate (with against)"),
        ("{type: rated, min_score: 6}", "'min_score' of rated is a score from 1 to 5, got 6"),
        ("{type: rated, win_rate: 0.5}", "'win_rate' of rated needs 'against'"),
        ("{type: rated, win_rate: 2, against: x}", "'win_rate' of rated is a share from 0 to 1"),
        ("{type: rated, min_score: 4, win_rate: 0.5, against: x}", "not both"),
    ],
)
def test_a_bad_rated_assertion_is_reported_at_its_line(spec: str, message: str) -> None:
    a, problems = parse(spec, None)
    assert a is None
    assert message in str(problems[0])


def test_a_suite_keeps_the_human_verdict_in_ci(project: Path, cli: Cli) -> None:
    project_with(project, "tests:\n  - name: greets\n    vars: {text: Hi Ana}\n"
                 "    assert: [{type: rated, min_score: 4}]\n")  # fmt: skip
    first = cli("test", "-m", "echo", "--json", "before.json")
    assert first.exit_code == 1  # nobody has rated it yet
    con = connect(config_in(project).store_path)
    run_id = find_run(con, "last")
    case = run_cases(con, run_id)[0]
    answer = case.answers[0]
    save(con, Rating(run_id, case.key, "ana", [answer.call_id], scores={answer.call_id: 5}))
    second = cli("test", "-m", "echo", "--json", "after.json")
    assert second.exit_code == 0, second.output
    sample = json.loads((project / "after.json").read_text("utf-8"))["cases"][0]["samples"][0]
    assert sample["assertions"][0]["reason"] == "mean score 5.00 of 1 rating(s), expected ≥ 4"

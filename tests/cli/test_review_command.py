"""`promptlab review`: sharing ratings as JSON (export, import, agreement), `stats` with ratings,
and bad input (one line, exit 2)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promptlab.store.db import connect
from promptlab.store.ratings import Rating, load, run_cases, save
from tests.conftest import REPO, Cli
from tests.store.test_ratings import RUN, two_model_run
from tests.store.test_store_api import config_in


@pytest.fixture
def store(project: Path) -> Iterator[sqlite3.Connection]:
    config = config_in(project)
    two_model_run(config)
    con = connect(config.store_path)
    yield con
    con.close()


def rate(con: sqlite3.Connection, rater: str, picks: list[str | None]) -> None:
    """One rating per case: picks name the model picked ('tie', or None: score only)."""
    for case, pick in zip(run_cases(con, RUN), picks, strict=True):
        ids = {a.model_alias: a.call_id for a in case.answers}
        save(con, Rating(
            RUN, case.key, rater, list(ids.values()),
            winner=ids.get(pick or ""), tie=pick == "tie",
            scores={ids["nova"]: 4, ids["claude"]: 2},
            note=f"{rater} on {case.title}",
        ))  # fmt: skip


def test_export_then_import_gives_back_the_same_ratings(
    store: sqlite3.Connection, cli: Cli, tmp_path: Path
) -> None:
    rate(store, "ana", ["nova", "claude", "tie"])
    before = sorted((r.case_key, r.winner, r.tie, r.scores, r.note) for r in load(store))
    out = tmp_path / "ana.json"
    result = cli("review", "last", "--export", str(out))
    assert result.exit_code == 0, result.output
    assert f"wrote 3 ratings of run {RUN}" in result.stdout
    data = json.loads(out.read_text("utf-8"))
    assert (data["format"], data["version"], data["run"]) == ("promptlab-ratings", 1, RUN)
    first = data["ratings"][0]
    assert [a["alias"] for a in first["answers"]] == ["nova", "claude"]
    assert (first["winner"], first["scores"], first["rater"]) == (0, [4, 2], "ana")
    store.execute("DELETE FROM ratings")
    result = cli("review", RUN, "--import", str(out))
    assert result.exit_code == 0, result.output
    assert "imported 3 ratings" in result.stdout
    after = sorted((r.case_key, r.winner, r.tie, r.scores, r.note) for r in load(store))
    assert after == before
    assert {r.source for r in load(store)} == {"ana.json"}


def test_ratings_from_two_people_are_combined_with_their_agreement(
    store: sqlite3.Connection, cli: Cli, tmp_path: Path
) -> None:
    rate(store, "ana", ["nova", "claude", "tie"])
    cli("review", "last", "--export", str(tmp_path / "ana.json"))
    data = json.loads((tmp_path / "ana.json").read_text("utf-8"))
    for item, pick in zip(data["ratings"], [0, 0, 1], strict=True):  # ben: nova, nova, claude
        item.update(rater="ben", winner=pick, tie=False)
    (tmp_path / "ben.json").write_text(json.dumps(data), "utf-8")
    result = cli("review", "last", "--import", str(tmp_path / "ben.json"))
    assert result.exit_code == 0, result.output
    # 3 cases, 1 agreeing pair of 3; kappa: ana nova/claude/tie, ben nova/nova/claude:
    # observed 1/3, expected (1*2 + 1*1 + 0) / 9 = 1/3 → kappa 0
    assert "3 cases rated by 2+ raters, 33% of rater pairs agree; Cohen's ana–ben κ 0.00 (1/3)" \
        in result.stdout  # fmt: skip
    assert {r.rater for r in load(store)} == {"ana", "ben"}


def stats_json(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("stats", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    ratings: dict[str, Any] = json.loads(result.stdout)["ratings"]
    return ratings


def test_stats_by_model_shows_win_rates_with_intervals_and_mean_scores(
    store: sqlite3.Connection, cli: Cli
) -> None:
    rate(store, "ana", ["nova", "nova", "tie"])
    ratings = stats_json(cli, "--by", "model")
    nova = next(w for w in ratings["win_rates"] if w["name"] == "nova")
    # 2 wins and a tie of 3: 2.5/3; Wilson 95 %: centre (0.8333 + 0.6402) / 2.2805 = 0.6461,
    # half 1.96 * sqrt(0.0463 + 0.1067) / 2.2805 = 0.3362
    assert (nova["wins"], nova["ties"], nova["losses"], nova["win_rate"]) == (2, 1, 0, 0.8333)
    assert nova["ci95"] == [0.31, 0.9823]
    assert nova["against_name"] == "claude"
    scores = {s["name"]: (s["count"], s["mean"]) for s in ratings["scores"]}
    assert scores == {"nova": (3, 4.0), "claude": (3, 2.0)}
    table = cli("stats", "--by", "model", "--chart", "none")
    assert "Human ratings (3; a tie counts as half a win)" in table.stdout
    assert "83%" in table.stdout and "31%–98%" in table.stdout
    assert stats_json(cli, "--by", "version")["win_rates"] == []  # one version: nothing to compare
    assert "ratings" not in json.loads(cli("stats", "--by", "prompt", "-f", "json").stdout)


def test_stats_ratings_follow_the_filters(store: sqlite3.Connection, cli: Cli) -> None:
    rate(store, "ana", ["nova", "nova", "tie"])
    assert stats_json(cli, "--model", "nova")["ratings"] == 0  # claude's calls filtered out
    assert stats_json(cli, "--prompt", "greet")["ratings"] == 3


def test_an_imported_rating_of_a_different_answer_is_left_out(
    store: sqlite3.Connection, cli: Cli, tmp_path: Path
) -> None:
    rate(store, "ana", ["nova", "claude", "tie"])
    cli("review", "last", "--export", str(tmp_path / "ana.json"))
    data = json.loads((tmp_path / "ana.json").read_text("utf-8"))
    data["ratings"][0]["answers"][0]["output_sha256"] = "0" * 64
    data["ratings"][1]["case"] = "not-a-case"
    (tmp_path / "edited.json").write_text(json.dumps(data), "utf-8")
    result = cli("review", "last", "--import", str(tmp_path / "edited.json"))
    assert result.exit_code == 0, result.output
    assert ("imported 1 ratings into run run-r from " in result.stdout
            and "left out 1: an answer differs from this run's; left out 1: its case is not in "
                "this run" in result.stdout)  # fmt: skip


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"format": "something-else"}', "not a ratings file"),
        ('{"format": "promptlab-ratings", "version": 9, "ratings": []}', "version 9"),
        ('{"format": "promptlab-ratings", "version": 1, "ratings": [{"rater": "x", "answers": '
         '[{}], "scores": [7]}]}', "rating 1: a score is a whole number from 1 to 5, got 7"),
        ('{"format": "promptlab-ratings", "version": 1, "ratings": [{"rater": "x", "answers": '
         '[{}], "winner": 3}]}', "rating 1: `winner` must index `answers` (0..0)"),
    ],
)  # fmt: skip
def test_a_bad_ratings_file_is_one_line_and_exit_2(
    store: sqlite3.Connection, cli: Cli, tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, "utf-8")
    result = cli("review", "last", "--import", str(bad))
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert load(store) == []


def test_review_without_a_terminal_says_how_to_share_ratings_instead(
    store: sqlite3.Connection, cli: Cli
) -> None:
    result = cli("review", "last")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: review needs a terminal (stdin and stdout are not both one) — run it in a "
        "terminal, or share ratings with --export FILE / --import FILE"
    )


def test_review_of_an_unknown_run_or_without_history_is_exit_2(project: Path, cli: Cli) -> None:
    result = cli("review", "last")
    assert result.exit_code == 2 and "no run history yet" in result.stderr
    two_model_run(config_in(project))
    result = cli("review", "nope-123")
    assert result.exit_code == 2 and "unknown run id 'nope-123'" in result.stderr
    result = cli("review", "last", "--export", "a.json", "--import", "b.json")
    assert result.exit_code == 2 and "one at a time" in result.stderr


def test_the_shipped_ratings_still_match_the_echo_answers_they_rate(
    project: Path, cli: Cli
) -> None:
    """The README's example: if a prompt change alters the echo answers, re-rate and re-export
    prompts/examples/_ratings/support-reply-echo.json."""
    shutil.rmtree(project / "prompts")
    shutil.copytree(REPO / "prompts", project / "prompts")
    run = cli("run", "support-reply", "-m", "echo", "--vars",
              "prompts/examples/_vars/customers.json")  # fmt: skip
    assert run.exit_code == 0, run.output
    result = cli("review", "last", "--import", "prompts/examples/_ratings/support-reply-echo.json")
    assert result.exit_code == 0, result.output
    assert "imported 3 ratings" in result.stdout and "left out" not in result.stdout

"""A negated assertion's score agrees with its verdict, so `min_score` and `not-` work together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptlab.testing import decide
from tests.conftest import Cli
from tests.testing.test_assertion_types import outcome, result, run
from tests.testing.test_test_command import project_with


def test_negated_partial_credit_scores_one_when_it_passes() -> None:
    plain = run("{contains-all: [Ana, Bob, Cy]}", "Hi Ana and Bob")
    assert not plain.passed and plain.score == 2 / 3
    negated = run("{not-contains-all: [Ana, Bob, Cy]}", "Hi Ana and Bob")
    assert negated.passed
    assert negated.score == 1.0
    assert negated.reason == "missing 'Cy'"


def test_negated_pass_fail_types_score_zero_when_they_fail() -> None:
    v = run("{not-contains-all: [Ana, Bob]}", "Hi Ana and Bob")
    assert (v.passed, v.score) == (False, 0.0)


def test_negated_scored_types_mirror_their_score() -> None:
    v = run("{not-levenshtein: kitten, threshold: 2}", "sitting")  # distance 3 > 2
    assert v.passed
    assert v.score == pytest.approx(3 / 7)  # 1 - (1 - 3/7): the normalised distance


def test_a_sample_whose_negated_assertion_passes_reaches_min_score() -> None:
    v = run("{not-contains-all: [Ana, Bob, Cy]}", "Hi Ana and Bob")
    sample = decide(result("x"), [outcome(v.passed, v.score)], 0.8)
    assert sample.status == "pass"


def test_not_contains_all_case_passes_min_score_end_to_end(project: Path, cli: Cli) -> None:
    project_with(project, "tests:\n  - name: not-everyone\n    vars: {text: Hi Ana and Bob}\n"
                 "    min_score: 0.8\n"
                 "    assert: [{not-contains-all: [Ana, Bob, Cy]}]\n")  # fmt: skip
    res = cli("test", "-m", "echo", "--no-log", "--json", "out.json")
    assert res.exit_code == 0, res.output
    sample = json.loads((project / "out.json").read_text("utf-8"))["cases"][0]["samples"][0]
    assert sample["assertions"][0]["passed"] is True
    assert sample["assertions"][0]["score"] == 1.0

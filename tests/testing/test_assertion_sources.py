"""Checks against the sources without a model: `cites`, `numbers-grounded`, `context-recall`.

Evidence is the call's `passages` (retrieved, in the order the model saw them) or the test
case's `context:`, which wins when both exist."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from promptlab.assertions import Context, Verdict, evaluate
from promptlab.assertions.evidence import Passage, read_context
from promptlab.assertions.grounding import numbers
from tests.conftest import Cli, write
from tests.testing.test_assertion_types import parse, result

POLICY = [
    {"id": "1", "text": "Refunds are issued within 5 business days of receiving the item.",
     "source": "policies/returns.md", "score": 0.91, "metadata": {}, "cited": None},
    {"id": "2", "text": "Orders over $1,000 ship free. Express shipping costs $12.50.",
     "source": "policies/shipping.md", "score": 0.72, "metadata": {}, "cited": None},
    {"id": "3", "text": "Sale items can be exchanged but not refunded.",
     "source": "policies/returns.md", "score": 0.40, "metadata": {}, "cited": None},
]  # fmt: skip


def check(spec: str, output: str, passages: list[dict[str, Any]] | None = None,
          context: Any = None) -> Verdict:  # fmt: skip
    a, problems = parse(spec)
    assert a is not None, problems
    r = result(output, passages=passages if passages is not None else POLICY)
    case_context = read_context(context)[0] if context is not None else ()
    return evaluate(a, Context(output, r, {}, "case", Path.cwd(), case_context=case_context))


# ---------------------------------------------------------------- cites


def test_cites_passes_when_the_answer_cites_a_passage_by_its_id() -> None:
    v = check("cites", "Refunds take 5 business days [1].")
    assert v.passed and v.reason == "cites [1] policies/returns.md"


def test_cites_fails_when_the_answer_cites_nothing() -> None:
    v = check("cites", "Refunds take 5 business days.")
    assert not v.passed
    assert v.reason == "cites 0 source(s), 1 needed (cites nothing)"


def test_cites_counts_distinct_sources_not_passages() -> None:
    two_chunks_of_one_file = check("{cites: 2}", "Refunds take 5 days [1]; sale items [3].")
    assert not two_chunks_of_one_file.passed
    assert "cites 1 source(s), 2 needed" in two_chunks_of_one_file.reason
    assert check("{cites: 2}", "Refunds in 5 days [1, 3]; shipping is free [2].").passed


def test_cites_a_given_source_by_part_of_its_path_or_by_id() -> None:
    assert check("{cites: shipping.md}", "Free over $1,000 [2].").passed
    assert check("{cites: '2'}", "Free over $1,000 [2].").passed
    v = check("{cites: shipping.md}", "Refunds take 5 days [1].")
    assert not v.passed
    assert v.reason == "does not cite 'shipping.md' (cites [1] policies/returns.md)"


def test_cites_fails_on_a_marker_that_names_no_passage() -> None:
    v = check("cites", "Refunds take 5 days [1][7].")
    assert not v.passed
    assert v.reason == "cites [7]: no passage has that id (ids: 1, 2, 3)"


def test_cites_counts_passages_the_service_reports_cited() -> None:
    reported = [{**POLICY[0], "cited": True}, {**POLICY[1], "cited": False}]
    assert check("cites", "Refunds take 5 business days.", reported).passed


def test_negated_cites_passes_for_an_uncited_answer() -> None:
    assert check("not-cites", "Refunds take 5 business days.").passed


# ---------------------------------------------------------------- numbers-grounded


def test_numbers_grounded_passes_when_every_number_is_in_the_passages() -> None:
    v = check("numbers-grounded", "Refunds take 5 days [1]; over $1000 shipping is free [2].")
    assert v.passed and v.reason == "all 2 number(s) appear in 3 retrieved passages"


def test_numbers_grounded_lists_the_numbers_not_found() -> None:
    v = check("numbers-grounded", "Refunds take 7 days, express costs $12.5 or 15%.")
    assert not v.passed
    assert v.reason == "2 of 3 number(s) not in 3 retrieved passages: 7, 15"
    assert v.score == pytest.approx(1 / 3)


def test_citation_markers_and_list_numbering_are_not_numbers_of_the_answer() -> None:
    v = check("numbers-grounded", "1. Refunds take 5 days [3].\n2. Sale items: exchange [9].")
    assert v.passed, v.reason


def test_numbers_are_compared_as_values() -> None:
    assert [v for _, v in numbers("1,000 1000.00 $12.50 007 3.0 30% v2 B2B")] == [
        "1000", "12.5", "7", "3", "30"]  # fmt: skip
    assert [w for w, _ in numbers("1,5 days")] == ["1", "5"]  # a decimal comma is two numbers


def test_numbers_grounded_ignore_lets_listed_numbers_through() -> None:
    assert check("{numbers-grounded: null, ignore: [2026]}", "In 2026: 5 days.").passed


def test_an_answer_without_numbers_is_grounded_in_numbers() -> None:
    assert check("numbers-grounded", "Sale items are exchanged.").reason == (
        "no numbers in the answer"
    )


# ---------------------------------------------------------------- context-recall


def test_context_recall_is_the_share_of_expected_facts_in_the_evidence() -> None:
    v = check("{context-recall: [5 business days, Sale items, store credit]}", "whatever")
    assert not v.passed and v.score == pytest.approx(2 / 3)
    assert v.reason == "2 of 3 fact(s) in 3 retrieved passages; missing: 'store credit'"
    assert check("{context-recall: [5 business days], threshold: 0.5}", "x").passed
    lowered = check("{context-recall: [5 business days, gift cards], threshold: 0.5}", "x")
    assert lowered.passed and lowered.score == 0.5


def test_context_recall_ignores_case_and_line_breaks() -> None:
    assert check("{context-recall: 'refunds ARE issued   within'}", "x").passed


# ---------------------------------------------------------------- evidence


def test_case_context_wins_over_the_passages() -> None:
    v = check("numbers-grounded", "Refunds take 14 days.", context="Refunds take 14 days.")
    assert v.passed and v.reason == "all 1 number(s) appear in the case context"


def test_case_context_list_items_are_cited_by_their_place() -> None:
    context = ["Gift cards are final sale.", {"text": "Refunds take 5 days.", "source": "a.md"}]
    v = check("{cites: a.md}", "Refunds take 5 days [2].", passages=[], context=context)
    assert v.passed and v.reason == "cites [2] a.md"


@pytest.mark.parametrize("spec", ["cites", "numbers-grounded", "{context-recall: x}",
                                  "not-cites"])  # fmt: skip
def test_no_evidence_fails_with_the_reason_and_is_not_negated(spec: str) -> None:
    v = check(spec, "Refunds take 5 days [1].", passages=[])
    assert not v.passed and v.broken
    assert v.reason.startswith("no evidence to check against")


def test_read_context_takes_text_or_items_with_text_and_source() -> None:
    assert read_context("one") == ((Passage("1", "one"),), None)
    assert read_context([{"text": "a", "source": "s"}, "b"])[0] == (
        Passage("1", "a", "s"),
        Passage("2", "b"),
    )
    assert read_context([])[1] is not None
    assert read_context([{"txt": "a"}])[1] == "context item 1: unknown key 'txt' (use text, source)"


# ---------------------------------------------------------------- bad input at load


@pytest.mark.parametrize(("spec", "message"), [
    ("{cites: 0}", "'cites' needs at least 1 source, got 0"),
    ("{cites: {a: 1}}", "'cites' takes a number of sources or the source(s) to cite"),
    ("{numbers-grounded: 5}", "'numbers-grounded' takes no value"),
    ("{numbers-grounded: null, ignore: [x]}", "'ignore' must list numbers, got 'x'"),
    ("{context-recall: null}", "'context-recall' needs a non-empty list of strings"),
    ("{type: cites, source: a.md}", "unknown key 'source'"),
])  # fmt: skip
def test_bad_source_assertions_are_load_problems(spec: str, message: str) -> None:
    a, problems = parse(spec)
    assert a is None and len(problems) == 1
    assert message in problems[0].message


ECHOER = 'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'


def test_a_suite_checks_an_echo_answer_against_its_case_context(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "echoer.yaml", ECHOER)
    write(project / "prompts" / "echoer.tests.yaml", TWO_CASES)
    result = cli("test", "-m", "echo", "--no-log", "--json", "r.json")
    assert result.exit_code == 1, result.output
    data = json.loads((project / "r.json").read_text("utf-8"))
    status = {c["case"]: c["status"] for c in data["cases"]}
    assert status == {"supported": "pass", "invented-number": "fail"}
    failed = next(c for c in data["cases"] if c["case"] == "invented-number")
    assert "1 of 1 number(s) not in the case context: 9" in failed["reason"]


TWO_CASES = """tests:
  - name: supported
    vars: {text: "Refunds take 5 business days [1]."}
    context: [{text: "Refunds take 5 business days.", source: returns.md}]
    assert: [cites, numbers-grounded]
  - name: invented-number
    vars: {text: "Refunds take 9 business days [1]."}
    context: "Refunds take 5 business days."
    assert: [numbers-grounded]
"""


BAD_CONTEXT = """tests:
  - name: bad
    vars: {text: x}
    context: [{text: ""}]
    assert: [numbers-grounded]
"""


def test_a_bad_case_context_is_one_line_at_its_line_exit_2(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "echoer.yaml", ECHOER)
    write(project / "prompts" / "echoer.tests.yaml", BAD_CONTEXT)
    result = cli("test", "-m", "echo", "--no-log")
    assert result.exit_code == 2
    assert "echoer.tests.yaml:4: error: context item 1 needs a non-empty text, got ''" in (
        result.output
    )


DEFAULT_CONTEXT = """defaults:
  context: "Refunds take 5 business days."
tests:
  - name: from-defaults
    vars: {text: "Refunds take 5 business days."}
    assert: [numbers-grounded]
  - name: own-context
    vars: {text: "Refunds take 9 business days."}
    context: "Refunds take 9 business days."
    assert: [numbers-grounded]
"""


def test_suite_defaults_give_the_context_of_cases_without_their_own(
    project: Path, cli: Cli
) -> None:
    write(project / "prompts" / "echoer.yaml", ECHOER)
    write(project / "prompts" / "echoer.tests.yaml", DEFAULT_CONTEXT)
    result = cli("test", "-m", "echo", "--no-log")
    assert result.exit_code == 0, result.output

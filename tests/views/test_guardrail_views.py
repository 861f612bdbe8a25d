"""What a guardrail did, in every view of an answer: the run table (in the error style when it
intervened), the live view, the HTML report, the test details; the trace's text made inert."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from promptlab.runner import Event
from promptlab.testing import TestRun
from promptlab.views import html as report
from promptlab.views.answer import answer_of
from promptlab.views.live import LiveView
from promptlab.views.table import output_cell
from promptlab.views.testreport import render_details
from tests.views.test_html_report import Page, outcome, result

GUARD = {"guardrailIdentifier": "gr1", "guardrailVersion": "1", "trace": "enabled"}
LINE = '⛔ guardrail intervened (input): denied topic "Investment advice"'


def blocked(**kw: Any) -> Any:
    trace = {"guardrail": {"inputAssessment": {"gr1": {"topicPolicy": {"topics": [
        {"name": "Investment advice", "type": "DENY", "action": "BLOCKED"}]}}}}}  # fmt: skip
    return result(
        output="Sorry, I can't help with that.",
        stop_reason="guardrail_intervened",
        request={"guardrailConfig": GUARD},
        response_meta={"trace": trace},
        **kw,
    )


def test_the_guardrail_line_comes_before_the_blocked_message() -> None:
    a = answer_of(blocked())
    assert a.blocked
    assert a.lines() == [("blocked", LINE), ("blank", ""),
                         ("text", "Sorry, I can't help with that.")]  # fmt: skip
    passed = answer_of(result(request={"guardrailConfig": GUARD}, stop_reason="end_turn"))
    assert passed.lines()[0] == ("note", "guardrail passed") and not passed.blocked
    assert answer_of(result()).guardrail is None


def test_the_run_table_draws_an_intervention_in_the_error_style() -> None:
    cell = output_cell(blocked())
    assert cell.plain.startswith(LINE)
    assert any("red" in str(span.style) for span in cell.spans)


def test_the_live_view_shows_the_line_when_the_call_finishes() -> None:
    view = LiveView.for_jobs(Console(width=120, height=40), [("", "nova-lite")])
    view.on_event(Event("start", 0))
    view.on_event(Event("done", 0, result=blocked()))
    assert view.cells[0].text.startswith(LINE)


def test_html_cells_carry_the_line_and_whether_it_blocked() -> None:
    row = Page(report.run_page([blocked()], source="r")).data()["rows"][0]
    [cell] = (rs[0] for rs in row["cells"].values())
    assert (cell["guardrail"], cell["blocked"]) == (LINE, True)


def test_test_details_show_the_line_of_a_failing_sample() -> None:
    run = TestRun([outcome(blocked(), "fail", reason="guardrail intervened")], run_id="r1")
    console = Console(record=True, width=140)
    render_details(console, run)
    assert LINE in console.export_text()


def test_text_from_the_trace_reaches_views_inert() -> None:
    trace = {"guardrail": {"outputAssessments": {"gr1": [{"wordPolicy": {
        "customWords": [{"match": "bad\x1b[31mword", "action": "BLOCKED"}],
        "managedWordLists": []}}]}}}  # fmt: skip
    r = result(stop_reason="guardrail_intervened", response_meta={"trace": trace})
    line = answer_of(r).guardrail or ""
    assert "\x1b" not in line and "\\x1b[31m" in line

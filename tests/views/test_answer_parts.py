"""An answer's parts (views.answer) in every view: tool calls and the results sent back, a
structured value or why it failed its schema, cited sources; all of it inert."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text

from promptlab.results import ErrorInfo, Result
from promptlab.runner import Event
from promptlab.testing import TestRun
from promptlab.views import html as report
from promptlab.views.answer import Source, answer_of, place, source, sources
from promptlab.views.export import to_markdown
from promptlab.views.live import LiveView
from promptlab.views.table import output_cell, render_results
from promptlab.views.testreport import render_details
from tests.views.test_html_report import Page, outcome, result

FORECAST = {"city": "Lima", "day": "tomorrow", "sky": "drizzle", "rain_mm": 2,
            "temp_c": [17, 21], "advice": "umbrella " * 20}  # fmt: skip
# What ends up on a terminal, in Markdown or in HTML if model text were trusted.
ANSI = "\x1b[31mRED\x1b]0;pwn\x07"
MARKUP = "[red]x[/red][link=http://evil]y[/link]"
SCRIPT = "<script>alert(1)</script>"


def use(tid: str, name: str, tool_input: Any) -> dict[str, Any]:
    return {"toolUse": {"toolUseId": tid, "name": name, "input": tool_input}}


def sent(tid: str, content: list[dict[str, Any]], status: str | None = None) -> dict[str, Any]:
    tr: dict[str, Any] = {"toolUseId": tid, "content": content}
    if status:
        tr["status"] = status
    return {"toolResult": tr}


def exchange(**kw: Any) -> Result:
    """A tool exchange: get_weather answered with a forecast, then a final answer."""
    turns = [
        {"role": "assistant", "content": [{"text": "Checking."}, use("t1", "get_weather",
                                                                   {"city": "Lima"})]},
        {"role": "user", "content": [sent("t1", [{"json": FORECAST}])]},
    ]  # fmt: skip
    return result(output="Take an umbrella: drizzle in Lima.", turns=turns, **kw)


def cite(title: str | None, quote: str, location: dict[str, Any]) -> dict[str, Any]:
    c: dict[str, Any] = {"sourceContent": [{"text": quote}], "location": location}
    if title is not None:
        c["title"] = title
    return c


def cited(*citations: dict[str, Any], said: str = "Sale items may be exchanged") -> Result:
    content = [{"text": "Yes. "},
               {"citationsContent": {"content": [{"text": said}], "citations": list(citations)}},
               {"text": "."}]  # fmt: skip
    return result(output="Yes. .", content=content)


def screen(renderable: Any, width: int = 120) -> str:
    console = Console(record=True, width=width)
    console.print(renderable)
    return console.export_text()


def terminal_bytes(results: list[Result]) -> str:
    """What a colour terminal receives for the run table."""
    buf = io.StringIO()
    console = Console(file=buf, width=160, force_terminal=True, color_system="truecolor")
    render_results(console, results)
    return buf.getvalue()


# ---------------------------------------------------------------- the parts


def test_tool_calls_come_with_the_result_sent_back_shortened() -> None:
    a = answer_of(exchange())
    [call] = a.calls
    assert call.call == 'get_weather(city="Lima")'
    assert call.result is not None and call.result.startswith('{"city": "Lima", "day": "tomorrow"')
    assert call.result.endswith("…") and len(call.result) == 100
    assert a.model_calls == 2 and a.exchange == "2 model calls (tool exchange)"
    assert a.text == "Take an umbrella: drizzle in Lima."
    assert [kind for kind, _ in a.lines()] == ["text", "blank", "call", "result", "blank", "note"]


def test_a_result_sent_with_status_error_says_so() -> None:
    asked = use("t1", "get_weather", {"city": "Atlantis"})
    answered = sent("t1", [{"text": "unknown city"}], "error")
    turns = [{"role": "assistant", "content": [asked]}, {"role": "user", "content": [answered]}]
    [call] = answer_of(result(output="Sorry.", turns=turns)).calls
    assert call.result_line == "error: unknown city"


def test_a_call_the_exchange_stopped_at_has_no_result_and_one_model_call() -> None:
    r = result(output="", content=[use("t9", "lookup", {"order": "A1", "n": 2})])
    a = answer_of(r)
    assert [(c.call, c.result) for c in a.calls] == [('lookup(order="A1", n=2)', None)]
    assert a.exchange is None
    assert a.plain() == '→ lookup(order="A1", n=2)'  # no blank text above the call


def test_a_valid_structured_answer_is_shown_as_indented_json() -> None:
    value = {"total": 12.5, "items": [{"sku": "A"}]}
    r = result(output='{"total":12.5,"items":[{"sku":"A"}]}',
               structured={"value": value, "error": None, "native": True})  # fmt: skip
    a = answer_of(r)
    assert a.structured and a.invalid is None
    assert a.text == json.dumps(value, indent=2)


def test_an_invalid_structured_answer_is_marked_and_keeps_its_raw_text() -> None:
    why = "does not match the schema at $.total: 'x' is not of type 'number'"
    r = result(output='{"total": "x"}', structured={"value": {"total": "x"}, "error": why,
                                                    "native": False})  # fmt: skip
    a = answer_of(r)
    assert not a.structured and a.text == '{"total": "x"}'
    assert a.lines()[0] == ("invalid", f"✗ not valid against output_schema: {why}")


def test_structured_output_sent_as_instructions_adds_nothing_when_valid() -> None:
    r = result(output="[1, 2]", structured={"value": [1, 2], "error": None, "native": False})
    assert answer_of(r).plain() == "[\n  1,\n  2\n]"


def test_a_failed_call_shows_only_what_arrived() -> None:
    r = result(output="partial", error=ErrorInfo("Interrupted", "stopped"),
               structured={"value": None, "error": "no JSON", "native": True})  # fmt: skip
    assert answer_of(r).plain() == "partial"


def test_citations_become_numbered_sources_with_page_chars_or_chunk() -> None:
    r = cited(
        cite("returns-policy", "Sale items may be exchanged within 14 days.",
             {"documentPage": {"documentIndex": 0, "start": 2, "end": 3}}),
        cite("returns-policy", "Sale items may be exchanged within 14 days.",
             {"documentPage": {"documentIndex": 0, "start": 2, "end": 3}}),  # the same: once
        cite("faq", "Gift cards cannot be refunded.",
             {"documentChar": {"documentIndex": 1, "start": 0, "end": 30}}),
        cite(None, "chunked", {"documentChunk": {"documentIndex": 2, "start": 4, "end": 6}}),
    )  # fmt: skip
    a = answer_of(r)
    assert [line for kind, line in a.lines() if kind in ("sources", "source")] == [
        "sources",
        '[1] returns-policy p.2: "Sale items may be exchanged within 14 days."',
        '[2] faq chars 0–30: "Gift cards cannot be refunded."',
        '[3] document 2 chunks 4–5: "chunked"',
    ]
    assert a.text == "Yes. Sale items may be exchanged."  # the cited passage is answer text


def test_streamed_citations_keep_the_text_in_the_text_block() -> None:
    block = {"text": "Refunds take 5 days.", "citationsContent": {"citations": [
        cite("policy", "5 business days", {"documentPage": {"start": 1, "end": 4}})]}}  # fmt: skip
    a = answer_of(result(output="Refunds take 5 days.", content=[block]))
    assert a.text == "Refunds take 5 days."
    assert a.sources == (Source("policy pp.1–3", "5 business days"),)


@pytest.mark.parametrize(("kind", "at", "shown"), [
    ("documentPage", {"start": 7}, "p.7"),
    ("documentPage", {"start": 7, "end": 7}, "p.7"),
    ("documentChar", {"start": 3}, ""),
    ("web", {"url": "https://example.com/a", "domain": "example.com"}, "example.com"),
    ("searchResultLocation", {"searchResultIndex": 2}, "search result 2"),
    ("somethingNew", {"start": 1}, ""),
])  # fmt: skip
def test_citation_places(kind: str, at: dict[str, Any], shown: str) -> None:
    assert place(kind, at) == shown


def test_a_citation_with_nothing_but_a_title_is_just_its_title() -> None:
    assert source({"title": "policy"}).line() == "policy"
    assert source({}).line() == "source"
    assert sources([{"text": "no citations"}, "not a block"]) == ()


# ---------------------------------------------------------------- hostile content


def hostile() -> Result:
    name = f"get{ANSI}{MARKUP}{SCRIPT}"
    turns = [
        {"role": "assistant", "content": [use("t1", name, {"q": f"{ANSI}{MARKUP}{SCRIPT}"})]},
        {"role": "user", "content": [sent("t1", [{"text": f"{ANSI}{MARKUP}{SCRIPT}"}])]},
    ]
    passage = cite(f"doc{ANSI}{SCRIPT}", f"{MARKUP}{SCRIPT}\x1b[2J", {"documentPage": {"start": 1}})
    content = [{"text": f"answer {MARKUP}"}, {"citationsContent": {"citations": [passage]}}]
    invalid = {"value": None, "error": f"bad {ANSI}{MARKUP}", "native": True}
    return result(output=f"answer {MARKUP}", content=content, turns=turns, structured=invalid)


def test_hostile_parts_reach_the_terminal_inert_and_literal() -> None:
    raw = terminal_bytes([hostile()])
    assert "\x1b]0;pwn" not in raw and "\x1b[31mRED" not in raw and "\x07" not in raw
    assert "\x1b[2J" not in raw
    text = screen(output_cell(hostile()), width=400)
    assert "\\x1b[31mRED\\x1b]0;pwn\\x07" in text
    assert f"→ get\\x1b[31mRED\\x1b]0;pwn\\x07{MARKUP}{SCRIPT}(q=" in text  # markup literal
    assert f"✗ not valid against output_schema: bad \\x1b[31mRED\\x1b]0;pwn\\x07{MARKUP}" in text
    assert f'[1] doc\\x1b[31mRED\\x1b]0;pwn\\x07{SCRIPT} p.1: "{MARKUP}{SCRIPT}\\x1b[2J"' in text


def test_hostile_parts_in_markdown_are_text_not_markup() -> None:
    md = to_markdown([hostile()])
    assert "\x1b" not in md
    outside_code = re.sub(r"(`+).*?\1", "", md)  # code spans show their text literally
    assert "<script>" not in outside_code
    assert "[red]x[/red]" not in md.split("Sources:")[1]  # escaped: no link syntax
    assert "1. doc\\\\x1b\\[31mRED\\\\x1b\\]0;pwn\\\\x07&lt;script&gt;" in md
    [call] = [line for line in md.splitlines() if line.startswith("- ")]
    assert call.startswith("- `get\\x1b[31mRED") and call.endswith("</script>`")  # code spans


def test_hostile_parts_in_html_are_data_drawn_as_text() -> None:
    doc = report.run_page([hostile()], source="r")
    assert SCRIPT not in doc and "\x1b" not in doc
    [cell] = [r for row in Page(doc).data()["rows"] for rs in row["cells"].values() for r in rs]
    assert cell["calls"][0]["call"].startswith(f"get\\x1b[31mRED\\x1b]0;pwn\\x07{MARKUP}{SCRIPT}")
    assert cell["invalid"].startswith("✗ not valid against output_schema: bad \\x1b[31m")
    assert cell["sources"] == [f'doc\\x1b[31mRED\\x1b]0;pwn\\x07{SCRIPT} p.1: '
                               f'"{MARKUP}{SCRIPT}\\x1b[2J"']  # fmt: skip


# ---------------------------------------------------------------- each view


def test_run_table_cell_shows_text_calls_results_and_model_calls() -> None:
    text = screen(output_cell(exchange()))
    lines = [line.rstrip() for line in text.splitlines()]
    assert lines[0] == "Take an umbrella: drizzle in Lima."
    assert lines[2] == '→ get_weather(city="Lima")'
    assert lines[3].startswith('  ← {"city": "Lima", "day": "tomorrow", "sky": "drizzle"')
    assert lines[-1] == "2 model calls (tool exchange)"


def test_run_table_cell_of_an_answer_that_only_calls_a_tool_is_not_blank() -> None:
    r = result(output="", content=[use("t9", "lookup", {"order": "A1"})])
    assert screen(output_cell(r)).strip() == '→ lookup(order="A1")'


def test_run_table_marks_an_invalid_structured_answer_in_the_error_style() -> None:
    r = result(output="nope", structured={"value": None, "error": "no JSON", "native": True})
    cell = output_cell(r)
    first = cell.plain.splitlines()[0]
    assert first == "✗ not valid against output_schema: no JSON"
    assert any(s.style == "bold red" and s.start == 0 for s in cell.spans)
    assert "nope" in cell.plain


def test_retries_still_read_as_attempts_in_the_latency_row() -> None:
    text = screen(render_table([exchange(attempts=3)]))
    assert "(3 attempts)" in text and "2 model calls (tool exchange)" in text


def render_table(results: list[Result]) -> Text:
    console = Console(record=True, width=160)
    render_results(console, results)
    return Text(console.export_text())


def test_live_view_shows_the_parts_when_a_call_finishes() -> None:
    view = LiveView.for_jobs(Console(width=100, height=40), [("", "m")])
    view.on_event(Event("start", 0))
    r = result(output="", content=[use("t9", "lookup", {"order": f"A1{ANSI}"})])
    view.on_event(Event("done", 0, result=r))
    text = screen(view.render(), width=100)
    assert '→ lookup(order="A1\\u001b[31mRED\\u001b]0;pwn\\u0007")' in text


def test_markdown_lists_calls_fences_json_and_numbers_sources() -> None:
    value = {"note": "``` breaks fences", "n": 1}
    results = [
        exchange(model_alias="tools", model_id="tools"),
        result(model_alias="json", model_id="json", output=json.dumps(value),
               structured={"value": value, "error": None, "native": True}),
        cited(cite("returns-policy", "Sale items may be exchanged.",
                   {"documentPage": {"start": 2, "end": 3}})),
    ]  # fmt: skip
    md = to_markdown(results)
    assert "Take an umbrella: drizzle in Lima.<br><br>1 tool call(s) below<br>2 model calls" in md
    assert "| structured output: JSON below |" in md
    assert '- `get_weather(city="Lima")` → `{"city": "Lima", "day": "tomorrow", ' in md
    assert "````json\n" + json.dumps(value, indent=2, ensure_ascii=False) + "\n````" in md
    assert '1. returns-policy p.2: "Sale items may be exchanged."' in md
    assert md.index("**tools**") < md.index("Tool calls:") < md.index("**json**")


def test_markdown_of_a_plain_answer_has_no_parts_section() -> None:
    md = to_markdown([result()])
    assert "Tool calls:" not in md and "Sources:" not in md and "```" not in md


def test_html_cells_carry_the_parts() -> None:
    results = [
        exchange(),
        result(model_alias="json", model_id="json", output='{"a":1}',
               structured={"value": {"a": 1}, "error": None, "native": True}),
        result(model_alias="bad", model_id="bad", output="{",
               structured={"value": None, "error": "no JSON", "native": True}),
    ]  # fmt: skip
    row = Page(report.run_page(results, source="r")).data()["rows"][0]
    tools, ok, bad = (rs[0] for rs in row["cells"].values())
    assert tools["out"] == "Take an umbrella: drizzle in Lima."
    assert tools["calls"][0]["call"] == 'get_weather(city="Lima")'
    assert tools["calls"][0]["result"].startswith('{"city": "Lima"')
    assert json.loads(tools["calls"][0]["json"]) == {"city": "Lima"}
    assert tools["exchange"] == "2 model calls (tool exchange)"
    assert ok["out"] == '{\n  "a": 1\n}' and ok["structured"] is True
    assert bad["invalid"] == "✗ not valid against output_schema: no JSON" and bad["out"] == "{"
    assert "blocks" not in tools and "calls" not in ok


def test_test_details_show_the_parts_of_a_failing_sample() -> None:
    run = TestRun([outcome(exchange(), "fail", reason="missing")], run_id="r1")
    console = Console(record=True, width=120)
    render_details(console, run)
    text = console.export_text()
    assert '      → get_weather(city="Lima")' in text
    assert "      2 model calls (tool exchange)" in text

"""An answer's reasoning in every view, apart from the answer: its own row in the run table
(first lines; all with --show-reasoning), JSON fields, Markdown, `log show`, the HTML report and
the live view (dimmed, before the answer); the reasoning's share of the output tokens; inert."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console

from promptlab.results import Result
from promptlab.runner import Event
from promptlab.views.export import to_markdown
from promptlab.views.html.payload import facts as html_facts
from promptlab.views.live import LiveView, tail_text
from promptlab.views.table import render_results
from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock
from tests.views.test_html_report import result

LONG = "\n".join(f"Step {n}: check the sum again and carry the remainder." for n in range(1, 9))


def thinking(text: str = LONG, **kw: Any) -> Result:
    blocks = [{"reasoningContent": {"reasoningText": {"text": text, "signature": "s"}}},
              {"text": "The ball costs $0.05."}]  # fmt: skip
    fields: dict[str, Any] = {"output": "The ball costs $0.05.", "content": blocks,
                              "output_tokens": 500}  # fmt: skip
    return result(**{**fields, **kw})


def table(results: list[Result], *, full: bool = False, width: int = 160) -> str:
    console = Console(record=True, width=width, height=200)
    render_results(console, results, full_reasoning=full)
    return console.export_text()


def test_the_table_shows_the_first_lines_of_reasoning_in_its_own_row() -> None:
    text = table([thinking(), result(model_alias="nova-lite")])
    assert "│ reasoning " in text and "Step 1: check the sum" in text
    assert "Step 8" not in text and "--show-reasoning shows all" in text
    output_row = text.index("│ output")
    assert output_row < text.index("│ reasoning") < text.index("│ stop reason")
    assert "12 / 500 (~" in text and " reasoning)" in text


def test_show_reasoning_prints_all_of_it() -> None:
    text = table([thinking()], full=True)
    assert "Step 8" in text and "--show-reasoning" not in text


def test_no_reasoning_no_row() -> None:
    text = table([result()])
    assert "│ reasoning" not in text and "reasoning)" not in text


def test_stacked_panels_show_reasoning_under_the_answer() -> None:
    text = table([thinking(), thinking(model_alias="b")], width=60)
    assert text.count("│ reasoning ") == 2 and text.count("Step 1") == 2


def test_redacted_reasoning_says_so() -> None:
    redacted = thinking(content=[{"reasoningContent": {"redactedContent": {"sha256": "0",
                                                                            "size": 3}}},
                                 {"text": "The ball costs $0.05."}])  # fmt: skip
    text = table([redacted])
    assert "(redacted by the provider)" in text
    assert "(~494 reasoning)" in text  # what the answer's ~6 tokens leave of the 500


def test_model_reasoning_is_inert() -> None:
    text = table([thinking("\x1b]0;pwn\x07[red]loud[/red]")])
    assert "\\x1b]0;pwn\\x07[red]loud[/red]" in text


def test_markdown_has_a_reasoning_row_and_the_whole_of_it_below() -> None:
    md = to_markdown([thinking(), result(model_alias="b")])
    row = next(line for line in md.splitlines() if line.startswith("| **reasoning**"))
    assert "Step 1" in row and "Step 8" not in row and "in full below" in row and "| – |" in row
    assert "Reasoning:\n\n```text\nStep 1" in md and "Step 8: check" in md
    short = to_markdown([thinking("Quick check.")])
    assert "| **reasoning** | Quick check. |" in short and "Reasoning:" not in short


def test_html_facts_show_the_reasoning_share() -> None:
    assert "tokens 12 in / 500 out (~" in html_facts(thinking())


def test_live_view_streams_reasoning_dimmed_before_the_answer() -> None:
    console = Console(width=100, height=40, record=True)
    view = LiveView.for_jobs(console, [("", "claude-sonnet-4.5")])
    view.on_event(Event("start", 0))
    view.on_event(Event("reasoning", 0, text="Let the ball cost x."))
    view.on_event(Event("text", 0, text="$0.05"))
    console.print(view.render())
    screen = console.export_text()
    assert screen.index("Let the ball cost x.") < screen.index("$0.05")
    assert "ttft" in screen
    shown = tail_text([("dim", "thinking"), ("", "answer")], 5, 40)
    assert shown.plain == "thinking\n\nanswer"
    assert [(shown.plain[s.start : s.end].strip(), str(s.style)) for s in shown.spans
            if s.style] == [("thinking", "dim")]  # fmt: skip


def test_live_view_retry_clears_the_reasoning_too() -> None:
    console = Console(width=100, height=40, record=True)
    view = LiveView.for_jobs(console, [("", "m")])
    view.on_event(Event("reasoning", 0, text="first try"))
    view.on_event(Event("retry", 0, text="modelStreamErrorException"))
    console.print(view.render())
    assert "first try" not in console.export_text()


def test_run_json_log_show_and_show_reasoning_end_to_end(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "prompts" / "q.yaml", 'version: "1.0.0"\ninput: Ball?\n'
          "reasoning: {effort: low}\n")  # fmt: skip
    fake_bedrock.script("us.anthropic.claude-sonnet-4-5-20250929-v1:0", text="$0.05",
                        reasoning=LONG.replace("\n", " \n"))  # fmt: skip
    short = cli("run", "q", "-m", "claude-sonnet-4.5,echo", "--no-stream").stdout
    assert "Step 1" in short and "Step 8" not in short
    assert "echo reasoning (budget_tokens" not in short  # echo takes the setting as written
    assert "echo reasoning (effort low)" in short
    full = cli("run", "q", "-m", "claude-sonnet-4.5", "--show-reasoning").stdout
    assert "Step 8" in full
    rows = json.loads(cli("log", "-f", "json", "--limit", "1").stdout)
    assert rows[0]["reasoning"].startswith("Step 1") and rows[0]["output"] == "$0.05"
    assert rows[0]["usage"]["reasoning_tokens_estimated"] > 0
    shown = cli("log", "show", str(rows[0]["id"])).stdout
    assert "─ reasoning ─" in shown and "Step 8" in shown
    assert shown.index("─ reasoning ─") < shown.index("─ output ─")
    assert " reasoning)" in shown  # the tokens line

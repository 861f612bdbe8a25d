"""Tool exchanges, structured output and citations through the commands (offline, `echo`):
`run` in each format, and `log` / `log show` of a recorded answer."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from promptlab.results import Result
from tests.conftest import Cli, write
from tests.store.test_store_api import config_in, make_result, seed

TOOLS = """\
name: weather
version: "1.0.0"
input: Should I take an umbrella in Lima?
tools:
  - name: get_weather
    description: The forecast for a city.
    input_schema:
      type: object
      properties:
        city: {type: string}
      required: [city]
tool_choice: any
tool_results:
  - tool: get_weather
    result: {sky: drizzle, rain_mm: 2}
max_turns: 3
"""

CITED = """\
name: policy
version: "1.0.0"
input: Can I get my money back?
variables:
  policy:
    type: document
    citations: true
attachments: [policy]
"""

SCHEMA = """\
name: city
version: "1.0.0"
input: Name a city.
output_schema:
  type: object
  properties:
    city: {type: string}
  required: [city]
"""


@pytest.fixture
def prompts(project: Path) -> Path:
    for name, text in (("weather", TOOLS), ("policy", CITED), ("city", SCHEMA)):
        write(project / "prompts" / f"{name}.yaml", text)
    return project


def run(cli: Cli, *args: str) -> str:
    done = cli("run", *args, "-m", "echo", "--no-log")
    assert done.exit_code == 0, done.output
    return done.stdout


def test_run_table_shows_the_tool_exchange(prompts: Path, cli: Cli) -> None:
    out = run(cli, "weather")
    assert '→ get_weather(city="")' in out
    assert '← {"sky": "drizzle", "rain_mm": 2}' in out
    assert "2 model calls (tool exchange)" in out


def test_run_json_and_jsonl_carry_turns_and_structured(prompts: Path, cli: Cli) -> None:
    [tools] = json.loads(run(cli, "weather", "--format", "json"))
    assert [t["role"] for t in tools["turns"]] == ["assistant", "user"]
    assert tools["turns"][0]["content"][0]["toolUse"]["name"] == "get_weather"
    assert tools["turns"][1]["content"][0]["toolResult"]["content"] == [
        {"json": {"sky": "drizzle", "rain_mm": 2}}]  # fmt: skip
    assert tools["structured"] is None
    [city] = [json.loads(line) for line in run(cli, "city", "--format", "jsonl").splitlines()]
    assert city["turns"] == []
    assert city["structured"]["error"] is None
    assert city["structured"]["value"] == json.loads(city["output"])


def test_run_markdown_lists_calls_and_fences_structured_values(prompts: Path, cli: Cli) -> None:
    md = run(cli, "weather", "--format", "markdown")
    assert '- `get_weather(city="")` → `{"sky": "drizzle", "rain_mm": 2}`' in md
    md = run(cli, "city", "--format", "markdown")
    assert "| structured output: JSON below |" in md and '```json\n{\n  "city"' in md


def test_run_table_lists_the_sources_a_document_answer_cited(prompts: Path, cli: Cli) -> None:
    out = run(cli, "policy", "-v", "policy=Gift cards cannot be refunded.")
    assert re.search(r"│ +sources +│", out)
    assert '[1] policy chars 0–30: "Gift cards cannot be refunded."' in out


def recorded() -> list[tuple[Result, float]]:
    """An answer that only called a tool (stopped there), hostile, and one with sources."""
    calls = make_result(output="")
    calls.content = [{"toolUse": {"toolUseId": "t1", "name": "lookup\x1b[2J[red]",
                                  "input": {"q": "<script>x</script>"}}}]  # fmt: skip
    calls.turns = [
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t0", "name": "find",
                                                       "input": {"id": 7}}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t0",
                                                     "content": [{"text": "\x1b]0;pwn\x07"}]}}]},
    ]  # fmt: skip
    calls.structured = {"value": None, "error": "not JSON [bold]", "native": True}
    cited = make_result(output="Yes.")
    cited.content = [{"text": "Yes."}, {"citationsContent": {"citations": [
        {"title": "policy", "sourceContent": [{"text": "[red]14 days[/red]"}],
         "location": {"documentPage": {"documentIndex": 0, "start": 3, "end": 4}}}]}}]  # fmt: skip
    return [(calls, time.time() - 60), (cited, time.time())]


def test_log_show_draws_the_answer_parts_inert(project: Path, cli: Cli) -> None:
    seed(config_in(project), recorded())
    out = cli("log", "show", "1").stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "✗ not valid against output_schema: not JSON [bold]" in out
    assert "→ find(id=7)" in out and "← \\x1b]0;pwn\\x07" in out
    assert '→ lookup\\x1b[2J[red](q="<script>x</script>")' in out
    assert "2 model calls (tool exchange)" in out
    out = cli("log", "show", "2").stdout
    assert '[1] policy p.3: "[red]14 days[/red]"' in out


def test_log_lists_an_answer_without_text_by_its_tool_calls(project: Path, cli: Cli) -> None:
    seed(config_in(project), recorded())
    [line] = [x for x in cli("log").stdout.splitlines() if x.lstrip().startswith("1 ")]
    assert "→ find(id=7)" in line and "\x1b" not in line

"""Prompt caching: `cache:` puts Converse cachePoint blocks after the instructions, examples,
context or tools; models without caching get none (with a notice); Bedrock's cache reads and
writes are kept apart, shown, priced and summed; the dry run prices a first and a later call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"  # the alias runs the us. profile
NOVA = "amazon.nova-lite-v1:0"
PROMPT = """\
version: "1.0.0"
instructions: You answer from the handbook.
examples:
  - user: "Q: opening hours?"
    assistant: "9 to 5 (1. Hours)"
context: |
  Handbook: returns within 30 days.
input: "Q: {{ q }}"
format: One sentence.
tools:
  - name: lookup
    input_schema: {type: object}
variables:
  q: {type: string, default: Can I return boots?}
cache: {after: [instructions, examples, context, tools], ttl: 1h}
"""
POINT_1H = {"cachePoint": {"type": "default", "ttl": "1h"}}
POINT = {"cachePoint": {"type": "default"}}


def body(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("render", *args, "-f", "json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def handbook(project: Path) -> Path:
    return write(project / "prompts" / "hb.yaml", PROMPT)


# ---------------------------------------------------------------- where the points go


def test_cache_points_follow_the_instructions_examples_context_and_tools(
    handbook: Path, cli: Cli
) -> None:
    sent = body(cli, "hb")
    assert sent["system"] == [{"text": "You answer from the handbook."}, POINT_1H]
    example_answer = sent["messages"][1]
    assert example_answer["role"] == "assistant"
    assert example_answer["content"] == [{"text": "9 to 5 (1. Hours)"}, POINT_1H]
    assert sent["messages"][2]["content"] == [
        {"text": "<context>\nHandbook: returns within 30 days.\n</context>\n\n"},
        POINT_1H,
        {"text": "<input>\nQ: Can I return boots?\n</input>\n\n<format>\nOne sentence.\n</format>"},
    ]
    assert sent["toolConfig"]["tools"][-1] == POINT_1H
    assert "toolSpec" in sent["toolConfig"]["tools"][0]


def test_split_user_turn_reads_as_the_uncached_one(project: Path, cli: Cli) -> None:
    """The texts around the context's cache point are the user message, cut in two."""
    cached = write(project / "prompts" / "c.yaml", PROMPT)
    plain = write(project / "prompts" / "p.yaml", PROMPT.split("cache:")[0])
    for layout in ("xml", "markdown"):
        for path in (cached, plain):
            path.write_text(path.read_text().replace("version:", f"layout: {layout}\nversion:"))
        with_points = body(cli, str(cached))["messages"][-1]["content"]
        without = body(cli, str(plain))["messages"][-1]["content"]
        assert "".join(b.get("text", "") for b in with_points) == without[0]["text"]
        head = with_points[0]["text"]
        assert head.endswith("30 days.\n</context>\n\n" if layout == "xml" else "30 days.\n\n")
        for path in (cached, plain):
            path.write_text(path.read_text().replace(f"layout: {layout}\n", ""))


def test_context_point_follows_a_scripted_conversations_last_turn(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "chat.yaml",
        """\
version: "1.0.0"
messages:
  - {role: user, content: Hello}
  - {role: assistant, content: Hi there}
  - {role: user, content: About my order}
context: Order 7 shipped.
input: Where is it?
cache: [context]
""",
    )
    last = body(cli, "chat")["messages"][-1]["content"]
    assert last == [
        {"text": "About my order\n\n<context>\nOrder 7 shipped.\n</context>\n\n"},
        POINT,
        {"text": "<input>\nWhere is it?\n</input>"},
    ]


def test_render_shows_each_cache_point_where_it_goes(handbook: Path, cli: Cli) -> None:
    text = cli("render", "hb").stdout
    assert text.count("[cache point 1h]") == 4
    assert "You answer from the handbook.\n[cache point 1h]" in text
    assert "9 to 5 (1. Hours)\n[cache point 1h]" in text
    assert "</context>\n[cache point 1h]\n<input>" in text
    assert "lookup()\n[cache point 1h]" in text
    handbook.write_text(PROMPT.replace(", ttl: 1h", ""))
    assert cli("render", "hb").stdout.count("[cache point 5m]") == 4


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("cache", "line", "message"),
    [
        ("cache: [instructions, context]", 4,
         "cache: a cache point after the context, but the prompt has no context section"),
        ("cache:\n  - tools", 5, "cache: a cache point after the tools, but the prompt "
         "declares no tools"),
        ("cache: {after: examples}", 4,
         "cache: a cache point after the examples, but the prompt has no examples"),
        ("cache: [instruction]", 4, "cache: unknown position 'instruction'"),
        ("cache: [instructions, instructions]", 4, "cache: 'instructions' is listed twice"),
        ("cache: {after: [instructions], ttl: 10m}", 4, "'ttl' must be one of 5m, 1h"),
        ("cache: {ttl: 1h}", 4, "cache needs 'after'"),
        ("cache: {after: [instructions], for: 1h}", 4, "unknown key 'for' in cache"),
        ("cache: 5", 4, "'cache' must be a list of instructions, examples, context, tools"),
    ],
)  # fmt: skip
def test_a_cache_position_the_prompt_lacks_is_one_line_at_its_line(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock, cache: str, line: int, message: str
) -> None:
    write(project / "prompts" / "bad.yaml",
          f'version: "1.0.0"\ninstructions: Be brief.\ninput: Hi\n{cache}\n')  # fmt: skip
    result = cli("run", "bad", "-m", "claude-sonnet-4.5")
    assert result.exit_code == 2
    assert f"prompts/bad.yaml:{line}: error: {message}" in result.output
    assert fake_bedrock.count() == 0  # refused before any call


# ---------------------------------------------------------------- what each model takes


def test_models_without_prompt_caching_get_no_cache_points_and_a_notice(
    handbook: Path, cli: Cli
) -> None:
    result = cli("render", "hb", "-m", "mistral-large", "-f", "json")
    assert "cachePoint" not in result.stdout
    sent = json.loads(result.stdout)
    assert sent["messages"][-1]["content"] == [  # the user text is whole again
        {"text": "<context>\nHandbook: returns within 30 days.\n</context>\n\n<input>\n"
                 "Q: Can I return boots?\n</input>\n\n<format>\nOne sentence.\n</format>"}
    ]  # fmt: skip
    text = cli("render", "hb", "-m", "mistral-large").stdout
    assert "# note: mistral-large: no prompt caching through Converse; sent without cache " in text


def test_nova_gets_no_tools_cache_point_and_the_default_lifetime(handbook: Path, cli: Cli) -> None:
    sent = body(cli, "hb", "-m", "nova-lite")
    assert all("cachePoint" not in t for t in sent["toolConfig"]["tools"])
    assert sent["system"][-1] == POINT
    text = cli("render", "hb", "-m", "nova-lite").stdout
    assert "nova-lite: takes no cache point in tools; sent without it" in text
    assert "nova-lite: no 1-hour prompt cache; cache points sent with the default 5-minute" in text
    sonnet4 = body(cli, "hb", "-m", "claude-sonnet-4")
    assert sonnet4["toolConfig"]["tools"][-1] == POINT  # takes tools, not the hour
    assert body(cli, "hb", "-m", "claude-sonnet-4.5")["toolConfig"]["tools"][-1] == POINT_1H


def test_echo_answers_as_if_there_were_no_cache_points(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "c.yaml", PROMPT)
    write(project / "prompts" / "p.yaml", PROMPT.split("cache:")[0])
    answers = [json.loads(cli("run", name, "-m", "echo", "-f", "json").stdout)[0]
               for name in ("c", "p")]  # fmt: skip
    assert answers[0]["output"] == answers[1]["output"]
    assert answers[0]["usage"]["input_tokens"] == answers[1]["usage"]["input_tokens"]
    assert answers[0]["usage"]["cache_read_tokens"] is None
    assert "cachePoint" in json.dumps(answers[0]["request"])  # recorded as sent


# ---------------------------------------------------------------- usage, cost and views


def run_json(cli: Cli, *args: str) -> list[dict[str, Any]]:
    result = cli("run", *args, "-f", "json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_first_call_writes_the_cache_and_a_later_one_reads_it(
    handbook: Path, cli: Cli, fake_bedrock: FakeBedrock, stream: str
) -> None:
    handbook.write_text(PROMPT.replace(", ttl: 1h", ""))
    [first] = run_json(cli, "hb", "-m", "claude-sonnet-4.5", stream)
    [later] = run_json(cli, "hb", "-m", "claude-sonnet-4.5", "-v", "q=Sale items?", stream)
    sent = fake_bedrock.requests[0].body
    assert sent["system"][-1] == POINT
    u1, u2 = first["usage"], later["usage"]
    assert u1["cache_write_tokens"] > 0 and u1["cache_read_tokens"] == 0
    assert u2["cache_read_tokens"] == u1["cache_write_tokens"] and u2["cache_write_tokens"] == 0
    assert u1["total_tokens"] == (u1["input_tokens"] + u1["output_tokens"]
                                  + u1["cache_write_tokens"])  # fmt: skip
    # claude-sonnet-4.5: input 0.003, cache write 0.00375, cache read 0.0003, output 0.015
    assert first["cost_usd"] == pytest.approx(
        u1["input_tokens"] / 1000 * 0.003 + u1["cache_write_tokens"] / 1000 * 0.00375
        + u1["output_tokens"] / 1000 * 0.015)  # fmt: skip
    assert later["cost_usd"] == pytest.approx(
        u2["input_tokens"] / 1000 * 0.003 + u2["cache_read_tokens"] / 1000 * 0.0003
        + u2["output_tokens"] / 1000 * 0.015)  # fmt: skip


@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_scripted_cache_usage_reaches_the_result(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock, stream: str
) -> None:
    write(project / "prompts" / "s.yaml", 'version: "1.0.0"\ninput: Hi\n')
    usage = {"inputTokens": 12, "outputTokens": 7, "cacheReadInputTokens": 3000,
             "cacheWriteInputTokens": 40}  # fmt: skip
    fake_bedrock.script(NOVA, usage=usage)
    [row] = run_json(cli, "s", "-m", "nova-lite", stream)
    assert row["usage"]["cache_read_tokens"] == 3000
    assert row["usage"]["cache_write_tokens"] == 40
    assert row["usage"]["input_tokens"] == 12
    # nova-lite: 12 * 0.00006 + 3000 * 0.000015 + 40 * 0.00006 + 7 * 0.00024, per 1,000
    expected = (12 * 0.00006 + 3000 * 0.000015 + 40 * 0.00006 + 7 * 0.00024) / 1000
    assert row["cost_usd"] == pytest.approx(expected)


def test_tokens_row_and_summary_show_cache_reads_and_writes(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "prompts" / "s.yaml", 'version: "1.0.0"\ninput: Hi\n')
    fake_bedrock.script(SONNET, usage={"inputTokens": 1200, "outputTokens": 180,
                                       "cacheReadInputTokens": 3000,
                                       "cacheWriteInputTokens": 0})  # fmt: skip
    fake_bedrock.script(NOVA, usage={"inputTokens": 50, "outputTokens": 20})
    result = cli("run", "s", "-m", "claude-sonnet-4.5,nova-lite", "--no-stream")
    assert result.exit_code == 0, result.output
    assert "1,200 (+3,000 cache read, 0 written) / 180" in result.stdout
    assert "│ 50 / 20 " in result.stdout  # a call without the cache reads as before
    assert "tokens 1,250 in (+3,000 cache read, 0 written) / 200 out" in result.stdout
    markdown = cli("run", "s", "-m", "claude-sonnet-4.5", "-f", "markdown").stdout
    assert "1,200 (+3,000 cache read, 0 written) / 180" in markdown
    log_id = json.loads(cli("log", "-f", "json").stdout)[0]["id"]
    shown = cli("log", "show", str(log_id)).stdout
    assert "1,200 in (+3,000 cache read, 0 written) / 180 out" in shown


def test_dry_run_prices_a_first_call_and_a_later_one(handbook: Path, cli: Cli) -> None:
    handbook.write_text(PROMPT.replace(", ttl: 1h", ""))
    result = cli("run", "hb", "-m", "claude-sonnet-4.5,mistral-large", "--dry-run", "-f", "json")
    sonnet, mistral = json.loads(result.stdout)
    cache = sonnet["prompt_cache"]
    prefix, whole = cache["prefix_tokens"], sonnet["input_tokens"]
    assert 0 < prefix < whole
    # the part before the last cache point at 0.00375 (write) or 0.0003 (read), the rest at 0.003
    assert cache["first_call_input_cost_usd"] == pytest.approx(
        (whole - prefix) / 1000 * 0.003 + prefix / 1000 * 0.00375)  # fmt: skip
    assert cache["later_call_input_cost_usd"] == pytest.approx(
        (whole - prefix) / 1000 * 0.003 + prefix / 1000 * 0.0003)  # fmt: skip
    assert sonnet["estimated_input_cost_usd"] == pytest.approx(whole / 1000 * 0.003)
    assert mistral["prompt_cache"] is None
    text = cli("run", "hb", "-m", "claude-sonnet-4.5", "--dry-run").stdout
    assert "prompt cache: ~" in text and "first call $" in text and "later calls $" in text
    assert "is ~" in text and "under the 1,024 the model caches: it will not be cached" in text


def test_stats_shows_the_cache_hit_ratio_and_what_it_saved(
    handbook: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    handbook.write_text(PROMPT.replace(", ttl: 1h", ""))
    rows = [run_json(cli, "hb", "-m", "claude-sonnet-4.5", "-v", f"q=Question {n}?")[0]
            for n in range(3)]  # fmt: skip
    read = sum(r["usage"]["cache_read_tokens"] for r in rows)
    write_ = sum(r["usage"]["cache_write_tokens"] for r in rows)
    plain = sum(r["usage"]["input_tokens"] for r in rows)
    assert read == 2 * write_  # written once, read twice
    [group] = json.loads(cli("stats", "-f", "json").stdout)["groups"]
    assert (group["cache_read_tokens"], group["cache_write_tokens"]) == (read, write_)
    assert group["cache_hit_ratio"] == round(read / (plain + read + write_), 4)
    # each read token saved the input price less the cache-read price: 0.003 - 0.0003 per 1,000
    assert group["cache_saved_usd"] == pytest.approx(read / 1000 * (0.003 - 0.0003), abs=1e-6)
    table = cli("stats", "--chart", "none").stdout
    assert "cache hit" in table and "cache saved" in table
    assert f"{read / (plain + read + write_):.0%}" in table


def test_stats_without_prompt_cache_use_shows_no_cache_columns(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "prompts" / "s.yaml", 'version: "1.0.0"\ninput: Hi\n')
    run_json(cli, "s", "-m", "nova-lite")
    assert "cache hit" not in cli("stats").stdout
    [group] = json.loads(cli("stats", "-f", "json").stdout)["groups"]
    assert (group["cache_hit_ratio"], group["cache_saved_usd"]) == (0.0, 0.0)


# ---------------------------------------------------------------- the request's cache points


def test_taking_cache_points_out_gives_back_the_uncut_request() -> None:
    from promptlab.request import CachePoint, Message, Request, Text

    context = Text("<context>\nC\n</context>\n\n")
    turn = Message("user", (context, CachePoint("1h"), Text("<input>\nQ\n</input>")))
    tools = {"tools": [{"toolSpec": {"name": "t"}}, CachePoint().to_converse()]}
    cut = Request((Text("Rules."), CachePoint()), (turn,), tool_config=tools)
    assert [where for where, _ in cut.cache_points()] == ["tools", "system", "messages"]
    assert cut.cache_write_ttl == "1h"
    whole = cut.without_cache_points()
    assert whole.cache_points() == [] and whole.cache_write_ttl is None
    assert whole.messages[0].content == (Text("<context>\nC\n</context>\n\n<input>\nQ\n</input>"),)
    assert whole.system_content == (Text("Rules."),)
    assert whole.tool_config == {"tools": [{"toolSpec": {"name": "t"}}]}
    only_tools = cut.without_cache_points("tools")
    assert [where for where, _ in only_tools.cache_points()] == ["system", "messages"]
    assert {p.ttl for _, p in cut.with_cache_ttl(None).cache_points()} == {None}
    # what a later call reads from the cache: tools, system, then the turns up to the last point
    assert (
        cut.cached_prefix_text()
        == '[{"toolSpec": {"name": "t"}}]Rules.<context>\nC\n</context>\n\n'
    )


def test_test_totals_count_cache_reads_and_writes(
    handbook: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    handbook.write_text(PROMPT.replace(", ttl: 1h", ""))
    write(
        handbook.parent / "hb.tests.yaml",
        """\
prompt: hb.yaml
tests:
  - name: boots
    models: [claude-sonnet-4.5]
    assert: [{contains: fake}]
  - name: tents
    models: [claude-sonnet-4.5]
    vars: {q: Tents?}
    assert: [{contains: fake}]
""",
    )
    result = cli("test", str(handbook.parent / "hb.tests.yaml"), "--json", "report.json",
                 "--concurrency", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(Path("report.json").read_text())
    tokens = report["summary"]["tokens"]
    samples = [s["result"]["usage"] for c in report["cases"] for s in c["samples"]]
    assert tokens["cache_write"] == sum(u["cache_write_tokens"] for u in samples) > 0
    assert tokens["cache_read"] == sum(u["cache_read_tokens"] for u in samples) > 0
    assert tokens["total"] == sum(c["tokens"] for c in report["cases"])
    assert f"(+{tokens['cache_read']:,} cache read, {tokens['cache_write']:,} written)" in (
        result.stdout)  # fmt: skip

"""Fallback chains (`-m 'a>b>c'`): the next link answers when one fails after its retries, is
refused by the guardrail, cannot take the input, or gives an answer a `require:` check
refuses; the result names the link that served and why each earlier one was passed over, and
its cost includes theirs. Bad chains are one line, exit 2, before any call."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from promptlab.store.db import MIGRATIONS
from tests.conftest import ONE_LINE_PROMPT, Cli, write
from tests.fakebedrock import FakeBedrock

PROMPT = ONE_LINE_PROMPT
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
PRO = "amazon.nova-pro-v1:0"
LITE = "amazon.nova-lite-v1:0"
USAGE = {"inputTokens": 1000, "outputTokens": 200}
PRO_COST = 1000 / 1000 * 0.0008 + 200 / 1000 * 0.0032
LITE_COST = 1000 / 1000 * 0.00006 + 200 / 1000 * 0.00024
SONNET_COST = 1000 / 1000 * 0.003 + 200 / 1000 * 0.015


@pytest.fixture
def chained(
    project: Path, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> FakeBedrock:
    """The prompt, one attempt per call (no waiting on retries), every model answering."""
    monkeypatch.setenv("PROMPTLAB_MAX_ATTEMPTS", "1")
    write(project / "prompts" / "q.yaml", PROMPT)
    fake_bedrock.default.usage = USAGE
    fake_bedrock.default.text = "Paris."
    return fake_bedrock


def run_json(cli: Cli, *args: str) -> list[dict]:
    result = cli("run", "q", "--examples", "-f", "json", *args)
    assert result.exit_code == 0, result.output
    rows: list[dict] = json.loads(result.stdout)
    return rows


def test_a_throttled_first_link_is_passed_over_for_the_next(chained: FakeBedrock, cli: Cli) -> None:
    chained.script(SONNET, fail=10, status=429, error="ThrottlingException")
    [row] = run_json(cli, "-m", "claude-sonnet>nova-pro>nova-lite")
    assert row["model"]["alias"] == "claude-sonnet>nova-pro>nova-lite"
    assert row["output"] == "Paris." and row["error"] is None
    assert row["served_by"] == "nova-pro" and row["served_model_id"] == PRO
    [passed] = row["fallback"]
    assert passed["model"] == "claude-sonnet" and passed["reason"] == "throttled"
    assert passed["error"] == "ThrottlingException" and passed["cost_usd"] == 0.0
    assert row["cost_usd"] == pytest.approx(PRO_COST)
    assert chained.count(model=SONNET) == 1 and chained.count(model=PRO) == 1
    assert chained.count(model=LITE) == 0  # the chain stops at the first answer


@pytest.mark.parametrize(
    ("status", "error", "reason"),
    [(403, "AccessDeniedException", "access denied"),
     (503, "ServiceUnavailableException", "unavailable"),
     (424, "ModelTimeoutException", "timed out")],
)  # fmt: skip
def test_each_failure_names_why_the_link_was_passed_over(
    chained: FakeBedrock, cli: Cli, status: int, error: str, reason: str
) -> None:
    chained.script(SONNET, fail=10, status=status, error=error)
    [row] = run_json(cli, "-m", "claude-sonnet>nova-lite")
    assert row["served_by"] == "nova-lite"
    assert [(f["model"], f["reason"], f["error"]) for f in row["fallback"]] == [
        ("claude-sonnet", reason, error)
    ]


def test_an_answer_failing_a_require_check_is_passed_over_and_still_paid_for(
    chained: FakeBedrock, cli: Cli, project: Path
) -> None:
    write(project / "prompts" / "q.yaml", PROMPT + "require:\n  - is-json\n")
    chained.script(SONNET, text="Paris, I think.")
    chained.script(PRO, text='{"capital": "Paris"}')
    [row] = run_json(cli, "-m", "claude-sonnet>nova-pro")
    assert row["served_by"] == "nova-pro" and row["output"] == '{"capital": "Paris"}'
    [passed] = row["fallback"]
    assert passed["reason"].startswith("failed is-json")
    assert passed["error"] is None and passed["output_tokens"] == 200
    assert passed["cost_usd"] == pytest.approx(SONNET_COST)
    assert row["cost_usd"] == pytest.approx(SONNET_COST + PRO_COST)  # both calls are billed


def test_the_last_links_answer_is_kept_with_a_notice_when_it_fails_the_check(
    chained: FakeBedrock, cli: Cli, project: Path
) -> None:
    write(project / "prompts" / "q.yaml", PROMPT + "require:\n  - contains: Berlin\n")
    [row] = run_json(cli, "-m", "nova-pro>nova-lite")
    assert row["served_by"] == "nova-lite" and row["output"] == "Paris."
    assert [f["model"] for f in row["fallback"]] == ["nova-pro"]
    assert any("nova-lite's answer is kept" in n and "failed contains" in n
               for n in row["notices"])  # fmt: skip
    single = cli("run", "q", "--examples", "-m", "nova-lite")
    assert "require: is checked on fallback chains" in single.stderr  # not silently unused


def test_a_guardrail_intervention_passes_the_link_over(chained: FakeBedrock, cli: Cli) -> None:
    chained.script(PRO, text="Sorry, I cannot answer that.", stop_reason="guardrail_intervened")
    [row] = run_json(cli, "-m", "nova-pro>nova-lite")
    assert row["served_by"] == "nova-lite"
    assert row["fallback"][0]["reason"] == "guardrail intervened"


def test_a_link_that_cannot_take_the_input_is_passed_over_without_a_call(
    chained: FakeBedrock, cli: Cli, project: Path
) -> None:
    write(project / "prompts" / "t.yaml", PROMPT + "tools:\n  - name: lookup\n"
          "    input_schema: {type: object}\n")  # fmt: skip
    result = cli("run", "t", "--examples", "-f", "json", "-m", "llama-8b>nova-lite")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["served_by"] == "nova-lite"
    assert row["fallback"][0]["error"] == "UnsupportedInput"
    assert row["fallback"][0]["reason"] == "cannot take the input"
    assert chained.count(model="meta.llama3-8b-instruct-v1:0") == 0


def test_when_every_link_fails_the_cell_is_the_last_error_with_the_others_listed(
    chained: FakeBedrock, cli: Cli
) -> None:
    chained.script(PRO, fail=10, status=403, error="AccessDeniedException")
    chained.script(LITE, fail=10, status=503, error="ServiceUnavailableException")
    result = cli("run", "q", "--examples", "-m", "nova-pro>nova-lite", "-f", "json")
    [row] = json.loads(result.stdout)
    assert row["error"]["code"] == "ServiceUnavailableException"
    assert row["served_by"] is None and row["cost_usd"] == 0.0
    assert [f["model"] for f in row["fallback"]] == ["nova-pro"]
    table = cli("run", "q", "--examples", "-m", "nova-pro>nova-lite").stdout
    assert "no link answered" in table and "nova-pro: access denied" in table


def test_the_table_labels_the_column_with_the_chain_and_the_cell_with_the_link(
    chained: FakeBedrock, cli: Cli
) -> None:
    chained.script(SONNET, fail=10, status=429, error="ThrottlingException")
    result = cli("run", "q", "--examples", "-m", "claude-sonnet>nova-pro", "-m", "nova-pro")
    assert result.exit_code == 0, result.output
    assert "claude-sonnet>nova-pro" in result.stdout  # the chain is one column, its member another
    assert "via nova-pro" in result.stdout and "claude-sonnet: throttled" in result.stdout
    assert "fell back: claude-sonnet: throttled; served by nova-pro" in result.stderr
    md = cli("run", "q", "--examples", "-m", "claude-sonnet>nova-pro", "-f", "markdown").stdout
    assert "| **served** | via nova-pro · claude-sonnet: throttled |" in md
    cli("run", "q", "--examples", "-m", "claude-sonnet>nova-pro", "--html", "r.html")
    assert "via nova-pro · claude-sonnet: throttled" in Path("r.html").read_text("utf-8")


def test_a_named_chain_in_promptlab_yaml_runs_under_its_name(
    chained: FakeBedrock, cli: Cli, project: Path
) -> None:
    write(project / "promptlab.yaml", "aliases:\n  careful: claude-sonnet>nova-pro\n")
    chained.script(SONNET, fail=10, status=429, error="ThrottlingException")
    [row] = run_json(cli, "-m", "careful")
    assert row["model"]["alias"] == "careful"
    assert row["model"]["id"] == "claude-sonnet>nova-pro"
    assert row["served_by"] == "nova-pro"


def test_the_history_keeps_every_attempt_and_stats_counts_fallbacks(
    chained: FakeBedrock, cli: Cli, project: Path
) -> None:
    chained.script(SONNET, fail=1, status=429, error="ThrottlingException")
    write(project / "vars.yaml", "- {q: one}\n- {q: two}\n- {q: three}\n")
    result = cli("run", "q", "--vars", "vars.yaml", "-m", "claude-sonnet>nova-pro",
                 "--concurrency", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    logged = json.loads(cli("log", "--format", "json").stdout)
    fell = [r for r in logged if r["fallback"]]
    assert len(fell) == 1 and fell[0]["served_by"] == "nova-pro"
    assert fell[0]["fallback"][0]["reason"] == "throttled"
    assert sorted(r["served_by"] for r in logged) == ["claude-sonnet", "claude-sonnet", "nova-pro"]
    [group] = json.loads(cli("stats", "-f", "json").stdout)["groups"]
    assert group["group"] == "claude-sonnet>nova-pro"
    assert group["fell_back"] == 1
    assert group["served_by"] == {"claude-sonnet": 2, "nova-pro": 1}
    table = cli("stats", "--chart", "none").stdout
    assert "fell back" in table and "claude-sonnet 2, nova-pro 1" in table


def test_rows_written_before_chains_read_as_single_model_calls(project: Path, cli: Cli) -> None:
    from tests.store.test_store_api import old_store

    config = old_store(project, upto=11, output="older")
    [shown] = json.loads(cli("log", "--format", "json").stdout)  # opening migrates the file
    assert shown["served_by"] is None and shown["fallback"] == []
    [group] = json.loads(cli("stats", "-f", "json").stdout)["groups"]
    assert group["fell_back"] == 0 and group["served_by"] == {}
    con = sqlite3.connect(config.store_path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 12


@pytest.mark.parametrize(
    ("spec", "aliases", "message"),
    [
        ("nova-pro>nova-liet", "", "chain 'nova-pro>nova-liet': unknown model 'nova-liet'"),
        ("nova-pro>nova-lite>nova-pro", "", "names 'nova-pro' twice"),
        ("nova-pro>>nova-lite", "", "chain 'nova-pro>>nova-lite' has an empty link"),
        ("loop", "aliases:\n  loop: nova-pro>again\n  again: nova-lite>loop\n",
         "chain 'loop' goes round in a circle: loop → again → loop"),
    ],
)  # fmt: skip
def test_a_bad_chain_is_one_line_exit_2_before_any_call(
    chained: FakeBedrock, cli: Cli, project: Path, spec: str, aliases: str, message: str
) -> None:
    if aliases:
        write(project / "promptlab.yaml", aliases)
    result = cli("run", "q", "--examples", "-m", spec)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("error")]) == 1
    assert chained.requests == []


def test_a_require_naming_an_unknown_check_names_its_line(
    chained: FakeBedrock, cli: Cli, project: Path
) -> None:
    write(project / "prompts" / "q.yaml", PROMPT + "require:\n  - is-jsn\n")
    result = cli("run", "q", "--examples", "-m", "nova-pro>nova-lite")
    assert result.exit_code == 2
    assert "q.yaml:8" in result.stderr and "unknown assertion type 'is-jsn'" in result.stderr
    assert "is-json" in result.stderr  # the suggestion
    assert chained.requests == []


def test_a_require_check_that_calls_a_model_is_refused(
    chained: FakeBedrock, cli: Cli, project: Path
) -> None:
    write(project / "prompts" / "q.yaml", PROMPT + "require:\n  - judge: answers the question\n")
    result = cli("run", "q", "--examples", "-m", "nova-pro>nova-lite")
    assert result.exit_code == 2
    assert "q.yaml:8" in result.stderr and "calls a model" in result.stderr

"""`promptlab export finetune`: rated answers → JSONL in each base family's documented format,
checked line by line; what is left out and why; bad input (one line, exit 2)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from promptlab.finetune import (
    FAMILIES,
    Candidate,
    Pair,
    family_for,
    read_pair,
    record,
    select,
)
from promptlab.results import Result
from promptlab.store.db import connect
from promptlab.store.ratings import Rating, run_cases, save
from tests.conftest import Cli, write
from tests.store.test_store_api import config_in, make_result, seed

RUN = "run-ft"
SYSTEM = "You are Maya, a support specialist."


def request(user: str, *earlier: tuple[str, str]) -> dict[str, Any]:
    turns = [*earlier, ("user", user)]
    return {"system": [{"text": SYSTEM}, {"cachePoint": {"type": "default"}}],
            "messages": [{"role": r, "content": [{"text": t}]} for r, t in turns]}  # fmt: skip


@pytest.fixture
def store(project: Path) -> Iterator[sqlite3.Connection]:
    """Four cases answered by nova and claude: case-0..2 single-turn, case-3 two turns."""
    rows: list[tuple[Result, float]] = []
    for n in range(4):
        earlier = [("user", "Hi"), ("assistant", "Hello, how can I help?")] if n == 3 else []
        for model in ("nova", "claude"):
            r = make_result(model=model, output=f"{model} reply {n}", run_id=RUN)
            rows.append((replace(r, case=f"case-{n}", request=request(f"question {n}", *earlier)),
                         1000.0 + n))  # fmt: skip
    seed(config_in(project), rows)
    con = connect(config_in(project).store_path)
    yield con
    con.close()


def rate(con: sqlite3.Connection, rater: str, nova: int, claude: int, pick: str = "nova") -> None:
    for case in run_cases(con, RUN):
        ids = {a.model_alias: a.call_id for a in case.answers}
        save(con, Rating(RUN, case.key, rater, list(ids.values()), winner=ids[pick],
                         scores={ids["nova"]: nova, ids["claude"]: claude}))  # fmt: skip


def lines(path: Path) -> list[dict[str, Any]]:
    text = path.read_text("utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_nova_gets_the_bedrock_conversation_schema_one_record_per_line(
    store: sqlite3.Connection, cli: Cli
) -> None:
    rate(store, "ana", nova=5, claude=2)
    result = cli("export", "finetune", "last", "--min-score", "4", "--base", "nova-lite",
                 "-o", "train.jsonl")  # fmt: skip
    assert result.exit_code == 0, result.output
    records = lines(Path("train.jsonl"))
    assert len(records) == 4
    assert records[0] == {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": SYSTEM}],
        "messages": [
            {"role": "user", "content": [{"text": "question 0"}]},
            {"role": "assistant", "content": [{"text": "nova reply 0"}]},
        ],
    }
    assert [m["role"] for m in records[3]["messages"]] == ["user", "assistant"] * 2
    for r in records:
        assert set(r) == {"schemaVersion", "system", "messages"}
        assert r["messages"][0]["role"] == "user" and r["messages"][-1]["role"] == "assistant"
    assert "wrote 4 records to train.jsonl for nova (bedrock-conversation-2024)" in result.stdout
    assert "left out: 4 mean score below 4" in result.stdout
    assert "Bedrock needs at least 8 to fine-tune nova" in result.stderr


def test_claude_3_haiku_gets_system_and_plain_messages(store: sqlite3.Connection, cli: Cli) -> None:
    rate(store, "ana", nova=2, claude=5, pick="claude")
    result = cli("export", "finetune", RUN, "--winners", "--base", "claude-haiku", "-o", "h.jsonl")
    assert result.exit_code == 0, result.output
    records = lines(Path("h.jsonl"))
    assert records[0] == {"system": SYSTEM, "messages": [
        {"role": "user", "content": "question 0"},
        {"role": "assistant", "content": "claude reply 0"}]}  # fmt: skip
    assert all(set(r) == {"system", "messages"} for r in records)
    assert "left out: 4 not picked as the better answer" in result.stdout


def test_prompt_completion_families_take_single_turns_only(
    store: sqlite3.Connection, cli: Cli
) -> None:
    rate(store, "ana", nova=5, claude=5)
    result = cli("export", "finetune", "last", "--min-score", "5", "--base", "titan-express",
                 "-o", "t.jsonl")  # fmt: skip
    assert result.exit_code == 0, result.output
    records = lines(Path("t.jsonl"))
    assert records == [
        {"prompt": f"{SYSTEM}\n\nquestion {n}", "completion": f"nova reply {n}"} for n in range(3)
    ]
    # both answers scored 5: one record per prompt (nova was also picked); case-3 has turns
    assert ("3 a better-rated answer to the same prompt was kept; "
            "2 it has several turns (titan-text takes one prompt and one completion)"
            in result.stdout)  # fmt: skip


def test_every_criterion_given_must_hold(store: sqlite3.Connection, cli: Cli) -> None:
    rate(store, "ana", nova=4, claude=5, pick="nova")
    result = cli("export", "finetune", "last", "--min-score", "5", "--winners",
                 "--base", "nova", "-o", "both.jsonl")  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("error: nothing to export from run-ft (left out: ")
    assert "4 mean score below 5" in result.stderr and "4 not picked" in result.stderr
    assert not Path("both.jsonl").exists()


def test_mean_score_is_over_every_rater(store: sqlite3.Connection, cli: Cli) -> None:
    rate(store, "ana", nova=5, claude=1)
    rate(store, "ben", nova=3, claude=1)
    result = cli("export", "finetune", "last", "--min-score", "4", "--base", "nova",
                 "-o", "m.jsonl")  # fmt: skip
    assert result.exit_code == 0 and len(lines(Path("m.jsonl"))) == 4  # nova: (5 + 3) / 2 = 4


def test_an_existing_file_is_kept_unless_forced(store: sqlite3.Connection, cli: Cli) -> None:
    rate(store, "ana", nova=5, claude=2)
    Path("train.jsonl").write_text("keep me\n", "utf-8")
    args = ["export", "finetune", "last", "--min-score", "4", "--base", "nova", "-o", "train.jsonl"]
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: train.jsonl exists — pass --force to overwrite it"
    assert Path("train.jsonl").read_text("utf-8") == "keep me\n"
    assert cli(*args, "--force").exit_code == 0
    assert len(lines(Path("train.jsonl"))) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["last", "--base", "nova", "-o", "x.jsonl"], "choose what to include"),
        (["nope-1", "--min-score", "4", "--base", "nova", "-o", "x.jsonl"],
         "unknown run id 'nope-1'"),
        (["last", "--min-score", "4", "--base", "mistral-large", "-o", "x.jsonl"],
         "--base mistral-large: no fine-tuning format known for mistral."),
        (["last", "--min-score", "4", "--base", "nova", "-o", "x.jsonl"], "nothing to export"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(
    store: sqlite3.Connection, cli: Cli, args: list[str], message: str
) -> None:
    result = cli("export", "finetune", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not Path("x.jsonl").exists()


# ---------------------------------------------------------------- the table


def test_families_are_found_by_base_model_id_with_or_without_a_region_prefix() -> None:
    assert family_for("nova-lite", "amazon.nova-lite-v1:0").name == "nova"
    assert family_for("x", "us.amazon.nova-pro-v1:0").name == "nova-pro"
    assert family_for("x", "anthropic.claude-3-haiku-20240307-v1:0").name == "claude-3-haiku"
    assert family_for("x", "meta.llama3-1-8b-instruct-v1:0").name == "llama-3.1"
    assert family_for("titan-text", None) is FAMILIES[3]


def test_a_prompt_with_a_word_nova_reserves_is_left_out_for_nova_only() -> None:
    pair = Pair("", (("user", "Summarise this. User: hello"),), "ok", 10)
    assert record(FAMILIES[0], pair) == "its prompt contains 'User:', which nova reserves"
    assert record(FAMILIES[2], pair) == {"messages": [
        {"role": "user", "content": "Summarise this. User: hello"},
        {"role": "assistant", "content": "ok"}]}  # fmt: skip


def test_records_over_the_token_limit_or_the_record_count_are_left_out() -> None:
    titan = FAMILIES[3]
    long = Pair("", (("user", "x" * 20_000),), "y", None)  # ~5,000 tokens estimated
    assert record(titan, long) == "it is over titan-text's 4,096 tokens per record"
    nova = replace(FAMILIES[0], max_records=2)
    candidates = [Candidate(i, Pair("", (("user", f"q{i}"),), "a", 5), 5.0, True, False)
                  for i in range(3)]  # fmt: skip
    picked = select(nova, candidates, min_score=4, winners=False)
    assert len(picked.records) == 2
    assert picked.left_out == {"over nova's 2 records": 1}


# ---------------------------------------------------------------- --passing


def test_passing_answers_come_from_a_test_report(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "echoer.yaml", 'version: "1.0.0"\ninput: "{{ text }}"\n'
          "variables:\n  text: {type: string}\n")  # fmt: skip
    write(project / "prompts" / "echoer.tests.yaml",
          "tests:\n  - name: good\n    vars: {text: Hi Ana}\n    assert: [{contains: Ana}]\n"
          "  - name: bad\n    vars: {text: Hi Bob}\n    assert: [{contains: Ana}]\n")  # fmt: skip
    assert cli("test", "-m", "echo", "--json", "report.json").exit_code == 1
    result = cli("export", "finetune", "report.json", "--passing", "--base", "llama-3.1",
                 "-o", "p.jsonl")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert lines(Path("p.jsonl")) == [{"prompt": "Hi Ana", "completion": "Hi Ana"}]
    assert "left out: 1 it failed its assertions" in result.stdout
    # a run from the history has no test outcomes: --passing says where to find them
    history = cli("export", "finetune", "last", "--passing", "--base", "nova", "-o", "h.jsonl")
    assert history.exit_code == 2
    assert "2 no test outcome (give a `test --json` report)" in history.stderr


def test_an_image_prompts_request_is_not_a_conversation_to_train_on() -> None:
    body = {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a tent at dawn"}}
    assert read_pair(body, "", None) == "it is not a conversation (an image model's request)"
    with_tools = {"messages": [{"role": "user", "content": [
        {"text": "look"}, {"image": {"format": "png", "source": {"bytes": "..."}}}]}]}  # fmt: skip
    assert read_pair(with_tools, "ok", 3) == "it sends image content (text-only export)"

"""`promptlab run` end to end with the offline echo model (no AWS)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from promptlab.results import ErrorInfo, Result
from promptlab.views.table import render_results
from tests.conftest import Cli, write

HELLO = """\
name: hello
version: "1.2.0"
instructions: You greet people for {{ company }}.
input: Say hello to {{ who }}.
format: One sentence.
variables:
  who: {type: string, example: Bob}
  company: {type: string, default: ACME}
models: [echo]
inference:
  temperature: 0.3
  max_tokens: 300
"""
PROMPT = """\
version: "1.0.0"
input: "Hello {{ who }}, from {{ team }}."
variables:
  who: {type: string}
  team: {type: string}
"""


@pytest.fixture
def hello(project: Path) -> Path:
    return write(project / "prompts" / "hello.yaml", HELLO)


def run_json(cli: Cli, *args: str) -> list[dict]:
    result = cli("run", *args, "--format", "json")
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def test_echo_answers_with_the_rendered_prompt_and_costs_nothing(hello: Path, cli: Cli) -> None:
    [row] = run_json(cli, "hello", "-m", "echo", "-v", "who=Ann")
    assert row["output"] == (
        "[system]\nYou greet people for ACME.\n\n[user]\n"
        "<input>\nSay hello to Ann.\n</input>\n\n<format>\nOne sentence.\n</format>"
    )
    assert row["model"] == {"alias": "echo", "id": "echo", "region": None, "real": False}
    assert row["cost_usd"] == 0.0
    assert row["usage"]["estimated"] is True
    assert row["usage"]["input_tokens"] > 0
    assert row["stop_reason"] == "end_turn"
    assert row["error"] is None


def test_json_schema_carries_prompt_identity_params_and_request(hello: Path, cli: Cli) -> None:
    [row] = run_json(cli, "hello", "-m", "echo", "-v", "who=Ann", "--temperature", "0")
    assert row["prompt"]["name"] == "hello"
    assert row["prompt"]["version"] == "1.2.0"
    assert len(row["prompt"]["hash"]) == 64
    assert row["params"] == {"temperature": 0.0, "max_tokens": 300}
    assert row["request"]["inferenceConfig"] == {"maxTokens": 300, "temperature": 0.0}
    assert row["request"]["system"] == [{"text": "You greet people for ACME."}]
    for key in ("latency_ms", "ttft_ms", "cost_usd", "stop_reason", "usage", "run_id", "vars"):
        assert key in row


def test_models_come_from_the_prompt_when_no_m_flag(hello: Path, cli: Cli) -> None:
    rows = run_json(cli, "hello", "--examples")
    assert [r["model"]["alias"] for r in rows] == ["echo"]
    assert "Say hello to Bob." in rows[0]["output"]


def test_comma_separated_and_repeated_models_each_get_a_result(hello: Path, cli: Cli) -> None:
    write(Path("promptlab.yaml"), "aliases:\n  mine: echo\n")
    rows = run_json(cli, "hello", "-m", "echo,mine", "-v", "who=A")
    assert [r["model"]["alias"] for r in rows] == ["echo", "mine"]


def test_jsonl_prints_one_result_per_line(hello: Path, cli: Cli, tmp_path: Path) -> None:
    vars_file = write(tmp_path / "people.yaml", "- who: Ann\n- who: Ben\n- who: Cy\n")
    result = cli("run", "hello", "-m", "echo", "--vars", str(vars_file), "-f", "jsonl")
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    assert [json.loads(line)["vars"]["who"] for line in lines] == ["Ann", "Ben", "Cy"]


def test_markdown_has_one_column_per_model_and_summary(hello: Path, cli: Cli) -> None:
    result = cli("run", "hello", "-m", "echo", "-v", "who=Ann", "-f", "markdown")
    assert result.exit_code == 0
    assert "| | echo — not a real model |" in result.stdout
    assert "| **stop reason** | end_turn |" in result.stdout
    assert "1 call(s) · 0 error(s)" in result.stdout


def test_table_shows_output_facts_and_not_real_label(hello: Path, cli: Cli) -> None:
    result = cli("run", "hello", "-m", "echo", "-v", "who=Ann")
    assert result.exit_code == 0
    out = result.stdout
    for text in ("not a real model", "Say hello to Ann.", "stop reason", "end_turn",
                 "tokens in / out", "time to first token", "$0 (offline)"):  # fmt: skip
        assert text in out, text
    assert "echo is not a real model" in result.stderr


def test_two_prompt_versions_become_columns(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "v1.yaml", HELLO)
    write(project / "prompts" / "v2.yaml", HELLO.replace('"1.2.0"', '"2.0.0"').replace(
        "One sentence.", "Two sentences."))  # fmt: skip
    rows = run_json(cli, "prompts/v1.yaml", "prompts/v2.yaml", "-m", "echo", "-v", "who=A")
    assert [r["prompt"]["version"] for r in rows] == ["1.2.0", "2.0.0"]
    md = cli("run", "prompts/v1.yaml", "prompts/v2.yaml", "-m", "echo", "-v", "who=A",
             "-f", "markdown").stdout  # fmt: skip
    assert "v1.2.0 · echo" in md and "v2.0.0 · echo" in md


def test_unknown_model_is_a_usage_error_before_any_call(hello: Path, cli: Cli) -> None:
    result = cli("run", "hello", "-m", "claude-haiqu", "-v", "who=A")
    assert result.exit_code == 2
    assert "unknown model 'claude-haiqu'" in result.stderr
    assert "claude-haiku" in result.stderr  # suggestion
    assert result.stdout == ""


def test_no_models_anywhere_is_a_usage_error(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "p.yaml", 'version: "1.0.0"\ninput: hi\n')
    result = cli("run", "p")
    assert result.exit_code == 2
    assert "no models to run" in result.stderr


@pytest.mark.parametrize(
    ("flag", "value"), [("--temperature", "1.5"), ("--top-p", "-0.1"), ("--max-tokens", "0")]
)
def test_out_of_range_parameters_are_usage_errors(
    hello: Path, cli: Cli, flag: str, value: str
) -> None:
    result = cli("run", "hello", "-m", "echo", "-v", "who=A", flag, value)
    assert result.exit_code == 2
    assert flag in result.stderr


def test_bad_format_is_a_usage_error(hello: Path, cli: Cli) -> None:
    result = cli("run", "hello", "-m", "echo", "-v", "who=A", "-f", "xml")
    assert result.exit_code == 2


def test_stop_and_max_tokens_flags_reach_the_request(hello: Path, cli: Cli) -> None:
    [row] = run_json(cli, "hello", "-m", "echo", "-v", "who=Ann", "--stop", "Ann", "--max-tokens",
                     "50")  # fmt: skip
    assert row["request"]["inferenceConfig"]["stopSequences"] == ["Ann"]
    assert row["stop_reason"] == "stop_sequence"
    assert "Ann" not in row["output"]


def test_vars_file_that_is_not_a_mapping_or_list_is_exit_2(
    hello: Path, cli: Cli, tmp_path: Path
) -> None:
    bad = write(tmp_path / "bad.yaml", "just a string\n")
    result = cli("run", "hello", "-m", "echo", "--vars", str(bad))
    assert result.exit_code == 2
    assert "bad.yaml" in result.stderr


def test_dry_run_calls_nothing_and_shows_estimates(hello: Path, cli: Cli) -> None:
    result = cli("run", "hello", "-m", "echo", "-v", "who=A", "--dry-run", "-f", "json")
    assert result.exit_code == 0
    [row] = json.loads(result.stdout)
    assert row["request"]["messages"][0]["content"][0]["text"].startswith("<input>")
    assert row["input_tokens_counted"] is False
    assert row["estimated_input_cost_usd"] == 0.0


def test_dry_run_folds_system_prompt_for_models_without_one(hello: Path, cli: Cli) -> None:
    result = cli("run", "hello", "-m", "titan-express", "-v", "who=A", "--dry-run", "-f", "json")
    assert result.exit_code == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert "system" not in row["request"]
    assert row["request"]["messages"][0]["content"][0]["text"].startswith("You greet people")
    assert any("no system prompt" in n for n in row["notices"])
    # price known from the shipped table: input tokens × input price
    assert row["estimated_input_cost_usd"] is not None


def _result(output: str, **kw: object) -> Result:
    base = dict(prompt_name="p", prompt_version="1.0.0", prompt_hash="h" * 64, model_alias="m",
                model_id="m", region="us-east-1", params={}, request={}, output=output)  # fmt: skip
    base.update(kw)
    return Result(**base)  # type: ignore[arg-type]


def test_model_output_markup_and_escapes_are_shown_literally() -> None:
    console = Console(record=True, width=120, force_terminal=True, color_system="truecolor")
    evil = "[bold red]boom[/bold red] \x1b]0;title\x07 \x1b[31mred\x1b[0m"
    render_results(console, [_result(evil)])
    text = console.export_text()
    assert "[bold red]boom[/bold red]" in text
    assert "\\x1b]0;title\\x07" in text
    assert "\x1b]0;" not in console.export_text(styles=True)


def test_narrow_terminal_stacks_models_instead_of_columns() -> None:
    results = [_result(f"answer {i}", model_alias=f"model-{i}", model_id=f"m{i}") for i in range(4)]
    wide = Console(record=True, width=200)
    render_results(wide, results)
    narrow = Console(record=True, width=60)
    render_results(narrow, results)
    assert "model-0 · m0" in narrow.export_text()  # panel titles
    assert "model-0 · m0" not in wide.export_text()


def test_error_cell_shows_code_message_and_hint() -> None:
    console = Console(record=True, width=120)
    err = ErrorInfo("AccessDeniedException", "no access", "enable it in the console")
    render_results(console, [_result("", error=err), _result("fine", model_alias="b")])
    text = console.export_text()
    assert "AccessDeniedException" in text and "hint: enable it in the console" in text
    assert "fine" in text
    assert "1 error(s)" in text


def test_dry_run_text_lists_each_model_and_the_total(hello: Path, cli: Cli) -> None:
    result = cli("run", "hello", "-m", "echo", "-m", "nova-micro", "-v", "who=A", "--dry-run")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "dry run: nothing was sent" in out
    assert "echo (not a real model)" in out
    assert "nova-micro (amazon.nova-micro-v1:0)" in out
    assert "2 call(s) · estimated input cost $" in out
    assert "(estimate)" in out  # no credentials here: CountTokens can't be used


def test_a_suite_file_passed_as_a_prompt_points_to_promptlab_test(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "p.tests.yaml", "tests: []\n")
    for command in ("run", "render"):
        result = cli(command, "prompts/p.tests.yaml", "-m", "echo")
        assert result.exit_code == 2
        assert "prompts/p.tests.yaml is a test suite, not a prompt" in result.stderr
        assert "promptlab test prompts/p.tests.yaml" in result.stderr


def test_dry_run_with_an_unknown_profile_is_exit_2(hello: Path, cli: Cli) -> None:
    result = cli(
        "run", "hello", "-m", "nova-micro", "-v", "who=A", "--dry-run", "--profile", "nope"
    )
    assert result.exit_code == 2
    assert "AWS profile 'nope' does not exist" in result.stderr


@pytest.fixture
def greet(project: Path) -> Path:
    return write(project / "prompts" / "greet.yaml", PROMPT)


def test_a_bad_item_in_a_vars_list_is_named_with_its_line(
    greet: Path, project: Path, cli: Cli
) -> None:
    write(project / "people.yaml", "- {who: Ann, team: ops}\n- {who: Bob}\n- {who: Cy, team: x}\n")
    result = cli("run", "greet", "-m", "echo", "--vars", "people.yaml")
    assert result.exit_code == 2
    assert "vars #2 (people.yaml:2)" in result.stderr
    assert "missing required variable(s): team" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_wrong_type_in_a_vars_list_item_is_named(greet: Path, project: Path, cli: Cli) -> None:
    write(project / "people.yaml", "- who: Ann\n  team: ops\n- who: [1, 2]\n  team: ops\n")
    result = cli("run", "greet", "-m", "echo", "--vars", "people.yaml")
    assert result.exit_code == 2
    assert "vars #2 (people.yaml:3)" in result.stderr and "'who' must be a string" in result.stderr


def test_an_empty_model_flag_is_an_error_not_the_default_models(greet: Path, cli: Cli) -> None:
    for empty in ("", ","):
        result = cli("run", "greet", "-m", empty, "-v", "who=A", "-v", "team=B")
        assert result.exit_code == 2, result.stdout
        assert "names no model" in result.stderr


def test_negative_cache_ttl_is_a_usage_error(greet: Path, cli: Cli) -> None:
    result = cli("run", "greet", "-m", "echo", "-v", "who=A", "-v", "team=B", "--cache-ttl", "-5")
    assert result.exit_code == 2

"""`--latency` and `--tier` on run and test, through boto3 to the local fake Bedrock (which
echoes serviceTier and performanceConfig as Bedrock does): sent where the model offers them,
billed at the rates of what ran, and shown in the cell when not on-demand standard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ONE_LINE_PROMPT, Cli, write
from tests.fakebedrock import FakeBedrock

PROMPT = ONE_LINE_PROMPT
NOVA_PRO = "amazon.nova-pro-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"
USAGE = {"inputTokens": 1000, "outputTokens": 500}


@pytest.fixture
def prompt(project: Path, fake_bedrock: FakeBedrock) -> Path:
    fake_bedrock.script(NOVA_PRO, text="Paris.", usage=USAGE)
    fake_bedrock.script(NOVA_LITE, text="Paris.", usage=USAGE)
    return write(project / "prompts" / "q.yaml", PROMPT)


def by_model(stdout: str) -> dict[str, dict]:
    return {r["model"]["alias"]: r for r in json.loads(stdout)}


@pytest.mark.parametrize("stream", ["--no-stream", "--stream"])
def test_the_tier_is_sent_where_offered_and_billed_at_its_price(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock, stream: str
) -> None:
    result = cli("run", "q", "--examples", "-m", "nova-pro,nova-lite", "--tier", "flex", stream,
                 "-f", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = by_model(result.stdout)
    [pro] = fake_bedrock.requests_for(NOVA_PRO)
    [lite] = fake_bedrock.requests_for(NOVA_LITE)
    assert pro.body["serviceTier"] == {"type": "flex"}
    assert "serviceTier" not in lite.body
    assert rows["nova-pro"]["response_meta"] == {"serviceTier": {"type": "flex"}}
    assert rows["nova-pro"]["cost_usd"] == pytest.approx(0.0004 + 0.5 * 0.0016)
    assert rows["nova-lite"]["cost_usd"] == pytest.approx(0.00006 + 0.5 * 0.00024)
    assert "nova-lite: the flex service tier is not offered for this model; sent on the " \
           "default tier" in result.stderr  # fmt: skip


def test_latency_optimized_is_sent_and_priced_as_optimized(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    result = cli("run", "q", "--examples", "-m", "nova-pro", "--latency", "optimized", "-f", "json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert fake_bedrock.requests_for(NOVA_PRO)[0].body["performanceConfig"] == {
        "latency": "optimized"
    }
    assert row["cost_usd"] == pytest.approx(0.001 + 0.5 * 0.004)


def test_a_call_served_at_standard_is_billed_at_standard(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    """Once the optimized (or priority) capacity is used up, Bedrock serves the call at
    standard and bills it so; the response says which ran."""
    fake_bedrock.script(NOVA_PRO, usage=USAGE, latency_mode="standard", service_tier="default")
    result = cli("run", "q", "--examples", "-m", "nova-pro", "--latency", "optimized",
                 "--tier", "default", "-f", "json")  # fmt: skip
    [row] = json.loads(result.stdout)
    assert row["cost_usd"] == pytest.approx(0.0008 + 0.5 * 0.0032)


def test_the_cell_shows_the_tier_that_ran_when_it_is_not_standard(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    result = cli("run", "q", "--examples", "-m", "nova-pro,nova-lite", "--tier", "priority")
    assert result.exit_code == 0, result.output
    served = next(line for line in result.stdout.splitlines() if line.startswith("│ served"))
    assert "priority tier" in served and "–" in served  # nova-lite ran on the default tier
    markdown = cli("run", "q", "--examples", "-m", "nova-pro", "--tier", "priority",
                   "-f", "markdown").stdout  # fmt: skip
    assert "| **served** | priority tier |" in markdown
    plain = cli("run", "q", "--examples", "-m", "nova-pro").stdout
    assert "served" not in plain


def test_an_unpriced_tier_is_unknown_with_a_notice(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    premier = "us.amazon.nova-premier-v1:0"
    fake_bedrock.script(premier, usage=USAGE)
    result = cli("run", "q", "--examples", "-m", "nova-premier", "--tier", "priority", "-f", "json")
    [row] = json.loads(result.stdout)
    assert row["cost_usd"] is None
    assert "nova-premier: ran on the priority tier, which has no known price for this model" in (
        result.stderr
    )


def test_promptlab_yaml_sets_them_and_the_flags_win(
    prompt: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "promptlab.yaml", "latency: optimized\nservice_tier: priority\n")
    cli("run", "q", "--examples", "-m", "nova-pro")
    cli("run", "q", "--examples", "-m", "nova-pro", "--tier", "flex", "--latency", "standard")
    first, second = (r.body for r in fake_bedrock.requests_for(NOVA_PRO))
    assert (first["serviceTier"], first["performanceConfig"]) == (
        {"type": "priority"}, {"latency": "optimized"})  # fmt: skip
    assert (second["serviceTier"], second["performanceConfig"]) == (
        {"type": "flex"}, {"latency": "standard"})  # fmt: skip


def test_test_takes_them_too(
    prompt: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "prompts" / "q.tests.yaml", "tests:\n  - name: paris\n    vars: {q: x}\n"
          "    assert:\n      - icontains: paris\n")  # fmt: skip
    result = cli("test", "prompts/q.yaml", "-m", "nova-pro", "--tier", "flex", "--latency",
                 "optimized", "--no-cache")  # fmt: skip
    assert result.exit_code == 0, result.output
    [sent] = fake_bedrock.requests_for(NOVA_PRO)
    assert sent.body["serviceTier"] == {"type": "flex"}
    assert sent.body["performanceConfig"] == {"latency": "optimized"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tier", "fast"], "error: --tier must be priority, default, flex or reserved, got "
                             "'fast' — e.g. --tier flex"),
        (["--latency", "optimised"], "error: --latency must be standard or optimized, got "
                                     "'optimised' — did you mean 'optimized'?"),
    ],
)  # fmt: skip
def test_a_bad_choice_is_a_usage_error_before_any_call(
    prompt: Path, cli: Cli, fake_bedrock: FakeBedrock, args: list[str], message: str
) -> None:
    for command in ("run", "test"):
        result = cli(command, "q", "-m", "nova-pro", *args)
        assert result.exit_code == 2
        assert result.stderr.strip() == message
    assert fake_bedrock.requests == []


def test_a_bad_value_in_promptlab_yaml_names_its_line(
    prompt: Path, project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "promptlab.yaml", "concurrency: 2\nservice_tier: premium\n")
    result = cli("run", "q", "--examples", "-m", "nova-pro")
    assert result.exit_code == 2
    assert "promptlab.yaml:2: 'service_tier' must be one of priority, default, flex, reserved, " \
           "got 'premium'" in result.stderr  # fmt: skip
    assert fake_bedrock.requests == []

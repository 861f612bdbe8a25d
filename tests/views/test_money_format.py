"""One money formatter (views.format.usd): a cost never shows as zero, and the same cost reads
the same in `run`, `log`, `log show`, `log runs` and `stats`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptlab.views.format import ms, tokens, usd
from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
PROMPT = """\
version: "1.0.0"
instructions: You answer in one line.
input: "Question: {{ q }}"
variables:
  q: {type: string}
"""


@pytest.mark.parametrize(
    ("cost", "shown"),
    [
        (0.0, "$0"),
        (0.000014, "$0.000014"),
        (0.001, "$0.001000"),
        (0.0123, "$0.0123"),
        (0.5, "$0.5000"),
        (2.5, "$2.50"),
        (1234.567, "$1,234.57"),
        (None, "unknown"),
    ],
)
def test_usd_shows_six_decimals_below_a_cent_four_below_a_dollar_then_cents(
    cost: float | None, shown: str
) -> None:
    assert usd(cost) == shown


@pytest.mark.parametrize("cost", [1e-7, 3.5e-8, 4.9e-7, 1e-12])
def test_usd_never_shows_a_non_zero_cost_as_zero(cost: float) -> None:
    text = usd(cost)
    assert text.startswith("$0.0000") and text.strip("$0.")
    assert float(text.removeprefix("$")) == pytest.approx(cost, rel=0.1)


def test_a_model_that_is_not_real_costs_nothing_offline() -> None:
    assert usd(0.0, real=False) == "$0 (offline)"


def test_milliseconds_and_tokens_have_one_form_each() -> None:
    assert (ms(850), ms(850.4), ms(12_345), ms(None)) == ("850 ms", "850 ms", "12.3 s", "–")
    assert (ms(12_345, unit=False), ms(None, unit=False)) == ("12,345", "")
    assert (tokens(1234), tokens(1234, estimated=True), tokens(None)) == ("1,234", "~1,234", "–")


def test_the_same_cost_reads_the_same_in_run_log_and_stats(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "prompts" / "q.yaml", PROMPT)
    # Claude 3 Haiku: 40 × $0.00025/1K in + 4 × $0.00125/1K out = $0.000015
    fake_bedrock.script(HAIKU, text="Paris.", usage={"inputTokens": 40, "outputTokens": 4})
    run = cli("run", "q", "-m", "claude-haiku", "-v", "q=capital?")
    assert run.exit_code == 0, run.output + run.stderr
    [row] = json.loads(cli("log", "--format", "json").stdout)
    assert row["cost_usd"] == pytest.approx(0.000015)
    shown = usd(row["cost_usd"])
    assert shown == "$0.000015"
    outputs = {
        "run": run.stdout,
        "log": cli("log").stdout,
        "log show": cli("log", "show", str(row["id"])).stdout,
        "log runs": cli("log", "runs").stdout,
        "stats": cli("stats").stdout,
    }
    for command, text in outputs.items():
        assert shown in text, f"{command} does not show {shown}:\n{text}"

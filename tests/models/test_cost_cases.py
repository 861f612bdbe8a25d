"""Money correctness: each call's cost, worked out by hand from the shipped price table
(promptlab/data/prices.json, USD per 1,000 tokens) or a promptlab.yaml price, against the one
cost function. The arithmetic is written out in each case; nothing here asks the code under
test what the answer should be."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from promptlab.catalogue import cache_savings_usd, completion_cost, resolve
from promptlab.config import Config, Price
from promptlab.request import CachePoint, Message, Request, Text
from promptlab.results import Completion
from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

# The shipped rows these cases use (USD per 1,000 tokens), copied here so a price change is
# a visible change to this file:
#   claude-haiku       anthropic.claude-3-haiku-20240307-v1:0   in 0.00025  out 0.00125
#                      batch in 0.000125, batch out 0.000625; no cache prices
#   claude-3.5-haiku   anthropic.claude-3-5-haiku-20241022-v1:0 in 0.0008   out 0.004
#   claude-sonnet-4.5  anthropic.claude-sonnet-4-5-20250929-v1:0 in 0.003   out 0.015
#                      cache read 0.0003 (input x 0.1), cache write 0.00375 (input x 1.25)
#   nova-lite          amazon.nova-lite-v1:0                     in 0.00006 out 0.00024
#                      cache read 0.000015 (input x 0.25), cache write 0.00006 (= input)
#   titan-express      amazon.titan-text-express-v1             in 0.0002   out 0.0006; no batch
APP_PROFILE = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4"
ROUTER = "arn:aws:bedrock:us-east-1:123456789012:default-prompt-router/anthropic.claude:1"
ROUTER_PICK = (
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
    "us.anthropic.claude-3-5-haiku-20241022-v1:0"
)
YAML_PRICES = Config(
    root=Path("."),
    prices={
        "tiered": Price(
            input=0.00025,
            output=0.00125,
            priority_input=0.00035,
            priority_output=0.00175,
            flex_input=0.000125,
            flex_output=0.000625,
            cache_read=0.000025,
        ),
        "claude-sonnet-4.5": Price(
            input=0.003, output=0.015, cache_read=0.0003, cache_write=0.00375, cache_write_1h=0.006
        ),
    },
    aliases={"tiered": "anthropic.claude-3-haiku-20240307-v1:0"},
)


@dataclass(frozen=True)
class Case:
    name: str
    model: str
    input_tokens: int | None
    output_tokens: int | None
    expected: float | None  # worked out by hand in the case; None: unknown, never guessed
    cache_read: int | None = None
    cache_write: int | None = None
    tier: str | None = None  # serviceTier the request asked for
    served_by: str | None = None  # the model the response says ran
    ttl: str | None = None  # the lifetime the request's cache points asked for
    config: Config | None = None
    extra: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case("plain on-demand", "claude-haiku", 2000, 500,
         2000 / 1000 * 0.00025 + 500 / 1000 * 0.00125),  # 0.0005 + 0.000625 = 0.001125
    Case("cache write (5-minute) at input x 1.25", "claude-sonnet-4.5", 100, 200,
         100 / 1000 * 0.003 + 3000 / 1000 * 0.00375 + 200 / 1000 * 0.015,  # = 0.01455
         cache_write=3000),
    Case("cache read at input x 0.1", "claude-sonnet-4.5", 100, 200,
         100 / 1000 * 0.003 + 3000 / 1000 * 0.0003 + 200 / 1000 * 0.015,  # = 0.0042
         cache_read=3000),
    Case("cache read and write in one call", "claude-sonnet-4.5", 50, 100,
         50 / 1000 * 0.003 + 1000 / 1000 * 0.0003 + 2000 / 1000 * 0.00375
         + 100 / 1000 * 0.015,  # 0.00015 + 0.0003 + 0.0075 + 0.0015 = 0.00945
         cache_read=1000, cache_write=2000),
    Case("Nova cache read at input x 0.25", "nova-lite", 500, 100,
         500 / 1000 * 0.00006 + 4000 / 1000 * 0.000015 + 100 / 1000 * 0.00024,  # = 0.000114
         cache_read=4000),
    Case("Nova cache write at the input price", "nova-lite", 500, 100,
         500 / 1000 * 0.00006 + 4000 / 1000 * 0.00006 + 100 / 1000 * 0.00024,  # = 0.000294
         cache_write=4000),
    Case("cache read without a cache-read price is unknown", "claude-haiku", 100, 200, None,
         cache_read=3000),
    Case("zero cache tokens need no cache price", "claude-haiku", 100, 200,
         100 / 1000 * 0.00025 + 200 / 1000 * 0.00125,  # = 0.0002750
         cache_read=0, cache_write=0),
    Case("1-hour cache write without its price is unknown", "claude-sonnet-4.5", 100, 200, None,
         cache_write=3000, ttl="1h"),
    Case("1-hour cache write at a promptlab.yaml price", "claude-sonnet-4.5", 100, 200,
         100 / 1000 * 0.003 + 3000 / 1000 * 0.006 + 200 / 1000 * 0.015,  # = 0.0213
         cache_write=3000, ttl="1h", config=YAML_PRICES),
    Case("1-hour cache read is an ordinary cache read", "claude-sonnet-4.5", 100, 200,
         100 / 1000 * 0.003 + 3000 / 1000 * 0.0003 + 200 / 1000 * 0.015,  # = 0.0042
         cache_read=3000, ttl="1h"),
    Case("batch at the batch prices", "claude-haiku", 2000, 500,
         2000 / 1000 * 0.000125 + 500 / 1000 * 0.000625,  # 0.00025 + 0.0003125 = 0.0005625
         extra={"batch": True}),
    Case("batch without batch prices is unknown", "titan-express", 2000, 500, None,
         extra={"batch": True}),
    Case("priority tier at its prices", "tiered", 2000, 500,
         2000 / 1000 * 0.00035 + 500 / 1000 * 0.00175,  # 0.0007 + 0.000875 = 0.001575
         tier="priority", config=YAML_PRICES),
    Case("flex tier at its prices", "tiered", 2000, 500,
         2000 / 1000 * 0.000125 + 500 / 1000 * 0.000625,  # = 0.0005625
         tier="flex", config=YAML_PRICES),
    # cache prices are on-demand ones; AWS lists none per tier: unknown, not on-demand's
    Case("priority tier with cache reads is unknown", "tiered", 2000, 500, None,
         cache_read=1000, tier="priority", config=YAML_PRICES),
    Case("priority tier without tier prices is unknown", "claude-haiku", 2000, 500, None,
         tier="priority"),
    Case("default tier is on-demand", "claude-haiku", 2000, 500,
         2000 / 1000 * 0.00025 + 500 / 1000 * 0.00125,  # = 0.001125
         tier="default"),
    Case("application inference profile alone is unknown", APP_PROFILE, 2000, 500, None),
    Case("application inference profile served by a known model", APP_PROFILE, 2000, 500,
         2000 / 1000 * 0.00025 + 500 / 1000 * 0.00125,  # claude-haiku: 0.001125
         served_by="arn:aws:bedrock:us-east-1::foundation-model/"
         "anthropic.claude-3-haiku-20240307-v1:0"),
    Case("prompt router priced as the model it picked", ROUTER, 1000, 250,
         1000 / 1000 * 0.0008 + 250 / 1000 * 0.004,  # claude-3.5-haiku: 0.0008 + 0.001
         served_by=ROUTER_PICK),
    Case("unknown model is unknown", "mystery.model-v1:0", 2000, 500, None),
    Case("unknown token counts are unknown", "claude-haiku", None, 500, None),
    Case("the offline echo model is free", "echo", 2000, 500, 0.0),
]  # fmt: skip


def request_for(case: Case) -> Request:
    """The request the call sent: its tier, and cache points with the case's lifetime."""
    system = (Text("Be brief."), CachePoint(case.ttl)) if case.ttl else (Text("Be brief."),)
    tier = {"type": case.tier} if case.tier else None
    return Request(system, (Message.user("Hi"),), service_tier=tier)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_call_cost_matches_the_hand_computed_bill(case: Case) -> None:
    config = case.config or Config(root=Path("."))
    ref = resolve(case.model, config)
    completion = Completion(
        output="ok", input_tokens=case.input_tokens, output_tokens=case.output_tokens,
        cache_read_tokens=case.cache_read, cache_write_tokens=case.cache_write,
        served_model_id=case.served_by,
    )  # fmt: skip
    if case.extra.get("batch"):
        from promptlab.catalogue import cost_usd

        cost = cost_usd(ref, case.input_tokens, case.output_tokens, config, batch=True,
                        cache_read=case.cache_read, cache_write=case.cache_write)  # fmt: skip
    else:
        cost = completion_cost(ref, completion, request_for(case), config)
    if case.expected is None:
        assert cost is None
    else:
        assert cost == pytest.approx(case.expected, rel=1e-9, abs=1e-12)


def test_cache_savings_are_the_input_price_less_the_read_price() -> None:
    sonnet = resolve("claude-sonnet-4.5")
    # 10,000 tokens read: 10 * 0.003 at the input price, 10 * 0.0003 as read: 0.03 - 0.003
    assert cache_savings_usd(sonnet, 10_000) == pytest.approx(10 * 0.003 - 10 * 0.0003)
    nova = resolve("nova-lite")
    assert cache_savings_usd(nova, 10_000) == pytest.approx(10 * 0.00006 - 10 * 0.000015)
    assert cache_savings_usd(resolve("claude-haiku"), 10_000) is None  # no cache-read price
    router = resolve(ROUTER)
    assert cache_savings_usd(router, 1000) is None
    # claude-3.5-haiku picked by the router: 0.0008 input, 0.00008 cache read
    picked = "anthropic.claude-3-5-haiku-20241022-v1:0"
    assert cache_savings_usd(router, 1000, served_by=picked) == pytest.approx(0.0008 - 0.00008)


# ---------------------------------------------------------------- totals through the CLI

PROMPT = """\
version: "1.0.0"
instructions: You answer from the handbook, citing its sections by number.
context: |
  1. Returns: unused items within 30 days. 2. Warranty: two years on defects.
input: "{{ q }}"
variables:
  q: {type: string, default: Can I return boots?}
cache: [instructions, context]
"""
MODELS = "claude-sonnet-4.5,nova-lite,claude-haiku,mistral-large"


def shown_cost(line: str) -> float:
    """The dollars in a summary line's `cost $X`."""
    match = re.search(r"· cost \$([0-9.,]+)", line)
    assert match, line
    return float(match.group(1).replace(",", ""))


def test_run_summary_and_stats_totals_are_the_sum_of_the_cells(
    project: Path, fake_bedrock: FakeBedrock
) -> None:
    """Two runs of four models (cache written, then read; one model without caching, one
    without cache prices): each summary's cost is the sum of its cells, and `stats` adds up
    to every cell of both runs."""
    cli = Cli()
    write(project / "prompts" / "hb.yaml", PROMPT)
    cells: list[float] = []
    for question in ("Can I return boots?", "Is a torn seam covered?"):
        result = cli("run", "hb", "-m", MODELS, "-v", f"q={question}", "--no-stream")
        assert result.exit_code == 0, result.output
        summary = result.stdout.strip().splitlines()[-1]
        logged = json.loads(cli("log", "--run", "last", "-f", "json").stdout)
        assert len(logged) == 4
        costs = [r["cost_usd"] for r in logged]
        assert None not in costs
        read = [bool(r["usage"]["cache_read_tokens"]) for r in logged]
        assert any(read) == bool(cells)  # the second run reads what the first wrote
        assert shown_cost(summary) == pytest.approx(sum(costs), abs=5e-7)  # shown to 6 places
        cells += costs
    groups = json.loads(cli("stats", "-f", "json").stdout)["groups"]
    assert sum(g["calls"] for g in groups) == 8
    assert sum(g["cost_usd"] for g in groups) == pytest.approx(sum(cells), abs=4 * 5e-7)

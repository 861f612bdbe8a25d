"""Latency modes and service tiers in the capability table and the price table."""

from __future__ import annotations

import pytest

from promptlab.catalogue import adapt, completion_cost, cost_usd, quirk_for, resolve, unpriced_mode
from promptlab.config import Config, Price
from promptlab.controls import Controls, mode_label, ran
from promptlab.request import Request
from promptlab.results import Completion

NOVA_PRO = resolve("nova-pro")
ASK = Request.of("Be brief.", "hi")


def asked(latency: str | None = None, tier: str | None = None) -> Request:
    return Controls(latency, tier).apply(ASK)


@pytest.mark.parametrize(
    ("alias", "optimized", "tiers"),
    [
        ("nova-pro", True, ("priority", "flex")),
        ("nova-premier", False, ("priority", "flex")),
        ("claude-3.5-haiku", True, ()),
        ("llama3.1-70b", True, ()),
        ("nova-lite", False, ()),
        ("claude-haiku", False, ()),
        ("echo", True, ("priority", "flex", "reserved")),
    ],
)  # fmt: skip
def test_the_capability_table_says_who_offers_what(
    alias: str, optimized: bool, tiers: tuple[str, ...]
) -> None:
    quirk = quirk_for(resolve(alias))
    assert (quirk.latency_optimized, quirk.tiers) == (optimized, tiers)


def test_a_model_that_offers_them_is_sent_the_latency_mode_and_tier() -> None:
    request, notices = adapt(asked("optimized", "priority"), NOVA_PRO)
    assert notices == []
    body = request.to_converse()
    assert body["performanceConfig"] == {"latency": "optimized"}
    assert body["serviceTier"] == {"type": "priority"}


def test_elsewhere_they_are_not_sent_and_a_notice_says_so() -> None:
    request, notices = adapt(asked("optimized", "flex"), resolve("nova-lite"))
    assert "performanceConfig" not in request.to_converse()
    assert "serviceTier" not in request.to_converse()
    assert notices == [
        "nova-lite: latency-optimized inference is not offered for this model; sent at "
        "standard latency",
        "nova-lite: the flex service tier is not offered for this model; sent on the default tier",
    ]
    _, notices = adapt(asked(tier="reserved"), resolve("nova-premier"))
    assert notices == ["nova-premier: the reserved service tier is not offered for this model "
                       "(it offers priority, flex); sent on the default tier"]  # fmt: skip


def test_standard_latency_and_the_default_tier_are_dropped_quietly_where_not_offered() -> None:
    request, notices = adapt(asked("standard", "default"), resolve("claude-haiku"))
    assert notices == []
    assert set(request.to_converse()) == {"messages", "system"}
    kept, _ = adapt(asked("standard", "default"), NOVA_PRO)
    assert kept.performance_config == {"latency": "standard"}
    assert kept.service_tier == {"type": "default"}


def test_each_tier_and_latency_mode_is_priced_at_its_own_rates() -> None:
    on_demand = 1000 / 1000 * 0.0008 + 500 / 1000 * 0.0032
    assert cost_usd(NOVA_PRO, 1000, 500) == pytest.approx(on_demand)
    assert cost_usd(NOVA_PRO, 1000, 500, tier="default") == pytest.approx(on_demand)
    assert cost_usd(NOVA_PRO, 1000, 500, tier="priority") == pytest.approx(on_demand * 1.75)
    assert cost_usd(NOVA_PRO, 1000, 500, tier="flex") == pytest.approx(on_demand * 0.5)
    assert cost_usd(NOVA_PRO, 1000, 500, latency="optimized") == pytest.approx(0.001 + 0.002)
    haiku = resolve("claude-3.5-haiku")
    assert cost_usd(haiku, 1000, 1000, latency="optimized") == pytest.approx(0.001 + 0.005)


def test_a_tier_or_mode_without_a_price_is_unknown_never_guessed() -> None:
    assert cost_usd(resolve("nova-premier"), 1000, 500, tier="priority") is None
    assert cost_usd(resolve("llama3.1-70b"), 1000, 500, latency="optimized") is None
    assert cost_usd(NOVA_PRO, 1000, 500, tier="reserved") is None  # billed by reservation
    assert cost_usd(NOVA_PRO, 1000, 500, tier="flex", latency="optimized") is None
    assert cost_usd(NOVA_PRO, 1000, 500, tier="flex", batch=True) is None
    assert cost_usd(NOVA_PRO, 1000, 500, tier="flex", cache_read=100) is None
    assert cost_usd(NOVA_PRO, 1000, 500, cache_read=100) is not None


def test_a_price_override_prices_a_tier_the_table_does_not() -> None:
    config = Config(root=".", prices={"nova-premier": Price(0.0025, 0.0125, priority_input=0.005,
                                                             priority_output=0.025)})  # fmt: skip
    cost = cost_usd(resolve("nova-premier"), 1000, 1000, config, tier="priority")
    assert cost == pytest.approx(0.005 + 0.025)


def test_the_tier_that_ran_is_billed_not_the_one_asked_for() -> None:
    request = asked(tier="priority")
    served_default = Completion("ok", input_tokens=1000, output_tokens=500,
                                response_meta={"serviceTier": {"type": "default"}})  # fmt: skip
    assert completion_cost(NOVA_PRO, served_default, request) == pytest.approx(0.0008 + 0.0016)
    silent = Completion("ok", input_tokens=1000, output_tokens=500)  # no echo: as asked
    assert completion_cost(NOVA_PRO, silent, request) == pytest.approx(0.0014 + 0.0028)
    assert ran(None, request) == ("priority", "standard")
    assert ran({"performanceConfig": {"latency": "optimized"}}) == ("default", "optimized")


def test_an_unpriced_mode_says_why_the_cost_is_unknown() -> None:
    premier = resolve("nova-premier")
    done = Completion("ok", input_tokens=10, output_tokens=5,
                      response_meta={"serviceTier": {"type": "priority"}})  # fmt: skip
    assert unpriced_mode(premier, done, asked(tier="priority")) == (
        "nova-premier: ran on the priority tier, which has no known price for this model: cost "
        "unknown (set priority_input and priority_output under prices: in promptlab.yaml)"
    )
    plain = Completion("ok", input_tokens=10, output_tokens=5)
    assert unpriced_mode(premier, plain, ASK) is None
    assert unpriced_mode(resolve("acme.unknown-v1:0"), done, ASK) is None  # no price at all


def test_the_mode_label_is_empty_for_on_demand_standard() -> None:
    assert mode_label("default", "standard") == ""
    assert mode_label("flex", "standard") == "flex tier"
    assert mode_label("priority", "optimized") == "priority tier · latency optimized"

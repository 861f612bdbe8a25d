"""Model names → ModelRef, per-family quirks, prices and cost."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from promptlab.catalogue import (
    BY_ALIAS,
    CATALOGUE,
    QUIRKS,
    adapt,
    alias_for,
    base_id_of,
    cost_usd,
    price_for,
    resolve,
    shipped_prices,
    split_models,
)
from promptlab.config import Config, Price
from promptlab.errors import UsageError
from promptlab.request import InferenceParams, Request

SONNET_37 = "anthropic.claude-3-7-sonnet-20250219-v1:0"
NOVA_PRO = "amazon.nova-pro-v1:0"


def cfg(tmp_path: Path, **values: object) -> Config:
    return replace(Config(root=tmp_path), **values)  # type: ignore[arg-type]


# ---------------------------------------------------------------- resolve


@pytest.mark.parametrize(
    ("alias", "model_id"),
    [
        ("claude-haiku", "anthropic.claude-3-haiku-20240307-v1:0"),
        ("claude-sonnet", "anthropic.claude-3-5-sonnet-20240620-v1:0"),
        ("nova-micro", "amazon.nova-micro-v1:0"),
        ("nova-lite", "amazon.nova-lite-v1:0"),
        ("nova-pro", "amazon.nova-pro-v1:0"),
        ("llama-8b", "meta.llama3-8b-instruct-v1:0"),
        ("llama-70b", "meta.llama3-70b-instruct-v1:0"),
        ("mistral-large", "mistral.mistral-large-2402-v1:0"),
        ("titan-express", "amazon.titan-text-express-v1"),
    ],
)
def test_shipped_aliases_resolve_to_on_demand_ids(alias: str, model_id: str) -> None:
    ref = resolve(alias)
    assert (ref.alias, ref.model_id, ref.base_id, ref.provider) == (
        alias,
        model_id,
        model_id,
        "bedrock",
    )


@pytest.mark.parametrize(
    ("region", "prefix"),
    [("us-east-1", "us"), ("eu-central-1", "eu"), ("ap-northeast-1", "apac"), (None, "us")],
)
def test_profile_only_alias_gets_the_regions_geo_prefix(region: str | None, prefix: str) -> None:
    ref = resolve("claude-3.7-sonnet", region=region)
    assert ref.model_id == f"{prefix}.{SONNET_37}"
    assert ref.base_id == SONNET_37


def test_user_alias_from_config_wins_and_keeps_its_name(tmp_path: Path) -> None:
    config = cfg(tmp_path, aliases={"fast": "nova-micro", "nova-pro": "eu.amazon.nova-pro-v1:0"})
    fast = resolve("fast", config)
    assert (fast.alias, fast.model_id) == ("fast", "amazon.nova-micro-v1:0")
    over = resolve("nova-pro", config)
    assert (over.model_id, over.base_id) == ("eu.amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0")


@pytest.mark.parametrize("prefix", ["us", "eu", "apac", "global"])
def test_inference_profile_ids_map_to_their_base_model(prefix: str) -> None:
    ref = resolve(f"{prefix}.{SONNET_37}")
    assert ref.model_id == f"{prefix}.{SONNET_37}"
    assert ref.base_id == SONNET_37


def test_full_model_id_passes_through() -> None:
    ref = resolve("cohere.command-r-plus-v1:0")
    assert ref.model_id == ref.base_id == "cohere.command-r-plus-v1:0"


@pytest.mark.parametrize(
    ("arn", "base"),
    [
        (f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET_37}", SONNET_37),
        (f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{SONNET_37}", SONNET_37),
        ("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3", None),
        ("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/xyz789", None),
        ("arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/dep1", None),
        ("arn:aws:bedrock:us-east-1:123456789012:imported-model/imp1", None),
        ("arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/amazon.nova-pro-v1:0", NOVA_PRO),
    ],
)  # fmt: skip
def test_arns_of_each_kind_are_accepted(arn: str, base: str | None) -> None:
    ref = resolve(arn)
    assert (ref.model_id, ref.base_id, ref.real) == (arn, base, True)
    assert base_id_of(arn) == base


def test_unknown_name_is_a_usage_error_with_suggestions() -> None:
    with pytest.raises(UsageError) as info:
        resolve("claude-haiku-45")
    assert "unknown model 'claude-haiku-45'" in info.value.message
    assert "claude-haiku" in (info.value.hint or "")
    assert info.value.exit_code == 2


def test_unknown_name_without_close_match_points_at_the_catalogue() -> None:
    with pytest.raises(UsageError) as info:
        resolve("zzzz")
    assert "promptlab models --offline" in (info.value.hint or "")


def test_user_aliases_are_suggested_too(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        resolve("my-fine-tuned", cfg(tmp_path, aliases={"my-finetuned": "nova-lite"}))
    assert "my-finetuned" in (info.value.hint or "")


def test_echo_is_not_a_real_model() -> None:
    ref = resolve("echo")
    assert (ref.provider, ref.real) == ("echo", False)


def test_split_models_accepts_repeats_and_commas_keeping_order() -> None:
    assert split_models(["a,b", "c", "a", " d , "]) == ["a", "b", "c", "d"]


def test_every_alias_is_unique_and_reverse_lookup_works() -> None:
    assert len(BY_ALIAS) == len(CATALOGUE)
    assert alias_for("amazon.nova-lite-v1:0") == "nova-lite"
    assert alias_for("unknown.model-v1") is None


# ---------------------------------------------------------------- quirks


def test_model_without_system_prompt_gets_instructions_folded_with_a_notice() -> None:
    request = Request("Be formal.", "Hello", InferenceParams(max_tokens=10))
    adapted, notices = adapt(request, resolve("titan-express"))
    assert adapted.system is None
    assert adapted.user == "Be formal.\n\nHello"
    assert adapted.params == request.params
    assert len(notices) == 1 and "no system prompt" in notices[0]


def test_model_with_system_prompt_is_left_alone() -> None:
    request = Request("Be formal.", "Hello", InferenceParams(temperature=0.5, top_p=0.9))
    assert adapt(request, resolve("nova-pro")) == (request, [])


def test_rejected_parameter_is_dropped_with_a_notice() -> None:
    request = Request(None, "Hi", InferenceParams(max_tokens=5, stop=("END",)))
    adapted, notices = adapt(request, resolve("mistral-large-2407"))
    assert adapted.params.stop == () and adapted.params.max_tokens == 5
    assert notices == ["mistral-large-2407: dropped unsupported parameter(s): stop"]


def test_temperature_and_top_p_together_drop_top_p_for_newer_claude() -> None:
    request = Request(None, "Hi", InferenceParams(temperature=0.3, top_p=0.8))
    adapted, notices = adapt(request, resolve("claude-sonnet-4.5"))
    assert (adapted.params.temperature, adapted.params.top_p) == (0.3, None)
    assert "top_p" in notices[0]
    only_one = Request(None, "Hi", InferenceParams(temperature=0.3))
    assert adapt(only_one, resolve("claude-sonnet-4.5")) == (only_one, [])


def test_quirks_follow_the_base_model_through_profiles_and_arns() -> None:
    request = Request("sys", "user")
    arn = "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-lite-v1"
    assert adapt(request, resolve(arn))[0].system is None
    opaque = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc"
    assert adapt(request, resolve(opaque))[0].system == "sys"


def test_quirk_table_prefixes_are_unique() -> None:
    prefixes = [p for p, _ in QUIRKS]
    assert len(prefixes) == len(set(prefixes))


# ---------------------------------------------------------------- prices


def test_profile_prefix_is_priced_as_its_base_model() -> None:
    base = price_for(resolve(SONNET_37))
    assert base is not None
    assert price_for(resolve(f"eu.{SONNET_37}")) == base
    assert price_for(resolve("claude-3.7-sonnet", region="eu-west-1")) == base


def test_cost_uses_per_thousand_token_prices() -> None:
    # Claude 3 Haiku: 0.00025 in, 0.00125 out per 1K tokens.
    assert cost_usd(resolve("claude-haiku"), 2000, 1000) == pytest.approx(0.0005 + 0.00125)


def test_config_prices_override_and_extend_the_shipped_table(tmp_path: Path) -> None:
    config = cfg(
        tmp_path,
        prices={
            "nova-micro": Price(1.0, 2.0),
            "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/p1": Price(0.5, 0.5),
        },
    )
    assert cost_usd(resolve("nova-micro"), 1000, 1000, config) == 3.0
    arn = resolve("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/p1")
    assert cost_usd(arn, 2000, 0, config) == 1.0


def test_unknown_price_is_none_never_guessed() -> None:
    assert price_for(resolve("acme.unknown-model-v1:0")) is None
    assert cost_usd(resolve("acme.unknown-model-v1:0"), 100, 100) is None
    opaque = resolve("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/x")
    assert cost_usd(opaque, 100, 100) is None
    assert cost_usd(resolve("nova-micro"), None, 100) is None


def test_echo_costs_nothing() -> None:
    assert cost_usd(resolve("echo"), 100, 100) == 0.0


def test_every_shipped_alias_has_a_dated_price_with_sources() -> None:
    table = shipped_prices()
    assert table["updated"] and table["sources"]
    per_image = table["images"]["models"]
    assert table["images"]["updated"] and table["images"]["sources"]
    missing = [e.alias for e in CATALOGUE
               if e.model_id not in table["models"] and e.model_id not in per_image]  # fmt: skip
    assert missing == []
    for row in table["models"].values():
        assert row["input"] >= 0 and row["output"] >= 0


def config_with(tmp_path: Path, **aliases: str) -> Config:
    return Config(root=tmp_path, file=tmp_path / "promptlab.yaml", aliases=aliases)


def test_a_user_alias_may_point_to_another_user_alias(tmp_path: Path) -> None:
    config = config_with(tmp_path, fast="nova-micro", quick="fast")
    ref = resolve("quick", config, "us-east-1")
    assert (ref.alias, ref.model_id) == ("quick", "amazon.nova-micro-v1:0")


def test_user_aliases_may_swap_shipped_names(tmp_path: Path) -> None:
    config = config_with(tmp_path, **{"claude-haiku": "nova-micro", "nova-micro": "claude-haiku"})
    assert resolve("claude-haiku", config).model_id == "amazon.nova-micro-v1:0"
    assert resolve("nova-micro", config).model_id == "anthropic.claude-3-haiku-20240307-v1:0"


def test_an_alias_to_an_unknown_model_names_the_alias_and_its_file(tmp_path: Path) -> None:
    config = config_with(tmp_path, bad="nova-mikro", via="bad")
    with pytest.raises(UsageError) as info:
        resolve("via", config)
    assert "alias 'via' (promptlab.yaml aliases) points to 'nova-mikro'" in info.value.message
    assert "via → bad → nova-mikro" in info.value.message
    assert "nova-micro" in (info.value.hint or "")


def test_aliases_that_go_round_in_a_circle_are_an_error(tmp_path: Path) -> None:
    config = config_with(tmp_path, a="b", b="a")
    with pytest.raises(UsageError, match="circle: a → b → a"):
        resolve("a", config)

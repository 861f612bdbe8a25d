"""Prompt routers: `models --routers` lists the region's routers with their models (the fake
control plane's ListPromptRouters, paged); a router run next to its members is compared per
case: whom it chose, what it saved against the most expensive member, and the difference in
pass rate in `test`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptlab.assertions.rated import RatedFacts
from promptlab.routers import Cell, compare, rated_quality
from tests.conftest import ONE_LINE_PROMPT, Cli, write
from tests.fakebedrock import FakeBedrock

ACCOUNT = "arn:aws:bedrock:us-east-1:123456789012"
ROUTER = f"{ACCOUNT}:default-prompt-router/anthropic.claude:1"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
USAGE = {"inputTokens": 1000, "outputTokens": 200}
HAIKU_COST = 0.00025 + 0.2 * 0.00125
SONNET_COST = 0.003 + 0.2 * 0.015
PROMPT = ONE_LINE_PROMPT


@pytest.fixture
def routed(project: Path, fake_bedrock: FakeBedrock) -> FakeBedrock:
    write(project / "prompts" / "q.yaml", PROMPT)
    write(project / "promptlab.yaml", f"aliases:\n  router: {ROUTER}\n")
    fake_bedrock.default.usage = USAGE
    fake_bedrock.default.text = "Paris."
    fake_bedrock.script(ROUTER, invoked_model=f"{ACCOUNT}:inference-profile/us.{HAIKU}")
    return fake_bedrock


def test_models_routers_lists_every_router_with_its_models(fake_bedrock: FakeBedrock,
                                                            cli: Cli) -> None:  # fmt: skip
    fake_bedrock.prompt_router(ROUTER, [HAIKU, SONNET], HAIKU, name="Anthropic router",
                               quality_difference=0.5)  # fmt: skip
    for n in range(2):  # three routers: two pages
        fake_bedrock.prompt_router(f"{ACCOUNT}:prompt-router/custom{n}", ["amazon.nova-lite-v1:0",
                                   "amazon.nova-pro-v1:0"], "amazon.nova-lite-v1:0",
                                   type="custom")  # fmt: skip
    result = cli("models", "--routers", "-f", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["arn"] for r in rows] == [ROUTER, *(f"{ACCOUNT}:prompt-router/custom{n}"
                                                  for n in range(2))]  # fmt: skip
    assert rows[0]["models"] == [HAIKU, SONNET] and rows[0]["fallback_model"] == HAIKU
    assert rows[0]["quality_difference"] == 0.5 and rows[1]["type"] == "custom"
    assert fake_bedrock.count(op="list-prompt-routers") == 2
    table = cli("models", "--routers").stdout
    assert ROUTER in table and "Anthropic" in table  # the ARN whole, on one line
    for name in ("claude-haiku,", "claude-sonnet", "nova-lite,", "nova-pro"):
        assert name in table


def test_a_region_without_routers_says_so_in_one_line(fake_bedrock: FakeBedrock,
                                                      cli: Cli) -> None:  # fmt: skip
    result = cli("models", "--routers")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "no prompt routers in us-east-1"


def test_models_routers_refused_offline_or_with_model_filters(cli: Cli) -> None:
    for extra in (["--offline"], ["--custom"], ["--provider", "anthropic"]):
        result = cli("models", "--routers", *extra)
        assert result.exit_code == 2, extra
        assert "--routers" in result.stderr


def test_a_listing_the_role_may_not_make_is_one_line(fake_bedrock: FakeBedrock, cli: Cli) -> None:
    fake_bedrock.router_error = (403, "AccessDeniedException", "not authorized")
    result = cli("models", "--routers")
    assert result.exit_code == 2
    assert "AccessDeniedException" in result.stderr and "Traceback" not in result.output
    assert "needs bedrock:ListPromptRouters" in result.stderr


def test_a_router_next_to_its_members_shows_whom_it_chose_and_what_it_saved(
    routed: FakeBedrock, cli: Cli
) -> None:
    result = cli("run", "q", "--examples", "-m", "router,claude-haiku,claude-sonnet")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "prompt router router vs its most expensive member" in out
    assert "router chose claude-haiku 1×" in out
    saved = f"${SONNET_COST - HAIKU_COST:.6f}"
    assert f"saved {saved} over 1 case(s) against claude-sonnet" in out


def test_a_router_alone_shows_no_comparison(routed: FakeBedrock, cli: Cli) -> None:
    result = cli("run", "q", "--examples", "-m", "router")
    assert result.exit_code == 0, result.output
    assert "router → claude-haiku" in result.stdout
    assert "vs its most expensive member" not in result.stdout


def test_in_a_suite_the_quality_difference_is_the_pass_rate(
    routed: FakeBedrock, cli: Cli, project: Path
) -> None:
    routed.script(ROUTER, text="Lyon.", invoked_model=f"{ACCOUNT}:inference-profile/us.{HAIKU}")
    write(project / "prompts" / "q.tests.yaml", "prompt: q.yaml\ntests:\n  - name: capital\n"
          "    vars: {q: capital of France?}\n    assert:\n      - contains: Paris\n"
          "      - {served-by: claude-haiku, weight: 0}\n")  # fmt: skip
    result = cli("test", "prompts/q.tests.yaml", "-m", "router", "-m", "claude-sonnet")
    out = result.stdout
    assert "router chose claude-haiku 1×" in out
    assert "quality -100 pts on average" in out


def test_compare_takes_the_most_expensive_member_of_each_case() -> None:
    cells = [
        Cell("a", "router", ROUTER, 0.001, HAIKU, 1.0),
        Cell("a", "claude-haiku", HAIKU, 0.001, None, 1.0),
        Cell("a", "claude-sonnet", SONNET, 0.01, None, 0.5),
        Cell("a", "haiku>sonnet", "claude-haiku>claude-sonnet", 0.5),  # a chain: not a member
        Cell("b", "router", ROUTER, 0.002, SONNET, None),
        Cell("b", "claude-sonnet", SONNET, 0.002, None, None),
    ]
    a, b = compare(cells)
    assert (a.case, a.chose, a.large, a.saved_usd, a.quality_delta) == (
        "a", "claude-haiku", "claude-sonnet", 0.009, 0.5)  # fmt: skip
    assert (b.chose, b.saved_usd, b.quality_delta) == ("claude-sonnet", 0.0, None)


def test_without_ratings_run_results_have_no_quality() -> None:
    from tests.store.test_store_api import make_result

    assert rated_quality(make_result(), None) is None
    assert rated_quality(make_result(), lambda result: RatedFacts()) is None


def test_people_s_scores_of_earlier_answers_are_the_quality_in_run(
    routed: FakeBedrock, cli: Cli, project: Path
) -> None:
    """Rated answers to the same case (`promptlab review`) are what `run` compares: the mean
    score on 0..1, 1 → 0 and 5 → 1."""
    from promptlab.store.db import connect
    from promptlab.store.ratings import Rating, run_cases, save

    first = cli("run", "q", "--examples", "-m", "router,claude-sonnet", "-f", "json")
    assert first.exit_code == 0, first.output
    run_id = json.loads(first.stdout)[0]["run_id"]
    con = connect(project / ".promptlab" / "promptlab.db")
    (case,) = run_cases(con, run_id)
    by_model = {a.model_alias: a.call_id for a in case.answers}
    save(con, Rating(run_id, case.key, "ana", list(by_model.values()),
                     scores={by_model["router"]: 4, by_model["claude-sonnet"]: 5}))  # fmt: skip
    con.close()
    result = cli("run", "q", "--examples", "-m", "router,claude-sonnet")
    assert result.exit_code == 0, result.output
    assert "quality -25 pts on average" in result.stdout

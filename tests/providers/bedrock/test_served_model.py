"""What actually ran: an application inference profile's model (looked up once with
GetInferenceProfile on the fake control plane) and a prompt router's pick (the response's
trace.promptRouter.invokedModelId) are priced, adapted, shown and recorded as that model."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from promptlab import profiles
from promptlab.catalogue import resolve
from promptlab.config import load_config
from promptlab.providers.base import ProviderPool
from tests.conftest import ONE_LINE_PROMPT, Cli, write
from tests.fakebedrock import FakeBedrock

PROMPT = ONE_LINE_PROMPT
ACCOUNT = "arn:aws:bedrock:us-east-1:123456789012"
HOUSE = f"{ACCOUNT}:application-inference-profile/house1"
OLD = f"{ACCOUNT}:application-inference-profile/titan1"
ROUTER = f"{ACCOUNT}:default-prompt-router/anthropic.claude:1"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
USAGE = {"inputTokens": 1000, "outputTokens": 500}
HAIKU_COST = 0.00025 + 0.5 * 0.00125


@pytest.fixture
def served(
    project: Path, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> FakeBedrock:
    """The prompt, the fake as control plane too, and house1 → Claude 3 Haiku."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK", fake_bedrock.url)
    write(project / "prompts" / "q.yaml", PROMPT)
    write(project / "promptlab.yaml", f"aliases:\n  house: {HOUSE}\n  router: {ROUTER}\n")
    fake_bedrock.inference_profile(HOUSE, HAIKU)
    fake_bedrock.default.usage = USAGE
    return fake_bedrock


def lookups(fake: FakeBedrock) -> int:
    """GetInferenceProfile calls the fake control plane received."""
    return fake.count(op="get-inference-profile")


def test_an_application_profile_is_priced_and_shown_as_its_model(
    served: FakeBedrock, cli: Cli
) -> None:
    result = cli("run", "q", "--examples", "-m", "house", "-f", "json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["model"]["id"] == HOUSE  # called through the profile
    assert served.count(model=HOUSE, op="converse") == 1
    assert row["served_model_id"] == HAIKU
    assert row["cost_usd"] == pytest.approx(HAIKU_COST)
    table = cli("run", "q", "--examples", "-m", "house").stdout
    assert "house → claude-haiku" in table


def test_the_profile_is_looked_up_once_per_run_and_process(served: FakeBedrock, cli: Cli) -> None:
    write(Path("vars.yaml"), "- {q: one}\n- {q: two}\n- {q: three}\n")
    cli("run", "q", "-m", "house", "--vars", "vars.yaml")
    cli("run", "q", "-m", "house", "--vars", "vars.yaml")
    assert served.count(model=HOUSE, op="converse") == 6
    assert lookups(served) == 1


def test_the_profiles_model_quirks_apply(served: FakeBedrock, cli: Cli) -> None:
    served.inference_profile(OLD, "amazon.titan-text-express-v1")
    result = cli("run", "q", "--examples", "-m", OLD, "--latency", "optimized")
    assert result.exit_code == 0, result.output
    [sent] = [r for r in served.requests_for(OLD) if r.op == "converse"]
    assert "system" not in sent.body  # Titan Text: instructions folded into the user turn
    assert sent.body["messages"][0]["content"][0]["text"].startswith("You answer in one line.")
    assert "performanceConfig" not in sent.body
    assert "no system prompt support" in result.stderr


@pytest.mark.parametrize(
    ("failure", "why"),
    [
        ((403, "AccessDeniedException", "not authorized to perform bedrock:GetInferenceProfile"),
         "AccessDeniedException: not authorized to perform bedrock:GetInferenceProfile"),
        (None, "ResourceNotFoundException"),
    ],
)  # fmt: skip
def test_a_failed_lookup_still_runs_the_call_with_cost_unknown(
    served: FakeBedrock, cli: Cli, failure: tuple[int, str, str] | None, why: str
) -> None:
    served.profile_error = failure
    other = f"{ACCOUNT}:application-inference-profile/gone"
    result = cli("run", "q", "--examples", "-m", other if failure is None else "house",
                 "-f", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["output"] and row["error"] is None
    assert row["cost_usd"] is None and row["served_model_id"] is None
    [note] = [n for n in row["notices"] if "application inference profile" in n]
    assert "the model behind this application inference profile is unknown" in note
    assert why in note and "cost unknown" in note
    assert note in result.stderr


def test_a_prompt_routers_pick_is_priced_shown_and_recorded(
    served: FakeBedrock, cli: Cli, project: Path
) -> None:
    served.script(ROUTER, usage=USAGE, invoked_model=f"{ACCOUNT}:inference-profile/us.{SONNET}")
    result = cli("run", "q", "--examples", "-m", "router", "-f", "json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["served_model_id"] == f"{ACCOUNT}:inference-profile/us.{SONNET}"
    assert row["cost_usd"] == pytest.approx(0.003 + 0.5 * 0.015)
    assert row["response_meta"]["trace"]["promptRouter"]["invokedModelId"].endswith(SONNET)
    assert lookups(served) == 0  # a router is not looked up: the response names the model
    with sqlite3.connect(project / ".promptlab" / "promptlab.db") as db:
        [(stored,)] = db.execute("SELECT served_model_id FROM calls").fetchall()
    assert stored == row["served_model_id"]
    shown = cli("log", "show", "1").stdout
    assert "router → claude-sonnet" in shown
    assert "promptlab-prompt=q" in shown


def test_a_streamed_router_answer_names_its_model_too(served: FakeBedrock, cli: Cli) -> None:
    result = cli("run", "q", "--examples", "-m", "router", "--stream")
    assert result.exit_code == 0, result.output
    assert "router → claude-haiku" in result.stdout  # the fake router's default pick


def test_other_models_are_never_looked_up(served: FakeBedrock) -> None:
    pool = ProviderPool(load_config())
    for name in ("claude-haiku", "echo", ROUTER, f"{ACCOUNT}:provisioned-model/p1"):
        ref = resolve(name)
        assert profiles.served_ref(ref, pool) == (ref, None)
    assert lookups(served) == 0

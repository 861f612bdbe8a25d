"""A fallback chain's answer is cached and resumed like a single model's: the key covers every
link's request and the prompt's `require:` checks; a hit is the answer as recorded (the link
that served, the links passed over with what they cost), free now."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock
from tests.run.test_fallback_chains import LITE, PRO, PRO_COST, PROMPT, SONNET, SONNET_COST

CHAIN = "claude-sonnet>nova-pro"
SUITE = """\
prompt: q.yaml
tests:
  - name: capital
    vars: {q: capital of France?}
    models: ["%s"]
    assert:
      - contains: Paris
"""


@pytest.fixture
def suite(project: Path, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The prompt and a one-case suite on the chain; the first link's answer fails require:."""
    monkeypatch.setenv("PROMPTLAB_MAX_ATTEMPTS", "1")
    write(project / "prompts" / "q.yaml", PROMPT + "require:\n  - contains: Paris\n")
    write(project / "prompts" / "q.tests.yaml", SUITE % CHAIN)
    fake_bedrock.default.usage = {"inputTokens": 1000, "outputTokens": 200}
    fake_bedrock.script(SONNET, text="Lyon, I believe.")
    fake_bedrock.script(PRO, text="Paris.")
    return project / "prompts" / "q.tests.yaml"


def test_a_repeated_test_of_a_chain_is_answered_by_the_cache_as_recorded(
    suite: Path, fake_bedrock: FakeBedrock, cli: Cli, project: Path
) -> None:
    first = cli("test", "prompts/q.tests.yaml")
    assert first.exit_code == 0, first.output
    assert fake_bedrock.count(model=SONNET) == 1 and fake_bedrock.count(model=PRO) == 1
    again = cli("test", "prompts/q.tests.yaml")
    assert again.exit_code == 0, again.output
    assert fake_bedrock.count(model=SONNET) == 1 and fake_bedrock.count(model=PRO) == 1
    logged = json.loads(cli("log", "--format", "json").stdout)
    fresh, hit = sorted(logged, key=lambda r: r["cached"])
    assert hit["cached"] and hit["cost_usd"] == 0.0  # free now, like any cache hit
    assert fresh["cost_usd"] == pytest.approx(SONNET_COST + PRO_COST)
    assert hit["served_by"] == "nova-pro" and hit["output"] == "Paris."
    assert hit["model"]["id"] == fresh["model"]["id"] == CHAIN
    [passed] = hit["fallback"]  # what the link passed over cost when it was called
    assert passed["model"] == "claude-sonnet" and passed["reason"].startswith("failed contains")
    assert passed["cost_usd"] == pytest.approx(SONNET_COST)
    unlabelled = [{k: v for k, v in r["request"].items() if k != "requestMetadata"}
                  for r in (hit, fresh)]  # fmt: skip
    assert unlabelled[0] == unlabelled[1]  # the request of the link that served
    assert any(n.startswith("fell back: claude-sonnet") for n in hit["notices"])


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda p: p.write_text(SUITE % "claude-sonnet>nova-lite"), id="a-link"),
        pytest.param(lambda p: p.write_text(SUITE % "nova-pro>claude-sonnet"), id="the-order"),
        pytest.param(
            lambda p: (p.parent / "q.yaml").write_text(PROMPT + "require:\n  - contains: Par\n"),
            id="a-require-check",
        ),
        pytest.param(
            lambda p: (p.parent / "q.yaml").write_text(
                PROMPT.replace("max_tokens: 100", "max_tokens: 90")
                + "require:\n  - contains: Paris\n"
            ),
            id="the-request",
        ),
    ],
)  # fmt: skip
def test_changing_a_link_or_a_require_check_misses_the_cache(
    suite: Path, fake_bedrock: FakeBedrock, cli: Cli, change: object
) -> None:
    assert cli("test", "prompts/q.tests.yaml").exit_code == 0
    before = fake_bedrock.count()
    change(suite)  # type: ignore[operator]
    fake_bedrock.script(LITE, text="Paris.")
    again = cli("test", "prompts/q.tests.yaml")
    assert again.exit_code == 0, again.output
    assert fake_bedrock.count() > before  # called again, not answered from the cache
    logged = json.loads(cli("log", "--format", "json").stdout)
    assert not any(r["cached"] for r in logged)


def test_resume_skips_the_chain_calls_that_finished_and_makes_the_others(
    suite: Path, fake_bedrock: FakeBedrock, cli: Cli
) -> None:
    second = SUITE.split("tests:\n")[1].replace("capital", "again")
    suite.write_text((SUITE + second) % (CHAIN, CHAIN))
    fake_bedrock.script(SONNET, text="Paris.", fail=1, status=503,
                        error="ServiceUnavailableException")  # fmt: skip
    fake_bedrock.script(PRO, fail=1, status=503, error="ServiceUnavailableException")
    first = cli("test", "prompts/q.tests.yaml", "--concurrency", "1", "--no-cache")
    assert first.exit_code != 0  # the first case: both links failed
    assert fake_bedrock.count() == 3
    resumed = cli("test", "prompts/q.tests.yaml", "--concurrency", "1", "--no-cache",
                  "--resume", "last")  # fmt: skip
    assert resumed.exit_code == 0, resumed.output
    assert fake_bedrock.count() == 4  # only the failed case was asked again, of its first link
    logged = json.loads(cli("log", "--format", "json").stdout)
    answered = [(r["case"], r["served_by"]) for r in logged if r["error"] is None]
    assert sorted(answered) == [("again", "claude-sonnet"), ("capital", "claude-sonnet")]


OVERRIDES = """\
inference:
  temperature: 0
  max_tokens: 100
  overrides:
    nova-pro: {max_tokens: 50}
    %s: {max_tokens: 70}
"""


def sent_max_tokens(fake: FakeBedrock, model: str) -> list[int]:
    return [r.body["inferenceConfig"]["maxTokens"] for r in fake.requests_for(model)]


def test_each_link_is_sent_its_own_inference_override(
    suite: Path, fake_bedrock: FakeBedrock, cli: Cli
) -> None:
    prompt = suite.parent / "q.yaml"
    prompt.write_text(PROMPT.split("inference:")[0] + OVERRIDES % "claude-haiku")
    fake_bedrock.script(SONNET, fail=2, status=503, error="ServiceUnavailableException")
    done = cli("run", "q", "--examples", "-m", "claude-sonnet>nova-pro", "-f", "json")
    assert done.exit_code == 0, done.output
    assert sent_max_tokens(fake_bedrock, SONNET) == [100]  # none of its own: the prompt's
    assert sent_max_tokens(fake_bedrock, PRO) == [50]
    again = cli("run", "q", "--examples", "-m", "claude-sonnet>nova-pro", "--max-tokens", "20")
    assert again.exit_code == 0, again.output
    assert sent_max_tokens(fake_bedrock, PRO)[-1] == 20  # the command line's over the link's


def test_the_chains_own_override_applies_to_links_without_one_with_a_notice_when_mixed(
    suite: Path, fake_bedrock: FakeBedrock, cli: Cli
) -> None:
    prompt = suite.parent / "q.yaml"
    prompt.write_text(PROMPT.split("inference:")[0] + OVERRIDES % "careful")
    (suite.parent.parent / "promptlab.yaml").write_text(f"aliases:\n  careful: {CHAIN}\n")
    fake_bedrock.script(SONNET, fail=1, status=503, error="ServiceUnavailableException")
    done = cli("run", "q", "--examples", "-m", "careful", "-f", "json")
    assert done.exit_code == 0, done.output
    assert sent_max_tokens(fake_bedrock, SONNET) == [70]  # the chain's name's override
    assert sent_max_tokens(fake_bedrock, PRO) == [50]  # its own
    [row] = json.loads(done.stdout)
    assert row["served_by"] == "nova-pro"
    assert ("careful: its inference override is used by claude-sonnet (no override of their "
            "own), not by nova-pro (their own is used)") in row["notices"]  # fmt: skip
    only_chain = OVERRIDES.replace("    nova-pro: {max_tokens: 50}\n", "") % "careful"
    prompt.write_text(PROMPT.split("inference:")[0] + only_chain)
    again = cli("run", "q", "--examples", "-m", "careful", "-f", "json")
    assert again.exit_code == 0, again.output
    assert sent_max_tokens(fake_bedrock, SONNET)[-1] == 70  # the chain's, and no notice
    [row] = json.loads(again.stdout)
    assert not any("inference override" in n for n in row["notices"])


def test_dry_run_prices_a_chain_as_every_link_called_once(
    suite: Path, fake_bedrock: FakeBedrock, cli: Cli
) -> None:
    done = cli("run", "q", "--examples", "-m", "echo>claude-sonnet>nova-pro", "--dry-run",
               "-f", "json")  # fmt: skip
    assert done.exit_code == 0, done.output
    [row] = json.loads(done.stdout)
    echo, sonnet, pro = row["links"]
    assert [x["model"]["alias"] for x in row["links"]] == ["echo", "claude-sonnet", "nova-pro"]
    assert echo["estimated_input_cost_usd"] == 0.0 and row["model"]["real"]
    assert sonnet["estimated_input_cost_usd"] > pro["estimated_input_cost_usd"] > 0
    assert row["estimated_input_cost_usd"] == pytest.approx(
        sonnet["estimated_input_cost_usd"] + pro["estimated_input_cost_usd"]
    )
    assert sonnet["worst_case_output_cost_usd"] == pytest.approx(100 / 1000 * 0.015)
    assert row["worst_case_output_cost_usd"] == pytest.approx(100 / 1000 * (0.015 + 0.0032))
    assert fake_bedrock.count(op="converse") == fake_bedrock.count(op="converse-stream") == 0
    text = cli("run", "q", "--examples", "-m", "echo>claude-sonnet>nova-pro", "--dry-run")
    assert "priced as its worst case, every link called once" in text.stdout
    planned = cli("test", "prompts/q.tests.yaml", "--dry-run")
    assert "fallback chains at their worst case, every link called once" in planned.stdout


def test_a_chain_with_a_link_sampled_above_temperature_0_is_not_cached(
    suite: Path, fake_bedrock: FakeBedrock, cli: Cli
) -> None:
    prompt = suite.parent / "q.yaml"
    prompt.write_text(prompt.read_text().replace(
        "inference: {temperature: 0, max_tokens: 100}",
        "inference:\n  temperature: 0\n  max_tokens: 100\n  overrides:\n"
        "    claude-sonnet: {temperature: 0.7}",
    ))  # fmt: skip
    assert cli("test", "prompts/q.tests.yaml").exit_code == 0
    assert cli("test", "prompts/q.tests.yaml").exit_code == 0
    assert fake_bedrock.count(model=SONNET) == 2  # a new sample each run
    sent = [r.body["inferenceConfig"]["temperature"] for r in fake_bedrock.requests_for(SONNET)]
    assert sent == [0.7, 0.7]

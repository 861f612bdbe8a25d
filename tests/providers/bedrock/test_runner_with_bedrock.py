"""The run engine (Runner + ProviderPool) with the real Bedrock provider and the fake server."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from promptlab.catalogue import resolve
from promptlab.config import Config
from promptlab.prompt import load_prompt, render
from promptlab.providers.base import ProviderPool
from promptlab.runner import Job, Runner, RunOutcome
from tests.conftest import write
from tests.fakebedrock import FakeBedrock, first_user_text

PROMPT = 'version: "1.0.0"\ninstructions: Be brief.\ninput: "Hello {{ who }}"\n'
NOVA = resolve("nova-micro")


def run(tmp_path: Path, models: list[str], *, stream: bool, **cfg: object) -> RunOutcome:
    path = write(tmp_path / "prompts" / "hello.yaml", PROMPT)
    prompt = load_prompt(path)
    rendered = render(prompt, {"who": "Ana"})
    config = replace(Config(root=tmp_path, region="us-east-1"), **cfg)  # type: ignore[arg-type]
    jobs = [
        Job(prompt, rendered, resolve(m, config, "us-east-1"), prompt.inference) for m in models
    ]
    return Runner(ProviderPool(config), config, stream=stream).run(jobs)


def test_one_model_failing_never_hides_the_others(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.default.text = lambda body: "Hi! " + first_user_text(body)
    fake_bedrock.script(
        "amazon.nova-pro-v1:0",
        fail=9,
        status=403,
        error="AccessDeniedException",
        message="You don't have access to the model with the specified model ID.",
    )
    outcome = run(tmp_path, ["nova-micro", "nova-pro", "claude-haiku"], stream=False)
    by_alias = {r.model_alias: r for r in outcome.results}
    assert by_alias["nova-micro"].output == "Hi! Hello Ana"
    assert by_alias["claude-haiku"].ok and by_alias["claude-haiku"].cost_usd is not None
    denied = by_alias["nova-pro"].error
    assert denied is not None and denied.code == "AccessDeniedException"
    assert denied.infrastructure and "us-east-1" in (denied.hint or "")
    assert all(r.region == "us-east-1" for r in outcome.results)


def test_mid_stream_throttling_is_retried_by_the_runner(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.script(
        "amazon.nova-micro-v1:0",
        text="complete answer",
        stream_error=("throttlingException", "Too many requests"),
        stream_error_times=1,
    )
    outcome = run(tmp_path, ["nova-micro"], stream=True, max_attempts=3)
    (result,) = outcome.results
    assert result.ok, result.error
    assert result.output == "complete answer"
    assert result.ttft_ms is not None
    assert fake_bedrock.count(op="converse-stream") == 2


def test_system_prompt_is_folded_for_models_without_one(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    outcome = run(tmp_path, ["titan-express"], stream=False)
    (sent,) = fake_bedrock.requests
    assert "system" not in sent.body
    assert first_user_text(sent.body) == "Be brief.\n\nHello Ana"
    assert any("no system prompt" in n for n in outcome.results[0].notices)


def test_runner_gives_every_worker_a_connection(aws_env: None, tmp_path: Path) -> None:
    """`test -j 32` makes the pool from the config (8) first: the runner must resize it."""
    config = Config(root=tmp_path, region="us-east-1", concurrency=8)
    pool = ProviderPool(config)
    pool.prepare([NOVA])
    Runner(pool, config, concurrency=32)
    client = pool.get(NOVA).client  # type: ignore[attr-defined]
    assert client.meta.config.max_pool_connections >= 32


def test_a_pool_big_enough_is_kept(aws_env: None, tmp_path: Path) -> None:
    config = Config(root=tmp_path, region="us-east-1", concurrency=16)
    pool = ProviderPool(config)
    pool.prepare([NOVA])
    first = pool.get(NOVA)
    Runner(pool, config, concurrency=4)
    assert pool.get(NOVA) is first

"""Throttling seen through boto3 (the fake Bedrock's 429s): botocore's retries reach the
scheduler, which slows that model alone; every attempt is recorded; `stats` counts them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from promptlab.catalogue import resolve
from promptlab.config import Config
from promptlab.prompt import load_prompt, render
from promptlab.providers.base import ProviderPool
from promptlab.runner import Job, Runner
from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

PROMPT = 'version: "1.0.0"\ninput: "Ticket {{ n }}"\nvariables: {n: {type: integer}}\n'
NOVA_MICRO = "amazon.nova-micro-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"


def runner_and_jobs(tmp_path: Path, per_model: int, **cfg: object) -> tuple[Runner, list[Job]]:
    prompt = load_prompt(write(tmp_path / "prompts" / "t.yaml", PROMPT))
    config = replace(Config(root=tmp_path, region="us-east-1"), **cfg)  # type: ignore[arg-type]
    jobs = [Job(prompt, render(prompt, {"n": n}), resolve(m), prompt.inference, vars={"n": n})
            for n in range(per_model) for m in ("nova-micro", "nova-lite")]  # fmt: skip
    return Runner(ProviderPool(config), config), jobs


def test_botocore_retries_of_a_throttled_call_cut_that_model_alone(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.script(NOVA_MICRO, text="late", fail=1, status=429)  # the first request: 429
    runner, jobs = runner_and_jobs(tmp_path, 4, concurrency=8, model_concurrency={"nova-micro": 4})
    outcome = runner.run(jobs)
    assert all(r.ok for r in outcome.results)
    assert sorted(r.attempts for r in outcome.results) == [1] * 7 + [2]
    limits = runner.scheduler.limits()
    assert limits[NOVA_MICRO].cuts == 1 and limits[NOVA_MICRO].lowest == 2
    assert limits[NOVA_LITE].cuts == 0


def test_a_call_throttled_on_every_attempt_records_them_all(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "promptlab.yaml", "retries: {max_attempts: 2}\n")
    write(project / "prompts" / "t.yaml", PROMPT)
    fake_bedrock.script(NOVA_MICRO, throttle_ratio=1.0)
    fake_bedrock.script(NOVA_LITE, text="fine", fail=1, status=429)
    result = cli("run", "t", "-m", "nova-micro,nova-lite", "-v", "n=1", "-f", "json")
    assert result.exit_code == 1
    micro, lite = json.loads(result.stdout)
    assert ("note: nova-micro: 1 call(s) throttled; its concurrency went from 8 down to 4 "
            "(ended at 4)") in result.stderr  # fmt: skip
    assert (micro["error"]["code"], micro["attempts"]) == ("ThrottlingException", 2)
    assert (lite["error"], lite["attempts"]) == (None, 2)
    stats = json.loads(cli("stats", "-f", "json").stdout)["groups"]
    by_id = {g["group"]: g for g in stats}
    assert {k: by_id[NOVA_MICRO][k] for k in ("retried", "extra_attempts", "throttled")} == {
        "retried": 1,
        "extra_attempts": 1,
        "throttled": 1,
    }
    assert {k: by_id[NOVA_LITE][k] for k in ("retried", "extra_attempts", "throttled")} == {
        "retried": 1,
        "extra_attempts": 1,
        "throttled": 0,
    }
    table = cli("stats", "--chart", "none").stdout
    assert "retried" in table and "+tries" in table and "throttled" in table

"""The runner under throttling: per-model caps, a throttled model slowed down alone, attempts."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from promptlab.catalogue import ModelRef
from promptlab.config import Config
from promptlab.prompt import load_prompt, render
from promptlab.providers.base import ModelCallError, OnText, ProviderPool
from promptlab.request import InferenceParams, Request
from promptlab.results import Completion
from promptlab.runner import Job, Runner
from promptlab.scheduling import Scheduler
from tests.conftest import write


class PerModelProvider:
    """Answers after `delay`; counts each model's calls in flight (and the peak); a model in
    `throttled` answers as botocore does after one throttled attempt, or fails throttled."""

    def __init__(self, delay: float = 0.03) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.running: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.throttled: set[str] = set()
        self.give_up: set[str] = set()

    def complete(
        self,
        ref: ModelRef,
        request: Request,
        *,
        stream: bool,
        on_text: OnText | None = None,
        on_reasoning: OnText | None = None,
    ) -> Completion:
        with self.lock:
            self.running[ref.alias] = self.running.get(ref.alias, 0) + 1
            self.peak[ref.alias] = max(self.peak.get(ref.alias, 0), self.running[ref.alias])
        try:
            time.sleep(self.delay)
            if ref.alias in self.give_up:
                raise ModelCallError("ThrottlingException", "Too many requests", "lower it",
                                     infrastructure=True, attempts=4)  # fmt: skip
            if ref.alias in self.throttled:
                return Completion(output="late", attempts=2, retried=("ThrottlingException",))
            return Completion(output="ok")
        finally:
            with self.lock:
                self.running[ref.alias] -= 1

    def embed(self, ref: ModelRef, text: str) -> tuple[list[float], int]:
        return [1.0], 1


def jobs_for(tmp_path: Path, counts: dict[str, int]) -> list[Job]:
    prompt = load_prompt(write(tmp_path / "p.yaml", 'version: "1.0.0"\ninput: hi\n'))
    rendered = render(prompt, {})
    jobs = []
    for alias, n in counts.items():
        ref = ModelRef(alias, f"prov.{alias}", f"prov.{alias}")
        jobs += [Job(prompt, rendered, ref, InferenceParams(), repeat_index=i) for i in range(n)]
    return jobs


def runner_for(provider: PerModelProvider, config: Config, **kw: object) -> Runner:
    pool = ProviderPool(config)
    pool._providers["bedrock"] = provider  # type: ignore[assignment]
    return Runner(pool, config, **kw)  # type: ignore[arg-type]


def test_a_capped_model_runs_at_most_its_cap_while_the_others_use_the_rest(
    tmp_path: Path,
) -> None:
    provider = PerModelProvider()
    config = Config(root=tmp_path, concurrency=6, model_concurrency={"slow": 1})
    outcome = runner_for(provider, config).run(jobs_for(tmp_path, {"slow": 6, "fast": 10}))
    assert all(r.ok for r in outcome.results)
    assert provider.peak["slow"] == 1
    assert provider.peak["fast"] == 5  # the five places the capped model cannot use


def test_a_cap_can_name_the_model_id(tmp_path: Path) -> None:
    provider = PerModelProvider()
    config = Config(root=tmp_path, concurrency=4, model_concurrency={"prov.slow": 2})
    runner_for(provider, config).run(jobs_for(tmp_path, {"slow": 6}))
    assert provider.peak["slow"] == 2


def test_a_throttled_model_slows_down_alone(tmp_path: Path) -> None:
    provider = PerModelProvider()
    provider.throttled.add("hot")
    config = Config(root=tmp_path, concurrency=8, model_concurrency={"hot": 4, "ok": 4})
    runner = runner_for(provider, config)
    outcome = runner.run(jobs_for(tmp_path, {"hot": 24, "ok": 24}))
    limits = runner.scheduler.limits()
    assert (limits["prov.hot"].limit, limits["prov.hot"].cuts >= 2) == (1, True)
    assert (limits["prov.ok"].limit, limits["prov.ok"].cuts) == (4, 0)
    assert provider.peak["ok"] == 4
    assert {r.attempts for r in outcome.results if r.model_alias == "hot"} == {2}


def test_a_call_that_gave_up_throttled_records_every_attempt_and_cuts_the_limit(
    tmp_path: Path,
) -> None:
    provider = PerModelProvider()
    provider.give_up.add("hot")
    config = Config(root=tmp_path, concurrency=4)
    runner = runner_for(provider, config)
    [result] = runner.run(jobs_for(tmp_path, {"hot": 1})).results
    assert result.error is not None and result.error.code == "ThrottlingException"
    assert result.attempts == 4
    assert runner.scheduler.limits()["prov.hot"].limit == 2


def test_the_shared_pool_of_old_lets_one_model_take_every_place(tmp_path: Path) -> None:
    provider = PerModelProvider()
    config = Config(root=tmp_path, concurrency=4, model_concurrency={"a": 1})
    shared = lambda total, caps: Scheduler.shared_pool(total)  # noqa: E731
    runner = runner_for(provider, config, scheduler=shared)
    runner.run(jobs_for(tmp_path, {"a": 8, "b": 2}))
    assert provider.peak["a"] == 4


@pytest.mark.parametrize("concurrency", [1, 3])
def test_results_keep_job_order_whatever_the_order_of_starting(
    tmp_path: Path, concurrency: int
) -> None:
    provider = PerModelProvider(delay=0.0)
    config = Config(root=tmp_path, concurrency=concurrency, model_concurrency={"a": 1})
    jobs = jobs_for(tmp_path, {"a": 5, "b": 5})
    outcome = runner_for(provider, config).run(jobs)
    assert [(r.model_alias, r.repeat_index) for r in outcome.results] == [
        (j.ref.alias, j.repeat_index) for j in jobs
    ]

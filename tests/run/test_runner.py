"""The runner: concurrency, result order, failure isolation, mid-stream retries, Ctrl-C."""

from __future__ import annotations

import _thread
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from promptlab.catalogue import ModelRef
from promptlab.config import Config
from promptlab.prompt import load_prompt, render
from promptlab.providers.base import ModelCallError, OnText, ProviderPool
from promptlab.request import InferenceParams, Request
from promptlab.results import Completion
from promptlab.runner import Event, Job, Runner
from tests.conftest import write


class ScriptedProvider:
    """Answers per model alias: text, an error, a delay; counts in-flight calls."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.calls: dict[str, int] = {}
        self.fail: dict[str, list[ModelCallError]] = {}
        self.crash: set[str] = set()
        self.delay: dict[str, float] = {}
        self.gate: threading.Event | None = None

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
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.calls[ref.alias] = self.calls.get(ref.alias, 0) + 1
        try:
            if self.gate is not None:
                self.gate.wait(5)
            time.sleep(self.delay.get(ref.alias, 0.0))
            if stream and on_text:
                on_text("part ")
            if self.fail.get(ref.alias):
                raise self.fail[ref.alias].pop(0)
            if ref.alias in self.crash:
                raise RuntimeError("boom")
            return Completion(output=f"answer from {ref.alias}", stop_reason="end_turn",
                              input_tokens=10, output_tokens=5, latency_ms=1)  # fmt: skip
        finally:
            with self.lock:
                self.in_flight -= 1

    def embed(self, ref: ModelRef, text: str) -> tuple[list[float], int]:
        return [1.0], 1


@pytest.fixture
def jobs(tmp_path: Path) -> list[Job]:
    prompt = load_prompt(write(tmp_path / "p.yaml", 'version: "1.0.0"\ninput: hi\n'))
    rendered = render(prompt, {})
    return [
        Job(prompt, rendered, ModelRef(f"m{i}", f"prov.m{i}", f"prov.m{i}"), InferenceParams())
        for i in range(6)
    ]


def make_runner(provider: ScriptedProvider, **kw: object) -> Runner:
    config = Config(root=Path("."), max_attempts=3)
    pool = ProviderPool(config)
    pool._providers["bedrock"] = provider  # the pool hands out our scripted provider
    return Runner(pool, config, **kw)  # type: ignore[arg-type]


def test_results_keep_job_order_and_concurrency_is_bounded(jobs: list[Job]) -> None:
    provider = ScriptedProvider()
    provider.delay = {"m0": 0.2, "m1": 0.1}
    outcome = make_runner(provider, concurrency=3).run(jobs)
    assert [r.model_alias for r in outcome.results] == [f"m{i}" for i in range(6)]
    assert provider.max_in_flight == 3
    assert all(r.ok and r.output == f"answer from {r.model_alias}" for r in outcome.results)


def test_all_jobs_run_at_once_when_concurrency_allows(jobs: list[Job]) -> None:
    provider = ScriptedProvider()
    gate = threading.Event()
    provider.gate = gate
    threading.Timer(0.3, gate.set).start()
    make_runner(provider, concurrency=10).run(jobs)
    assert provider.max_in_flight == 6


def test_one_failing_model_does_not_hide_the_others(jobs: list[Job]) -> None:
    provider = ScriptedProvider()
    provider.fail["m1"] = [ModelCallError("AccessDeniedException", "denied", "enable access",
                                          infrastructure=True)]  # fmt: skip
    provider.crash.add("m2")
    outcome = make_runner(provider).run(jobs)
    by = {r.model_alias: r for r in outcome.results}
    assert by["m1"].error is not None and by["m1"].error.code == "AccessDeniedException"
    assert by["m1"].error.infrastructure is True
    assert by["m2"].error is not None and by["m2"].error.code == "RuntimeError"
    assert [a for a, r in by.items() if r.ok] == ["m0", "m3", "m4", "m5"]


def test_retryable_stream_error_is_retried_and_counted(jobs: list[Job]) -> None:
    provider = ScriptedProvider()
    provider.fail["m0"] = [ModelCallError("throttlingException", "slow down", retryable=True)]
    events: list[Event] = []
    outcome = make_runner(provider, stream=True, on_event=events.append).run(jobs[:1])
    assert outcome.results[0].ok
    assert provider.calls["m0"] == 2
    assert [e.kind for e in events].count("retry") == 1


def test_non_retryable_error_is_not_retried(jobs: list[Job]) -> None:
    provider = ScriptedProvider()
    provider.fail["m0"] = [ModelCallError("ValidationException", "bad")]
    outcome = make_runner(provider).run(jobs[:1])
    assert outcome.results[0].error is not None
    assert provider.calls["m0"] == 1


def test_retries_stop_at_max_attempts(jobs: list[Job]) -> None:
    provider = ScriptedProvider()
    provider.fail["m0"] = [ModelCallError("x", "y", retryable=True) for _ in range(5)]
    outcome = make_runner(provider).run(jobs[:1])
    assert outcome.results[0].error is not None
    assert provider.calls["m0"] == 3  # Config(max_attempts=3)


def test_ctrl_c_returns_finished_results(jobs: list[Job], sigint_handled: None) -> None:
    provider = ScriptedProvider()
    provider.delay = {"m5": 3.0}
    runner = make_runner(provider, concurrency=6)

    fired = threading.Event()

    finished: set[int] = set()

    def interrupt_when_others_done(event: Event) -> None:
        if event.kind == "done":
            finished.add(event.index)
        if finished == {0, 1, 2, 3, 4} and not fired.is_set():
            fired.set()  # Ctrl-C while m5 is still running (its call takes 3 s)
            threading.Timer(0.3, _thread.interrupt_main).start()

    runner.on_event = interrupt_when_others_done
    outcome = runner.run(jobs)
    assert outcome.interrupted
    assert sorted(r.model_alias for r in outcome.results) == ["m0", "m1", "m2", "m3", "m4"]


def test_cost_is_computed_from_prices_and_unknown_stays_unknown(jobs: list[Job]) -> None:
    provider = ScriptedProvider()
    known = replace(jobs[0], ref=ModelRef("nova-micro", "amazon.nova-micro-v1:0",
                                          "amazon.nova-micro-v1:0"))  # fmt: skip
    outcome = make_runner(provider).run([known, jobs[1]])
    assert outcome.results[0].cost_usd == pytest.approx(10 / 1000 * 0.000035 + 5 / 1000 * 0.00014)
    assert outcome.results[1].cost_usd is None

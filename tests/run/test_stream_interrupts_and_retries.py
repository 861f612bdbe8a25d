"""Streams cut short by Ctrl-C keep what arrived; retries say how many attempts they took."""

from __future__ import annotations

import _thread
import io
import threading
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from promptlab.catalogue import ModelRef
from promptlab.config import Config
from promptlab.prompt import load_prompt, render
from promptlab.providers.base import ModelCallError, OnText, ProviderPool
from promptlab.request import InferenceParams, Request
from promptlab.results import Completion, Result
from promptlab.runner import Event, Job, Runner
from promptlab.views.live import FOOTER, LiveView
from promptlab.views.table import facts
from tests.conftest import write


class Streamer:
    """Streams `thoughts` (reasoning) then `chunks` for every model; then answers, fails
    (`fail`) or blocks until released."""

    def __init__(self, chunks: list[str], *, fail: list[ModelCallError] | None = None,
                 block: bool = False, attempts: int = 1,
                 thoughts: list[str] | None = None) -> None:  # fmt: skip
        self.chunks, self.fail, self.block = chunks, list(fail or []), block
        self.thoughts = list(thoughts or [])
        self.attempts = attempts
        self.streaming = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def complete(
        self,
        ref: ModelRef,
        request: Request,
        *,
        stream: bool,
        on_text: OnText | None = None,
        on_reasoning: OnText | None = None,
    ) -> Completion:
        self.calls += 1
        for thought in self.thoughts:
            assert on_reasoning is not None
            on_reasoning(thought)
        for chunk in self.chunks:
            assert on_text is not None
            on_text(chunk)
        self.streaming.set()
        if self.fail:
            raise self.fail.pop(0)
        if self.block:
            self.release.wait(10)
            assert on_text is not None
            on_text("more")  # the next chunk after Ctrl-C: the runner stops the stream
        return Completion(output="".join(self.chunks), input_tokens=3, output_tokens=4,
                          attempts=self.attempts)  # fmt: skip

    def embed(self, ref: ModelRef, text: str) -> tuple[list[float], int]:
        return [1.0], 1


class Recorder:
    """A ResultStore that keeps what it is asked to record."""

    def __init__(self) -> None:
        self.recorded: list[Result] = []

    def lookup(self, *args: Any, **kwargs: Any) -> None:
        return None

    def record(self, result: Result, request: Request, extra: Any = None) -> None:
        self.recorded.append(result)


@pytest.fixture
def job(tmp_path: Path) -> Job:
    prompt = load_prompt(write(tmp_path / "p.yaml", 'version: "1.0.0"\ninput: hi\n'))
    ref = ModelRef("nova-micro", "amazon.nova-micro-v1:0", "amazon.nova-micro-v1:0")
    return Job(prompt, render(prompt, {}), ref, InferenceParams())


def runner(provider: Streamer, **kw: Any) -> Runner:
    config = Config(root=Path("."), max_attempts=3)
    pool = ProviderPool(config)
    pool._providers["bedrock"] = provider  # type: ignore[assignment]
    return Runner(pool, config, stream=True, **kw)


def test_ctrl_c_keeps_the_streamed_text_marked_interrupted_and_records_it(
    job: Job, sigint_handled: None
) -> None:
    provider = Streamer(["The answer ", "so far"], block=True)
    store = Recorder()
    run = runner(provider, store=store)
    threading.Thread(target=lambda: (provider.streaming.wait(5), _thread.interrupt_main())).start()
    outcome = run.run([job])
    provider.release.set()
    assert outcome.interrupted
    [cut] = outcome.results
    assert cut.output == "The answer so far"
    assert cut.error is not None and cut.error.code == "Interrupted"
    assert cut.tokens_estimated and cut.output_tokens == 5  # ~4 characters a token
    assert cut.cost_usd is not None and cut.cost_usd > 0
    assert store.recorded == [cut]


def test_a_stream_failing_every_attempt_says_how_many_and_counts_what_was_discarded(
    job: Job,
) -> None:
    fail = [ModelCallError("ModelStreamErrorException", "broke", "failed mid-stream",
                           retryable=True) for _ in range(3)]  # fmt: skip
    provider = Streamer(["x" * 40], fail=fail)
    [result] = runner(provider).run([job]).results
    assert provider.calls == 3
    assert result.error is not None
    assert result.error.message == "broke (3 attempts, each failed mid-stream)"
    assert "--no-stream" in (result.error.hint or "")
    assert result.attempts == 3
    assert any("3 partial answer(s) discarded" in n and "~30 output tokens" in n
               for n in result.notices)  # fmt: skip


def test_a_retried_stream_that_then_succeeds_notes_the_discarded_answer(job: Job) -> None:
    fail = [ModelCallError("ModelStreamErrorException", "broke", retryable=True)]
    [result] = runner(Streamer(["abcd"], fail=fail)).run([job]).results
    assert result.ok and result.attempts == 2
    assert any("1 partial answer(s) discarded" in n for n in result.notices)


def test_botocore_retries_count_as_attempts_and_show_in_the_table_facts(job: Job) -> None:
    [result] = runner(Streamer(["ok"], attempts=3)).run([job]).results
    assert result.attempts == 3
    assert result.to_dict()["attempts"] == 3
    assert Result.from_dict(result.to_dict()).attempts == 3
    latency = dict(facts(result))["latency service / wall"]
    assert latency.endswith("(3 attempts)")


def test_live_view_ends_with_a_short_footer_and_shows_attempts() -> None:
    console = Console(width=80, height=20, file=io.StringIO(), record=True)
    view = LiveView.for_jobs(console, [("", "nova-micro")])
    view.on_event(Event("start", 0))
    view.on_event(Event("text", 0, text="x" * 2000))
    console.print(view.render())
    lines = console.export_text().rstrip("\n").split("\n")
    # the terminal echoes "^C" after the last line: it must not wrap into an extra line
    assert lines[-1].strip() == FOOTER and len(lines[-1].rstrip()) < 78
    assert len(lines) < 20
    done = Result(prompt_name="p", prompt_version="1", prompt_hash="h", model_alias="m",
                  model_id="m", region=None, params={}, request={}, attempts=3)  # fmt: skip
    view.on_event(Event("done", 0, result=done))
    assert "3 attempts" in view.cells[0].header(0.0).plain


# ---------------------------------------------------------------- reasoning


def test_reasoning_streams_as_its_own_events_before_the_answer(job: Job) -> None:
    events: list[Event] = []
    provider = Streamer(["$0.05"], thoughts=["Let x be ", "the ball."])
    runner(provider, on_event=events.append).run([job])
    streamed = [(e.kind, e.text) for e in events if e.kind in ("text", "reasoning")]
    assert streamed == [("reasoning", "Let x be "), ("reasoning", "the ball."), ("text", "$0.05")]


def test_ctrl_c_while_reasoning_keeps_the_reasoning_so_far(job: Job, sigint_handled: None) -> None:
    provider = Streamer([], thoughts=["x" * 40], block=True)
    run = runner(provider, store=Recorder())
    threading.Thread(target=lambda: (provider.streaming.wait(5), _thread.interrupt_main())).start()
    outcome = run.run([job])
    provider.release.set()
    [cut] = outcome.results
    assert cut.error is not None and cut.error.code == "Interrupted"
    assert (cut.output, cut.reasoning) == ("", "x" * 40)
    assert cut.output_tokens == 10 and cut.tokens_estimated  # the reasoning is output too


def test_a_retry_after_reasoning_counts_it_as_discarded(job: Job) -> None:
    events: list[Event] = []
    fail = [ModelCallError("ModelStreamErrorException", "broke", retryable=True)]
    provider = Streamer([], thoughts=["y" * 80], fail=fail)
    [result] = runner(provider, on_event=events.append).run([job]).results
    assert result.ok and provider.calls == 2
    assert "retry" in [e.kind for e in events]
    assert any("~20 output tokens generated" in n for n in result.notices)

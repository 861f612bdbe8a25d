"""The live streaming view: per-model status, text filling in, errors, untrusted text."""

from __future__ import annotations

from rich.console import Console

from promptlab.results import ErrorInfo, Result
from promptlab.runner import Event
from promptlab.views.live import LiveView, tail


def _result(alias: str, output: str = "", error: ErrorInfo | None = None) -> Result:
    return Result(prompt_name="p", prompt_version="1.0.0", prompt_hash="h", model_alias=alias,
                  model_id=alias, region=None, params={}, request={}, output=output,
                  error=error)  # fmt: skip


def screen(view: LiveView) -> str:
    console = Console(record=True, width=120, height=40)
    console.print(view.render())
    return console.export_text()


def test_statuses_and_text_fill_in_side_by_side() -> None:
    console = Console(width=120, height=40)
    view = LiveView.for_jobs(console, [("", "claude-haiku"), ("", "nova-lite"), ("", "llama")])
    first = screen(view)
    assert first.count("waiting") == 3
    view.on_event(Event("start", 0))
    view.on_event(Event("text", 0, text="Hello from "))
    view.on_event(Event("text", 0, text="Claude"))
    view.on_event(Event("start", 1))
    err = ErrorInfo("ThrottlingException", "Too many requests")
    view.on_event(Event("done", 1, result=_result("nova-lite", error=err)))
    text = screen(view)
    assert "streaming" in text and "Hello from Claude" in text and "ttft" in text
    assert "error" in text and "ThrottlingException: Too many" in text
    assert "waiting" in text  # llama not started
    view.on_event(Event("done", 0, result=_result("claude-haiku", "Hello from Claude.")))
    assert "done" in screen(view)


def test_retry_clears_the_partial_text() -> None:
    view = LiveView.for_jobs(Console(width=100), [("", "m")])
    view.on_event(Event("start", 0))
    view.on_event(Event("text", 0, text="partial answer"))
    view.on_event(Event("retry", 0, text="throttlingException"))
    text = screen(view)
    assert "partial answer" not in text and "retry 1" in text


def test_streamed_escape_sequences_are_inert() -> None:
    view = LiveView.for_jobs(Console(width=100), [("", "m")])
    view.on_event(Event("start", 0))
    view.on_event(Event("text", 0, text="\x1b]52;c;evil\x07[red]x[/red]"))
    text = screen(view)
    assert "\\x1b]52;c;evil\\x07[red]x[/red]" in text


def test_rows_for_several_vars_sets() -> None:
    view = LiveView.for_jobs(
        Console(width=120), [("vars #1", "a"), ("vars #1", "b"), ("vars #2", "a"), ("vars #2", "b")]
    )
    text = screen(view)
    assert "vars #1" in text and "vars #2" in text
    assert text.count("waiting") == 4


def test_tail_keeps_the_last_wrapped_lines() -> None:
    assert tail("a" * 25, 2, 10) == "aaaaaaaaaa\naaaaa"
    assert tail("1\n2\n3\n4", 2, 10) == "3\n4"

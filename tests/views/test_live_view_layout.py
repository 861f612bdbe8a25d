"""The live streaming view in real terminal sizes: it always fits, and leaves nothing behind."""

from __future__ import annotations

import io

from rich.console import Console

from promptlab.results import Result
from promptlab.runner import Event
from promptlab.views.live import LiveView

MODELS = ["claude-haiku", "nova-lite", "llama-70b", "nova-pro", "titan-express", "mistral-large"]
LONG = " ".join(f"word{i}" for i in range(400))


def _done(alias: str, output: str) -> Result:
    return Result(prompt_name="p", prompt_version="1.0.0", prompt_hash="h", model_alias=alias,
                  model_id=alias, region=None, params={}, request={}, output=output)  # fmt: skip


def frame(view: LiveView, width: int, height: int) -> list[str]:
    """The lines of the current frame as a terminal of that size shows them."""
    console = Console(record=True, width=width, height=height, file=io.StringIO())
    console.print(view.render())
    return console.export_text().rstrip("\n").split("\n")


def streaming(console: Console, labels: list[tuple[str, str]]) -> LiveView:
    view = LiveView.for_jobs(console, labels)
    for i in range(len(labels)):
        view.on_event(Event("start", i))
        view.on_event(Event("text", i, text=LONG))
    return view


def test_six_models_at_60_columns_fit_the_terminal_height() -> None:
    console = Console(width=60, height=24, file=io.StringIO())
    view = streaming(console, [("", m) for m in MODELS])
    lines = frame(view, 60, 24)
    assert len(lines) < 24
    assert all(len(line) <= 60 for line in lines)


def test_twenty_vars_sets_at_200_columns_fit_the_terminal_height() -> None:
    console = Console(width=200, height=50, file=io.StringIO())
    labels = [(f"vars #{v}\nwho='x{v}'", m) for v in range(1, 21) for m in MODELS[:3]]
    view = streaming(console, labels)
    assert len(frame(view, 200, 50)) < 50


def test_narrow_terminal_stacks_the_models_with_their_status() -> None:
    console = Console(width=60, height=40, file=io.StringIO())
    view = streaming(console, [("", m) for m in MODELS])
    text = "\n".join(frame(view, 60, 40))
    for model in MODELS:  # whole names, not slivers of a 7-character column
        assert f"{model} · streaming" in text


def test_finished_vars_sets_make_room_for_the_running_ones() -> None:
    console = Console(width=200, height=50, file=io.StringIO())
    labels = [(f"vars #{v}", m) for v in range(1, 21) for m in MODELS[:3]]
    view = streaming(console, labels)
    for i, (_row, model) in enumerate(labels[:30]):  # vars #1 … #10 are done
        view.on_event(Event("done", i, result=_done(model, "fine")))
    text = "\n".join(frame(view, 200, 50))
    assert "10 of 20 finished" in text
    assert "vars #11" in text and "vars #1 " not in text


def test_closing_the_view_draws_an_empty_last_frame() -> None:
    """Rich draws a last frame before erasing a transient view; the grid must not be in it."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80, height=12, color_system=None)
    with LiveView.for_jobs(console, [("", "m")]) as view:
        view.on_event(Event("start", 0))
        view.on_event(Event("text", 0, text="the streamed answer"))
    before_cursor_shown = out.getvalue().rsplit("\x1b[?25h", 1)[0]
    last_frame = before_cursor_shown.rsplit("\x1b[2K", 1)[-1]
    assert "streamed answer" not in last_frame and "┏" not in last_frame

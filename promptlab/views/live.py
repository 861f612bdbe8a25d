"""Live streaming view: every model's text filling in side by side while the calls run."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

from rich.console import Console, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from promptlab.runner import Event
from promptlab.views.sanitize import inert

STATUS_STYLE = {
    "waiting": "dim",
    "streaming": "cyan",
    "done": "green",
    "cached": "green",
    "error": "bold red",
}


@dataclass
class Cell:
    label: str
    row: str
    status: str = "waiting"
    text: str = ""
    started: float | None = None
    first_token: float | None = None
    ended: float | None = None
    error: str = ""
    retries: int = 0

    def header(self, now: float) -> Text:
        t = Text(self.status, style=STATUS_STYLE.get(self.status, ""))
        if self.started is not None:
            elapsed = (self.ended or now) - self.started
            t.append(f" · {elapsed:.1f}s", style="dim")
        if self.first_token is not None and self.started is not None:
            t.append(f" · ttft {int((self.first_token - self.started) * 1000)} ms", style="dim")
        if self.retries:
            t.append(f" · retry {self.retries}", style="yellow")
        return t


@dataclass
class LiveView:
    """Feed it Runner events (from any thread); it redraws a grid of model columns."""

    console: Console
    columns: list[str]  # column labels (models)
    rows: list[str]  # row labels (vars sets / cases); one row when comparing models only
    cells: list[Cell] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _live: Live | None = None

    @classmethod
    def for_jobs(cls, console: Console, labels: Sequence[tuple[str, str]]) -> LiveView:
        """labels: (row label, column label) for each job, in job order."""
        columns = list(dict.fromkeys(c for _, c in labels))
        rows = list(dict.fromkeys(r for r, _ in labels))
        view = cls(console, columns, rows)
        view.cells = [Cell(label=c, row=r) for r, c in labels]
        return view

    def __enter__(self) -> LiveView:
        self._live = Live(
            get_renderable=self.render,
            console=self.console,
            refresh_per_second=8,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.__enter__()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.__exit__(et, ev, tb)

    def on_event(self, event: Event) -> None:
        now = time.perf_counter()
        with self._lock:
            cell = self.cells[event.index]
            if event.kind == "start":
                cell.status, cell.started = "streaming", now
            elif event.kind == "text":
                if cell.first_token is None:
                    cell.first_token = now
                cell.text += event.text
            elif event.kind == "retry":
                cell.retries += 1
                cell.text = ""
                cell.first_token = None
            elif event.kind == "done" and event.result is not None:
                r = event.result
                cell.ended = now
                if cell.started is None:
                    cell.started = now
                if r.error:
                    cell.status, cell.error = "error", f"{r.error.code}: {r.error.message}"
                else:
                    cell.status = "cached" if r.cached else "done"
                    cell.text = r.output

    def render(self) -> RenderableType:
        now = time.perf_counter()
        with self._lock:
            height = max(4, (self.console.height - 4) // max(1, len(self.rows)) - 3)
            table = Table(expand=True, show_lines=True)
            if len(self.rows) > 1:
                table.add_column("", no_wrap=True, style="bold", max_width=24)
            for col in self.columns:
                table.add_column(Text(col), ratio=1, overflow="fold")
            width = max(10, self.console.width // max(1, len(self.columns)) - 5)
            for row in self.rows:
                cells = {c.label: c for c in self.cells if c.row == row}
                out: list[RenderableType] = [Text(row)] if len(self.rows) > 1 else []
                for col in self.columns:
                    cell = cells.get(col)
                    if cell is None:
                        out.append(Text(""))
                        continue
                    body = cell.header(now)
                    body.append("\n")
                    if cell.error:
                        body.append(inert(cell.error), style="red")
                    else:
                        body.append(tail(inert(cell.text), height, width))
                    out.append(body)
                table.add_row(*out)
            return table


def tail(text: str, lines: int, width: int) -> str:
    """The last `lines` screen lines of text wrapped at `width` (the part being written)."""
    import textwrap

    wrapped: list[str] = []
    for line in text.splitlines() or [""]:
        wrapped.extend(textwrap.wrap(line, width, replace_whitespace=False) or [""])
    return "\n".join(wrapped[-lines:])

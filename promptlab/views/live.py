"""Live streaming view: every model's text filling in side by side while the calls run; a
reasoning model's reasoning streams first, dimmed, then its answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from promptlab.jobs import Job
from promptlab.runner import Event
from promptlab.views.answer import answer_of
from promptlab.views.format import ms, vars_label
from promptlab.views.sanitize import inert
from promptlab.views.table import MIN_COLUMN

# The last line of every frame. Shorter than the terminal, so the "^C" the terminal echoes
# there cannot wrap into a line the view would not erase (a stray border line after Ctrl-C).
FOOTER = "Ctrl-C stops the run; the answers so far are kept"

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
    reasoning: str = ""  # streamed reasoning, shown dimmed before the answer
    started: float | None = None
    first_token: float | None = None
    ended: float | None = None
    error: str = ""
    retries: int = 0
    attempts: int = 1  # of the finished call (botocore's retries after throttling included)

    def header(self, now: float) -> Text:
        t = Text(self.status, style=STATUS_STYLE.get(self.status, ""))
        if self.started is not None:
            elapsed = (self.ended or now) - self.started
            t.append(f" · {elapsed:.1f}s", style="dim")
        if self.first_token is not None and self.started is not None:
            t.append(f" · ttft {ms(int((self.first_token - self.started) * 1000))}", style="dim")
        if self.attempts > 1:
            t.append(f" · {self.attempts} attempts", style="yellow")
        elif self.retries:
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
    _closing: bool = False

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
            # Live draws one last frame before erasing it (transient): draw nothing, so no stale
            # copy of the grid is left behind above the final table.
            self._closing = True
            self._live.__exit__(et, ev, tb)

    def on_event(self, event: Event) -> None:
        now = time.perf_counter()
        with self._lock:
            cell = self.cells[event.index]
            if event.kind == "start":
                cell.status, cell.started = "streaming", now
            elif event.kind in ("text", "reasoning"):
                if cell.first_token is None:
                    cell.first_token = now
                if event.kind == "text":
                    cell.text += event.text
                else:
                    cell.reasoning += event.text
            elif event.kind == "retry":
                cell.retries += 1
                cell.text = cell.reasoning = ""
                cell.first_token = None
            elif event.kind == "done" and event.result is not None:
                r = event.result
                cell.ended = now
                cell.attempts = r.attempts
                if cell.started is None:
                    cell.started = now
                if r.error:
                    cell.status, cell.error = "error", f"{r.error.code}: {r.error.message}"
                else:
                    cell.status = "cached" if r.cached else "done"
                    answer = answer_of(r)
                    cell.text = answer.plain()
                    cell.reasoning = answer.reasoning_text()[0] if answer.has_reasoning else ""

    def render(self) -> RenderableType:
        """The current frame, never taller than the terminal (taller frames can't be erased)."""
        if self._closing:
            return Text("")
        now = time.perf_counter()
        with self._lock:
            narrow = self.console.width < 20 + MIN_COLUMN * len(self.columns)
            view = self._stacked(now) if narrow else self._grid(now)
        footer = Text(FOOTER[: max(0, self.console.width - 4)], style="dim")
        return Group(Fit(view, max(2, self.console.height - 2)), footer)

    def _body(self, cell: Cell, now: float, lines: int, width: int) -> Text:
        body = cell.header(now)
        body.append("\n")
        if cell.error:  # the start of an error says what went wrong
            body.append("\n".join(wrap(inert(cell.error), width)[:lines]), style="red")
        else:
            parts = [("dim", inert(cell.reasoning))] if cell.reasoning else []
            if cell.text or not parts:
                parts.append(("", inert(cell.text)))
            body.append_text(tail_text(parts, lines, width))
        return body

    def _grid(self, now: float) -> Table:
        """One column per model, one row per vars set."""
        height = max(4, (self.console.height - 4) // max(1, len(self.rows)) - 3)
        table = Table(expand=True, show_lines=True)
        if len(self.rows) > 1:
            table.add_column("", no_wrap=True, style="bold", max_width=24)
        for col in self.columns:
            table.add_column(Text(col), ratio=1, overflow="fold")
        label = 24 if len(self.rows) > 1 else 0
        width = max(10, (self.console.width - label) // max(1, len(self.columns)) - 5)
        rows = self.rows
        if len(rows) * (height + 2) > self.console.height - 4:  # can't all show: skip finished
            rows = [r for r in rows if any(c.ended is None for c in self.cells if c.row == r)]
            if len(rows) < len(self.rows):
                table.title = f"{len(self.rows) - len(rows)} of {len(self.rows)} finished"
                table.title_justify = "left"
        for row in rows:
            cells = {c.label: c for c in self.cells if c.row == row}
            out: list[RenderableType] = [Text(row)] if len(self.rows) > 1 else []
            for col in self.columns:
                cell = cells.get(col)
                out.append(Text("") if cell is None else self._body(cell, now, height, width))
            table.add_row(*out)
        return table

    def _stacked(self, now: float) -> Table:
        """Too narrow for a column per model: one block per model, the last lines of each."""
        several = len(self.rows) > 1
        height = max(2, (self.console.height - 1) // max(1, len(self.cells)) - 3)
        table = Table(expand=True, show_lines=True, show_header=False, title_justify="left")
        table.add_column(ratio=1, overflow="fold")
        cells = self.cells
        if len(cells) * (height + 2) > self.console.height - 1:  # can't all show: skip finished
            cells = [c for c in cells if c.ended is None]
            if len(cells) < len(self.cells):
                table.title = f"{len(self.cells) - len(cells)} of {len(self.cells)} finished"
        for cell in cells:
            row = (cell.row.splitlines() or [""])[0]
            title = Text(f"{row} · " if several else "", style="bold")
            title.append(cell.label, style="bold")
            title.append(" · ")
            body = self._body(cell, now, height, max(10, self.console.width - 4))
            table.add_row(title + body)
        return table


class Fit:
    """Crop a renderable to `height` lines, saying how many were left out."""

    def __init__(self, renderable: RenderableType, height: int) -> None:
        self.renderable = renderable
        self.height = height

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = console.render_lines(self.renderable, options.update(height=None), pad=False)
        if len(lines) > self.height:
            hidden = len(lines) - self.height + 1
            note = f"… {hidden} more line(s) — every answer is printed in full when all finish"
            lines = [*lines[: self.height - 1], [Segment(note, Style(dim=True))]]
        new_line = Segment.line()
        for line in lines:
            yield from line
            yield new_line


def wrap(text: str, width: int) -> list[str]:
    """Screen lines of text wrapped at `width`."""
    import textwrap

    wrapped: list[str] = []
    for line in text.splitlines() or [""]:
        wrapped.extend(textwrap.wrap(line, width, replace_whitespace=False) or [""])
    return wrapped


def tail(text: str, lines: int, width: int) -> str:
    """The last `lines` screen lines of text wrapped at `width` (the part being written)."""
    return "\n".join(wrap(text, width)[-lines:])


def tail_text(parts: Sequence[tuple[str, str]], lines: int, width: int) -> Text:
    """The last `lines` screen lines of several (style, text) parts one under another (a
    blank line between), each line in its part's style: reasoning dimmed, then the answer."""
    screen: list[tuple[str, str]] = []
    for n, (style, text) in enumerate(parts):
        if n:
            screen.append(("", ""))
        screen.extend((style, line) for line in wrap(text, width))
    out = Text()
    for n, (style, line) in enumerate(screen[-lines:]):
        out.append(("\n" if n else "") + line, style=style)
    return out


def job_labels(jobs: Sequence[Job]) -> list[tuple[str, str]]:
    """(row label, column label) of each job: rows are vars sets, columns models (and prompt
    versions when several are compared)."""
    versions = len({j.prompt.content_hash for j in jobs}) > 1
    labels = []
    for job in jobs:
        row = f"{job.case}\n{vars_label(job.vars, 40)}" if job.case else ""
        column = job.ref.alias
        if job.rendered.retrieval:
            column += f" · retrieve {job.rendered.retrieval}"
        if versions:
            column = f"{job.prompt.name} v{job.prompt.version} · {column}"
        labels.append((row, column))
    return labels

"""The stdout console of the table commands, and printing listings sized to their content.

On a terminal (or with COLUMNS set) a listing is at most the console's width. Piped into a file
or a program without COLUMNS it is as wide as its content: never cropped, never wrapped at 80
columns. Either way, lines carry no trailing padding.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.segment import Segment

UNLIMITED = 1_000_000  # "as wide as the content" for piped output


def stdout(piped_width: int | None = None) -> Console:
    """stdout console; piped output (no terminal, no COLUMNS) gets `piped_width` columns
    instead of being cut at 80 (listings printed with `show` need none: they size to content)."""
    from rich.console import Console

    console = Console(highlight=False)
    if piped_width and unbounded(console):
        console = Console(highlight=False, width=piped_width)
    return console


def stderr() -> Console:
    """stderr console whose notes stay one line each (never wrapped at 80 columns in CI logs);
    tables printed on it still fit its width."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def unbounded(console: Console) -> bool:
    """Output goes to a file or a program and COLUMNS does not say how wide to be."""
    return not console.is_terminal and "COLUMNS" not in os.environ


def room(console: Console) -> int | None:
    """The width a listing may take: the console's, or None (no limit) when piped."""
    return None if unbounded(console) else console.width


def show(console: Console, *renderables: RenderableType) -> None:
    """Print renderables as wide as their widest content (capped at the console's width unless
    the output is piped), with trailing spaces stripped from every line."""
    from rich.console import Group
    from rich.measure import Measurement
    from rich.segment import Segment, Segments

    content = renderables[0] if len(renderables) == 1 else Group(*renderables)
    limit = room(console) or UNLIMITED
    need = Measurement.get(console, console.options.update(max_width=limit), content).maximum
    options = console.options.update(width=max(1, min(limit, need)))
    out: list[Segment] = []
    for line in console.render_lines(content, options, pad=False):
        out += _rstrip(line)
        out.append(Segment.line())
    console.print(Segments(out), crop=False, soft_wrap=True)


def _rstrip(line: list[Segment]) -> list[Segment]:
    """A rendered line without its trailing spaces (styles kept)."""
    from rich.segment import Segment

    segments = list(line)
    while segments:
        last = segments[-1]
        if last.control:
            break
        text = last.text.rstrip(" ")
        if text:
            segments[-1] = Segment(text, last.style, last.control)
            break
        segments.pop()
    return segments


def count(n: int, one: str, many: str | None = None) -> str:
    """`1 entry`, `2 entries`, `1,000 calls`: a number and its noun in the right form."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"

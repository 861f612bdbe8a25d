"""Thumbnails of generated images: inline in terminals that draw images, and for the HTML report.

A terminal draws them only when it says it can, from its environment, never guessed: kitty
(TERM=xterm-kitty, or KITTY_WINDOW_ID) and iTerm2 (TERM_PROGRAM=iTerm.app), with stdout a
terminal and not inside tmux or screen (which do not pass the protocols through). Sixel
terminals are not detected: that needs a query answered by the terminal (DA1), so they get
the table like every other terminal. `--no-images` turns thumbnails off.

The thumbnails of a comparison are one contact sheet: a row per model, its images in the
order of the table below it. Pillow makes them (imported only here, only when drawing).
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from promptlab.results import Result

if TYPE_CHECKING:
    from PIL import Image
    from rich.console import Console

CELL = 160  # pixels per thumbnail in a contact sheet
GAP = 8
HTML_SIDE = 256  # pixels of an HTML report thumbnail's long side
KITTY_CHUNK = 4096  # base64 characters per kitty graphics escape
COLUMNS_PER_IMAGE = 20  # terminal columns a thumbnail takes at most


def protocol(env: Mapping[str, str] | None = None) -> str | None:
    """`kitty`, `iterm2`, or None: the image protocol the terminal says it speaks."""
    env = os.environ if env is None else env
    if env.get("TMUX") or env.get("STY") or env.get("TERM", "").startswith(("screen", "tmux")):
        return None
    if env.get("TERM") == "xterm-kitty" or env.get("KITTY_WINDOW_ID"):
        return "kitty"
    if env.get("TERM_PROGRAM") == "iTerm.app":
        return "iterm2"
    return None


def rows_of(group: Sequence[Result]) -> list[list[str | None]]:
    """The sheet's rows: per model (in order of appearance), its images' paths (None: none)."""
    rows: dict[str, list[str | None]] = {}
    for r in group:
        row = rows.setdefault(f"{r.model_alias}\0{r.prompt_hash}", [])
        row.extend(i.get("path") for i in r.images)
        if not r.images:
            row.append(None)
    return list(rows.values())


def contact_sheet(rows: Sequence[Sequence[str | None]]) -> bytes:
    """One PNG: a grid of thumbnails, a crossed grey cell for a missing or filtered image."""
    from PIL import Image, ImageDraw

    cols = max(len(r) for r in rows)
    size = (cols * CELL + (cols - 1) * GAP, len(rows) * CELL + (len(rows) - 1) * GAP)
    sheet = Image.new("RGB", size, (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for y, row in enumerate(rows):
        for x, path in enumerate(row):
            left, top = x * (CELL + GAP), y * (CELL + GAP)
            thumb = _thumbnail(path, CELL) if path else None
            if thumb is None:
                draw.rectangle((left, top, left + CELL - 1, top + CELL - 1), fill=(60, 60, 60))
                draw.line((left, top, left + CELL - 1, top + CELL - 1), fill=(140, 140, 140))
                draw.line((left, top + CELL - 1, left + CELL - 1, top), fill=(140, 140, 140))
                continue
            sheet.paste(thumb, (left + (CELL - thumb.width) // 2, top + (CELL - thumb.height) // 2))
    out = io.BytesIO()
    sheet.save(out, "PNG")
    return out.getvalue()


def _thumbnail(path: str, side: int) -> Image.Image | None:
    """The image at `path` shrunk to fit `side` (transparency on dark grey), or None."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.thumbnail((side, side))
            if im.mode in ("RGBA", "LA", "P"):
                rgba = im.convert("RGBA")
                base = Image.new("RGB", rgba.size, (60, 60, 60))
                base.paste(rgba, mask=rgba.getchannel("A"))
                return base
            return im.convert("RGB")
    except (OSError, ValueError):
        return None


def escape(png: bytes, proto: str, columns: int) -> str:
    """The escape sequence that draws `png` inline, `columns` terminal cells wide."""
    data = base64.b64encode(png).decode("ascii")
    if proto == "kitty":
        parts = [data[i : i + KITTY_CHUNK] for i in range(0, len(data), KITTY_CHUNK)] or [""]
        out = []
        for n, part in enumerate(parts):
            head = f"a=T,f=100,c={columns}," if n == 0 else ""
            out.append(f"\033_G{head}m={int(n < len(parts) - 1)};{part}\033\\")
        return "".join(out)
    return (f"\033]1337;File=inline=1;size={len(png)};width={columns};"
            f"preserveAspectRatio=1:{data}\a")  # fmt: skip


def print_sheet(console: Console, group: Sequence[Result]) -> bool:
    """Draw the group's thumbnails above its table when the terminal can; whether it did."""
    proto = protocol() if console.is_terminal else None
    rows = rows_of(group)
    if proto is None or not any(p for row in rows for p in row):
        return False
    cols = max(len(r) for r in rows)
    png = contact_sheet(rows)
    console.file.write(escape(png, proto, min(console.width, cols * COLUMNS_PER_IMAGE)) + "\n")
    console.file.flush()
    return True


def data_uri(path: str, side: int = HTML_SIDE) -> str | None:
    """A small JPEG of the image as a data URI (for the HTML report), or None if unreadable."""
    thumb = _thumbnail(path, side)
    if thumb is None:
        return None
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=82)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")

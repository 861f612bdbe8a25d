"""Image answers for every view: one line per image, and the run table of an image comparison.

An image model's Result carries `images` (see imagefiles.entry): each is shown as its file
(relative to the working directory when inside it), its pixels, format and seed, or why the
service filtered it. The terminal table has a row per image, the models one under another in
the order they ran, so four models' images read side by side in the thumbnails above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from promptlab.results import Result
from promptlab.views.format import ms, usd
from promptlab.views.sanitize import inert


def shown_path(path: str) -> str:
    """A recorded image path as a reader types it: relative to the working directory inside it."""
    try:
        rel = Path(path).resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return path
    return rel.as_posix()


def human_bytes(size: int | None) -> str:
    if size is None:
        return "–"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def pixels(image: dict[str, Any]) -> str:
    w, h = image.get("width"), image.get("height")
    return f"{w}×{h}" if w and h else "?"


def seed_text(seed: Any) -> str:
    return "model's choice" if seed is None else str(seed)


def image_line(image: dict[str, Any]) -> str:
    """`.promptlab/images/x.png (1024×1024 png, 1.2 MB, seed 42)`, or `filtered: …`."""
    n = int(image.get("index") or 0) + 1
    if image.get("filtered") or not image.get("path"):
        return inert(f"image {n}: filtered: {image.get('filtered') or 'no image returned'}")
    what = f"{pixels(image)} {image.get('format') or '?'}, {human_bytes(image.get('size'))}"
    seed = image.get("seed")
    what += f", seed {seed}" if seed is not None else ""
    return inert(f"image {n}: {shown_path(str(image['path']))} ({what})")


def is_image_result(r: Result) -> bool:
    """An image model's call, answered or not (a failed one has no images)."""
    if r.images:
        return True
    from promptlab.catalogue import base_id_of
    from promptlab.imagegen import family_of

    if family_of(base_id_of(r.model_id)) is not None:
        return True
    return not r.real_model and isinstance(r.request, dict) and "task" in r.request


def is_image_group(group: Sequence[Result]) -> bool:
    return all(is_image_result(r) for r in group) and bool(group)


def per_image_cost(r: Result) -> str:
    made = [i for i in r.images if i.get("path")]
    if not r.real_model:
        return usd(0, real=False)
    if r.cost_usd is None or not made:
        return usd(r.cost_usd) if not made else "unknown"
    each = usd(r.cost_usd / len(made))
    return f"{each} each" + (" (cached)" if r.cached else "")


def image_table(group: Sequence[Result], *, with_version: bool = False) -> Table:
    """A row per image: model, seed, file (or why there is none), size in pixels, latency
    (the service's and the call's wall time) and cost per image."""
    folders = {str(Path(shown_path(str(i["path"]))).parent) for r in group for i in r.images
               if i.get("path")}  # fmt: skip
    folder = folders.pop() if len(folders) == 1 else None
    title = f"images in {folder}/" if folder else None
    table = Table(show_lines=False, expand=False, title=title, title_justify="left")
    for name in ("model", "seed", "image", "size", "latency / wall", "cost"):
        table.add_column(name, overflow="fold", no_wrap=name in ("seed", "size"))
    for r in group:
        label = r.model_alias + (f" v{r.prompt_version}" if with_version else "")
        timing = f"{ms(r.latency_ms)} / {ms(r.wall_ms)}"
        if r.error:
            err = Text(f"✗ {r.error.code}: ", style="bold red")
            err.append(inert(r.error.message), style="red")
            if r.error.hint:
                err.append(f"\nhint: {inert(r.error.hint)}", style="yellow")
            table.add_row(inert(label), "–", err, "–", timing, "–")
            continue
        cost = per_image_cost(r)
        for image in r.images or [{}]:
            seed = seed_text(image.get("seed"))
            if image.get("path"):
                path = shown_path(str(image["path"]))
                cell = Text(Path(path).name if folder else path)
                if r.cached:
                    cell.append(" (cached)", style="dim")
                table.add_row(inert(label), seed, cell, pixels(image), timing, cost)
            else:
                why = inert(str(image.get("filtered") or "no image returned"))
                table.add_row(inert(label), seed, Text(f"✗ filtered: {why}", style="yellow"),
                              "–", timing, "–")  # fmt: skip
    return table

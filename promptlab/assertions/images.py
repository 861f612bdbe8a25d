"""Assertions on an image model's answer: how many images, their size, whether a filter withheld
any (`not-filtered` is the negation of `filtered`). `similar` and `judge` look at images too
(assertions/graders.py).

Images a filter withheld are not counted and have no size.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from promptlab.assertions.base import Assertion, BadAssertion, Context, Verdict

SIZE = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$")
RATIO = re.compile(r"^\s*(\d{1,3})\s*:\s*(\d{1,3})\s*$")
RATIO_TOLERANCE = 0.035  # Titan Image Generator calls 1173x640 (3.1% wider) "16:9"


def made(ctx: Context) -> list[dict[str, Any]]:
    """The images the call returned (filtered ones left out)."""
    return [i for i in ctx.result.images if not i.get("filtered") and i.get("path")]


def _ok(passed: bool, reason: str) -> Verdict:
    return Verdict(passed, 1.0 if passed else 0.0, reason)


# ---------------------------------------------------------------- image-count


def prepare_count(a: Assertion, root: Path) -> tuple[int | None, int | None]:
    """`image-count: 2` (exactly), or `{type: image-count, min: 1, max: 4}`."""
    if a.value is not None:
        if isinstance(a.value, bool) or not isinstance(a.value, int) or a.value < 0:
            raise BadAssertion(f"'image-count' needs a number of images, got {a.value!r}",
                               "e.g. image-count: 2, or min/max", "value")  # fmt: skip
        if "min" in a.options or "max" in a.options:
            raise BadAssertion("give image-count a value or min/max, not both", key="value")
        return a.value, a.value
    lo, hi = a.options.get("min"), a.options.get("max")
    for key, v in (("min", lo), ("max", hi)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise BadAssertion(f"'{key}' of image-count must be a whole number, got {v!r}",
                               key=key)  # fmt: skip
    if lo is None and hi is None:
        raise BadAssertion("'image-count' needs a value, 'min' or 'max'", "e.g. image-count: 2")
    return lo, hi


def image_count(a: Assertion, ctx: Context) -> Verdict:
    lo, hi = a.compiled
    n = len(made(ctx))
    filtered = len(ctx.result.images) - n
    ok = (lo is None or n >= lo) and (hi is None or n <= hi)
    want = f"{lo}" if lo == hi else f"{lo or 0}..{'∞' if hi is None else hi}"
    note = f" ({filtered} filtered)" if filtered else ""
    return _ok(ok, f"{n} image(s){note}, expected {want}")


# ---------------------------------------------------------------- image-size


def _size(value: Any, key: str) -> tuple[int, int]:
    m = SIZE.match(value) if isinstance(value, str) else None
    if m is None:
        raise BadAssertion(f"'{key}' must be WIDTHxHEIGHT, got {value!r}", "e.g. 1024x1024", key)
    return int(m.group(1)), int(m.group(2))


def prepare_size(a: Assertion, root: Path) -> dict[str, Any]:
    """`image-size: 1024x1024` (exactly), `image-size: "16:9"` (the shape), or min/max."""
    out: dict[str, Any] = {}
    if isinstance(a.value, str) and RATIO.match(a.value):
        m = RATIO.match(a.value)
        assert m is not None
        if int(m.group(2)) == 0:
            raise BadAssertion("an aspect ratio's height cannot be 0", key="value")
        out["ratio"] = (int(m.group(1)), int(m.group(2)))
    elif a.value is not None:
        out["exact"] = _size(a.value, "value")
    for key in ("min", "max"):
        if key in a.options:
            out[key] = _size(a.options[key], key)
    if not out:
        raise BadAssertion("'image-size' needs a size (1024x1024), a ratio (\"16:9\"), min or max",
                           'e.g. image-size: "1:1"', "value")  # fmt: skip
    return out


def image_size(a: Assertion, ctx: Context) -> Verdict:
    want: dict[str, Any] = a.compiled
    images = made(ctx)
    if not images:
        return _ok(False, "no image to measure")
    for image in images:
        w, h = image.get("width"), image.get("height")
        n = int(image.get("index") or 0) + 1
        if not w or not h:
            return _ok(False, f"image {n}: size unknown")
        why = _size_problem(int(w), int(h), want)
        if why:
            return _ok(False, f"image {n} is {w}×{h}: {why}")
    sizes = sorted({f"{i['width']}×{i['height']}" for i in images})
    return _ok(True, f"{len(images)} image(s) {', '.join(sizes)}")


def _size_problem(w: int, h: int, want: dict[str, Any]) -> str | None:
    if "exact" in want and (w, h) != want["exact"]:
        return f"expected {want['exact'][0]}×{want['exact'][1]}"
    if "ratio" in want:
        a, b = want["ratio"]
        if abs(w / h - a / b) > RATIO_TOLERANCE * (a / b):
            return f"expected the shape {a}:{b}"
    if "min" in want and (w < want["min"][0] or h < want["min"][1]):
        return f"smaller than {want['min'][0]}×{want['min'][1]}"
    if "max" in want and (w > want["max"][0] or h > want["max"][1]):
        return f"larger than {want['max'][0]}×{want['max'][1]}"
    return None


# ---------------------------------------------------------------- filtered


def prepare_filtered(a: Assertion, root: Path) -> None:
    if a.value is not None:
        raise BadAssertion(f"'{a.full_type}' takes no value, got {a.value!r}",
                           f"write - {a.full_type}", "value")  # fmt: skip


def filtered(a: Assertion, ctx: Context) -> Verdict:
    """Passes when a filter withheld an image (or blocked the request); `not-filtered` is the
    check most suites want."""
    reasons = [str(i["filtered"]) for i in ctx.result.images if i.get("filtered")]
    if reasons:
        shown = "; ".join(dict.fromkeys(reasons))
        return _ok(True, f"{len(reasons)} of {len(ctx.result.images)} image(s) filtered: {shown}")
    if not ctx.result.images:
        return _ok(False, "no images in the answer")
    return _ok(False, f"none of {len(ctx.result.images)} image(s) filtered")

"""Reading an image prompt (`kind: image`): `prompt:` and `negative_prompt:` templates and the
`image:` settings with their per-model `overrides`. Every problem is a file:line.

What any image model could take is checked here (types, ranges, the image variables a task
works from); what one model family takes (its sizes, prompt length, images per request) is
checked per model before any call, by `promptlab.imagegen`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from promptlab.fields import STRING, Fields, Kind, integer, number, one_of
from promptlab.prompt.imagespec import (
    IMAGE_KEYS,
    IMAGE_ONLY_KEYS,
    IMAGE_SECTIONS,
    IMAGE_TASKS,
    IMAGE_VAR_KEYS,
    KINDS,
    TEXT_ONLY_KEYS,
    ImageSpec,
)
from promptlab.prompt.model import Variable

SIZE = re.compile(r"^\s*(\d{2,5})\s*[xX×]\s*(\d{2,5})\s*$")
RATIO = re.compile(r"^\s*(\d{1,2})\s*:\s*(\d{1,2})\s*$")
COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
CONTROL_MODES = ("CANNY_EDGE", "SEGMENTATION")
OUTPAINTING_MODES = ("DEFAULT", "PRECISE")
OUTPUT_FORMATS = ("png", "jpeg", "webp")
# What a task needs besides the prompt: (setting, what it is).
NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "image-to-image": (("source", "the image to change"),),
    "variation": (("source", "1 to 5 images to vary"),),
    "inpainting": (("source", "the image to edit"),),
    "outpainting": (("source", "the image to extend"),),
    "background-removal": (("source", "the image to cut out"),),
    "color-guided": (("colors", "1 to 10 colors such as '#FF9800'"),),
}
MASKED = ("inpainting", "outpainting")

_POSITIVE: Kind[float] = number(positive=True)
_UNIT: Kind[float] = number(0, 1)


def kind(top: Fields) -> str:
    """`kind: text | image` (text when absent); keys of the other kind are problems."""
    value = top.get("kind", one_of(KINDS), "text", unset="missing",
                    hint="kind: image for image models; leave it out for text")  # fmt: skip
    wrong = TEXT_ONLY_KEYS if value == "image" else IMAGE_ONLY_KEYS
    for key in top.data:
        if key not in wrong:
            continue
        if value == "image":
            top.problem((key,), f"'{key}' does not apply to an image prompt (kind: image)",
                        "an image prompt is written with prompt:, negative_prompt: and image:; "
                        "remove it")  # fmt: skip
        else:
            top.problem((key,), f"'{key}' applies to image prompts only",
                        "add kind: image to make this an image prompt (run it on image models),"
                        " or write a text prompt with instructions: / input:")  # fmt: skip
    return str(value)


def sections(top: Fields, spec: ImageSpec) -> dict[str, str]:
    """The prompt and negative prompt templates; `prompt` is required unless every model's
    task is background removal."""
    out: dict[str, str] = {}
    for key in IMAGE_SECTIONS:
        text = top.get(key, STRING, message="'{key}' must be a string (a Jinja2 template)",
                       hint="a YAML block scalar: 'key: |' and indented text")  # fmt: skip
        if text is not None:
            out[key] = text
    tasks = {spec.for_model().task, *(spec.for_model(m).task for m in spec.overrides)}
    if "prompt" not in out and tasks != {"background-removal"} and top.is_unset("prompt"):
        top.problem((), "an image prompt needs 'prompt': what the image shows",
                    "add 'prompt: |' with the description (a Jinja2 template)")  # fmt: skip
    return out


def image_spec(top: Fields, variables: Mapping[str, Variable]) -> ImageSpec:
    """`image:` settings and `overrides` (model → settings), each value checked."""
    image = top.mapping("image", hint="e.g. image: {size: 1024x1024, count: 1, seed: 42}")
    image.unknown((*IMAGE_KEYS, "overrides"), what="image setting")
    base = _settings(image, variables, "image")
    overrides = image.mapping(
        "overrides",
        message="'{key}' must map model → image settings",
        hint="e.g. overrides: {sd3-large: {aspect_ratio: '1:1'}}",
        unset="empty",
    )
    by_model: dict[str, dict[str, Any]] = {}
    for model in overrides:
        fields = overrides.mapping(model, unset="missing",
                                   message="override for '{key}' must be a mapping",
                                   hint="e.g. {quality: premium}")  # fmt: skip
        fields.unknown(IMAGE_KEYS, what="image setting", where=f"in overrides for '{model}'")
        by_model[str(model)] = _settings(fields, variables, f"overrides for '{model}'")
    spec = ImageSpec(base, by_model)
    _check_tasks(image, spec)
    return spec


def _settings(f: Fields, variables: Mapping[str, Variable], where: str) -> dict[str, Any]:
    """One mapping of settings, normalised (size → (w, h), seed lists → tuples)."""
    out: dict[str, Any] = {}
    for a, b in (("size", "aspect_ratio"), ("seed", "seeds")):
        if a in f.data and b in f.data:
            f.problem((b,), f"'{a}' and '{b}' in the same mapping ({where})",
                      "keep one of them")  # fmt: skip
    task = f.get("task", one_of(IMAGE_TASKS), hint="default: text-to-image")
    if task is not None:
        out["task"] = task
    size = f.get("size", Kind(lambda v: isinstance(v, str) and bool(SIZE.match(v)),
                              "'{key}' must be WIDTHxHEIGHT in pixels, got {value}"),
                 hint="e.g. size: 1024x1024")  # fmt: skip
    if size is not None:
        m = SIZE.match(size)
        assert m is not None
        out["size"] = (int(m.group(1)), int(m.group(2)))
    ratio = f.get("aspect_ratio", Kind(lambda v: isinstance(v, str) and bool(RATIO.match(v)),
                                       "'{key}' must be W:H, got {value}"),
                  hint='quote it: aspect_ratio: "16:9"')  # fmt: skip
    if ratio is not None:
        m = RATIO.match(ratio)
        assert m is not None
        out["aspect_ratio"] = f"{int(m.group(1))}:{int(m.group(2))}"
    for key, kind_, hint in (
        ("count", integer(1), "images per call, e.g. count: 2"),
        ("seed", integer(0), "e.g. seed: 42"),
        ("quality", STRING, "e.g. quality: premium"),
        ("cfg_scale", _POSITIVE, "how closely to follow the prompt, e.g. cfg_scale: 7"),
        ("style", STRING, "a style the model knows, e.g. style: PHOTOREALISM (Nova Canvas)"),
        ("output_format", one_of(OUTPUT_FORMATS), "png, jpeg or webp"),
        ("mask_prompt", STRING, "the part of the image to change, in words"),
        ("control_mode", one_of(CONTROL_MODES), "CANNY_EDGE or SEGMENTATION"),
        ("control_strength", _UNIT, "0 to 1"),
        ("similarity", number(0.2, 1), "0.2 (loose) to 1 (close to the source)"),
        ("strength", _UNIT, "0 (keep the source) to 1 (ignore it)"),
        ("outpainting_mode", one_of(OUTPAINTING_MODES), "DEFAULT or PRECISE"),
    ):
        value = f.get(key, kind_, hint=hint)
        if value is not None:
            out[key] = value
    seeds = f.get("seeds", Kind(lambda v: isinstance(v, list) and bool(v) and all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in v),
        "'{key}' must be a non-empty list of seeds (integers ≥ 0), got {value}"),
        hint="e.g. seeds: [7, 42, 1234]: one call per seed")  # fmt: skip
    if seeds is not None:
        if len(set(seeds)) != len(seeds):
            f.problem(("seeds",), "a seed is listed twice", "list each seed once")
        out["seeds"] = tuple(seeds)
    colors = f.get("colors", Kind(lambda v: isinstance(v, list) and 0 < len(v) <= 10 and all(
        isinstance(c, str) and COLOR.match(c) for c in v),
        "'{key}' must be a list of 1 to 10 colors written #RRGGBB, got {value}"),
        hint='e.g. colors: ["#FF9800", "#1E88E5"]')  # fmt: skip
    if colors is not None:
        out["colors"] = tuple(c.upper() for c in colors)
    for key in IMAGE_VAR_KEYS:
        names = _image_vars(f, key, variables)
        if names is not None:
            out[key] = tuple(names) if key == "source" else names[0]
    return out


def _image_vars(f: Fields, key: str, variables: Mapping[str, Variable]) -> list[str] | None:
    """The image variables a setting names: one (`mask: m`), or for `source` a list."""
    if key not in f.data:
        return None
    raw = f.data[key]
    names = raw if isinstance(raw, list) and key == "source" else [raw]
    if not names or not all(isinstance(n, str) and n for n in names):
        what = "an image variable or a list of them" if key == "source" else "an image variable"
        f.problem((key,), f"'{key}' must name {what}, got {raw!r}",
                  f"declare it under variables (e.g. photo: {{type: image}}) and write "
                  f"{key}: photo")  # fmt: skip
        return None
    ok = True
    for name in names:
        var = variables.get(name)
        if var is None or var.type != "image":
            what = "not declared" if var is None else f"a {var.type} variable, not an image"
            f.problem((key,), f"{key}: '{name}' is {what}",
                      f"declare it under variables: {name}: {{type: image}}")  # fmt: skip
            ok = False
    if len(names) > 5:
        f.problem((key,), f"{key} names {len(names)} images; at most 5 are sent",
                  "keep the 5 that matter most")  # fmt: skip
        ok = False
    return list(names) if ok else None


def _check_tasks(image: Fields, spec: ImageSpec) -> None:
    """Each model's task has what it needs (the base, then each override as merged)."""
    cases: list[tuple[str | None, Fields]] = [(None, image)]
    overrides = image.data.get("overrides")
    if isinstance(overrides, dict):
        for name in spec.overrides:
            cases.append((name, image.child("overrides", overrides).child(name, overrides[name])))
    task_keys = {"task", "colors", "mask_prompt", *IMAGE_VAR_KEYS}
    for model, fields in cases:
        names: tuple[str, ...] = (model,) if model else ()
        settings = spec.for_model(*names)
        if model is not None and not set(spec.overrides[model]) & task_keys:
            continue  # nothing task-related changed: the base's check covers it
        where = f" for '{model}'" if model else ""
        for setting, what in NEEDS.get(settings.task, ()):
            if not getattr(settings, setting) and setting not in fields.data:
                fields.problem((), f"task {settings.task}{where} needs '{setting}': {what}",
                               f"add {setting}: under image"
                               + (" (or in this override)" if model else ""))  # fmt: skip
        if settings.task in MASKED and not (settings.mask or settings.mask_prompt):
            fields.problem((), f"task {settings.task}{where} needs 'mask' (an image variable) "
                           "or 'mask_prompt' (the part to change, in words)",
                           "e.g. mask_prompt: the coffee mug")  # fmt: skip
        if settings.task == "variation":
            continue
        if len(settings.source) > 1:
            fields.problem(("source",), f"task {settings.task}{where} works from one image, "
                           f"not {len(settings.source)}",
                           "name one image variable; several are for task: variation")  # fmt: skip

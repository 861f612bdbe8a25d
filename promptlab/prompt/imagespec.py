"""What an image prompt (`kind: image`) asks for: its keys, and its `image:` settings with
per-model overrides, as read by prompt/imageprompt.py. Family-independent: `promptlab.imagegen`
maps them onto each image model family's request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from promptlab.prompt.model import SECTIONS

KINDS = ("text", "image")  # `kind:` text (Converse, the default) or image (image models)
# What each kind's prompt file is written with (the other kind's keys are errors).
TEXT_ONLY_KEYS = (
    *SECTIONS, "layout", "examples", "messages", "attachments", "tools", "tool_choice",
    "tool_results", "max_turns", "output_schema", "inference",
)  # fmt: skip
IMAGE_ONLY_KEYS = ("prompt", "negative_prompt", "image")
IMAGE_SECTIONS = ("prompt", "negative_prompt")  # the templates of an image prompt
# `image:` settings of an image prompt (each also allowed in `image.overrides.MODEL`).
IMAGE_KEYS = (
    "task", "size", "aspect_ratio", "count", "seed", "seeds", "quality", "cfg_scale", "style",
    "output_format", "source", "mask", "mask_prompt", "condition", "control_mode",
    "control_strength", "similarity", "strength", "colors", "reference", "outpainting_mode",
)  # fmt: skip
IMAGE_TASKS = ("text-to-image", "image-to-image", "variation", "inpainting", "outpainting",
               "background-removal", "color-guided")  # fmt: skip
IMAGE_VAR_KEYS = ("source", "mask", "condition", "reference")  # settings naming image variables


@dataclass(frozen=True)
class ImageSettings:
    """What an image prompt asks one model for: the `image:` mapping with that model's
    overrides applied. Family-independent; `promptlab.imagegen` maps it onto each family."""

    task: str = "text-to-image"
    size: tuple[int, int] | None = None  # width, height
    aspect_ratio: str | None = None  # "16:9"
    count: int = 1
    seeds: tuple[int, ...] = ()  # one call per seed (`seed: 7` is `seeds: [7]`)
    seed: int | None = None  # the seed of one call (set per job from `seeds`)
    quality: str | None = None
    cfg_scale: float | None = None
    style: str | None = None
    output_format: str | None = None
    source: tuple[str, ...] = ()  # image variables: the image(s) to work from
    mask: str | None = None  # an image variable: the mask (inpainting, outpainting)
    mask_prompt: str | None = None  # or the mask described in words
    condition: str | None = None  # an image variable: layout to follow (text-to-image)
    control_mode: str | None = None  # CANNY_EDGE | SEGMENTATION
    control_strength: float | None = None
    similarity: float | None = None  # variation: how close to the source (0.2-1)
    strength: float | None = None  # image-to-image: how much to change the source (0-1)
    colors: tuple[str, ...] = ()  # color-guided: "#RRGGBB" values
    reference: str | None = None  # color-guided: an image variable
    outpainting_mode: str | None = None  # DEFAULT | PRECISE

    def given(self) -> dict[str, Any]:
        """The settings that differ from the defaults, as written (for records and views)."""
        out: dict[str, Any] = {}
        for name, default in _SETTING_DEFAULTS.items():
            value = getattr(self, name)
            if value != default:
                if name == "size" and value is not None:
                    value = f"{value[0]}x{value[1]}"
                out[name] = list(value) if isinstance(value, tuple) else value
        return out


_SETTING_DEFAULTS: dict[str, Any] = {
    name: getattr(ImageSettings(), name) for name in ImageSettings.__dataclass_fields__
}


@dataclass(frozen=True)
class ImageSpec:
    """An image prompt's `image:` settings and per-model overrides, read and checked."""

    base: Mapping[str, Any] = field(default_factory=dict)  # setting → value (normalised)
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def override_key(self, *names: str) -> str | None:
        """The overrides entry for a model (its alias, id, …), if any."""
        return next((n for n in names if n in self.overrides), None)

    def for_model(self, *names: str) -> ImageSettings:
        """The settings one model gets: the base, then its override (by alias or id)."""
        merged = dict(self.base)
        key = self.override_key(*names)
        if key is not None:
            override = self.overrides[key]
            for a, b in (("size", "aspect_ratio"), ("seed", "seeds")):  # one wins over the other
                if a in override:
                    merged.pop(b, None)
                if b in override:
                    merged.pop(a, None)
            merged.update(override)
        if "seed" in merged:
            merged["seeds"] = (merged.pop("seed"),)
        return ImageSettings(**merged)

    def where(self, setting: str, *names: str) -> tuple[str | int, ...]:
        """Where a model's value of `setting` is written (for file:line)."""
        key = self.override_key(*names)
        if key is not None and setting in self.overrides[key]:
            return ("image", "overrides", key, setting)
        if setting == "seeds" and "seed" in self.base:
            setting = "seed"
        if setting in self.base:
            return ("image", setting)
        return ("image",)

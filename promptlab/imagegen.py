"""Image models through InvokeModel: the one table of what each family takes, how an image
prompt's settings become that family's request body, and how its answer becomes images.

Families (matched by base model id prefix, first match wins):

- Amazon: Titan Image Generator v2 and Nova Canvas. `taskType` bodies (TEXT_IMAGE,
  IMAGE_VARIATION, INPAINTING, OUTPAINTING, BACKGROUND_REMOVAL, COLOR_GUIDED_GENERATION) with
  an `imageGenerationConfig`; the answer holds `images` (base64) and `error` (why images were
  withheld). Nova Canvas blocks a request with a ValidationException about content filters.
- Stability: Stable Diffusion 3.5 Large, Stable Image Core and Ultra. `prompt`,
  `negative_prompt`, `aspect_ratio`, `mode`, `image`, `strength`, `seed`, `output_format`;
  the answer holds `seeds`, `finish_reasons` (null, or "Filter reason: …") and `images`.
- echo: offline, takes everything (see providers/echoimage.py).

A setting a family lacks is dropped with a notice; a value it cannot take (a size, a prompt
over its length limit, more images than one request makes, a task it does not do) is a
Violation, which `jobs.image_problems` reports at the prompt file's line before any call.

Sources (read 2026-11-01): Bedrock user guide, "Amazon Titan Image Generator G1 models"
(model-parameters-titan-image, titan-image-models: 512-character prompts, the size table),
Amazon Nova user guide, "Image generation request and response" (image-gen-req-resp-structure:
320–4096 px sides divisible by 16, at most 4.19 MP, 1:4–4:1, 1,024-character prompts), and the
Stability pages model-parameters-diffusion-3-5-large, -stable-image-core- and
-stable-ultra-text-image-request-response (10,000-character prompts, the aspect ratios, seeds
0–4,294,967,294, finish reasons).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from promptlab.request import Message, Request
from promptlab.results import GeneratedImage

if TYPE_CHECKING:
    from promptlab.media import Media
    from promptlab.prompt.imagespec import ImageSettings

AMAZON_TASKS = {
    "text-to-image": ("TEXT_IMAGE", "textToImageParams"),
    "variation": ("IMAGE_VARIATION", "imageVariationParams"),
    "inpainting": ("INPAINTING", "inPaintingParams"),
    "outpainting": ("OUTPAINTING", "outPaintingParams"),
    "background-removal": ("BACKGROUND_REMOVAL", "backgroundRemovalParams"),
    "color-guided": ("COLOR_GUIDED_GENERATION", "colorGuidedGenerationParams"),
}
STABILITY_RATIOS = ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
NOVA_STYLES = (
    "3D_ANIMATED_FAMILY_FILM", "DESIGN_SKETCH", "FLAT_VECTOR_ILLUSTRATION",
    "GRAPHIC_NOVEL_ILLUSTRATION", "MAXIMALISM", "MIDCENTURY_RETRO", "PHOTOREALISM",
    "SOFT_DIGITAL_PAINTING",
)  # fmt: skip
# Titan Image Generator's sizes: (width, height, aspect ratio); the first of each ratio is the
# one an aspect_ratio setting picks. Sizes up to 768×768 px bill as 512×512, larger as 1024×1024.
TITAN_SIZES = (
    (1024, 1024, "1:1"), (768, 768, "1:1"), (512, 512, "1:1"),
    (768, 1152, "2:3"), (384, 576, "2:3"), (1152, 768, "3:2"), (576, 384, "3:2"),
    (768, 1280, "3:5"), (384, 640, "3:5"), (1280, 768, "5:3"), (640, 384, "5:3"),
    (896, 1152, "7:9"), (448, 576, "7:9"), (1152, 896, "9:7"), (576, 448, "9:7"),
    (768, 1408, "6:11"), (384, 704, "6:11"), (1408, 768, "11:6"), (704, 384, "11:6"),
    (640, 1408, "5:11"), (320, 704, "5:11"), (1408, 640, "11:5"), (704, 320, "11:5"),
    (1152, 640, "9:5"), (1173, 640, "16:9"),
)  # fmt: skip
# Nova Canvas takes any size within its rule; an aspect_ratio setting picks one of these.
NOVA_RATIO_SIZES = {
    "1:1": (1024, 1024), "16:9": (1280, 720), "9:16": (720, 1280), "3:2": (1152, 768),
    "2:3": (768, 1152), "4:3": (1152, 864), "3:4": (864, 1152), "5:4": (1280, 1024),
    "4:5": (1024, 1280), "21:9": (1344, 576), "9:21": (576, 1344), "2:1": (1408, 704),
    "1:2": (704, 1408),
}  # fmt: skip


@dataclass(frozen=True)
class SizeRule:
    """Free sizes: each side within min..max and a multiple of `step`; bounded shape and area."""

    min_side: int
    max_side: int
    step: int
    max_ratio: float
    max_pixels: int

    def problem(self, width: int, height: int) -> str | None:
        if not all(self.min_side <= s <= self.max_side for s in (width, height)):
            return f"each side must be {self.min_side}–{self.max_side} px"
        if width % self.step or height % self.step:
            return f"each side must be a multiple of {self.step}"
        if max(width, height) / min(width, height) > self.max_ratio:
            return f"the aspect ratio must be within 1:{self.max_ratio:g} and {self.max_ratio:g}:1"
        if width * height > self.max_pixels:
            return f"at most {self.max_pixels:,} pixels"
        return None


@dataclass(frozen=True)
class Family:
    """What one model family takes (the columns of the table)."""

    name: str
    label: str
    shape: str  # amazon | stability | echo: how bodies and answers are written
    tasks: tuple[str, ...]
    max_prompt: int  # characters
    max_negative: int
    max_count: int  # images per request
    seed_max: int
    cfg: tuple[float, float] | None = None  # cfg_scale range; None: not taken
    qualities: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    formats: tuple[str, ...] = ("png",)
    sizes: tuple[tuple[int, int, str], ...] = ()  # a fixed list (Titan)
    size_rule: SizeRule | None = None  # or a rule (Nova Canvas)
    ratio_sizes: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    ratios: tuple[str, ...] = ()  # aspect_ratio values (Stability)
    default_size: tuple[int, int] | None = (1024, 1024)  # what the service makes unasked
    source_rule: SizeRule | None = None  # source images' sizes, where documented

    @property
    def takes_sizes(self) -> bool:
        return bool(self.sizes or self.size_rule) or self.shape == "echo"


_AMAZON_ALL = tuple(AMAZON_TASKS)
NOVA_RULE = SizeRule(320, 4096, 16, 4.0, 4_194_304)
TITAN = Family(
    "titan",
    "Titan Image Generator v2",
    "amazon",
    _AMAZON_ALL,
    512,
    512,
    5,
    2_147_483_646,
    (1.1, 10.0),
    ("standard", "premium"),
    sizes=TITAN_SIZES,
)
NOVA = Family(
    "nova",
    "Nova Canvas",
    "amazon",
    _AMAZON_ALL,
    1024,
    1024,
    5,
    858_993_459,
    (1.1, 10.0),
    ("standard", "premium"),
    NOVA_STYLES,
    size_rule=NOVA_RULE,
    ratio_sizes=NOVA_RATIO_SIZES,
    source_rule=NOVA_RULE,
)
_STABILITY: dict[str, Any] = {"shape": "stability", "max_prompt": 10_000, "max_negative": 10_000,
                              "max_count": 1, "seed_max": 4_294_967_294,
                              "ratios": STABILITY_RATIOS, "default_size": None}  # fmt: skip
SD35 = Family(
    "sd3.5",
    "Stable Diffusion 3.5 Large",
    tasks=("text-to-image", "image-to-image"),
    formats=("png", "jpeg"),
    **_STABILITY,
)
ULTRA = Family(
    "ultra",
    "Stable Image Ultra",
    tasks=("text-to-image", "image-to-image"),
    formats=("png", "jpeg", "webp"),
    **_STABILITY,
)
CORE = Family(
    "core",
    "Stable Image Core",
    tasks=("text-to-image",),
    formats=("png", "jpeg", "webp"),
    **_STABILITY,
)
ECHO = Family("echo", "echo (offline)", "echo", ("text-to-image", "image-to-image",
              *_AMAZON_ALL[1:]), 10_000, 10_000, 5, 4_294_967_294, (0.0, 100.0),
              ("standard", "premium"))  # fmt: skip

# Base model id prefix → family. Model ids: Bedrock user guide, "Supported foundation models".
FAMILIES: tuple[tuple[str, Family], ...] = (
    ("amazon.titan-image-generator-v2", TITAN),
    ("amazon.nova-canvas", NOVA),
    ("stability.sd3-5-large", SD35),
    ("stability.stable-image-ultra", ULTRA),
    ("stability.stable-image-core", CORE),
)
# Multimodal embeddings (text and images → one vector space), also served by InvokeModel.
MULTIMODAL_EMBEDDING_PREFIXES = ("amazon.titan-embed-image",)
IMAGE_EMBEDDING_MODEL = "amazon.titan-embed-image-v1"
EMBEDDING_LENGTH = 1024


def family_of(base_id: str | None) -> Family | None:
    """The image family of a base model id, or None for a model that makes no images."""
    for prefix, family in FAMILIES:
        if base_id and base_id.startswith(prefix):
            return family
    return None


def served_by_invoke(base_id: str | None) -> bool:
    """Image models and multimodal embeddings: the `bedrock-image` provider kind's models."""
    return family_of(base_id) is not None or bool(
        base_id and base_id.startswith(MULTIMODAL_EMBEDDING_PREFIXES)
    )


def image_model_names() -> list[str]:
    """The shipped aliases of image models, for hints."""
    from promptlab.catalogue import CATALOGUE

    return [e.alias for e in CATALOGUE if e.modality == "image"]


# ---------------------------------------------------------------- the request


@dataclass(frozen=True)
class ImageRequest(Request):
    """What an image model is sent through InvokeModel, and what was asked of it.

    `to_converse()` is the InvokeModel body exactly as sent, with source images as bytes
    (the name is the one every request answers to: `to_record()`, cache keys and `render
    --format json` read the body through it). The prompt text is also the user message, so
    the text views of a request (`user`, `text`) read as for any prompt.
    """

    body: Mapping[str, Any] = field(default_factory=dict)
    family: str = ""
    task: str = "text-to-image"
    count: int = 1
    seed: int | None = None
    width: int | None = None  # the size asked for (or the family's default), for prices
    height: int | None = None
    quality: str | None = None
    output_format: str = "png"

    def to_converse(self) -> dict[str, Any]:
        """The InvokeModel body (source images as bytes; `invoke_body` encodes them)."""
        body: dict[str, Any] = _copy(self.body)
        return body

    def invoke_body(self) -> str:
        """The body as sent: JSON, images as base64."""
        return json.dumps(self.body, default=_base64, separators=(",", ":"))


def _base64(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _copy(value: Any) -> Any:
    """Plain dicts and lists; bytes objects shared, not copied."""
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(v) for v in value]
    return value


@dataclass(frozen=True)
class Violation:
    """A setting one model cannot take: `setting` names the key (for file:line)."""

    setting: str  # an image setting, or "prompt" / "negative_prompt"
    message: str
    hint: str


@dataclass
class _Plan:
    """A request being written: what is used, dropped and wrong."""

    family: Family
    model: str  # the model's name for messages
    settings: ImageSettings
    prompt: str
    negative: str | None
    sources: Mapping[str, Media]
    used: set[str] = field(default_factory=set)
    notices: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    width: int | None = None
    height: int | None = None
    ratio: str | None = None

    def bad(self, setting: str, message: str, hint: str) -> None:
        self.violations.append(Violation(setting, f"{self.model}: {message}", hint))

    def image(self, name: str) -> bytes:
        media = self.sources.get(name)
        return media.data if media is not None and media.data is not None else b""


def build(
    model: str,
    family: Family,
    settings: ImageSettings,
    prompt: str,
    negative: str | None,
    sources: Mapping[str, Media],
) -> tuple[ImageRequest, list[str], list[Violation]]:
    """The request for one model: its body, a notice per setting dropped, and what it cannot
    take. `model` names the model in messages; `sources` are the loaded image variables."""
    plan = _Plan(family, model, settings, prompt, negative, sources)
    s = settings
    if s.task not in family.tasks:
        alt = {"image-to-image": "variation", "variation": "image-to-image"}.get(s.task)
        hint = f"it does {', '.join(family.tasks)}"
        if alt in family.tasks:
            hint += f" (task: {alt} is the closest)"
        plan.bad("task", f"{family.label} does not do {s.task}",
                 hint + "; set another task for it under image.overrides")  # fmt: skip
        return _request(plan, {}), plan.notices, plan.violations
    _check_text(plan)
    _check_common(plan)
    _check_sources(plan)
    body = {"amazon": _amazon_body, "stability": _stability_body, "echo": _echo_body}[family.shape](
        plan
    )
    dropped = [k for k in s.given() if k not in plan.used and k not in ("task", "seeds")]
    if dropped:
        plan.notices.append(f"{model}: {family.label} does not take "
                            f"{', '.join(dropped)} ({s.task}); not sent")  # fmt: skip
    return _request(plan, body), plan.notices, plan.violations


def _request(plan: _Plan, body: dict[str, Any]) -> ImageRequest:
    s = plan.settings
    size = (plan.width, plan.height) if plan.width and plan.height else plan.family.default_size
    if s.task in ("inpainting", "outpainting", "background-removal", "image-to-image"):
        media = plan.sources.get(s.source[0]) if s.source else None
        size = (media.width, media.height) if media and media.width and media.height else size
    fmt = s.output_format if s.output_format in plan.family.formats else "png"
    return ImageRequest(
        messages=(Message.user(plan.prompt),), body=body, family=plan.family.name,
        task=s.task, count=s.count, seed=s.seed, width=size[0] if size else None,
        height=size[1] if size else None, quality=s.quality or None, output_format=fmt,
    )  # fmt: skip


def _check_text(plan: _Plan) -> None:
    f, s = plan.family, plan.settings
    takes_text = s.task != "background-removal"
    if not takes_text:
        if plan.prompt or plan.negative:
            plan.notices.append(f"{plan.model}: background removal takes only the image; "
                                "prompt and negative_prompt not sent")  # fmt: skip
        return
    needs = s.task not in ("variation", "inpainting")  # these may go without words
    if needs and not plan.prompt.strip():
        plan.bad("prompt", "the prompt is empty after rendering", "say what the image shows")
    for setting, text, limit in (("prompt", plan.prompt, f.max_prompt),
                                 ("negative_prompt", plan.negative, f.max_negative)):  # fmt: skip
        if text and len(text) > limit:
            plan.bad(setting, f"{setting} is {len(text):,} characters after rendering; "
                     f"{f.label} takes at most {limit:,}",
                     "shorten it (its variables' values count too)")  # fmt: skip


def _check_common(plan: _Plan) -> None:
    """count, seed, quality, cfg_scale, style, output_format, size or aspect ratio."""
    f, s = plan.family, plan.settings
    if s.task != "background-removal":
        plan.used.add("count")
        if s.count > f.max_count:
            per = "1 image" if f.max_count == 1 else f"at most {f.max_count} images"
            plan.bad("count", f"count {s.count}: {f.label} makes {per} per request",
                     "ask for several seeds instead (seeds: [1, 2, 3]), one call each, or set "
                     "count for it under image.overrides")  # fmt: skip
        plan.used.add("seed")
        if s.seed is not None and s.seed > f.seed_max:
            plan.bad("seeds", f"seed {s.seed} is over {f.label}'s {f.seed_max:,}",
                     f"use seeds from 0 to {f.seed_max:,}")  # fmt: skip
    if s.quality is not None and f.qualities and s.task != "background-removal":
        plan.used.add("quality")
        if s.quality not in f.qualities:
            plan.bad("quality", f"quality {s.quality!r} is not one of {', '.join(f.qualities)}",
                     f"use quality: {f.qualities[0]}")  # fmt: skip
    if s.cfg_scale is not None and f.cfg and s.task != "background-removal":
        plan.used.add("cfg_scale")
        low, high = f.cfg
        if not low <= s.cfg_scale <= high:
            plan.bad("cfg_scale", f"cfg_scale {s.cfg_scale:g} is outside {low:g}–{high:g}",
                     f"use a value from {low:g} to {high:g}")  # fmt: skip
    if s.style is not None and f.styles and s.task == "text-to-image":
        plan.used.add("style")
        if s.style not in f.styles:
            plan.bad("style", f"style {s.style!r} is not one {f.label} knows",
                     f"use one of {', '.join(f.styles)}")  # fmt: skip
    if s.output_format is not None and (len(f.formats) > 1 or s.output_format in f.formats):
        plan.used.add("output_format")
        if s.output_format not in f.formats:
            plan.bad("output_format", f"{f.label} writes {', '.join(f.formats)}, not "
                     f"{s.output_format}", f"use output_format: {f.formats[0]}")  # fmt: skip
    _size(plan)


def _size(plan: _Plan) -> None:
    """The size asked for, as this family takes it (a fixed list, a rule, or a ratio)."""
    f, s = plan.family, plan.settings
    if s.task in ("inpainting", "outpainting", "background-removal", "image-to-image"):
        return  # the result has the source's size (Stability: aspect_ratio is text-to-image)
    if s.size is None and s.aspect_ratio is None:
        return
    plan.used.update(k for k in ("size", "aspect_ratio") if getattr(s, k) is not None)
    if f.shape == "stability":
        ratio = s.aspect_ratio if s.aspect_ratio else _ratio(*s.size)  # type: ignore[misc]
        if ratio in f.ratios:
            plan.ratio = ratio
            if s.size is not None:
                plan.notices.append(f"{plan.model}: {f.label} takes an aspect ratio, not a "
                                    f"size: {s.size[0]}x{s.size[1]} sent as {ratio}")  # fmt: skip
        else:
            asked = f"size {s.size[0]}x{s.size[1]} ({ratio})" if s.size else f"aspect_ratio {ratio}"
            plan.bad("size" if s.size else "aspect_ratio", f"{asked}: {f.label} takes the "
                     f"aspect ratios {', '.join(f.ratios)}",
                     "pick one, or set one for this model under image.overrides")  # fmt: skip
        return
    if s.size is not None:
        width, height = s.size
        if f.sizes and not any((w, h) == s.size for w, h, _ in f.sizes):
            near = sorted(f.sizes, key=lambda t: abs(t[0] - width) + abs(t[1] - height))[:3]
            plan.bad("size", f"size {width}x{height} is not one {f.label} makes",
                     "closest: " + ", ".join(f"{w}x{h}" for w, h, _ in near))  # fmt: skip
        elif f.size_rule and (why := f.size_rule.problem(width, height)):
            plan.bad("size", f"size {width}x{height}: {why} for {f.label}",
                     "pick a size within the rule, e.g. 1024x1024")  # fmt: skip
        plan.width, plan.height = width, height
        return
    ratio = s.aspect_ratio or "1:1"
    picked = next(((w, h) for w, h, r in f.sizes if r == ratio), None) if f.sizes else None
    picked = picked or f.ratio_sizes.get(ratio) or (_from_ratio(ratio) if f.shape == "echo"
                                                    else None)  # fmt: skip
    if picked is None:
        ratios = list(dict.fromkeys(r for _, _, r in f.sizes)) or list(f.ratio_sizes)
        plan.bad("aspect_ratio", f"aspect_ratio {ratio}: {f.label} has no size with it",
                 f"use one of {', '.join(ratios)}, or a size")  # fmt: skip
        return
    plan.width, plan.height = picked
    if f.shape != "echo":
        plan.notices.append(f"{plan.model}: aspect_ratio {ratio} sent as "
                            f"{picked[0]}x{picked[1]}")  # fmt: skip


def _ratio(width: int, height: int) -> str:
    g = math.gcd(width, height)
    return f"{width // g}:{height // g}"


def _from_ratio(ratio: str) -> tuple[int, int]:
    a, b = (int(x) for x in ratio.split(":"))
    return (1024, max(1, round(1024 * b / a))) if a >= b else (max(1, round(1024 * a / b)), 1024)


def _check_sources(plan: _Plan) -> None:
    """Each image variable a setting names has a value, within the family's documented sizes."""
    f, s = plan.family, plan.settings
    named = [("source", n) for n in s.source]
    named += [(k, getattr(s, k)) for k in ("mask", "condition", "reference") if getattr(s, k)]
    for setting, name in named:
        media = plan.sources.get(name)
        if media is None:
            plan.bad(
                setting,
                f"{setting} '{name}' has no value",
                f"pass it: -v {name}=@path/to/image.png (or in a vars file or case)",
            )
            continue
        if media.s3_uri is not None:
            plan.bad(setting, f"{setting} '{name}' is an S3 object: InvokeModel takes the "
                     "image's bytes", f"download it and write {name}=@path")  # fmt: skip
            continue
        if media.format not in ("png", "jpeg"):
            plan.bad(setting, f"{setting} '{name}' is {media.format}; image models take PNG "
                     "or JPEG", "convert it to PNG")  # fmt: skip
        rule = f.source_rule
        if (
            rule
            and media.width
            and media.height
            and (why := rule.problem(media.width, media.height))
        ):
            plan.bad(setting, f"{setting} '{name}' is {media.width}x{media.height} px: {why}",
                     "resize it")  # fmt: skip


# ---------------------------------------------------------------- bodies


def _amazon_body(plan: _Plan) -> dict[str, Any]:
    """Titan Image Generator v2 and Nova Canvas: taskType, its params, imageGenerationConfig."""
    f, s = plan.family, plan.settings
    task_type, key = AMAZON_TASKS[s.task]
    params: dict[str, Any] = {}
    text = _texts(plan, "text", "negativeText")
    if s.task == "text-to-image":
        params.update(text)
        if s.condition:
            plan.used.update({"condition", "control_mode", "control_strength"} & set(s.given()))
            params["conditionImage"] = plan.image(s.condition)
            if s.control_mode:
                params["controlMode"] = s.control_mode
            if s.control_strength is not None:
                params["controlStrength"] = s.control_strength
        if s.style and f.styles:
            params["style"] = s.style
    elif s.task == "variation":
        plan.used.update({"source", "similarity"} & set(s.given()))
        params["images"] = [plan.image(n) for n in s.source]
        params.update(text)
        if s.similarity is not None:
            params["similarityStrength"] = s.similarity
    elif s.task in ("inpainting", "outpainting"):
        plan.used.update({"source", "mask", "mask_prompt"} & set(s.given()))
        params["image"] = plan.image(s.source[0])
        params.update(text)
        if s.mask:
            params["maskImage"] = plan.image(s.mask)
        elif s.mask_prompt:
            params["maskPrompt"] = s.mask_prompt
        if s.task == "outpainting" and s.outpainting_mode:
            plan.used.add("outpainting_mode")
            params["outPaintingMode"] = s.outpainting_mode
    elif s.task == "background-removal":
        plan.used.add("source")
        return {"taskType": task_type, key: {"image": plan.image(s.source[0])}}
    elif s.task == "color-guided":
        plan.used.update({"colors", "reference"} & set(s.given()))
        params["colors"] = list(s.colors)
        if s.reference:
            params["referenceImage"] = plan.image(s.reference)
        params.update(text)
    config: dict[str, Any] = {"numberOfImages": s.count}
    if s.task in ("text-to-image", "variation", "color-guided") and plan.width and plan.height:
        config.update({"width": plan.width, "height": plan.height})
    if s.quality is not None and "quality" in plan.used:
        config["quality"] = s.quality
    if s.cfg_scale is not None and "cfg_scale" in plan.used:
        config["cfgScale"] = s.cfg_scale
    if s.seed is not None:
        config["seed"] = s.seed
    return {"taskType": task_type, key: params, "imageGenerationConfig": config}


def _texts(plan: _Plan, text_key: str, negative_key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if plan.prompt:
        out[text_key] = plan.prompt
    if plan.negative:
        out[negative_key] = plan.negative
    return out


def _stability_body(plan: _Plan) -> dict[str, Any]:
    """Stable Diffusion 3.5 Large, Stable Image Core and Ultra."""
    f, s = plan.family, plan.settings
    body: dict[str, Any] = _texts(plan, "prompt", "negative_prompt")
    if s.task == "image-to-image":
        plan.used.update({"source", "strength"} & set(s.given()))
        body["mode"] = "image-to-image"
        body["image"] = plan.image(s.source[0])
        body["strength"] = s.strength if s.strength is not None else 0.5
        if s.strength is None:
            plan.notices.append(f"{plan.model}: image-to-image needs a strength; 0.5 sent")
    else:
        if "image-to-image" in f.tasks:
            body["mode"] = "text-to-image"
        if plan.ratio:
            body["aspect_ratio"] = plan.ratio
    if s.seed is not None:
        body["seed"] = s.seed
    if s.output_format is not None and "output_format" in plan.used:
        body["output_format"] = s.output_format
    return body


def _echo_body(plan: _Plan) -> dict[str, Any]:
    """echo: the settings as given, the images named, and the size it draws at."""
    s = plan.settings
    plan.used.update(s.given())
    body: dict[str, Any] = {"task": s.task, **_texts(plan, "prompt", "negative_prompt"),
                            "count": s.count}  # fmt: skip
    if s.seed is not None:
        body["seed"] = s.seed
    if not plan.width:
        plan.width, plan.height = _from_ratio(s.aspect_ratio or "1:1")
    body["width"], body["height"] = plan.width, plan.height
    skip = ("task", "count", "seeds", "size", "aspect_ratio", *_VAR_SETTINGS)
    extra = {k: v for k, v in s.given().items() if k not in skip}
    body.update(extra)
    images = {n: plan.image(n) for n in (*s.source, s.mask, s.condition, s.reference) if n}
    if images:
        body["images"] = images
    return body


_VAR_SETTINGS = ("source", "mask", "condition", "reference")


# ---------------------------------------------------------------- answers


def read_answer(request: ImageRequest, data: Mapping[str, Any]) -> tuple[list[GeneratedImage],
                                                                          list[str]]:  # fmt: skip
    """The images of an answer, filtered ones included (without bytes), and notices."""
    family = next((f for _, f in FAMILIES if f.name == request.family), None)
    if family is not None and family.shape == "stability":
        return _stability_answer(request, data)
    return _amazon_answer(request, data)


def _amazon_answer(request: ImageRequest, data: Mapping[str, Any]) -> tuple[
        list[GeneratedImage], list[str]]:  # fmt: skip
    raw = [i for i in data.get("images") or [] if isinstance(i, str)]
    error = data.get("error")
    images = [decode(i, n, seed=request.seed) for n, i in enumerate(raw)]
    notices: list[str] = []
    wanted = 1 if request.task == "background-removal" else request.count
    if error:
        reason = str(error)
        missing = max(wanted - len(images), 0 if images else 1)
        images += [GeneratedImage(len(images) + k, seed=request.seed, filtered=reason)
                   for k in range(missing)]  # fmt: skip
        if not missing:
            notices.append(f"the service said: {reason}")
    return images, notices


def _stability_answer(request: ImageRequest, data: Mapping[str, Any]) -> tuple[
        list[GeneratedImage], list[str]]:  # fmt: skip
    raw = list(data.get("images") or [])
    reasons = list(data.get("finish_reasons") or [])
    seeds = list(data.get("seeds") or [])
    out: list[GeneratedImage] = []
    for n in range(max(len(raw), len(reasons), 1 if not raw else 0)):
        seed = seeds[n] if n < len(seeds) and isinstance(seeds[n], int) else request.seed
        reason = reasons[n] if n < len(reasons) else None
        if reason is not None or n >= len(raw) or not isinstance(raw[n], str):
            why = str(reason or "no image in the answer")
            out.append(GeneratedImage(n, seed=seed, filtered=why))
        else:
            out.append(decode(raw[n], n, seed=seed))
    return out, []


def decode(text: str, index: int, *, seed: int | None) -> GeneratedImage:
    """One base64 image: its bytes, format, digest and pixel size (the header read once)."""
    try:
        data = base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        return GeneratedImage(index, seed=seed, filtered="the image in the answer is not base64")
    fmt = sniff(data)
    width, height = dimensions(data)
    return GeneratedImage(index, data, fmt, hashlib.sha256(data).hexdigest(), width, height, seed)


def sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def dimensions(data: bytes) -> tuple[int | None, int | None]:
    """Width and height from the image's header (PNG read directly; others through Pillow)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            return int(im.size[0]), int(im.size[1])
    except Exception:  # not an image Pillow reads: the size stays unknown
        return None, None


def image_blocks(images: Sequence[GeneratedImage]) -> tuple[dict[str, Any], ...]:
    """The answer's content: an image block per image returned, in record form (digests)."""
    return tuple({"image": {"format": i.format or "png", "source": {
        "bytes": {"sha256": i.sha256, "size": len(i.data)}}}}
        for i in images if i.data is not None)  # fmt: skip


# ---------------------------------------------------------------- blocked requests

# Phrases of a ValidationException that means the content filters blocked the request (Nova
# Canvas: "This request has been blocked by our content filters.").
BLOCKED_PHRASES = ("content filters", "blocked by our content", "content moderation")


def blocked(message: str) -> bool:
    text = message.lower()
    return any(p in text for p in BLOCKED_PHRASES)


def filtered_answer(request: ImageRequest, reason: str) -> list[GeneratedImage]:
    """Every image a blocked request asked for, filtered with the service's reason."""
    wanted = 1 if request.task == "background-removal" else request.count
    return [GeneratedImage(n, seed=request.seed, filtered=reason) for n in range(wanted)]


# ---------------------------------------------------------------- multimodal embeddings


def embedding_body(text: str | None, image: bytes | None) -> str:
    """Titan Multimodal Embeddings: inputText and/or inputImage → one 1,024-number vector."""
    body: dict[str, Any] = {"embeddingConfig": {"outputEmbeddingLength": EMBEDDING_LENGTH}}
    if text:
        body["inputText"] = text
    if image is not None:
        body["inputImage"] = base64.b64encode(image).decode("ascii")
    return json.dumps(body)

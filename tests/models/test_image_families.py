"""The image table (imagegen): settings → each family's body, what a family lacks dropped with a
notice, what it cannot take refused, answers → images, and per-image prices."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest

from promptlab import imagegen
from promptlab.catalogue import completion_cost, cost_usd, resolve
from promptlab.prompt.imagespec import ImageSettings
from promptlab.results import Completion, GeneratedImage
from tests.fakebedrock import png

TEXT = "A red mug on a table"


def build(family: imagegen.Family, prompt: str = TEXT, **settings: object):  # type: ignore[no-untyped-def]
    return imagegen.build("m", family, ImageSettings(**settings), prompt, "blurry", {})  # type: ignore[arg-type]


def test_titan_and_nova_get_a_text_image_task_with_a_generation_config() -> None:
    request, notices, bad = build(
        imagegen.NOVA,
        size=(1280, 720),
        count=2,
        seed=5,
        quality="premium",
        cfg_scale=6.5,
        style="PHOTOREALISM",
    )
    assert (notices, bad) == ([], [])
    assert request.to_converse() == {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": TEXT, "negativeText": "blurry", "style": "PHOTOREALISM"},
        "imageGenerationConfig": {
            "numberOfImages": 2,
            "width": 1280,
            "height": 720,
            "quality": "premium",
            "cfgScale": 6.5,
            "seed": 5,
        },
    }


def test_stability_gets_a_prompt_body_and_a_size_becomes_its_aspect_ratio() -> None:
    request, notices, bad = build(
        imagegen.SD35, size=(1024, 1024), seed=9, quality="premium", output_format="jpeg"
    )
    assert bad == []
    assert request.to_converse() == {
        "prompt": TEXT,
        "negative_prompt": "blurry",
        "mode": "text-to-image",
        "aspect_ratio": "1:1",
        "seed": 9,
        "output_format": "jpeg",
    }
    assert notices == [
        "m: Stable Diffusion 3.5 Large takes an aspect ratio, not a size: 1024x1024 sent as 1:1",
        "m: Stable Diffusion 3.5 Large does not take quality (text-to-image); not sent",
    ]


def test_a_titan_aspect_ratio_picks_its_size_with_a_notice() -> None:
    request, notices, bad = build(imagegen.TITAN, aspect_ratio="16:9")
    assert bad == [] and request.width == 1173 and request.height == 640
    assert notices == ["m: aspect_ratio 16:9 sent as 1173x640"]


@pytest.mark.parametrize(
    ("family", "settings", "setting", "message"),
    [
        (
            imagegen.TITAN,
            {"size": (1000, 1000)},
            "size",
            "m: size 1000x1000 is not one Titan Image Generator v2 makes",
        ),
        (
            imagegen.NOVA,
            {"size": (1000, 1000)},
            "size",
            "m: size 1000x1000: each side must be a multiple of 16 for Nova Canvas",
        ),
        (imagegen.NOVA, {"size": (4096, 4096)}, "size", "at most 4,194,304 pixels"),
        (imagegen.SD35, {"size": (1000, 700)}, "size", "size 1000x700 (10:7): Stable Diffusion"),
        (imagegen.TITAN, {"aspect_ratio": "9:16"}, "aspect_ratio", "has no size with it"),
        (imagegen.SD35, {"count": 4}, "count", "makes 1 image per request"),
        (imagegen.TITAN, {"count": 6}, "count", "makes at most 5 images per request"),
        (imagegen.NOVA, {"seed": 900_000_000}, "seeds", "over Nova Canvas's 858,993,459"),
        (imagegen.TITAN, {"quality": "best"}, "quality", "is not one of standard, premium"),
        (imagegen.NOVA, {"cfg_scale": 12}, "cfg_scale", "outside 1.1–10"),
        (imagegen.NOVA, {"style": "WATERCOLOR"}, "style", "not one Nova Canvas knows"),
        (
            imagegen.CORE,
            {"task": "image-to-image", "source": ("p",)},
            "task",
            "Stable Image Core does not do image-to-image",
        ),
        (imagegen.SD35, {"output_format": "webp"}, "output_format", "writes png, jpeg, not webp"),
    ],
)
def test_what_a_family_cannot_take_is_a_violation_naming_the_setting(
    family: imagegen.Family, settings: dict[str, object], setting: str, message: str
) -> None:
    _, _, bad = build(family, **settings)
    assert [v.setting for v in bad] == [setting]
    assert message in bad[0].message


def test_a_prompt_over_the_family_limit_is_refused() -> None:
    _, _, bad = build(imagegen.TITAN, prompt="x" * 513)
    assert [v.setting for v in bad] == ["prompt"]
    assert bad[0].message == (
        "m: prompt is 513 characters after rendering; Titan Image Generator v2 takes at most 512"
    )
    assert build(imagegen.NOVA, prompt="x" * 1024)[2] == []
    assert build(imagegen.SD35, prompt="x" * 10_000)[2] == []


def test_a_setting_the_family_lacks_is_dropped_with_one_notice() -> None:
    _, notices, bad = build(imagegen.TITAN, style="PHOTOREALISM", strength=0.4)
    assert bad == []
    assert notices == [
        "m: Titan Image Generator v2 does not take style, strength (text-to-image); not sent"
    ]


def test_editing_tasks_send_the_source_images_as_bytes() -> None:
    from promptlab.media import Media

    data = png(320, 320)
    photo = Media(
        "image", "png", "", "@p.png", None, data, None, None, None, len(data), "x", 320, 320
    )
    settings = ImageSettings(task="inpainting", source=("photo",), mask_prompt="the mug")
    request, _, bad = imagegen.build(
        "m", imagegen.TITAN, settings, "a vase", None, {"photo": photo}
    )
    assert bad == []
    body = request.to_converse()
    assert body["taskType"] == "INPAINTING"
    assert body["inPaintingParams"] == {"image": data, "text": "a vase", "maskPrompt": "the mug"}
    assert (
        base64.b64decode(
            __import__("json").loads(request.invoke_body())["inPaintingParams"]["image"]
        )
        == data
    )
    removal = imagegen.build(
        "m",
        imagegen.NOVA,
        ImageSettings(task="background-removal", source=("photo",)),
        "",
        None,
        {"photo": photo},
    )[0]
    assert removal.to_converse() == {
        "taskType": "BACKGROUND_REMOVAL",
        "backgroundRemovalParams": {"image": data},
    }


def test_a_source_without_a_value_is_a_violation() -> None:
    settings = ImageSettings(task="image-to-image", source=("photo",), strength=0.3)
    _, _, bad = imagegen.build("m", imagegen.SD35, settings, "bluer", None, {})
    assert [(v.setting, v.message) for v in bad] == [("source", "m: source 'photo' has no value")]


# ---------------------------------------------------------------- answers


def request_for(family: imagegen.Family, **settings: object) -> imagegen.ImageRequest:
    return build(family, **settings)[0]


def b64(width: int = 64, height: int = 64) -> str:
    return base64.b64encode(png(width, height)).decode()


def test_an_amazon_answer_becomes_decoded_images_with_their_size_and_digest() -> None:
    images, notices = imagegen.read_answer(
        request_for(imagegen.TITAN, count=2, seed=3),
        {"images": [b64(), b64(32, 16)], "error": None},
    )
    assert notices == []
    assert [(i.index, i.format, i.width, i.height, i.seed, i.filtered) for i in images] == [
        (0, "png", 64, 64, 3, None),
        (1, "png", 32, 16, 3, None),
    ]
    assert images[0].data == png(64, 64)


def test_titan_withheld_images_are_filtered_with_the_services_reason() -> None:
    reason = "This request has been blocked by our content filters."
    images, _ = imagegen.read_answer(
        request_for(imagegen.TITAN, count=3), {"images": [b64()], "error": reason}
    )
    assert [(i.data is not None, i.filtered) for i in images] == [
        (True, None),
        (False, reason),
        (False, reason),
    ]


def test_stability_finish_reasons_filter_their_image_and_report_the_seed() -> None:
    answer = {"seeds": [77], "finish_reasons": ["Filter reason: output image"], "images": [b64()]}
    [image], _ = imagegen.read_answer(request_for(imagegen.SD35), answer)
    assert (image.data, image.seed, image.filtered) == (None, 77, "Filter reason: output image")
    [ok], _ = imagegen.read_answer(
        request_for(imagegen.ULTRA), {"seeds": [5], "finish_reasons": [None], "images": [b64()]}
    )
    assert ok.filtered is None and ok.seed == 5 and ok.format == "png"


def test_the_content_filter_message_of_a_blocked_request_is_recognised() -> None:
    assert imagegen.blocked("This request has been blocked by our content filters.")
    assert not imagegen.blocked("Malformed input request: width must be a multiple of 16")


# ---------------------------------------------------------------- prices


def test_a_titan_image_costs_by_size_class_and_quality() -> None:
    ref = resolve("titan-image")
    assert cost_usd(ref, None, None, images=1, size=(1024, 1024)) == 0.01
    assert cost_usd(ref, None, None, images=1, size=(768, 768)) == 0.008  # bills as 512x512
    assert cost_usd(ref, None, None, images=2, size=(1173, 640), quality="premium") == 0.024


def test_nova_canvas_costs_more_above_a_megapixel() -> None:
    ref = resolve("nova-canvas")
    assert cost_usd(ref, None, None, images=1, size=(1024, 1024)) == 0.04
    assert cost_usd(ref, None, None, images=1, size=(2048, 2048), quality="premium") == 0.08


def test_an_unknown_image_price_stays_unknown() -> None:
    ref = resolve("stability.stable-image-remove-background-v1:0")
    assert cost_usd(ref, None, None, images=1, size=(1024, 1024)) is None


def test_filtered_images_are_not_billed() -> None:
    ref = resolve("sd3.5-large")
    request = request_for(imagegen.SD35)
    made = GeneratedImage(0, png(8, 8), "png", "x", 8, 8)
    withheld = GeneratedImage(1, filtered="Filter reason: prompt")
    done = Completion(output="", images=(made, withheld))
    assert completion_cost(ref, done, request) == 0.08
    assert completion_cost(ref, replace(done, images=(withheld,)), request) == 0.0

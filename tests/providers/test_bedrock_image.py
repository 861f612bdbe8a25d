"""The bedrock-image kind: image bodies sent with InvokeModel through the real boto3 client (the
local fake Bedrock answers), answers decoded once, filters and blocks as answers, errors as
cells, and multimodal embeddings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptlab import imagegen
from promptlab.catalogue import resolve
from promptlab.config import Config
from promptlab.prompt.imagespec import ImageSettings
from promptlab.providers.base import ModelCallError, ProviderPool
from tests.fakebedrock import FakeBedrock, png

NOVA = "amazon.nova-canvas-v1:0"
SD = "stability.sd3-5-large-v1:0"
EMBED = "amazon.titan-embed-image-v1"


def provider(tmp_path: Path, name: str):  # type: ignore[no-untyped-def]
    ref = resolve(name)
    return ref, ProviderPool(Config(root=tmp_path, region="us-east-1")).get(ref)


def request(family: imagegen.Family, **settings: object) -> imagegen.ImageRequest:
    return imagegen.build("m", family, ImageSettings(**settings), "a red mug", None, {})[0]  # type: ignore[arg-type]


def test_image_models_resolve_to_the_image_kind() -> None:
    assert {
        resolve(n).provider
        for n in (
            "titan-image",
            "nova-canvas",
            "sd3.5-large",
            "stable-image-core",
            "stable-image-ultra",
            "titan-embed-image",
        )
    } == {"bedrock-image"}
    assert resolve("us.stability.sd3-5-large-v1:0").provider == "bedrock-image"
    assert resolve("nova-lite").provider == "bedrock"


def test_the_body_goes_out_as_json_and_the_images_come_back_decoded(
    tmp_path: Path, fake_bedrock: FakeBedrock
) -> None:
    ref, p = provider(tmp_path, "nova-canvas")
    done = p.complete(ref, request(imagegen.NOVA, size=(320, 320), count=2, seed=4), stream=True)
    [sent] = fake_bedrock.requests_for(NOVA)
    assert sent.op == "invoke" and sent.headers["content-type"] == "application/json"
    assert sent.body["imageGenerationConfig"] == {
        "numberOfImages": 2,
        "width": 320,
        "height": 320,
        "seed": 4,
    }
    assert [(i.width, i.height, i.format, i.seed) for i in done.images] == [
        (320, 320, "png", 4)
    ] * 2
    assert done.images[0].data == png(320, 320, shade=4)
    assert done.latency_ms == 42  # x-amzn-bedrock-invocation-latency
    assert done.stop_reason == "end_turn" and done.output == ""
    assert done.content[0]["image"]["source"]["bytes"]["sha256"] == done.images[0].sha256


def test_a_stability_filter_is_that_images_answer(
    tmp_path: Path, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(SD, finish_reasons=["Filter reason: output image"])
    ref, p = provider(tmp_path, "sd3.5-large")
    done = p.complete(ref, request(imagegen.SD35), stream=False)
    assert done.stop_reason == "content_filtered"
    assert [(i.data, i.filtered) for i in done.images] == [(None, "Filter reason: output image")]
    assert done.content == ()


def test_a_request_blocked_by_content_filters_is_an_answer_not_an_error(
    tmp_path: Path, fake_bedrock: FakeBedrock
) -> None:
    message = "This request has been blocked by our content filters."
    fake_bedrock.script(NOVA, fail=1, status=400, error="ValidationException", message=message)
    ref, p = provider(tmp_path, "nova-canvas")
    done = p.complete(ref, request(imagegen.NOVA, count=2), stream=False)
    assert [i.filtered for i in done.images] == [message, message]


def test_other_service_errors_keep_their_code_and_hint(
    tmp_path: Path, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(
        NOVA,
        fail=1,
        status=400,
        error="ValidationException",
        message="Malformed input request: width is not valid",
    )
    ref, p = provider(tmp_path, "nova-canvas")
    with pytest.raises(ModelCallError) as exc:
        p.complete(ref, request(imagegen.NOVA), stream=False)
    assert exc.value.code == "ValidationException"


def test_a_text_request_is_refused_without_a_call(
    tmp_path: Path, fake_bedrock: FakeBedrock
) -> None:
    from promptlab.request import Request

    ref, p = provider(tmp_path, "titan-image")
    with pytest.raises(ModelCallError) as exc:
        p.complete(ref, Request.of(None, "hi"), stream=False)
    assert exc.value.code == "NotATextModel"
    assert fake_bedrock.count() == 0


def test_multimodal_embeddings_send_text_and_image(
    tmp_path: Path, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script(EMBED, embedding=[0.1, 0.2])
    ref, p = provider(tmp_path, "titan-embed-image")
    vector, tokens = p.embed_image(ref, "a mug", b"\x89PNG fake")
    assert vector == [0.1, 0.2] and tokens == 2
    [sent] = fake_bedrock.requests_for(EMBED)
    assert sent.body["inputText"] == "a mug"
    assert sent.body["embeddingConfig"] == {"outputEmbeddingLength": 1024}
    import base64

    assert base64.b64decode(sent.body["inputImage"]) == b"\x89PNG fake"
    assert json.dumps(sent.body)  # plain JSON


def test_an_image_model_is_not_an_embedding_model(
    tmp_path: Path, fake_bedrock: FakeBedrock
) -> None:
    ref, p = provider(tmp_path, "titan-image")
    with pytest.raises(ModelCallError) as exc:
        p.embed_image(ref, "a mug", None)
    assert exc.value.code == "NotAnEmbeddingModel"
    assert fake_bedrock.count() == 0

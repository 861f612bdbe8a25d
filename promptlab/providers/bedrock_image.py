"""Image models and multimodal embeddings through InvokeModel (the `bedrock-image` kind).

The body comes from the image prompt (`imagegen.ImageRequest`); the answer's images are
decoded once here and handed on as `Completion.images` (the runner writes them to files). A
request the content filters blocked, or images they withheld, are that call's answer with the
reason, not an error. Clients, retries and error hints are BedrockProvider's.
"""

from __future__ import annotations

import json
import time
from typing import Any

from promptlab import imagegen
from promptlab.catalogue import ModelRef
from promptlab.providers import bedrock
from promptlab.providers.base import ModelCallError, OnText
from promptlab.providers.bedrock import BedrockProvider, retried
from promptlab.request import Request
from promptlab.results import Completion, GeneratedImage

LATENCY_HEADER = "x-amzn-bedrock-invocation-latency"


class BedrockImageProvider(BedrockProvider):
    """BedrockProvider for the models InvokeModel serves with image bodies."""

    def complete(
        self,
        ref: ModelRef,
        request: Request,
        *,
        stream: bool,
        on_text: OnText | None = None,
        on_reasoning: OnText | None = None,
    ) -> Completion:
        """Make the images (`stream` does not apply). Raises ModelCallError."""
        if not isinstance(request, imagegen.ImageRequest):
            raise ModelCallError(
                "NotATextModel",
                f"{ref.alias} makes images; it runs image prompts (kind: image)",
                "run text prompts on text models",
            )
        started = time.perf_counter()
        try:
            resp, data, codes = self._invoke(ref, request.invoke_body())
        except ModelCallError as err:
            if err.code == "ValidationException" and imagegen.blocked(err.message):
                images = imagegen.filtered_answer(request, err.message)
                return _completion(images, (), started, None, 1)
            raise
        attempts, notices = retried(resp, codes)
        images, said = imagegen.read_answer(request, data)
        del data  # the answer's base64 text: only the decoded images are kept from here on
        if not images:
            raise ModelCallError("EmptyAnswer", f"{ref.alias} returned no images",
                                 "try again; if it persists, check the request with "
                                 "promptlab render --format json -m MODEL")  # fmt: skip
        latency = (resp.get("ResponseMetadata") or {}).get("HTTPHeaders", {}).get(LATENCY_HEADER)
        return _completion(images, (*notices, *said), started, latency, attempts)

    def _invoke(self, ref: ModelRef, body: str) -> tuple[dict[str, Any], Any, list[str]]:
        """One InvokeModel call: the response, its parsed JSON body, and botocore's retries."""
        codes: list[str] = []
        bedrock._failed_attempts.codes = codes
        try:
            resp = self.client.invoke_model(modelId=ref.model_id, body=body,
                                            contentType="application/json",
                                            accept="application/json")  # fmt: skip
            raw = resp["body"].read()
        except Exception as exc:
            raise self.map_error(exc, ref) from None
        finally:
            bedrock._failed_attempts.codes = None
        try:
            data = json.loads(raw)  # bytes: decoded once, inside the parser
        except ValueError:
            raise ModelCallError("MalformedResponse", f"{ref.alias} answered with no JSON body",
                                 "try again") from None  # fmt: skip
        if not isinstance(data, dict):
            raise ModelCallError("MalformedResponse", f"{ref.alias} answered {type(data).__name__}"
                                 ", not a JSON object", "try again")  # fmt: skip
        return resp, data, codes

    # ------------------------------------------------------------ multimodal embeddings

    def embed(self, ref: ModelRef, text: str) -> tuple[list[float], int]:
        return self.embed_image(ref, text, None)

    def embed_image(
        self, ref: ModelRef, text: str | None, image: bytes | None
    ) -> tuple[list[float], int]:
        """Titan Multimodal Embeddings of a text, an image, or both: (vector, input tokens)."""
        if not (ref.base_id or "").startswith(imagegen.MULTIMODAL_EMBEDDING_PREFIXES):
            raise ModelCallError(
                "NotAnEmbeddingModel",
                f"{ref.alias} makes images; it does not embed them",
                f"use a multimodal embedding model, e.g. model: {imagegen.IMAGE_EMBEDDING_MODEL}",
            )
        _, data, _ = self._invoke(ref, imagegen.embedding_body(text, image))
        vector = data.get("embedding") or []
        if not vector:
            why = data.get("message") or "no embedding in the answer"
            raise ModelCallError("EmptyEmbedding", f"{ref.model_id}: {why}", "check the input")
        return [float(v) for v in vector], int(data.get("inputTextTokenCount") or 0)


def _completion(
    images: list[GeneratedImage],
    notices: tuple[str, ...],
    started: float,
    latency: Any,
    attempts: int,
) -> Completion:
    """The answer: images (filtered ones without bytes), their records as content blocks."""
    filtered = any(i.filtered for i in images)
    measured = int((time.perf_counter() - started) * 1000)
    return Completion(
        output="",
        stop_reason="content_filtered" if filtered else "end_turn",
        latency_ms=int(latency) if str(latency or "").isdigit() else measured,
        content=imagegen.image_blocks(images),
        images=tuple(images),
        attempts=attempts,
        notices=notices,
    )

"""Amazon Bedrock through Converse / ConverseStream, InvokeModel (embeddings), CountTokens and
ApplyGuardrail.

Every failure becomes a ModelCallError with a hint (providers/awserrors.py); the caller shows it
as that model's error.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import replace
from typing import Any

from promptlab.aws import AwsClients
from promptlab.catalogue import ModelRef
from promptlab.config import Config
from promptlab.guardrails import NOT_PRICED, Guardrail, call_hint, for_operation, verify_with
from promptlab.providers.awserrors import CREDENTIAL_CODES, map_error
from promptlab.providers.base import ModelCallError, OnText
from promptlab.providers.converse import Pieces, StreamAssembler, completion, response_meta
from promptlab.providers.registry import ProviderSettings
from promptlab.request import Request
from promptlab.results import Completion

# Failures that say nothing about one model: every further call would fail the same way.
_UNUSABLE_CODES = CREDENTIAL_CODES | {
    "EndpointUnreachable", "ReadTimeout", "ConnectionClosed", "NoCredentials", "ExpiredToken",
}  # fmt: skip
# What CountTokens accepts of a Converse body.
_COUNTABLE = ("messages", "system", "toolConfig", "additionalModelRequestFields")
# The error codes of the attempts botocore retried, per calling thread (see _note_attempt).
_failed_attempts = threading.local()


def _note_attempt(parsed_response: Any = None, exception: Any = None, **_: Any) -> None:
    """botocore's response-received hook (once per attempt, in the calling thread): remember
    why an attempt failed, so a call that succeeded after retries can say so."""
    codes = getattr(_failed_attempts, "codes", None)
    if codes is None:
        return
    if exception is not None:
        codes.append(type(exception).__name__)
    elif isinstance(parsed_response, dict) and "Error" in parsed_response:
        codes.append(str(parsed_response["Error"].get("Code") or "error"))


def retried(resp: dict[str, Any], codes: list[str]) -> tuple[int, tuple[str, ...]]:
    """(attempts, notices) of a successful response: botocore's RetryAttempts, and why."""
    attempts = int((resp.get("ResponseMetadata") or {}).get("RetryAttempts") or 0) + 1
    if attempts == 1:
        return 1, ()
    why = ", ".join(f"{code} ×{n}" if n > 1 else code for code, n in Counter(codes).items())
    throttled = any("Throttl" in c or "TooManyRequests" in c for c in codes)
    what = "throttled" if throttled and len(set(codes)) == 1 else why or "retried by botocore"
    return attempts, (f"succeeded after {attempts} attempts ({what})",)


class BedrockProvider:
    """One per (region, profile): clients are created with it and shared by worker threads.

    Creating it checks region and credentials (aws.preflight); a problem is a ConfigError.
    """

    def __init__(
        self,
        config: Config,
        region: str | None = None,
        profile: str | None = None,
        *,
        pool_size: int | None = None,
    ) -> None:
        self.config = config
        self.aws = AwsClients(config, region, profile, pool_size=pool_size)
        self.region: str = self.aws.region
        self.pool_size: int = self.aws.pool_size
        self.client = self.aws.runtime  # created now, in the calling thread
        self.client.meta.events.register(
            "response-received.bedrock-runtime", _note_attempt, unique_id="promptlab-attempts"
        )

    @classmethod
    def from_settings(cls, settings: ProviderSettings) -> BedrockProvider:
        return cls(settings.config, settings.region, settings.profile,
                   pool_size=settings.pool_size)  # fmt: skip

    # ------------------------------------------------------------ Converse

    def complete(
        self,
        ref: ModelRef,
        request: Request,
        *,
        stream: bool,
        on_text: OnText | None = None,
        on_reasoning: OnText | None = None,
    ) -> Completion:
        """Call the model through Converse (or ConverseStream). Raises ModelCallError."""
        kwargs = {"modelId": ref.model_id, **for_operation(request.to_converse(), stream=stream)}
        _failed_attempts.codes = []
        try:
            done = self._stream(kwargs, on_text, on_reasoning) if stream else self._converse(kwargs)
            if "guardrailConfig" in kwargs:  # billed per text unit, on top of the tokens
                done = replace(done, notices=(*done.notices, NOT_PRICED))
            return done
        except ModelCallError:
            raise
        except Exception as exc:
            err = self.map_error(exc, ref)
            if stream and err.code == "ReadTimeout":  # already streaming: the stream stalled
                err.hint = (
                    "the stream stopped sending; try again, lower max_tokens, or raise "
                    "timeouts.read in promptlab.yaml (PROMPTLAB_READ_TIMEOUT)"
                )
            raise err from None
        finally:
            _failed_attempts.codes = None

    def _converse(self, kwargs: dict[str, Any]) -> Completion:
        resp = self.client.converse(**kwargs)
        attempts, notices = retried(resp, _failed_attempts.codes)
        content = resp.get("output", {}).get("message", {}).get("content", [])
        usage = resp.get("usage", {})
        return completion(
            content, resp.get("stopReason"), usage, resp.get("metrics", {}).get("latencyMs"),
            response_meta(resp), attempts=attempts, retried=tuple(_failed_attempts.codes),
            notices=notices,
        )  # fmt: skip

    def _stream(
        self, kwargs: dict[str, Any], on_text: OnText | None, on_reasoning: OnText | None
    ) -> Completion:
        """ConverseStream: answer and reasoning text go to their callbacks as they arrive; the
        time to first token counts the first of either."""
        start = time.perf_counter()
        resp = self.client.converse_stream(**kwargs)
        attempts, notices = retried(resp, _failed_attempts.codes)
        codes = tuple(_failed_attempts.codes)
        events = resp["stream"]
        answer = StreamAssembler()
        pieces = {"text": Pieces(), "reasoning": Pieces()}
        ttft: int | None = None
        stop_reason: str | None = None
        usage: dict[str, Any] = {}
        latency: int | None = None
        meta: dict[str, Any] | None = None
        try:
            for event in events:
                if "contentBlockDelta" in event:  # text may come without a contentBlockStart
                    piece = answer.delta(event["contentBlockDelta"])
                    if piece and piece[1]:
                        if ttft is None:
                            ttft = int((time.perf_counter() - start) * 1000)
                        to = on_text if piece[0] == "text" else on_reasoning
                        text = pieces[piece[0]](piece[1])
                        if to is not None and text:
                            to(text)
                elif "contentBlockStart" in event:
                    answer.start(event["contentBlockStart"])
                elif "contentBlockStop" in event:
                    answer.stop(event["contentBlockStop"])
                elif "messageStop" in event:
                    stop_reason = event["messageStop"].get("stopReason")
                elif "metadata" in event:
                    usage = event["metadata"].get("usage", {}) or {}
                    latency = (event["metadata"].get("metrics") or {}).get("latencyMs")
                    meta = response_meta(event["metadata"])
        finally:
            events.close()  # frees the connection on errors and Ctrl-C too
        for kind, to in (("text", on_text), ("reasoning", on_reasoning)):
            rest = pieces[kind].rest()
            if to is not None and rest:
                to(rest)
        if stop_reason is None:  # the connection ended before messageStop: the answer is cut
            raise ModelCallError(
                "ConnectionClosed", "the stream ended before the answer was complete",
                "the connection dropped; try again", retryable=True, infrastructure=True,
            )  # fmt: skip
        content = answer.content()
        return completion(content, stop_reason, usage, latency, meta, ttft_ms=ttft,
                           attempts=attempts, retried=codes, notices=notices)  # fmt: skip

    # ------------------------------------------------------------ embeddings, token counts

    def embed(self, ref: ModelRef, text: str) -> tuple[list[float], int]:
        """Embedding through InvokeModel (Titan Text Embeddings; Cohere Embed)."""
        base = ref.base_id or ref.model_id
        cohere = base.startswith("cohere.embed")
        body: dict[str, Any] = (
            {"texts": [text], "input_type": "search_document"}
            if cohere
            else {"inputText": text, "normalize": True}
        )
        try:
            resp = self.client.invoke_model(
                modelId=ref.model_id,
                body=json.dumps(body),
                contentType="application/json",
                accept="application/json",
            )
            data = json.loads(resp["body"].read())
        except Exception as exc:
            raise self.map_error(exc, ref) from None
        if cohere:
            vector = data.get("embeddings", [[]])[0]
            tokens = int(resp.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get(
                "x-amzn-bedrock-input-token-count", 0))  # fmt: skip
        else:
            vector = data.get("embedding") or []
            tokens = int(data.get("inputTextTokenCount") or 0)
        if not vector:
            raise ModelCallError(
                "EmptyEmbedding",
                f"{ref.model_id} returned no embedding",
                "use an embedding model, e.g. embedding_model: amazon.titan-embed-text-v2:0",
            )
        return [float(v) for v in vector], tokens

    def count_tokens(self, ref: ModelRef, request: Request) -> int | None:
        """Input tokens as Bedrock counts them; None when the model or SDK can't count.

        Raises ModelCallError when Bedrock cannot be used at all (unreachable, no answer,
        bad credentials), so a caller counting many requests stops asking.
        """
        if "CountTokens" not in self.client.meta.service_model.operation_names:
            return None
        model = ref.base_id or ref.model_id
        body = request.to_converse()
        converse = {k: body[k] for k in _COUNTABLE if k in body}
        try:
            resp = self.client.count_tokens(modelId=model, input={"converse": converse})
        except Exception as exc:  # unsupported model, no access: the caller estimates
            err = self.map_error(exc, ref)
            if err.code in _UNUSABLE_CODES:
                raise err from None
            return None
        tokens = resp.get("inputTokens")
        return int(tokens) if isinstance(tokens, int) else None

    # ------------------------------------------------------------ control plane

    @property
    def control_endpoint(self) -> str:
        """Where control-plane calls go (AWS_ENDPOINT_URL_BEDROCK or the region's endpoint)."""
        return str(self.aws.control.meta.endpoint_url)

    def inference_profile_models(self, identifier: str) -> list[str]:
        """The model ARNs of an inference profile (GetInferenceProfile). Raises ModelCallError."""
        try:
            resp = self.aws.control.get_inference_profile(inferenceProfileIdentifier=identifier)
        except Exception as exc:
            ref = ModelRef(identifier, identifier, None)
            raise map_error(exc, ref, self.region, self.config,
                            endpoint_env="AWS_ENDPOINT_URL_BEDROCK") from None  # fmt: skip
        return [str(m.get("modelArn")) for m in resp.get("models") or [] if m.get("modelArn")]

    # ------------------------------------------------------------ guardrails

    def verify_guardrails(self, guardrails: list[Guardrail]) -> None:
        """GetGuardrail for each, with this provider's clients (guardrails.verify_with)."""
        verify_with(self.aws, guardrails)

    def apply_guardrail(self, guardrail: Guardrail, source: str, text: str) -> dict[str, Any]:
        """ApplyGuardrail on one text (`source`: input or output): the response without its
        HTTP metadata. Raises ModelCallError."""
        try:
            resp = self.client.apply_guardrail(
                guardrailIdentifier=guardrail.id,
                guardrailVersion=guardrail.version,
                source=source.upper(),
                content=[{"text": {"text": text}}],
            )
        except Exception as exc:
            err = self.map_error(exc, ModelRef(guardrail.label, guardrail.label, None))
            err.hint = call_hint(err.code, guardrail) or err.hint
            raise err from None
        return {k: v for k, v in resp.items() if k != "ResponseMetadata"}

    # ------------------------------------------------------------ errors

    def map_error(self, exc: BaseException, ref: ModelRef) -> ModelCallError:
        self.aws.remember_credentials()  # resolved by now: masked in the error's text
        return map_error(exc, ref, self.region, self.config)

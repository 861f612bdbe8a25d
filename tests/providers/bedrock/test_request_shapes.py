"""Request shapes checked against botocore's service model (Stubber validates every param)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from promptlab.catalogue import adapt, resolve
from promptlab.config import Config
from promptlab.providers.base import ModelCallError
from promptlab.providers.bedrock import BedrockProvider
from promptlab.request import InferenceParams, Request

REQUEST = Request(
    "You are terse.", "Name a colour.", InferenceParams(0.0, 0.9, 64, ("\n\n", "END"))
)


@pytest.fixture
def provider(aws_env: None, tmp_path: Path) -> BedrockProvider:
    return BedrockProvider(Config(root=tmp_path, region="us-west-2"))


@pytest.fixture
def stub(provider: BedrockProvider) -> Iterator[Stubber]:
    with Stubber(provider.client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def converse_response(text: str) -> dict[str, object]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "stop_sequence",
        "usage": {"inputTokens": 12, "outputTokens": 1, "totalTokens": 13},
        "metrics": {"latencyMs": 250},
    }


def test_converse_request_matches_the_service_model(
    provider: BedrockProvider, stub: Stubber
) -> None:
    ref = resolve("claude-haiku")
    stub.add_response(
        "converse",
        converse_response("Teal"),
        {
            "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
            "system": [{"text": "You are terse."}],
            "messages": [{"role": "user", "content": [{"text": "Name a colour."}]}],
            "inferenceConfig": {
                "maxTokens": 64,
                "temperature": 0.0,
                "topP": 0.9,
                "stopSequences": ["\n\n", "END"],
            },
        },
    )
    done = provider.complete(ref, REQUEST, stream=False)
    assert (done.output, done.stop_reason, done.latency_ms) == ("Teal", "stop_sequence", 250)


def test_adapted_request_for_a_model_without_system_prompt_is_valid(
    provider: BedrockProvider, stub: Stubber
) -> None:
    ref = resolve("titan-express")
    request, notices = adapt(REQUEST, ref)
    assert notices
    stub.add_response(
        "converse",
        converse_response("Red"),
        {
            "modelId": "amazon.titan-text-express-v1",
            "messages": [
                {"role": "user", "content": [{"text": "You are terse.\n\nName a colour."}]}
            ],
            "inferenceConfig": {
                "maxTokens": 64,
                "temperature": 0.0,
                "topP": 0.9,
                "stopSequences": ["\n\n", "END"],
            },
        },
    )
    assert provider.complete(ref, request, stream=False).output == "Red"


def test_invoke_model_embedding_request_matches_the_service_model(
    provider: BedrockProvider, stub: Stubber
) -> None:
    payload = json.dumps({"embedding": [0.5, 0.5], "inputTextTokenCount": 4}).encode()
    stub.add_response(
        "invoke_model",
        {
            "body": StreamingBody(io.BytesIO(payload), len(payload)),
            "contentType": "application/json",
        },
        {
            "modelId": "amazon.titan-embed-text-v2:0",
            "body": json.dumps({"inputText": "a b c d", "normalize": True}),
            "contentType": "application/json",
            "accept": "application/json",
        },
    )
    assert provider.embed(resolve("titan-embed"), "a b c d") == ([0.5, 0.5], 4)


def test_count_tokens_request_matches_the_service_model(
    provider: BedrockProvider, stub: Stubber
) -> None:
    stub.add_response(
        "count_tokens",
        {"inputTokens": 21},
        {
            "modelId": "anthropic.claude-3-5-haiku-20241022-v1:0",
            "input": {
                "converse": {
                    "system": [{"text": "You are terse."}],
                    "messages": [{"role": "user", "content": [{"text": "Name a colour."}]}],
                }
            },
        },
    )
    assert provider.count_tokens(resolve("claude-3.5-haiku"), REQUEST) == 21


def test_stubbed_service_error_maps_to_model_call_error(
    provider: BedrockProvider, stub: Stubber
) -> None:
    stub.add_client_error(
        "converse",
        service_error_code="AccessDeniedException",
        service_message="You don't have access to the model with the specified model ID.",
        http_status_code=403,
    )
    with pytest.raises(ModelCallError) as info:
        provider.complete(resolve("nova-lite"), REQUEST, stream=False)
    assert "us-west-2" in (info.value.hint or "")

"""BedrockProvider through the real boto3 path, against the local fake Bedrock server."""

from __future__ import annotations

import socket
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from botocore.retries.standard import ExponentialBackoff

from promptlab.catalogue import ModelRef, resolve
from promptlab.config import Config
from promptlab.providers.base import ModelCallError
from promptlab.providers.bedrock import BedrockProvider
from promptlab.request import InferenceParams, Request
from tests.fakebedrock import FakeBedrock, first_user_text

NOVA = resolve("nova-micro")
REQUEST = Request("Be brief.", "Say hi", InferenceParams(max_tokens=50, temperature=0.2))
HAIKU = resolve("claude-haiku")


def make(tmp_path: Path, **cfg: object) -> BedrockProvider:
    config = replace(Config(root=tmp_path, region="us-east-1"), **cfg)  # type: ignore[arg-type]
    return BedrockProvider(config)


def fail(provider: BedrockProvider, ref: ModelRef = NOVA, stream: bool = False) -> ModelCallError:
    with pytest.raises(ModelCallError) as info:
        provider.complete(ref, REQUEST, stream=stream)
    return info.value


@pytest.fixture
def fast_throttle_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep botocore's real backoff code, with a 10 ms base instead of 1 s, to stay quick."""
    monkeypatch.setitem(ExponentialBackoff._DEFAULT_BACKOFF_CONFIG, "throttling_base_scale", 0.01)


# ---------------------------------------------------------------- answers


def test_converse_returns_text_usage_stop_reason_and_service_latency(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.script(
        NOVA.model_id, text="Hi!", usage={"inputTokens": 11, "outputTokens": 3}, latency_ms=321
    )
    done = make(tmp_path).complete(NOVA, REQUEST, stream=False)
    assert (done.output, done.stop_reason) == ("Hi!", "end_turn")
    assert (done.input_tokens, done.output_tokens, done.latency_ms) == (11, 3, 321)
    assert done.ttft_ms is None


def test_converse_sends_the_rendered_request_to_the_model_id(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    make(tmp_path).complete(NOVA, REQUEST, stream=False)
    (sent,) = fake_bedrock.requests
    assert (sent.op, sent.model) == ("converse", "amazon.nova-micro-v1:0")
    assert sent.body["system"] == [{"text": "Be brief."}]
    assert sent.body["messages"] == [{"role": "user", "content": [{"text": "Say hi"}]}]
    assert sent.body["inferenceConfig"] == {"maxTokens": 50, "temperature": 0.2}


def test_arn_model_ids_reach_the_service_intact(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123"
    make(tmp_path).complete(resolve(arn), REQUEST, stream=False)
    assert fake_bedrock.requests[0].model == arn


def test_stream_delivers_text_deltas_in_order_with_ttft_and_usage(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.script(
        NOVA.model_id, text="one two three", usage={"inputTokens": 5, "outputTokens": 3}
    )
    seen: list[str] = []
    done = make(tmp_path).complete(NOVA, REQUEST, stream=True, on_text=seen.append)
    assert seen == ["one", " two", " three"]
    assert done.output == "one two three"
    assert (done.input_tokens, done.output_tokens, done.latency_ms) == (5, 3, 42)
    assert done.stop_reason == "end_turn"
    assert done.ttft_ms is not None
    assert fake_bedrock.requests[0].op == "converse-stream"


def test_stream_ignores_non_text_blocks_announced_by_content_block_start(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.script(NOVA.model_id, text="after the tool", content_block_start=True)
    done = make(tmp_path).complete(NOVA, REQUEST, stream=True)
    assert done.output == "after the tool"


def test_stream_reports_stop_reason_from_message_stop(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.script(NOVA.model_id, stop_reason="max_tokens")
    assert make(tmp_path).complete(NOVA, REQUEST, stream=True).stop_reason == "max_tokens"


# ---------------------------------------------------------------- mid-stream exceptions


def test_throttling_event_mid_stream_is_retryable_for_the_runner(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.script(NOVA.model_id, stream_error=("throttlingException", "Too many tokens"))
    seen: list[str] = []
    with pytest.raises(ModelCallError) as info:
        make(tmp_path).complete(NOVA, REQUEST, stream=True, on_text=seen.append)
    err = info.value
    assert err.code == "ThrottlingException"
    assert err.retryable and err.infrastructure
    assert seen  # the first delta arrived before the exception event
    assert fake_bedrock.count(op="converse-stream") == 1  # botocore does not retry streams


def test_validation_event_mid_stream_is_not_retried(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.script(NOVA.model_id, stream_error=("validationException", "bad input"))
    err = fail(make(tmp_path), stream=True)
    assert err.code == "ValidationException"
    assert not err.retryable
    assert "bad input" in err.message


def test_model_stream_error_event_is_retryable(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    fake_bedrock.script(NOVA.model_id, stream_error=("modelStreamErrorException", "oops"))
    err = fail(make(tmp_path), stream=True)
    assert (err.code, err.retryable) == ("ModelStreamErrorException", True)


# ---------------------------------------------------------------- retries and timeouts


def test_read_timeout_on_converse_is_not_resent(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    fake_bedrock.script(NOVA.model_id, latency=3.0)
    provider = make(tmp_path, read_timeout=0.3, max_attempts=4)
    err = fail(provider)
    assert fake_bedrock.count(op="converse") == 1
    assert err.code == "ReadTimeout"
    assert err.infrastructure and not err.retryable
    assert "--stream" in (err.hint or "") and "timeouts.read" in (err.hint or "")
    assert "not billed twice" in err.message


def test_read_timeout_before_a_stream_starts_is_not_resent(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.script(NOVA.model_id, hang=True)
    err = fail(make(tmp_path, read_timeout=0.3, max_attempts=3), stream=True)
    assert err.code == "ReadTimeout"
    assert fake_bedrock.count(op="converse-stream") == 1


def test_read_timeouts_on_embeddings_are_still_retried(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    embed = resolve("titan-embed")
    fake_bedrock.script(embed.model_id, hang=True)
    with pytest.raises(ModelCallError):
        make(tmp_path, read_timeout=0.2, max_attempts=2).embed(embed, "text")
    assert fake_bedrock.count(op="invoke") == 2  # the no-resend rule is for generations only


@pytest.mark.usefixtures("fast_throttle_backoff")
def test_throttling_is_retried_with_backoff_until_it_succeeds(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.script(NOVA.model_id, text="finally", fail=2, status=429)
    done = make(tmp_path, max_attempts=4).complete(NOVA, REQUEST, stream=False)
    assert done.output == "finally"
    assert fake_bedrock.count(op="converse") == 3


def test_server_errors_are_retried_until_they_succeed(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.script(
        NOVA.model_id, fail=2, status=500, error="InternalServerException", message="boom"
    )
    done = make(tmp_path, max_attempts=3).complete(NOVA, REQUEST, stream=True)
    assert done.output
    assert fake_bedrock.count(op="converse-stream") == 3


@pytest.mark.usefixtures("fast_throttle_backoff")
def test_throttling_that_outlasts_the_attempts_is_an_infrastructure_error(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.script(NOVA.model_id, fail=99, status=429)
    err = fail(make(tmp_path, max_attempts=2))
    assert fake_bedrock.count() == 2
    assert err.code == "ThrottlingException"
    assert err.infrastructure and not err.retryable  # botocore already retried it
    assert "2 attempt(s)" in (err.hint or "")


def test_model_not_ready_is_retried(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    fake_bedrock.script(
        NOVA.model_id, fail=1, status=429, error="ModelNotReadyException", message="loading"
    )
    assert make(tmp_path).complete(NOVA, REQUEST, stream=False).output
    assert fake_bedrock.count() == 2


def test_closed_port_fails_fast_as_unreachable(
    fake_bedrock: FakeBedrock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", f"http://127.0.0.1:{port}")
    err = fail(make(tmp_path, connect_timeout=0.5, max_attempts=2))
    assert err.code == "EndpointUnreachable"
    assert err.infrastructure
    assert "AWS_ENDPOINT_URL_BEDROCK_RUNTIME" in (err.hint or "")


# ---------------------------------------------------------------- error hints


def test_access_denied_names_the_region_to_enable_model_access(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.script(
        NOVA.model_id,
        fail=9,
        status=403,
        error="AccessDeniedException",
        message="You don't have access to the model with the specified model ID.",
    )
    err = fail(make(tmp_path))
    assert err.code == "AccessDeniedException"
    assert "enable it in the Bedrock console for us-east-1" in (err.hint or "")
    assert err.infrastructure
    assert fake_bedrock.count() == 1


def test_on_demand_validation_suggests_the_regions_inference_profile(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    model = "anthropic.claude-3-7-sonnet-20250219-v1:0"
    fake_bedrock.script(
        model,
        fail=9,
        status=400,
        error="ValidationException",
        message=f"Invocation of model ID {model} with on-demand throughput isn’t supported. "
        "Retry your request with the ID or ARN of an inference profile that contains this model.",
    )
    err = fail(make(tmp_path, region="eu-west-1"), resolve(model))
    assert err.hint == f"use the inference profile eu.{model}"
    assert not err.infrastructure


def test_unknown_model_id_points_at_the_models_command(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.script(
        "amazon.nova-mega-v9:0",
        fail=9,
        status=400,
        error="ValidationException",
        message="The provided model identifier is invalid.",
    )
    err = fail(make(tmp_path), resolve("amazon.nova-mega-v9:0"))
    assert "promptlab models" in (err.hint or "")


def test_resource_not_found_names_the_model_and_region(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/gone"
    fake_bedrock.script(
        arn, fail=9, status=404, error="ResourceNotFoundException", message="Model not found"
    )
    err = fail(make(tmp_path), resolve(arn))
    assert err.code == "ResourceNotFoundException"
    assert arn in (err.hint or "") and "us-east-1" in (err.hint or "")
    assert "--custom" in (err.hint or "")


def test_model_timeout_is_reported_not_retried(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    fake_bedrock.script(
        NOVA.model_id, fail=9, status=408, error="ModelTimeoutException", message="slow model"
    )
    err = fail(make(tmp_path))
    assert err.code == "ModelTimeoutException" and err.hint
    assert fake_bedrock.count() == 1


def test_expired_token_is_a_credentials_error(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    fake_bedrock.script(
        NOVA.model_id,
        fail=9,
        status=403,
        error="ExpiredTokenException",
        message="The security token included in the request is expired",
    )
    err = fail(make(tmp_path))
    assert err.infrastructure
    assert "aws sso login" in (err.hint or "")


def test_error_messages_never_echo_access_keys(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    fake_bedrock.script(
        NOVA.model_id,
        fail=9,
        status=403,
        error="UnrecognizedClientException",
        message="The key AKIAABCDEFGHIJKLMNOP is not valid",
    )
    err = fail(make(tmp_path))
    assert "AKIAABCDEFGHIJKLMNOP" not in str(err) + (err.hint or "")
    assert "[access key]" in err.message


# ---------------------------------------------------------------- concurrency, embeddings


def test_threads_share_one_client_and_each_gets_its_own_answer(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.default.text = lambda body: "echo: " + first_user_text(body)
    provider = make(tmp_path, concurrency=16)
    assert provider.client.meta.config.max_pool_connections >= 16
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def call(i: int) -> None:
        try:
            req = Request(None, f"question {i}")
            results[i] = provider.complete(NOVA, req, stream=i % 2 == 0).output
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == {i: f"echo: question {i}" for i in range(32)}
    assert fake_bedrock.count() == 32


def test_embed_sends_titan_v2_body_and_returns_vector_and_tokens(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    embed = resolve("titan-embed")
    fake_bedrock.script(embed.model_id, embedding=[0.1, 0.2])
    vector, tokens = make(tmp_path).embed(embed, "three little words")
    assert (vector, tokens) == ([0.1, 0.2], 3)
    (sent,) = fake_bedrock.requests
    assert (sent.op, sent.model) == ("invoke", "amazon.titan-embed-text-v2:0")
    assert sent.body == {"inputText": "three little words", "normalize": True}


def test_count_tokens_uses_the_base_model_and_converse_shape(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    ref = resolve("us.anthropic.claude-3-7-sonnet-20250219-v1:0")
    fake_bedrock.script(ref.base_id or "", count_tokens=99)
    assert make(tmp_path).count_tokens(ref, REQUEST) == 99
    (sent,) = fake_bedrock.requests
    assert sent.model == "anthropic.claude-3-7-sonnet-20250219-v1:0"
    assert sent.body["input"]["converse"]["system"] == [{"text": "Be brief."}]
    assert "inferenceConfig" not in sent.body["input"]["converse"]


def test_count_tokens_is_none_when_the_model_cannot_count(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.script(NOVA.model_id, count_tokens=None)
    assert make(tmp_path).count_tokens(NOVA, REQUEST) is None


def test_provider_reports_the_resolved_region(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    assert make(tmp_path, region="eu-central-1").region == "eu-central-1"


def test_stream_that_stalls_mid_answer_times_out_without_resending(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.script(NOVA.model_id, text="a b c", chunk_delay=2.0)
    seen: list[str] = []
    with pytest.raises(ModelCallError) as info:
        make(tmp_path, read_timeout=0.3).complete(NOVA, REQUEST, stream=True, on_text=seen.append)
    assert info.value.code == "ReadTimeout"
    assert not info.value.retryable
    assert fake_bedrock.count() == 1


def test_a_stalled_stream_does_not_suggest_streaming(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.script(HAIKU.model_id, hang=True)
    config = replace(Config(root=tmp_path, region="us-east-1"), read_timeout=0.5)
    request = Request(None, "hi", InferenceParams())
    with pytest.raises(ModelCallError) as info:
        BedrockProvider(config).complete(HAIKU, request, stream=True)
    assert info.value.code == "ReadTimeout"
    assert "--stream" not in (info.value.hint or "")
    assert fake_bedrock.count(op="converse-stream") == 1  # not re-sent

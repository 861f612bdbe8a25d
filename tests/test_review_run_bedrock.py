"""Bedrock behaviour of `run`: pool sizing, dry-run token counts, stalled streams."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from promptlab.catalogue import resolve
from promptlab.config import Config
from promptlab.providers.base import ModelCallError, ProviderPool
from promptlab.providers.bedrock import BedrockProvider
from promptlab.request import InferenceParams, Request
from promptlab.runner import Runner
from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

NOVA = resolve("nova-micro")
HAIKU = resolve("claude-haiku")
PROMPT = """\
version: "1.0.0"
input: "Question: {{ q }}"
variables:
  q: {type: string}
"""


def test_runner_gives_every_worker_a_connection(aws_env: None, tmp_path: Path) -> None:
    """`test -j 32` makes the pool from the config (8) first: the runner must resize it."""
    config = Config(root=tmp_path, region="us-east-1", concurrency=8)
    pool = ProviderPool(config)
    pool.prepare([NOVA])
    Runner(pool, config, concurrency=32)
    client = pool.get(NOVA).client  # type: ignore[attr-defined]
    assert client.meta.config.max_pool_connections >= 32


def test_a_pool_big_enough_is_kept(aws_env: None, tmp_path: Path) -> None:
    config = Config(root=tmp_path, region="us-east-1", concurrency=16)
    pool = ProviderPool(config)
    pool.prepare([NOVA])
    first = pool.get(NOVA)
    Runner(pool, config, concurrency=4)
    assert pool.get(NOVA) is first


def test_dry_run_stops_counting_tokens_once_bedrock_does_not_answer(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / "prompts" / "q.yaml", PROMPT)
    write(project / "qs.yaml", "- {q: a}\n- {q: b}\n- {q: c}\n")
    fake_bedrock.default.hang = True
    monkeypatch.setenv("PROMPTLAB_READ_TIMEOUT", "0.5")
    monkeypatch.setenv("PROMPTLAB_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("PROMPTLAB_CONCURRENCY", "1")
    result = cli("run", "q", "-m", "nova-micro,nova-lite", "--vars", "qs.yaml", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "CountTokens unavailable: ReadTimeout" in result.stdout
    assert "(estimate)" in result.stdout
    # one request and one retry, then the five other requests are estimated without asking
    assert fake_bedrock.count(op="count-tokens") == 2


def test_dry_run_counts_tokens_for_every_model_and_vars_set(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "prompts" / "q.yaml", PROMPT)
    write(project / "qs.yaml", "- {q: a}\n- {q: b}\n")
    fake_bedrock.default.count_tokens = 7
    result = cli("run", "q", "-m", "nova-micro,nova-lite", "--vars", "qs.yaml", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("input tokens: 7 ·") == 4
    assert fake_bedrock.count(op="count-tokens") == 4


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


def test_a_web_page_instead_of_bedrock_is_one_line_naming_the_proxy() -> None:
    from botocore.exceptions import ClientError

    from promptlab.providers.bedrock import map_error

    page = "<!DOCTYPE HTML>\n<html><head><title>502 Bad\n Gateway</title></head><body>" + "x" * 900
    exc = ClientError(
        {"Error": {"Code": "502", "Message": page}, "ResponseMetadata": {"HTTPStatusCode": 502}},
        "Converse",
    )
    err = map_error(exc, NOVA, "us-east-1")
    assert "\n" not in err.message and "<" not in err.message
    assert "web page" in err.message and "502 Bad Gateway" in err.message
    assert "AWS_ENDPOINT_URL_BEDROCK_RUNTIME" in (err.hint or "") and err.infrastructure


def test_listing_models_from_an_unreachable_endpoint_names_the_listing_variable(
    project: Path, cli: Cli, aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK", "http://127.0.0.1:9")
    monkeypatch.setenv("PROMPTLAB_MAX_ATTEMPTS", "1")
    result = cli("models")
    assert result.exit_code == 2
    assert "EndpointUnreachable" in result.stderr and "(us-east-1)" in result.stderr
    assert "AWS_ENDPOINT_URL_BEDROCK overrides" in result.stderr

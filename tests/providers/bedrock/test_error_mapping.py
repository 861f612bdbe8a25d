"""Bedrock errors as users see them: one line, the cause, and the variable or setting to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptlab.catalogue import resolve
from tests.conftest import Cli

NOVA = resolve("nova-micro")


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

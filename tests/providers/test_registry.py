"""Provider kinds: looked up by name, imported on first use, one registration line each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promptlab.catalogue import ModelRef, resolve
from promptlab.config import Config
from promptlab.errors import ConfigError, UsageError
from promptlab.providers import registry
from promptlab.providers.base import ProviderPool
from promptlab.providers.registry import ProviderKind, ProviderSettings, get_kind
from promptlab.request import Request
from promptlab.results import Completion

CREATED: list[ProviderSettings] = []


class Parrot:
    """A whole provider in a few lines: what a new kind's module holds."""

    def __init__(self, settings: ProviderSettings) -> None:
        CREATED.append(settings)

    def complete(
        self,
        ref: ModelRef,
        request: Request,
        *,
        stream: bool,
        on_text: Any = None,
        on_reasoning: Any = None,
    ) -> Completion:
        return Completion(output=f"{ref.model_id} says {request.user}")


def broken(settings: ProviderSettings) -> Parrot:
    CREATED.append(settings)
    raise ConfigError("no parrot cage configured", "set cage: in promptlab.yaml")


@pytest.fixture
def parrot_kinds() -> Iterator[None]:
    CREATED.clear()
    registry.register(ProviderKind("parrot", f"{__name__}:Parrot", real=False, names=("polly",),
                                   scheme="parrot"))  # fmt: skip
    registry.register(ProviderKind("broken", f"{__name__}:broken", scheme="broken"))
    try:
        yield
    finally:
        del registry.KINDS["parrot"], registry.KINDS["broken"]


def test_echo_is_a_registered_kind_like_bedrock() -> None:
    assert {"bedrock", "echo"} <= set(registry.KINDS)
    assert resolve("echo").provider == "echo" and not resolve("echo").real
    assert resolve("nova-lite").provider == "bedrock" and resolve("nova-lite").real


def test_unknown_kind_is_a_usage_error_with_a_suggestion() -> None:
    with pytest.raises(UsageError) as caught:
        get_kind("bedrok")
    assert "unknown provider kind 'bedrok'" in caught.value.message
    assert caught.value.hint == "did you mean 'bedrock'?"


def test_a_registered_kind_serves_its_names_and_scheme(parrot_kinds: None) -> None:
    assert resolve("polly") == ModelRef("polly", "polly", None, "parrot")
    assert resolve("parrot:african-grey").provider == "parrot"
    assert not resolve("polly").real


def test_a_kind_is_imported_and_created_on_its_first_use_only(
    parrot_kinds: None, tmp_path: Path
) -> None:
    pool = ProviderPool(Config(root=tmp_path, region="eu-west-1", concurrency=3))
    assert CREATED == []
    ref = resolve("polly")
    answer = pool.get(ref).complete(ref, Request.of(None, "hello"), stream=False)
    assert answer.output == "polly says hello"
    pool.get(resolve("parrot:blue"))
    assert [(s.region, s.pool_size) for s in CREATED] == [("eu-west-1", 3)]  # one per kind


def test_a_failed_setup_is_raised_again_without_a_second_attempt(
    parrot_kinds: None, tmp_path: Path
) -> None:
    pool = ProviderPool(Config(root=tmp_path))
    for _ in range(3):
        with pytest.raises(ConfigError, match="no parrot cage"):
            pool.get(resolve("broken:x"))
    assert len(CREATED) == 1


def test_no_module_outside_providers_names_a_concrete_provider() -> None:
    package = Path(registry.__file__).resolve().parent.parent
    for path in package.rglob("*.py"):
        if path.parent.name == "providers":
            continue
        text = path.read_text("utf-8")
        for name in ("providers.echo", "providers.bedrock", "EchoProvider", "BedrockProvider"):
            assert name not in text, f"{path.relative_to(package)} names {name}"

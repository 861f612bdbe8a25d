"""Every kind of provider promptlab knows, by name, imported only when first used.

A provider kind is one module with a factory that takes `ProviderSettings`. Registering a kind
here is one line; nothing else in promptlab names a concrete provider. Model names resolve to a
kind in `promptlab.catalogue`: names a kind serves outright (`echo`), names with the kind's
scheme prefix (`kind:rest`), and everything else is a Bedrock model id, profile or ARN.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from promptlab.errors import UsageError

if TYPE_CHECKING:
    from promptlab.config import Config
    from promptlab.providers.base import Provider


@dataclass(frozen=True)
class ProviderSettings:
    """What every provider is created from: one per pool."""

    config: Config
    region: str | None
    profile: str | None
    pool_size: int  # connections per client: one per worker thread


@dataclass(frozen=True)
class ProviderKind:
    name: str
    factory: str  # "module:callable" taking ProviderSettings, imported on first use
    real: bool = True  # a real model: calls AWS (region, credentials), is billed
    names: tuple[str, ...] = ()  # model names this kind serves outright (e.g. "echo")
    scheme: str | None = None  # model names "scheme:..." belong to this kind
    # What its requests carry: "messages" (the rendered prompt), "variables" (the prompt's
    # values as Converse promptVariables, for a target that holds its own template) or "image"
    # (an image prompt's InvokeModel body) or "query" (the question alone, for a service that
    # retrieves and prompts by itself: a knowledge base's RetrieveAndGenerate).
    sends: str = "messages"
    # "module:callable" that checks a model name of this kind (raising UsageError), imported
    # only for a name that has the kind's scheme; None: every name is fine.
    check: str | None = None

    def checked(self, name: str) -> None:
        """Raise UsageError if `name` is not a valid model name of this kind."""
        if self.check:
            module, _, attr = self.check.partition(":")
            getattr(importlib.import_module(module), attr)(name)

    def create(self, settings: ProviderSettings) -> Provider:
        module, _, path = self.factory.partition(":")
        target: Any = importlib.import_module(module)
        for attr in path.split("."):
            target = getattr(target, attr)
        made: Provider = target(settings)
        return made


KINDS: dict[str, ProviderKind] = {}
DEFAULT_KIND = "bedrock"


def register(kind: ProviderKind) -> None:
    KINDS[kind.name] = kind


def get_kind(name: str) -> ProviderKind:
    """The registered kind `name`; an unknown one is a UsageError with a suggestion."""
    kind = KINDS.get(name)
    if kind is None:
        close = difflib.get_close_matches(name, list(KINDS), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(KINDS))}"
        raise UsageError(f"unknown provider kind {name!r}", hint)
    return kind


def kind_for_name(name: str) -> ProviderKind | None:
    """The kind that claims a model name outright or by its scheme prefix, if any."""
    for kind in KINDS.values():
        if name in kind.names:
            return kind
        if kind.scheme and name.startswith(kind.scheme + ":"):
            return kind
    return None


def served_names() -> list[str]:
    """Model names served outright by some kind (for suggestions)."""
    return [n for kind in KINDS.values() for n in kind.names]


# ---------------------------------------------------------------- the kinds

register(ProviderKind("bedrock", "promptlab.providers.bedrock:BedrockProvider.from_settings"))
register(ProviderKind("echo", "promptlab.providers.echo:EchoProvider.from_settings", real=False,
                      names=("echo",)))  # fmt: skip
register(ProviderKind("bedrock-prompt", "promptlab.providers.managed_prompt:ManagedPromptProvider"
                      ".from_settings", scheme="bedrock-prompt", sends="variables"))  # fmt: skip
register(ProviderKind("bedrock-image", "promptlab.providers.bedrock_image:BedrockImageProvider"
                      ".from_settings", sends="image"))  # fmt: skip
register(ProviderKind("kb", "promptlab.providers.knowledge_base:KnowledgeBaseProvider"
                      ".from_settings", scheme="kb", sends="query",
                      check="promptlab.providers.knowledge_base:split"))  # fmt: skip

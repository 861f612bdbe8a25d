"""The provider interface, the error every provider raises, and the pool that shares them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from promptlab.catalogue import ModelRef
from promptlab.config import Config
from promptlab.errors import PromptlabError
from promptlab.guardrails import Guardrail
from promptlab.masking import mask, mask_optional
from promptlab.providers.registry import ProviderSettings, get_kind
from promptlab.request import Request
from promptlab.results import Completion, ErrorInfo

OnText = Callable[[str], None]


class ModelCallError(Exception):
    """A model call failed. Becomes that cell's error; never a crash."""

    def __init__(
        self,
        code: str,
        message: str,
        hint: str | None = None,
        *,
        retryable: bool = False,
        infrastructure: bool = False,
        attempts: int = 1,
    ) -> None:
        message, hint = mask(message), mask_optional(hint)  # kept, printed and reported
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.hint = hint
        self.retryable = retryable  # worth another attempt (throttling mid-stream, 5xx)
        self.infrastructure = infrastructure  # the call could not run (throttled, denied, ...)
        self.attempts = attempts  # requests sent before giving up (botocore's retries included)

    def info(self) -> ErrorInfo:
        """The error as results record it."""
        return ErrorInfo(self.code, self.message, self.hint, self.infrastructure)


class Provider(Protocol):
    def complete(
        self,
        ref: ModelRef,
        request: Request,
        *,
        stream: bool,
        on_text: OnText | None = None,
        on_reasoning: OnText | None = None,
    ) -> Completion:
        """Call the model. Streams the answer's text to `on_text` and its reasoning text to
        `on_reasoning` when given. Raises ModelCallError."""
        ...

    def embed(self, ref: ModelRef, text: str) -> tuple[list[float], int]:
        """Embedding vector of `text` and the input tokens billed. Raises ModelCallError."""
        ...


class ProviderPool:
    """Hands out one provider per kind, created on its first real call and shared by threads.

    Creating a provider is where its set-up is checked (for Bedrock: region and credentials,
    without a network call). A failure there is a PromptlabError (exit 2): it is remembered and
    raised again for every later `get` of that kind, so it is reported once and no call is made.
    A run answered entirely from the cache, or by offline providers only, never creates a
    Bedrock client (and never imports boto3), unless it names an application inference profile,
    whose model is looked up first (profiles.py). The guardrails the calls will use
    (`verify_first`) are checked there too, once, by the first real provider that can.
    """

    def __init__(self, config: Config, region: str | None = None, profile: str | None = None):
        self.config = config
        self.region = region or config.region
        self.profile = profile or config.profile
        self.pool_size = config.concurrency  # connections per client: one per worker thread
        self._lock = threading.Lock()
        self._providers: dict[str, Provider] = {}
        self._failed: dict[str, PromptlabError] = {}
        self._unverified: list[Guardrail] = []

    def verify_first(self, guardrails: list[Guardrail]) -> None:
        """Check that these guardrails exist when the first real provider is made, before its
        first call (a run answered from the cache makes no check)."""
        self._unverified = list(guardrails)

    def reserve(self, workers: int) -> None:
        """Size clients for `workers` threads at once (call before any model call).

        A client already made with a smaller connection pool is replaced, so no worker ever
        waits for, or throws away, a connection.
        """
        with self._lock:
            if workers <= self.pool_size:
                return
            self.pool_size = workers
            for kind, provider in list(self._providers.items()):
                size = getattr(provider, "pool_size", None)
                if isinstance(size, int) and size < workers:
                    del self._providers[kind]

    def get(self, ref: ModelRef) -> Provider:
        """The provider for `ref`, created now if this is its kind's first use."""
        return self.for_kind(ref.provider)

    def for_kind(self, name: str) -> Provider:
        """The provider of the kind `name` (e.g. "bedrock" for a call that is not a model's)."""
        with self._lock:
            provider = self._providers.get(name)
            if provider is not None:
                return provider
            if name in self._failed:
                raise self._failed[name]
            try:
                provider = self._create(name)
                verify = getattr(provider, "verify_guardrails", None)
                if self._unverified and callable(verify) and get_kind(name).real:
                    verify(self._unverified)
                    self._unverified = []
            except PromptlabError as exc:
                self._failed[name] = exc
                raise
            self._providers[name] = provider
            return provider

    def _create(self, kind: str) -> Provider:
        settings = ProviderSettings(self.config, self.region, self.profile, self.pool_size)
        return get_kind(kind).create(settings)

    def prepare(self, refs: list[ModelRef]) -> None:
        """Create the providers of `refs` now (to fail early on a bad set-up)."""
        for ref in refs:
            self.get(ref)

    def region_for(self, ref: ModelRef) -> str | None:
        """The region `ref`'s calls go to; None for offline providers.

        A region given by flag, environment or config needs no provider; otherwise the
        provider resolves it (from the AWS profile) and is created for that.
        """
        if not get_kind(ref.provider).real:
            return None
        if self.region:
            return self.region
        region: str | None = getattr(self.get(ref), "region", None)
        return region

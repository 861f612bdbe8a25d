"""The provider interface and the pool that hands out one shared provider per kind."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from promptlab.catalogue import ECHO, ModelRef
from promptlab.config import Config
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
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.hint = hint
        self.retryable = retryable  # worth another attempt (throttling mid-stream, 5xx)
        self.infrastructure = infrastructure  # the call could not run (throttled, denied, ...)

    def info(self) -> ErrorInfo:
        """The error as results record it."""
        return ErrorInfo(self.code, self.message, self.hint, self.infrastructure)


class Provider(Protocol):
    def complete(
        self, ref: ModelRef, request: Request, *, stream: bool, on_text: OnText | None = None
    ) -> Completion:
        """Call the model. Streams text to `on_text` when given. Raises ModelCallError."""
        ...

    def embed(self, ref: ModelRef, text: str) -> tuple[list[float], int]:
        """Embedding vector of `text` and the input tokens billed. Raises ModelCallError."""
        ...


class ProviderPool:
    """Creates each provider once (thread-safe) and shares it across worker threads."""

    def __init__(self, config: Config, region: str | None = None, profile: str | None = None):
        self.config = config
        self.region = region or config.region
        self.profile = profile or config.profile
        self.pool_size = config.concurrency  # connections per client: one per worker thread
        self._lock = threading.Lock()
        self._providers: dict[str, Provider] = {}

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
        kind = ref.provider
        with self._lock:
            if kind not in self._providers:
                self._providers[kind] = self._create(kind)
            return self._providers[kind]

    def prepare(self, refs: list[ModelRef]) -> None:
        """Create every provider the run needs up front (and fail early on bad AWS setup)."""
        for ref in refs:
            self.get(ref)

    def _create(self, kind: str) -> Provider:
        if kind == ECHO:
            from promptlab.providers.echo import EchoProvider

            return EchoProvider()
        from promptlab.providers.bedrock import BedrockProvider

        return BedrockProvider(
            self.config, region=self.region, profile=self.profile, pool_size=self.pool_size
        )

    @property
    def resolved_region(self) -> str | None:
        """The region Bedrock calls go to (after boto3's own lookup), if a client exists."""
        provider = self._providers.get("bedrock")
        return getattr(provider, "region", None) or self.region

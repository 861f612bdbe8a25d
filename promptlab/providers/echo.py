"""The offline `echo` model: answers with the rendered prompt. No AWS, no network, no cost."""

from __future__ import annotations

import hashlib
import math
import re
import time

from promptlab.catalogue import ModelRef
from promptlab.estimate import estimate_tokens
from promptlab.providers.base import OnText
from promptlab.providers.registry import ProviderSettings
from promptlab.request import Request
from promptlab.results import Completion

NOTICE = "echo is not a real model: it returns the rendered prompt"


def echo_text(request: Request) -> str:
    """The request as text: a lone user turn as it is, else each part under its role."""
    turns = request.messages
    if not request.system and len(turns) == 1:
        return turns[0].text
    parts = [f"[system]\n{request.system}"] if request.system else []
    parts.extend(f"[{m.role}]\n{m.text}" for m in turns)
    return "\n\n".join(parts)


class EchoProvider:
    """Offline and free: answers every request with the request itself."""

    @classmethod
    def from_settings(cls, settings: ProviderSettings) -> EchoProvider:
        return cls()

    def complete(
        self, ref: ModelRef, request: Request, *, stream: bool, on_text: OnText | None = None
    ) -> Completion:
        start = time.perf_counter()
        text = echo_text(request)
        stop_reason = "end_turn"
        limit = request.params.max_tokens
        if limit is not None and estimate_tokens(text) > limit:
            text = text[: limit * 4]
            stop_reason = "max_tokens"
        for seq in request.params.stop:
            if seq and seq in text:
                text = text[: text.index(seq)]
                stop_reason = "stop_sequence"
                break
        ttft = None
        if stream and on_text is not None:
            for i, line in enumerate(text.splitlines(keepends=True)):
                on_text(line)
                if i == 0:
                    ttft = int((time.perf_counter() - start) * 1000)
        return Completion(
            output=text,
            stop_reason=stop_reason,
            input_tokens=estimate_tokens(request.text),
            output_tokens=estimate_tokens(text),
            latency_ms=int((time.perf_counter() - start) * 1000),
            ttft_ms=ttft if stream else None,
            tokens_estimated=True,
            notices=(NOTICE,),
            content=({"text": text},),
        )

    def embed(self, ref: ModelRef, text: str) -> tuple[list[float], int]:
        """A deterministic bag-of-words vector (256 buckets), normalised: offline similarity."""
        vec = [0.0] * 256
        for word in re.findall(r"\w+", text.lower()):
            vec[hashlib.blake2b(word.encode(), digest_size=2).digest()[0]] += 1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec], estimate_tokens(text)

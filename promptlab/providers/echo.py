"""The offline `echo` model: answers with the rendered prompt. No AWS, no network, no cost."""

from __future__ import annotations

import hashlib
import math
import re
import time

from promptlab.catalogue import ModelRef
from promptlab.providers.base import OnText
from promptlab.request import Request
from promptlab.results import Completion

NOTICE = "echo is not a real model: it returns the rendered prompt"


def estimate_tokens(text: str) -> int:
    """About 4 characters a token (documented estimate, used where no tokenizer is at hand)."""
    return max(1, (len(text) + 3) // 4) if text else 0


def echo_text(request: Request) -> str:
    if request.system:
        return f"[system]\n{request.system}\n\n[user]\n{request.user}"
    return request.user


class EchoProvider:
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
        prompt_text = (request.system or "") + request.user
        return Completion(
            output=text,
            stop_reason=stop_reason,
            input_tokens=estimate_tokens(prompt_text),
            output_tokens=estimate_tokens(text),
            latency_ms=int((time.perf_counter() - start) * 1000),
            ttft_ms=ttft if stream else None,
            tokens_estimated=True,
            notices=(NOTICE,),
        )

    def embed(self, ref: ModelRef, text: str) -> tuple[list[float], int]:
        """A deterministic bag-of-words vector (256 buckets), normalised: offline similarity."""
        vec = [0.0] * 256
        for word in re.findall(r"\w+", text.lower()):
            vec[hashlib.blake2b(word.encode(), digest_size=2).digest()[0]] += 1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec], estimate_tokens(text)

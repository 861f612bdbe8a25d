"""Reading Converse answers: content blocks from a response or rebuilt from stream events, and
a response body as a Completion (Converse calls and batch inference output records)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from promptlab.results import Completion

_HIGH = range(0xD800, 0xDC00)  # the first half of a UTF-16 surrogate pair


def whole(text: str) -> str:
    """`text` with surrogate pairs joined into their character and a lone surrogate (half a
    pair, e.g. a stream cut between the halves) replaced by U+FFFD: text that can be printed,
    encoded and stored."""
    if not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def whole_values(value: Any) -> Any:
    """`whole` applied to every string in an answer's content blocks (text, reasoning, tool
    input, citations), keys included."""
    if isinstance(value, str):
        return whole(value)
    if isinstance(value, dict):
        return {whole_values(k): whole_values(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(whole_values(v) for v in value)
    return value


class Pieces:
    """Streamed text pieces made whole as they arrive: the first half of a surrogate pair at
    the end of a piece waits for the next piece (its other half, or U+FFFD)."""

    def __init__(self) -> None:
        self._held = ""

    def __call__(self, piece: str) -> str:
        text = self._held + piece
        self._held = ""
        if text and ord(text[-1]) in _HIGH:
            text, self._held = text[:-1], text[-1]
        return whole(text)

    def rest(self) -> str:
        held, self._held = self._held, ""
        return whole(held)


def text_of(content: Iterable[dict[str, Any]]) -> str:
    """The answer's text: its text blocks and the generated text of its citation blocks, in
    order (reasoning and tool uses are not text)."""
    parts: list[str] = []
    for block in content:
        if isinstance(block.get("text"), str):
            parts.append(block["text"])
        elif isinstance(block.get("citationsContent"), dict):
            cited = block["citationsContent"].get("content") or []
            parts.extend(c["text"] for c in cited if isinstance(c.get("text"), str))
    return "".join(parts)


class StreamAssembler:
    """Rebuilds the answer's content blocks from ConverseStream events, in block order.

    Text may arrive without a contentBlockStart; tool-use input arrives as JSON text in pieces
    and is parsed when its block stops; reasoning text and its signature are concatenated.
    """

    def __init__(self) -> None:
        self._blocks: dict[int, dict[str, Any]] = {}
        self._tool_input: dict[int, list[str]] = {}

    def start(self, event: dict[str, Any]) -> None:
        index = int(event.get("contentBlockIndex", 0))
        start = event.get("start") or {}
        if "toolUse" in start:
            self._blocks[index] = {"toolUse": {**start["toolUse"], "input": {}}}
            self._tool_input[index] = []

    def delta(self, event: dict[str, Any]) -> tuple[str, str] | None:
        """Adds one delta; returns ("text", piece) for answer text, ("reasoning", piece) for
        reasoning text, None for anything else (tool input, a signature, a citation)."""
        index = int(event.get("contentBlockIndex", 0))
        delta = event.get("delta") or {}
        if "text" in delta:
            block = self._blocks.setdefault(index, {"text": ""})
            block["text"] = block.get("text", "") + delta["text"]
            return "text", str(delta["text"])
        if "toolUse" in delta:
            self._tool_input.setdefault(index, []).append(delta["toolUse"].get("input", ""))
            self._blocks.setdefault(index, {"toolUse": {"input": {}}})
        elif "reasoningContent" in delta:
            part = delta["reasoningContent"]
            block = self._blocks.setdefault(index, {"reasoningContent": {}})
            reasoning = block.setdefault("reasoningContent", {})
            if "redactedContent" in part:  # bytes, possibly in several pieces
                reasoning["redactedContent"] = (reasoning.get("redactedContent") or b""
                                                ) + part["redactedContent"]  # fmt: skip
            else:
                text = reasoning.setdefault("reasoningText", {"text": ""})
                text["text"] += part.get("text", "")
                if "signature" in part:
                    text["signature"] = text.get("signature", "") + part["signature"]
                if part.get("text"):
                    return "reasoning", str(part["text"])
        elif "citation" in delta:
            block = self._blocks.setdefault(index, {"citationsContent": {"citations": []}})
            block.setdefault("citationsContent", {}).setdefault("citations", []).append(
                delta["citation"]
            )
        return None

    def stop(self, event: dict[str, Any]) -> None:
        index = int(event.get("contentBlockIndex", 0))
        pieces = self._tool_input.pop(index, None)
        if pieces is not None and index in self._blocks:
            raw = "".join(pieces)
            try:
                parsed: Any = json.loads(raw) if raw else {}
            except ValueError:
                parsed = raw  # a malformed tool input is kept as the text that arrived
            self._blocks[index]["toolUse"]["input"] = parsed

    def content(self) -> tuple[dict[str, Any], ...]:
        for index in list(self._tool_input):
            self.stop({"contentBlockIndex": index})
        return tuple(self._blocks[i] for i in sorted(self._blocks))


RESPONSE_META = ("trace", "serviceTier", "performanceConfig", "additionalModelResponseFields")


def completion(
    content: Sequence[dict[str, Any]],
    stop_reason: str | None,
    usage: dict[str, Any],
    latency: int | None,
    meta: dict[str, Any] | None,
    **more: Any,
) -> Completion:
    """A Converse answer (whole or reassembled from a stream) as a Completion: its text, usage
    (prompt-cache reads and writes apart), latency, and what the response said about the call.
    Every string the model wrote is made whole here (`whole`), where it enters; batch output
    records come through here too."""
    content = whole_values(list(content))
    meta = whole_values(meta)
    return Completion(
        output=text_of(content),
        content=tuple(content),
        stop_reason=stop_reason,
        input_tokens=usage.get("inputTokens"),
        output_tokens=usage.get("outputTokens"),
        cache_read_tokens=usage.get("cacheReadInputTokens"),
        cache_write_tokens=usage.get("cacheWriteInputTokens"),
        latency_ms=latency,
        response_meta=meta,
        served_model_id=invoked_model(meta),
        **more,
    )


def response_meta(resp: dict[str, Any]) -> dict[str, Any] | None:
    """The response's fields about the call (trace, tier, latency mode, extra model fields)."""
    meta = {k: resp[k] for k in RESPONSE_META if resp.get(k)}
    return meta or None


def invoked_model(meta: dict[str, Any] | None) -> str | None:
    """The model a prompt router picked (`trace.promptRouter.invokedModelId`), if any."""
    trace = (meta or {}).get("trace") or {}
    router = trace.get("promptRouter") if isinstance(trace, dict) else None
    picked = router.get("invokedModelId") if isinstance(router, dict) else None
    return str(picked) if picked else None

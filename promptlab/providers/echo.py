"""The offline `echo` model: answers with the rendered prompt. No AWS, no network, no cost."""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from typing import Any

from promptlab.catalogue import ModelRef
from promptlab.estimate import estimate_tokens
from promptlab.exchange import call_text
from promptlab.imagegen import ImageRequest
from promptlab.providers.base import OnText
from promptlab.providers.converse import text_of
from promptlab.providers.registry import ProviderSettings
from promptlab.request import Block, Document, Image, Message, Request, Text, ToolResult, Video
from promptlab.results import Completion
from promptlab.schemas import minimal_instance

NOTICE = "echo is not a real model: it returns the rendered prompt"  # fmt: skip


def echo_text(request: Request) -> str:
    """The request as text: a lone user turn as it is, else each part under its role.

    Attachments, tool calls and tool results are described on a line each (`[image png …]`)."""
    turns = request.messages
    if not request.system and len(turns) == 1:
        return turn_text(turns[0])
    parts = [f"[system]\n{request.system}"] if request.system else []
    parts.extend(f"[{m.role}]\n{turn_text(m)}" for m in turns)
    return "\n\n".join(parts)


def turn_text(message: Message) -> str:
    lines = [line for b in message.content if (line := describe_block(b)) is not None]
    return "\n".join(lines)


def describe_block(block: Block) -> str | None:
    """One line for a block of the request: its text, or what it is."""
    if isinstance(block, Text):
        return block.text
    if isinstance(block, Image | Video | Document):
        src = block.source
        if src.s3_uri:
            where = src.s3_uri
        elif src.text is not None:
            where = f"{len(src.text.encode())} bytes of text"
        else:
            raw = src.data or b""
            where = f"{len(raw)} bytes sha256:{hashlib.sha256(raw).hexdigest()[:12]}"
        kind = type(block).__name__.lower()
        name = f" {block.name!r}" if isinstance(block, Document) else ""
        cites = " citations" if isinstance(block, Document) and block.citations else ""
        return f"[{kind} {block.format}{name} {where}{cites}]"
    data = block.to_converse()
    if "toolResult" in data:
        result = data["toolResult"]
        body = json.dumps(result.get("content"), ensure_ascii=False, default=str)
        failed = " error" if result.get("status") == "error" else ""
        return f"[tool result {result.get('toolUseId')}{failed}] {body}"
    if "toolUse" in data:
        use = data["toolUse"]
        return f"[tool call {call_text(str(use.get('name')), use.get('input'))}]"
    return None


def _forced_tool(request: Request) -> dict[str, Any] | None:
    """The tool echo calls: `tool_choice: any` (the first tool) or a named tool, unless the
    last turn already brings tool results (then it answers in text)."""
    config = request.tool_config or {}
    choice = config.get("toolChoice") or {}
    last = request.messages[-1] if request.messages else None
    if last is not None and any(isinstance(b, ToolResult) for b in last.content):
        return None
    specs = [t["toolSpec"] for t in config.get("tools", []) if "toolSpec" in t]
    if "any" in choice and specs:
        return dict(specs[0])
    if "tool" in choice:
        return next((dict(s) for s in specs if s["name"] == choice["tool"].get("name")), None)
    return None


def _structured(request: Request) -> str | None:
    """A minimal JSON instance of the requested output schema (native structured output)."""
    config = request.output_config or {}
    schema = (config.get("textFormat") or {}).get("structure", {}).get("jsonSchema", {})
    if "schema" not in schema:
        return None
    return json.dumps(minimal_instance(json.loads(schema["schema"])))


def _reasoning(request: Request) -> str | None:
    """What echo "thinks" when reasoning is asked for (reasoning.py's echo style): the setting
    and what it read, as a reasoning block's text."""
    setting = (request.additional_fields or {}).get("reasoning")
    if not isinstance(setting, dict):
        return None
    asked = ", ".join(f"{k} {v}" for k, v in setting.items())
    turns = len(request.messages)
    return (f"echo reasoning ({asked}): {turns} turn(s) and {len(request.text):,} characters "
            "to read; the answer is the rendered prompt.")  # fmt: skip


def _citations(request: Request) -> list[dict[str, Any]]:
    """For each document with citations on and readable text: a cited span (its start)."""
    last = request.messages[-1] if request.messages else None
    docs = [b for b in last.content if isinstance(b, Document)] if last else []
    blocks = []
    for index, doc in enumerate(docs):
        if not doc.citations:
            continue
        text = doc.source.text
        if text is None and doc.source.data is not None and doc.format in ("txt", "md", "csv"):
            text = doc.source.data.decode("utf-8", "replace")
        span = (text or "").strip().split("\n")[0][:120]
        if not span:
            continue
        blocks.append({"citationsContent": {
            "content": [{"text": f"\n(echo cites {doc.name})"}],
            "citations": [{"title": doc.name, "sourceContent": [{"text": span}],
                           "location": {"documentChar": {"documentIndex": index, "start": 0,
                                                         "end": len(span)}}}],
        }})  # fmt: skip
    return blocks


def _ran(request: Request) -> dict[str, Any] | None:
    """The tier and latency mode asked for, echoed as Bedrock's response does."""
    meta = {key: dict(value) for key, value in (("serviceTier", request.service_tier),
            ("performanceConfig", request.performance_config)) if value}  # fmt: skip
    return meta or None


class EchoProvider:
    """Offline and free: answers every request with the request itself."""

    @classmethod
    def from_settings(cls, settings: ProviderSettings) -> EchoProvider:
        return cls()

    def complete(
        self,
        ref: ModelRef,
        request: Request,
        *,
        stream: bool,
        on_text: OnText | None = None,
        on_reasoning: OnText | None = None,
    ) -> Completion:
        if isinstance(request, ImageRequest):
            from promptlab.providers import echoimage

            return echoimage.complete(request)
        start = time.perf_counter()
        request = request.without_cache_points()  # no prompt cache: echo answers the same
        thought = _reasoning(request)
        thinking = ({"reasoningContent": {"reasoningText": {"text": thought}}},) if thought else ()
        thought_tokens = estimate_tokens(thought or "")
        if stream and thought and on_reasoning is not None:
            on_reasoning(thought)
        tool = _forced_tool(request)
        if tool is not None:
            schema = (tool.get("inputSchema") or {}).get("json") or {}
            use = {
                "toolUseId": f"echo-{hashlib.sha256(echo_text(request).encode()).hexdigest()[:8]}",
                "name": tool["name"],
                "input": minimal_instance(schema) or {},
            }
            return Completion(
                output="",
                stop_reason="tool_use",
                input_tokens=estimate_tokens(request.text),
                output_tokens=estimate_tokens(json.dumps(use)) + thought_tokens,
                latency_ms=int((time.perf_counter() - start) * 1000),
                tokens_estimated=True,
                notices=(NOTICE,),
                content=(*thinking, {"toolUse": use}),
                response_meta=_ran(request),
            )
        structured = _structured(request)
        text = echo_text(request) if structured is None else structured
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
        content = (*thinking, {"text": text}, *_citations(request))
        text = text_of(content)
        ttft = int((time.perf_counter() - start) * 1000) if stream and thought else None
        if stream and on_text is not None:
            for i, line in enumerate(text.splitlines(keepends=True)):
                on_text(line)
                if i == 0 and ttft is None:
                    ttft = int((time.perf_counter() - start) * 1000)
        return Completion(
            output=text,
            stop_reason=stop_reason,
            input_tokens=estimate_tokens(request.text),
            output_tokens=estimate_tokens(text) + thought_tokens,
            latency_ms=int((time.perf_counter() - start) * 1000),
            ttft_ms=ttft if stream else None,
            tokens_estimated=True,
            notices=(NOTICE,),
            content=content,
            response_meta=_ran(request),
        )

    def embed(self, ref: ModelRef, text: str) -> tuple[list[float], int]:
        """A deterministic bag-of-words vector (256 buckets), normalised: offline similarity."""
        vec = [0.0] * 256
        for word in re.findall(r"\w+", text.lower()):
            vec[hashlib.blake2b(word.encode(), digest_size=2).digest()[0]] += 1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec], estimate_tokens(text)

    def embed_image(
        self, ref: ModelRef, text: str | None, image: bytes | None
    ) -> tuple[list[float], int]:
        """Offline multimodal embedding: the words of the text and of an echo image's prompt."""
        from promptlab.providers import echoimage

        return echoimage.embed(text, image)

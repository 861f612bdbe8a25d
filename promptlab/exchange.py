"""A scripted tool exchange: the model calls a tool, promptlab answers with the scripted result
and asks again, until the model answers without a tool call or the turn limit is reached.

`follow_up` makes the next request from an answer; `combine` adds two calls' usage into the
one Completion the Result keeps (tokens, latency and attempts summed; the last answer's text).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from promptlab.prompt.model import ToolScript
from promptlab.request import Message, Raw, Request, ToolResult
from promptlab.results import Completion


def tool_uses(content: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The toolUse blocks of an answer, in order."""
    return [b["toolUse"] for b in content if isinstance(b.get("toolUse"), dict)]


def call_text(name: str, tool_input: Any) -> str:
    """`get_weather(city="Lima")`: a tool call as one readable line."""
    if isinstance(tool_input, dict):
        args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in tool_input.items())
    elif tool_input in (None, ""):
        args = ""
    else:
        args = json.dumps(tool_input, ensure_ascii=False)
    return f"{name}({args})"


@dataclass(frozen=True)
class Step:
    """The next request (None when the exchange stops) and the calls no script answers."""

    request: Request | None
    added: tuple[Message, ...] = ()  # the assistant turn and the user turn of tool results
    unanswered: tuple[str, ...] = ()


def follow_up(
    request: Request, content: Sequence[dict[str, Any]], scripts: Sequence[ToolScript]
) -> Step:
    """The request that sends the scripted results of the answer's tool calls back."""
    results: list[ToolResult] = []
    unanswered: list[str] = []
    for use in tool_uses(content):
        name, tool_input = str(use.get("name", "")), use.get("input")
        script = next((s for s in scripts if s.matches(name, tool_input)), None)
        if script is None:
            unanswered.append(call_text(name, tool_input))
            continue
        block = (
            {"text": script.result} if isinstance(script.result, str) else {"json": script.result}
        )
        results.append(ToolResult(str(use.get("toolUseId", "")), (block,), script.status))
    if unanswered or not results:
        return Step(None, unanswered=tuple(unanswered))
    added = (Message("assistant", tuple(Raw(b) for b in content)), Message("user", tuple(results)))
    return Step(replace(request, messages=(*request.messages, *added),
                        tool_config=_choice_back_to_auto(request.tool_config)), added)  # fmt: skip


def _choice_back_to_auto(config: Any) -> Any:
    """A forced choice (`any`, one tool) holds for the first answer only: once results come
    back the model may answer, or it would have to call a tool on every turn."""
    if not config or "toolChoice" not in config or "auto" in config["toolChoice"]:
        return config
    return {**config, "toolChoice": {"auto": {}}}


def _sum(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


def _sum_known(a: int | None, b: int | None) -> int | None:
    return None if a is None and b is None else (a or 0) + (b or 0)


def combine(first: Completion, then: Completion) -> Completion:
    """Two calls of one exchange as one Completion: usage summed, the later answer kept."""
    return replace(
        then,
        input_tokens=_sum(first.input_tokens, then.input_tokens),
        output_tokens=_sum(first.output_tokens, then.output_tokens),
        latency_ms=_sum(first.latency_ms, then.latency_ms),
        ttft_ms=first.ttft_ms,
        tokens_estimated=first.tokens_estimated or then.tokens_estimated,
        cache_read_tokens=_sum_known(first.cache_read_tokens, then.cache_read_tokens),
        cache_write_tokens=_sum_known(first.cache_write_tokens, then.cache_write_tokens),
        notices=tuple(dict.fromkeys((*first.notices, *then.notices))),
        attempts=first.attempts + then.attempts,
    )

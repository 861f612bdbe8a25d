"""Requests in the Converse shape: every field as sent, a JSON-safe record, keys over content."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from promptlab.catalogue import adapt, resolve
from promptlab.request import InferenceParams, Message, Request, Text
from promptlab.store.core import cache_key


@dataclass(frozen=True)
class Picture:
    """A block carrying bytes, as attachments will."""

    data: bytes

    def to_converse(self) -> dict[str, Any]:
        return {"image": {"format": "png", "source": {"bytes": self.data}}}


def full_request(**changes: Any) -> Request:
    fields: dict[str, Any] = {
        "system_content": (Text("Be brief."),),
        "messages": (Message.user("2+2?"), Message("assistant", (Text("4"),)),
                     Message.user("and 3+3?")),
        "params": InferenceParams(temperature=0.0, max_tokens=50),
        "tool_config": {"tools": [{"toolSpec": {"name": "calc", "inputSchema": {"json": {}}}}]},
        "output_config": {"textFormat": {"type": "json_schema"}},
        "guardrail_config": {"guardrailIdentifier": "g1", "guardrailVersion": "1"},
        "performance_config": {"latency": "optimized"},
        "service_tier": {"type": "flex"},
        "additional_fields": {"thinking": {"type": "enabled", "budget_tokens": 1024}},
        "response_field_paths": ("/stop_sequence",),
        "prompt_variables": {"topic": {"text": "maths"}},
        "metadata": {"run": "r1"},
    }  # fmt: skip
    fields.update(changes)
    return Request(**fields)


def test_every_field_appears_under_its_converse_name_in_order() -> None:
    body = full_request().to_converse()
    assert list(body) == [
        "messages", "system", "inferenceConfig", "toolConfig", "outputConfig",
        "guardrailConfig", "performanceConfig", "serviceTier", "additionalModelRequestFields",
        "additionalModelResponseFieldPaths", "promptVariables", "requestMetadata",
    ]  # fmt: skip
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["inferenceConfig"] == {"maxTokens": 50, "temperature": 0.0}
    assert body["additionalModelResponseFieldPaths"] == ["/stop_sequence"]


def test_the_text_shorthand_is_one_system_block_and_one_user_turn() -> None:
    short = Request("Be brief.", "Say hi", InferenceParams(max_tokens=5))
    assert short == Request.of("Be brief.", "Say hi", InferenceParams(max_tokens=5))
    assert short.to_converse() == {
        "messages": [{"role": "user", "content": [{"text": "Say hi"}]}],
        "system": [{"text": "Be brief."}],
        "inferenceConfig": {"maxTokens": 5},
    }
    assert Request.of(None, "hi").to_converse() == {
        "messages": [{"role": "user", "content": [{"text": "hi"}]}]
    }


def test_the_record_of_a_text_request_is_the_body_itself() -> None:
    request = full_request()
    assert request.to_record() == request.to_converse()
    json.dumps(request.to_record())


def test_the_record_holds_attached_bytes_by_digest_only() -> None:
    data = b"\x89PNG fake image bytes"
    request = Request(messages=(Message("user", (Picture(data), Text("What is this?"))),))
    record = request.to_record()
    source = record["messages"][0]["content"][0]["image"]["source"]
    assert source == {"bytes": {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}}
    assert request.to_converse()["messages"][0]["content"][0]["image"]["source"]["bytes"] == data
    assert request.user == "What is this?"


def test_the_cache_key_covers_every_field_but_metadata_and_attached_content() -> None:
    def key(request: Request) -> str:
        return cache_key("amazon.nova-lite-v1:0", "us-east-1", request.to_record())

    base = key(full_request())
    assert key(full_request()) == base
    assert key(full_request(metadata={"run": "r2"})) == base  # labels for Bedrock's logs
    for change in (
        {"guardrail_config": {"guardrailIdentifier": "g2", "guardrailVersion": "1"}},
        {"service_tier": {"type": "priority"}},
        {"performance_config": {"latency": "standard"}},
        {"tool_config": None},
        {"messages": (Message.user("2+2?"),)},
    ):
        assert key(full_request(**change)) != base, change

    def with_picture(data: bytes) -> Request:
        return Request(messages=(Message("user", (Picture(data),)),))

    assert key(with_picture(b"one")) == key(with_picture(b"one"))
    assert key(with_picture(b"one")) != key(with_picture(b"two"))


def test_folding_the_system_prompt_goes_into_the_first_user_turn_only() -> None:
    request = full_request()
    folded, notices = adapt(request, resolve("titan-express"))
    assert folded.system is None and "system" not in folded.to_converse()
    turns = folded.to_converse()["messages"]
    assert turns[0]["content"] == [{"text": "Be brief.\n\n2+2?"}]
    assert turns[2]["content"] == [{"text": "and 3+3?"}]
    assert notices and "no system prompt" in notices[0]
    assert folded.tool_config == request.tool_config  # other fields are untouched

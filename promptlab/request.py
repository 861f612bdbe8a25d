"""What is sent to a model, in the shape Converse takes: system blocks, messages, settings.

`Request.to_converse()` is the exact request body (without `modelId`); `to_record()` is the same
body made JSON-safe for history, cache keys and `render --format json`: any bytes (an attached
image or document) become `{"sha256": ..., "size": ...}`, so a record never holds file content
or a local path, and a key changes when the content does.

A content block is a small frozen type with `to_converse()`: text now; images, documents,
video, tool use and results, cache points and reasoning are added the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

INFERENCE_KEYS = ("temperature", "top_p", "max_tokens", "stop")


@dataclass(frozen=True)
class InferenceParams:
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()

    def merged(self, other: InferenceParams) -> InferenceParams:
        """`other`'s set values win over ours."""
        return InferenceParams(
            temperature=other.temperature if other.temperature is not None else self.temperature,
            top_p=other.top_p if other.top_p is not None else self.top_p,
            max_tokens=other.max_tokens if other.max_tokens is not None else self.max_tokens,
            stop=other.stop or self.stop,
        )

    def without(self, *names: str) -> InferenceParams:
        cleared: dict[str, Any] = {n: (() if n == "stop" else None) for n in names}
        return replace(self, **cleared)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return {k: v for k, v in d.items() if v not in (None, [])}

    def to_converse(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {}
        if self.max_tokens is not None:
            cfg["maxTokens"] = self.max_tokens
        if self.temperature is not None:
            cfg["temperature"] = self.temperature
        if self.top_p is not None:
            cfg["topP"] = self.top_p
        if self.stop:
            cfg["stopSequences"] = list(self.stop)
        return cfg

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InferenceParams:
        stop = data.get("stop") or ()
        if isinstance(stop, str):
            stop = (stop,)
        return cls(
            temperature=data.get("temperature"),
            top_p=data.get("top_p"),
            max_tokens=data.get("max_tokens"),
            stop=tuple(stop),
        )


# ---------------------------------------------------------------- content blocks


class Block(Protocol):
    """One entry of a Converse `content` or `system` list."""

    def to_converse(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Text:
    text: str

    def to_converse(self) -> dict[str, Any]:
        return {"text": self.text}


@dataclass(frozen=True)
class Source:
    """Where an attachment's content comes from: bytes, an S3 object, or (documents) text."""

    data: bytes | None = None
    s3_uri: str | None = None
    bucket_owner: str | None = None
    text: str | None = None

    def to_converse(self) -> dict[str, Any]:
        if self.s3_uri is not None:
            location = {"uri": self.s3_uri}
            if self.bucket_owner:
                location["bucketOwner"] = self.bucket_owner
            return {"s3Location": location}
        if self.text is not None:
            return {"text": self.text}
        return {"bytes": self.data or b""}


@dataclass(frozen=True)
class Image:
    format: str  # png | jpeg | gif | webp
    source: Source

    def to_converse(self) -> dict[str, Any]:
        return {"image": {"format": self.format, "source": self.source.to_converse()}}


@dataclass(frozen=True)
class Document:
    format: str  # pdf | csv | doc | docx | xls | xlsx | html | txt | md
    name: str
    source: Source
    citations: bool = False
    context: str | None = None

    def to_converse(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"format": self.format, "name": self.name,
                               "source": self.source.to_converse()}  # fmt: skip
        if self.context:
            doc["context"] = self.context
        if self.citations:
            doc["citations"] = {"enabled": True}
        return {"document": doc}


@dataclass(frozen=True)
class Video:
    format: str  # mkv | mov | mp4 | webm | flv | mpeg | mpg | wmv | three_gp
    source: Source

    def to_converse(self) -> dict[str, Any]:
        return {"video": {"format": self.format, "source": self.source.to_converse()}}


@dataclass(frozen=True)
class ToolResult:
    """What a (scripted) tool returned for one toolUse, sent back in the next user turn."""

    tool_use_id: str
    content: tuple[Mapping[str, Any], ...]  # {"json": ...} or {"text": ...} blocks
    status: str | None = None  # "success" | "error"

    def to_converse(self) -> dict[str, Any]:
        result: dict[str, Any] = {"toolUseId": self.tool_use_id,
                                  "content": [_plain(c) for c in self.content]}  # fmt: skip
        if self.status:
            result["status"] = self.status
        return {"toolResult": result}


@dataclass(frozen=True)
class Raw:
    """A block already in Converse form: an answer's content sent back in a later turn."""

    block: Mapping[str, Any]

    def to_converse(self) -> dict[str, Any]:
        plain: dict[str, Any] = _plain(self.block)
        return plain


ATTACHMENT_BLOCKS = (Image, Document, Video)


@dataclass(frozen=True)
class Message:
    """One conversation turn: a role and its content blocks."""

    role: str  # "user" | "assistant"
    content: tuple[Block, ...]

    @classmethod
    def user(cls, text: str) -> Message:
        return cls("user", (Text(text),))

    @property
    def text(self) -> str:
        """The turn's text blocks, joined."""
        return "".join(b.text for b in self.content if isinstance(b, Text))

    def to_converse(self) -> dict[str, Any]:
        return {"role": self.role, "content": [b.to_converse() for b in self.content]}


# Optional Converse fields, in the order they appear in a request body:
# (Request attribute, Converse key).
OPTIONAL_FIELDS = (
    ("tool_config", "toolConfig"),
    ("output_config", "outputConfig"),
    ("guardrail_config", "guardrailConfig"),
    ("performance_config", "performanceConfig"),
    ("service_tier", "serviceTier"),
    ("additional_fields", "additionalModelRequestFields"),
    ("response_field_paths", "additionalModelResponseFieldPaths"),
    ("prompt_variables", "promptVariables"),
    ("metadata", "requestMetadata"),
)


@dataclass(frozen=True)
class Request:
    """Exactly what a model receives through Converse.

    `Request.of("Be brief.", "Say hi", params)` builds the common case: one system text block
    (none for None) and one user message. Strings passed positionally are read the same way.
    """

    system_content: tuple[Block, ...] = ()
    messages: tuple[Message, ...] = ()
    params: InferenceParams = field(default_factory=InferenceParams)
    tool_config: Mapping[str, Any] | None = None
    output_config: Mapping[str, Any] | None = None
    guardrail_config: Mapping[str, Any] | None = None
    performance_config: Mapping[str, Any] | None = None
    service_tier: Mapping[str, Any] | None = None
    additional_fields: Mapping[str, Any] | None = None
    response_field_paths: tuple[str, ...] | None = None
    prompt_variables: Mapping[str, Any] | None = None
    metadata: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        system: Any = self.system_content
        if system is None or isinstance(system, str):
            object.__setattr__(self, "system_content", (Text(system),) if system else ())
        messages: Any = self.messages
        if isinstance(messages, str):
            object.__setattr__(self, "messages", (Message.user(messages),))
        elif not isinstance(messages, tuple):
            object.__setattr__(self, "messages", tuple(messages))

    @classmethod
    def of(cls, system: str | None, user: str, params: InferenceParams | None = None) -> Request:
        """One system text (none for None or "") and one user message."""
        return cls((Text(system),) if system else (), (Message.user(user),),
                   params or InferenceParams())  # fmt: skip

    # ------------------------------------------------------------ text views

    @property
    def system(self) -> str | None:
        """The system prompt's text (None when there is none)."""
        text = "".join(b.text for b in self.system_content if isinstance(b, Text))
        return text or None

    @property
    def user(self) -> str:
        """The text of the last user turn: what the model is asked now."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.text
        return ""

    @property
    def text(self) -> str:
        """Every text the model reads (system and all turns), for token estimates."""
        return (self.system or "") + "".join(m.text for m in self.messages)

    # ------------------------------------------------------------ bodies

    def to_converse(self) -> dict[str, Any]:
        """The Converse request body (without modelId), exactly as sent."""
        body: dict[str, Any] = {}
        if self.messages:  # none for a managed prompt, which brings its own
            body["messages"] = [m.to_converse() for m in self.messages]
        if self.system_content:
            body["system"] = [b.to_converse() for b in self.system_content]
        cfg = self.params.to_converse()
        if cfg:
            body["inferenceConfig"] = cfg
        for attr, key in OPTIONAL_FIELDS:
            value = getattr(self, attr)
            if value:
                body[key] = list(value) if isinstance(value, tuple) else _plain(value)
        return body

    def to_record(self) -> dict[str, Any]:
        """`to_converse()` made JSON-safe: bytes become their sha256 and size."""
        recorded: dict[str, Any] = record_form(self.to_converse())
        return recorded

    def without_citations(self) -> Request:
        """The same request with citations turned off on every document."""

        def plain(block: Block) -> Block:
            return replace(block, citations=False) if isinstance(block, Document) else block

        turns = tuple(replace(m, content=tuple(map(plain, m.content))) for m in self.messages)
        return replace(self, messages=turns)

    def fold_system(self) -> Request:
        """For models without system-prompt support: instructions go first in the user turn."""
        system = self.system
        turns = self.messages
        if not system or not turns or turns[0].role != "user":
            return self
        first = turns[0]
        head = first.content[0] if first.content else None
        if isinstance(head, Text):
            content = (Text(f"{system}\n\n{head.text}"), *first.content[1:])
        else:
            content = (Text(system), *first.content)
        folded = (replace(first, content=content), *turns[1:])
        return replace(self, system_content=(), messages=folded)


def _plain(value: Any) -> Any:
    """Mappings and tuples as the plain dicts and lists boto3 serialises."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def record_form(value: Any) -> Any:
    """A JSON-safe copy: bytes become `{"sha256", "size"}`; mappings and sequences are copied."""
    if isinstance(value, bytes | bytearray):
        return {"sha256": hashlib.sha256(value).hexdigest(), "size": len(value)}
    if isinstance(value, Mapping):
        return {k: record_form(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [record_form(v) for v in value]
    return value

"""What is sent to a model, in the shape Converse takes: system blocks, messages, settings.

`Request.to_converse()` is the exact request body (without `modelId`); `to_record()` is the same
body made JSON-safe for history, cache keys and `render --format json`: any bytes (an attached
image or document) become `{"sha256": ..., "size": ...}`, so a record never holds file content
or a local path, and a key changes when the content does.

A content block is a small frozen type with `to_converse()`: text, images, documents, video,
tool results, cache points (`CachePoint`: the prompt cache may keep what comes before it).
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


CACHE_TTLS = ("5m", "1h")
DEFAULT_CACHE_TTL = "5m"  # what Bedrock keeps a cache point for when no ttl is sent


@dataclass(frozen=True)
class CachePoint:
    """A prompt-cache checkpoint: everything before it may be cached (Converse `cachePoint`).

    `ttl` None sends no ttl (the service's default, 5 minutes); "1h" asks for an hour."""

    ttl: str | None = None

    def to_converse(self) -> dict[str, Any]:
        point: dict[str, Any] = {"type": "default"}
        if self.ttl:
            point["ttl"] = self.ttl
        return {"cachePoint": point}

    @property
    def label(self) -> str:
        """`[cache point 5m]`: how text views show it."""
        return f"[cache point {self.ttl or DEFAULT_CACHE_TTL}]"


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
    # Not Converse: a knowledge base's RetrieveAndGenerate search settings (kb: models only,
    # set by the "query" request shape; recorded and in cache keys like the rest).
    ("retrieval_config", "retrievalConfiguration"),
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
    retrieval_config: Mapping[str, Any] | None = None

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

    # ------------------------------------------------------------ prompt-cache points

    def cache_points(self) -> list[tuple[str, CachePoint]]:
        """Every cache point as (where, point), in the order the service reads the prompt:
        `tools` (toolConfig.tools), `system`, `messages`."""
        tools = (self.tool_config or {}).get("tools") or ()
        found = [("tools", CachePoint(t["cachePoint"].get("ttl"))) for t in tools
                 if isinstance(t, Mapping) and "cachePoint" in t]  # fmt: skip
        found += [("system", b) for b in self.system_content if isinstance(b, CachePoint)]
        found += [("messages", b) for m in self.messages for b in m.content
                  if isinstance(b, CachePoint)]  # fmt: skip
        return found

    @property
    def cache_write_ttl(self) -> str | None:
        """How long what this request writes to the prompt cache is kept: "1h" when a cache
        point asks for an hour, else "5m"; None without cache points."""
        points = [p for _, p in self.cache_points()]
        if not points:
            return None
        return "1h" if any(p.ttl == "1h" for p in points) else DEFAULT_CACHE_TTL

    def without_cache_points(self, *places: str) -> Request:
        """The request with the cache points in `places` (tools, system, messages; all when
        none are named) taken out; the texts a point separated become one text again."""
        drop = set(places or CACHE_PLACES)
        request = self
        if "tools" in drop and self.tool_config and self.tool_config.get("tools"):
            tools = [t for t in self.tool_config["tools"]
                     if not (isinstance(t, Mapping) and "cachePoint" in t)]  # fmt: skip
            request = replace(request, tool_config={**self.tool_config, "tools": tools})
        if "system" in drop:
            request = replace(request, system_content=_uncut(self.system_content))
        if "messages" in drop:
            turns = tuple(replace(m, content=_uncut(m.content)) for m in self.messages)
            request = replace(request, messages=turns)
        return request

    def with_cache_ttl(self, ttl: str | None) -> Request:
        """Every cache point with this ttl (None: the service's default)."""

        def point(block: Block) -> Block:
            return CachePoint(ttl) if isinstance(block, CachePoint) else block

        tools = None
        if self.tool_config and self.tool_config.get("tools"):
            tools = [CachePoint(ttl).to_converse()
                     if isinstance(t, Mapping) and "cachePoint" in t else t
                     for t in self.tool_config["tools"]]  # fmt: skip
        return replace(
            self,
            system_content=tuple(map(point, self.system_content)),
            messages=tuple(replace(m, content=tuple(map(point, m.content))) for m in self.messages),
            tool_config={**(self.tool_config or {}), "tools": tools} if tools else self.tool_config,
        )

    @property
    def tools_text(self) -> str:
        """The tool specifications as JSON ("" without tools), for token estimates."""
        import json

        tools = (self.tool_config or {}).get("tools") or ()
        specs = [t for t in tools if isinstance(t, Mapping) and "cachePoint" not in t]
        return json.dumps(_plain(specs), ensure_ascii=False) if specs else ""

    def cached_prefix_text(self) -> str:
        """What the model reads before the last cache point, as text (tool specs as JSON, then
        the system and message texts): the part a later call can read from the cache."""
        points = self.cache_points()
        if not points:
            return ""
        last_place = points[-1][0]
        parts = [self.tools_text]  # the tools come first: always part of the prefix
        if last_place == "tools":
            return "".join(parts)
        system = list(self.system_content)
        if last_place == "system":
            cut = max(i for i, b in enumerate(system) if isinstance(b, CachePoint))
            return "".join([*parts, *(b.text for b in system[:cut] if isinstance(b, Text))])
        parts += [b.text for b in system if isinstance(b, Text)]
        blocks = [b for m in self.messages for b in m.content]
        cut = max(i for i, b in enumerate(blocks) if isinstance(b, CachePoint))
        return "".join([*parts, *(b.text for b in blocks[:cut] if isinstance(b, Text))])

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


CACHE_PLACES = ("tools", "system", "messages")


def _uncut(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
    """The blocks without cache points; two texts a point separated joined into one."""
    out: list[Block] = []
    joined = False
    for block in blocks:
        if isinstance(block, CachePoint):
            joined = True
            continue
        if joined and out and isinstance(out[-1], Text) and isinstance(block, Text):
            out[-1] = Text(out[-1].text + block.text)
        else:
            out.append(block)
        joined = False
    return tuple(out)


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

"""The prompt data model: a validated prompt file, its variables, and a rendered prompt."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from promptlab.reasoning import Reasoning
from promptlab.request import Block, CachePoint, InferenceParams, Message, Request, Text

if TYPE_CHECKING:
    import jinja2

    from promptlab.guardrails import Guardrail
    from promptlab.media import Media
    from promptlab.prompt.imagespec import ImageSpec
    from promptlab.retrieval.spec import Retrieval
    from promptlab.yamlfile import YamlDoc

SECTIONS = ("instructions", "context", "input", "format")
USER_SECTIONS = ("context", "input", "format")
TOP_KEYS = (
    "name", "version", "description", "metadata", *SECTIONS,
    "layout", "variables", "examples", "messages", "attachments",
    "tools", "tool_choice", "tool_results", "max_turns", "output_schema", "cache",
    "models", "require", "inference", "reasoning", "guardrail", "tests",
    "kind", "prompt", "negative_prompt", "image", "retrieve",
)  # fmt: skip
# Where `cache:` can put a prompt-cache point: after these parts of the prompt.
CACHE_POSITIONS = ("instructions", "examples", "context", "tools")
VARIABLE_KEYS = ("type", "description", "default", "required", "enum", "example", "citations",
                 "context")  # fmt: skip
MEDIA_TYPES = ("image", "document", "video")
VAR_TYPES = ("string", "integer", "number", "boolean", "list", "object", *MEDIA_TYPES)
MAX_TURNS = 5  # model calls in one scripted tool exchange, unless the prompt says otherwise
LAYOUTS = ("xml", "markdown")
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
)
MARKDOWN_TITLES = {"context": "Context", "input": "Input", "format": "Output format"}


@dataclass(frozen=True)
class Variable:
    name: str
    type: str = "string"
    description: str = ""
    default: Any = None
    required: bool = True
    enum: tuple[Any, ...] = ()
    example: Any = None
    citations: bool = False  # documents: ask for Converse citations
    context: str | None = None  # documents: how the model should read it (Converse `context`)

    @property
    def has_default(self) -> bool:
        return self.default is not None

    @property
    def is_media(self) -> bool:
        return self.type in MEDIA_TYPES


@dataclass(frozen=True)
class Turn:
    """One scripted conversation turn: a role and its text (a template)."""

    role: str  # user | assistant
    text: str
    path: tuple[str | int, ...] = ()  # where it is in the file, for errors at file:line


@dataclass(frozen=True)
class Tool:
    """A tool the model may call: sent as a Converse toolSpec."""

    name: str
    description: str
    input_schema: Mapping[str, Any]
    strict: bool | None = None

    def to_converse(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"name": self.name}
        if self.description:
            spec["description"] = self.description
        spec["inputSchema"] = {"json": self.input_schema}
        if self.strict is not None:
            spec["strict"] = self.strict
        return {"toolSpec": spec}


@dataclass(frozen=True)
class ToolScript:
    """What a tool returns in a scripted exchange: for `tool`, when its input contains `when`."""

    tool: str
    result: Any  # a string → a text block; anything else → a json block
    when: Mapping[str, Any] | None = None
    status: str | None = None  # "error" sends the result as a failed tool call

    def matches(self, name: str, tool_input: Any) -> bool:
        if name != self.tool:
            return False
        if not self.when:
            return True
        return isinstance(tool_input, Mapping) and all(
            k in tool_input and tool_input[k] == v for k, v in self.when.items()
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"tool": self.tool, "result": self.result}
        if self.when:
            d["when"] = dict(self.when)
        if self.status:
            d["status"] = self.status
        return d


@dataclass(frozen=True)
class CacheSpec:
    """`cache:` the parts of the prompt a cache point follows, and how long the service keeps
    the cache (None: its default, 5 minutes)."""

    after: tuple[str, ...]
    ttl: str | None = None


@dataclass(frozen=True)
class Prompt:
    """A validated prompt file. Identity: (name, version, content_hash)."""

    name: str
    version: str
    path: str
    root: Path
    content_hash: str
    description: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    sections: Mapping[str, str] = field(default_factory=dict)
    layout: str = "xml"
    variables: Mapping[str, Variable] = field(default_factory=dict)
    models: tuple[str, ...] = ()
    # What a fallback chain's answer must pass before the chain stops at it (assertions that
    # need no model call: is-json, json-schema, contains, …); unused for single models.
    require: tuple[Any, ...] = ()
    inference: InferenceParams = field(default_factory=InferenceParams)
    overrides: Mapping[str, InferenceParams] = field(default_factory=dict)
    reasoning: Reasoning | None = None  # `reasoning:` for every model
    reasoning_overrides: Mapping[str, Reasoning] = field(default_factory=dict)  # per model
    tests: tuple[Any, ...] = ()
    examples: tuple[Turn, ...] = ()  # few-shot turns before the conversation
    messages: tuple[Turn, ...] = ()  # a scripted conversation; the sections join its last turn
    attachments: tuple[str, ...] = ()  # media variables, in the order their blocks are sent
    tools: tuple[Tool, ...] = ()
    tool_choice: Any = None  # "auto" | "any" | {"tool": NAME}
    tool_results: tuple[ToolScript, ...] = ()
    max_turns: int = MAX_TURNS
    output_schema: Mapping[str, Any] | None = None
    cache: CacheSpec | None = None  # where prompt-cache points go
    guardrail: Guardrail | Literal[False] | None = None  # False: none, not even the config's
    ref: str | None = None  # git commit the file was read at, if any
    loader: jinja2.BaseLoader | None = field(default=None, compare=False, repr=False)
    doc: YamlDoc | None = field(default=None, compare=False, repr=False)
    kind: str = "text"  # text | image
    image: ImageSpec | None = None  # an image prompt's `image:` settings
    retrieval: Retrieval | None = None  # `retrieve:` where context comes from
    places_passages: bool = False  # a template uses `passages` (else they join the context)
    # Section source → its template, compiled once at load (compiling is the slow part).
    templates: Mapping[str, jinja2.Template] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def short_hash(self) -> str:
        return self.content_hash[:12]

    @property
    def media(self) -> tuple[Variable, ...]:
        """The media variables, in the order their blocks go into the last user turn."""
        return tuple(self.variables[n] for n in self.attachments)

    @property
    def identity(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "hash": self.content_hash}

    def params_for(self, model: str, *aliases: str) -> InferenceParams:
        """Inference params for one model: the prompt's, then its per-model override."""
        params = self.inference
        for key in (model, *aliases):
            if key in self.overrides:
                return params.merged(self.overrides[key])
        return params

    def reasoning_for(self, model: str, *aliases: str) -> Reasoning | None:
        """The reasoning one model is asked for: its override, else the prompt's."""
        for key in (model, *aliases):
            if key in self.reasoning_overrides:
                return self.reasoning_overrides[key]
        return self.reasoning


@dataclass(frozen=True)
class Rendered:
    """The rendered sections and turns, and the request they make.

    `user` is the text of the last user turn; `turns` the (role, text) turns before it
    (examples, then a scripted conversation); `attachments` the media blocks' sources, placed
    before the text of the last user turn as Bedrock recommends.
    """

    sections: Mapping[str, str]
    system: str | None
    user: str
    turns: tuple[tuple[str, str], ...] = ()
    attachments: tuple[tuple[Variable, Media], ...] = ()
    tools: tuple[Tool, ...] = ()
    tool_choice: Any = None
    output_schema: Mapping[str, Any] | None = None
    schema_user: str | None = None  # `user` with the schema in the format section
    cache: CacheSpec | None = None
    example_turns: int = 0  # how many of `turns` are few-shot examples (they come first)
    context_end: int | None = None  # `user` up to here is its text through the context section
    # Retrieved passages (Result.passages), the variant's label when the prompt names variants
    # or --retrieve overrides a setting, and notices (a knowledge base not searched).
    passages: tuple[dict[str, Any], ...] = ()
    retrieval: str | None = None
    notes: tuple[str, ...] = ()
    # The sections without the retrieved passages (None: the prompt retrieves nothing, they
    # are `sections`), for a knowledge base that places its own (`$search_results$`).
    bare_sections: Mapping[str, str] | None = None
    layout: str = "xml"  # how `user` joins the sections (the prompt's layout)

    def request(self, params: InferenceParams | None = None, *, native_schema: bool = True
                ) -> Request:  # fmt: skip
        """The Converse request. Without `native_schema`, the output schema is not sent as
        structured output but written into the format section (models that lack it).

        `cache` puts a cache point after the instructions (end of `system`), the examples (end
        of the last example turn), the context (the last user text split after its context
        section) and the tools (end of `toolConfig.tools`)."""
        user = self.user if native_schema or self.schema_user is None else self.schema_user
        after = set(self.cache.after) if self.cache else set()
        point = CachePoint(self.cache.ttl if self.cache else None)
        blocks: list[Block] = [m.block(citations=v.citations, context=v.context)
                               for v, m in self.attachments]  # fmt: skip
        if "context" in after and self.context_end is not None:
            head, rest = user[: self.context_end], user[self.context_end :]
            if rest.startswith("\n\n"):  # the separator stays with the cached part
                head, rest = head + "\n\n", rest[2:]
            blocks += [*([Text(head)] if head else []), point, *([Text(rest)] if rest else [])]
        elif user or not blocks:
            blocks.append(Text(user))
        turns = [Message(role, (Text(text),)) for role, text in self.turns]
        if "examples" in after and self.example_turns:
            last = turns[self.example_turns - 1]
            turns[self.example_turns - 1] = Message(last.role, (*last.content, point))
        system: tuple[Block, ...] = (Text(self.system),) if self.system else ()
        if "instructions" in after and system:
            system += (point,)
        return Request(
            system,
            (*turns, Message("user", tuple(blocks))),
            params or InferenceParams(),
            tool_config=tool_config(
                self.tools, self.tool_choice, point if "tools" in after else None
            ),
            output_config=output_config(self.output_schema) if native_schema else None,
        )


def tool_config(
    tools: tuple[Tool, ...], choice: Any, cache_point: CachePoint | None = None
) -> dict[str, Any] | None:
    """Converse `toolConfig`: the tools (then a cache point, if given) and, if set, the choice
    (auto, any or one tool)."""
    if not tools:
        return None
    specs = [t.to_converse() for t in tools]
    config: dict[str, Any] = {"tools": specs + ([cache_point.to_converse()] if cache_point else [])}
    if choice == "auto" or choice == "any":
        config["toolChoice"] = {choice: {}}
    elif isinstance(choice, Mapping) and "tool" in choice:
        config["toolChoice"] = {"tool": {"name": choice["tool"]}}
    return config


def output_config(schema: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Converse structured output: the schema as a JSON string, as the API takes it."""
    if not schema:
        return None
    text = json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
    return {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": text}}}}

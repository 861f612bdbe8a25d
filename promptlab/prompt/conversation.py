"""Reading the conversation keys of a prompt file: examples, messages, attachments, tools,
tool_choice, tool_results, max_turns, output_schema and cache. Every problem is a file:line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from promptlab.errors import PromptFileError
from promptlab.fields import (
    BOOL,
    LIST,
    MAPPING,
    STRING,
    Fields,
    did_you_mean,
    integer,
    one_of,
    strings,
)
from promptlab.prompt.model import (
    CACHE_POSITIONS,
    MAX_TURNS,
    CacheSpec,
    Tool,
    ToolScript,
    Turn,
    Variable,
)
from promptlab.request import CACHE_TTLS
from promptlab.yamlfile import read_text

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # Converse ToolName
ROLES = ("user", "assistant")
TOOL_KEYS = ("name", "description", "input_schema", "strict")
SCRIPT_KEYS = ("tool", "when", "result", "status")


def _entries(
    fields: Fields, key: str, keys: tuple[str, ...], example: str
) -> Iterator[tuple[int, Fields]]:
    """The mappings of the list under `key`, each read with only `keys` allowed; a value that
    is not a list, or an item that is not a mapping, is a problem at its line."""
    items = fields.get(key, LIST, [], unset="empty", message=f"'{{key}}' must be a list of "
                       f"{example}", hint=f"e.g. {key}: [{example}]")  # fmt: skip
    field = fields.under(key)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            field.problem((i,), f"{key}[{i}] must be a mapping ({', '.join(keys)})",
                          f"e.g. - {example}")  # fmt: skip
            continue
        entry = field.child(i, item)
        entry.unknown(keys, where=f"in {key}[{i}]")
        yield i, entry


def examples(top: Fields) -> tuple[Turn, ...]:
    """`examples:` few-shot pairs `- {user: ..., assistant: ...}`, sent as turns in order."""
    turns: list[Turn] = []
    example = "{user: 'Review: great', assistant: positive}"
    for i, pair in _entries(top, "examples", ROLES, example):
        for role in ROLES:
            text = pair.get(
                role,
                STRING,
                required=True,
                message=f"examples[{i}] needs a '{role}' text",
                hint="each example is one user turn and the assistant's answer",
            )
            if text is not None:
                turns.append(Turn(role, text, ("examples", i, role)))
    return tuple(turns)


def messages(top: Fields) -> tuple[Turn, ...]:
    """`messages:` a scripted conversation `- {role, content}`: starts with the user,
    alternates, ends with the user (the sections, if any, join that last turn)."""
    turns: list[Turn] = []
    field = top.under("messages")
    example = "{role: user, content: 'Hello'}"
    for i, turn in _entries(top, "messages", ("role", "content"), example):
        role = turn.get(
            "role",
            STRING,
            required=True,
            message=f"messages[{i}] needs a 'role'",
            hint="role: user or role: assistant",
        )
        text = turn.get(
            "content",
            STRING,
            required=True,
            message=f"messages[{i}] needs a 'content' text",
            hint="content: | followed by the turn's text",
        )
        if role is None or text is None:
            continue
        expected = ROLES[len(turns) % 2]
        if role not in ROLES:
            turn.problem(
                ("role",),
                f"messages[{i}]: unknown role {role!r}",
                "roles are user and assistant; the system prompt is 'instructions'",
            )
        elif role != expected:
            message = (
                f"messages[{i}] is a{'n' if role == 'assistant' else ''} {role} turn after "
                f"a{'n' if turns[-1].role == 'assistant' else ''} {turns[-1].role} turn"
                if turns
                else f"messages[{i}]: a conversation starts with the user"
            )
            hint = "turns alternate user, assistant, user, …, starting and ending with user"
            turn.problem(("role",), message, hint)
        else:
            turns.append(Turn(role, text, ("messages", i, "content")))
    if turns and turns[-1].role != "user":
        field.problem(
            (i,),
            "messages must end with a user turn",
            "add the user's next message, or move the sections into a last user turn",
        )
    return tuple(turns)


def attachments(top: Fields, variables: Mapping[str, Variable]) -> tuple[str, ...]:
    """Which media variables are sent, in order: `attachments:` or, without it, every media
    variable in the order declared."""
    media = [n for n, v in variables.items() if v.is_media]
    if top.is_unset("attachments", "missing"):
        return tuple(media)
    names = top.get(
        "attachments",
        strings(single=True),
        [],
        message="'{key}' must be a list of image, document or video variables",
        hint="e.g. attachments: [photo, contract]",
    )
    field = top.under("attachments")
    seen: list[str] = []
    for i, name in enumerate(names):
        var = variables.get(name)
        if var is None or not var.is_media:
            what = (
                "not declared" if var is None else f"a {var.type}, not an image, document or video"
            )
            field.problem(
                (i,),
                f"attachments: '{name}' is {what}",
                f"declare it under variables, e.g. {name}: {{type: image}}",
            )
        elif name in seen:
            field.problem((i,), f"attachments: '{name}' is listed twice", "list each once")
        else:
            seen.append(name)
    for name in media:
        if name not in seen and names:
            top.problem(
                ("attachments",),
                f"media variable '{name}' is not in attachments",
                f"add it: attachments: [{', '.join([*seen, name])}]",
            )
    return tuple(seen)


def tools(top: Fields, base: Path) -> tuple[Tool, ...]:
    """`tools:` name, description, input_schema (JSON Schema, inline or a file), strict."""
    out: list[Tool] = []
    example = "{name: get_weather, input_schema: {type: object}}"
    for i, spec in _entries(top, "tools", TOOL_KEYS, example):
        name = spec.get(
            "name",
            STRING,
            required=True,
            message=f"tools[{i}] needs a 'name'",
            hint="letters, digits, _ and -, at most 64",
        )
        if name is not None and not TOOL_NAME.match(name):
            spec.problem(
                ("name",),
                f"tool name {name!r} is not valid: letters, digits, _ and - "
                "only, 1 to 64 characters",
                f"e.g. {re.sub(r'[^a-zA-Z0-9_-]+', '_', name)[:64] or 'my_tool'}",
            )
            name = None
        if name is not None and any(t.name == name for t in out):
            spec.problem(
                ("name",), f"tool '{name}' is declared twice", "give each tool its own name"
            )
            name = None
        description = spec.get("description", STRING, "", unset="missing")
        schema = schema_value(
            spec, "input_schema", base, f"input_schema of tool '{name}'", required=True
        )
        strict = spec.get("strict", BOOL, unset="missing")
        if schema is not None and schema.get("type", "object") != "object":
            spec.problem(
                ("input_schema",),
                f"input_schema of tool '{name}' must describe an object (type: object)",
                "a tool's input is a JSON object",
            )
            schema = None
        if name is not None and schema is not None:
            out.append(Tool(name, description, schema, strict))
    return tuple(out)


def tool_names(top: Fields) -> set[str]:
    """Every tool name written under `tools:` (valid or not: one mistake, one message)."""
    items = top.data.get("tools")
    if not isinstance(items, list):
        return set()
    return {str(t["name"]) for t in items if isinstance(t, dict) and "name" in t}


def tool_choice(top: Fields, declared: set[str]) -> Any:
    """`tool_choice: auto | any | {tool: NAME}`."""
    choice = top.data.get("tool_choice")
    if choice is None:
        return None
    hint = "tool_choice: auto, any, or {tool: NAME}"
    if choice in ("auto", "any"):
        pass
    elif isinstance(choice, dict) and set(choice) == {"tool"}:
        if choice["tool"] not in declared:
            top.problem(
                ("tool_choice", "tool"),
                f"tool_choice names {choice['tool']!r}, which is not declared under tools",
                hint,
            )
            return None
    else:
        top.problem(
            ("tool_choice",),
            f"tool_choice must be auto, any or {{tool: NAME}}, got {choice!r}",
            hint,
        )
        return None
    if not declared:
        top.problem(("tool_choice",), "tool_choice without tools", "declare tools under 'tools:'")
        return None
    return choice


def tool_results(
    fields: Fields, declared: set[str], key: str = "tool_results"
) -> tuple[ToolScript, ...]:
    """`tool_results:` what each tool returns: `- {tool, when?, result, status?}`."""
    names = declared
    out: list[ToolScript] = []
    for i, entry in _entries(fields, key, SCRIPT_KEYS, "{tool: NAME, result: ...}"):
        tool = entry.get(
            "tool",
            STRING,
            required=True,
            message=f"{key}[{i}] needs a 'tool'",
            hint="the name of a tool declared under tools",
        )
        if tool is not None and tool not in names:
            known = ", ".join(sorted(names)) or "none declared"
            entry.problem(
                ("tool",),
                f"{key}[{i}] scripts tool '{tool}', which is not declared under tools ({known})",
                "declare it under 'tools:' or fix the name",
            )
            tool = None
        when = entry.get(
            "when",
            MAPPING,
            unset="missing",
            message="'{key}' must be a mapping of argument: value",
            hint="e.g. when: {city: Lima}",
        )
        if "result" not in entry:
            entry.problem(
                (),
                f"{key}[{i}] needs a 'result'",
                "result: the tool's output (text, or any YAML value sent as JSON)",
            )
            continue
        status = entry.get("status", STRING, unset="missing")
        if status is not None and status not in ("success", "error"):
            entry.problem(("status",), f"status must be success or error, got {status!r}")
            status = None
        if tool is not None:
            out.append(ToolScript(tool, entry.data["result"], when, status))
    return tuple(out)


def max_turns(top: Fields) -> int:
    value: int = top.get(
        "max_turns",
        integer(1),
        MAX_TURNS,
        unset="missing",
        hint="model calls in one tool exchange, e.g. max_turns: 4",
    )
    return value


def output_schema(top: Fields, base: Path) -> Mapping[str, Any] | None:
    return schema_value(top, "output_schema", base, "output_schema")


def schema_value(
    fields: Fields, key: str, base: Path, what: str, *, required: bool = False
) -> dict[str, Any] | None:
    """A JSON Schema given inline (a mapping) or as a path to a JSON or YAML file (relative to
    the prompt file's directory), checked against its metaschema."""
    raw = fields.data.get(key)
    if raw is None:
        if required:
            fields.problem(
                (),
                f"{what}: missing",
                "a JSON Schema, e.g. {type: object, properties: {city: {type: string}}}",
            )
        return None
    schema: Any = raw
    if isinstance(raw, str):
        path = (base / raw) if not Path(raw).is_absolute() else Path(raw)
        try:
            text = read_text(path, what=what)  # a regular file of at most 1 MiB
        except PromptFileError as exc:
            fields.problem(
                (key,),
                f"{what}: cannot read {raw}: {exc.message}",
                "a path relative to the prompt file, or an inline mapping",
            )
            return None
        try:
            schema = json.loads(text) if path.suffix == ".json" else _yaml(text)
        except ValueError as exc:
            fields.problem((key,), f"{what}: {raw} is not valid JSON or YAML: {exc}")
            return None
    if not isinstance(schema, dict):
        fields.problem(
            (key,),
            f"{what} must be a JSON Schema (a mapping) or a file path",
            "e.g. {type: object, properties: {...}}",
        )
        return None
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "top level"
        fields.problem(
            (key,),
            f"{what} is not a valid JSON Schema at {where}: {exc.message}",
            "see https://json-schema.org/understanding-json-schema/",
        )
        return None
    from promptlab.schemas import LOCAL_REFS_HINT, foreign_refs

    remote = foreign_refs(schema)
    if remote:
        fields.problem((key,), f"{what} refers outside itself: $ref {remote[0]!r}",
                       LOCAL_REFS_HINT)  # fmt: skip
        return None
    return schema


CACHE_EXAMPLE = "cache: [instructions, tools] or cache: {after: [instructions, context], ttl: 1h}"
_MISSING = {
    "instructions": "the prompt has no instructions",
    "examples": "the prompt has no examples",
    "context": "the prompt has no context section",
    "tools": "the prompt declares no tools",
}


def cache(top: Fields) -> CacheSpec | None:
    """`cache:` the parts a prompt-cache point follows (instructions, examples, context,
    tools), as a list, or `{after: [...], ttl: 5m|1h}`. Each must exist in the prompt."""
    raw = top.data.get("cache")
    if raw is None or raw == []:
        return None
    ttl = None
    names = ", ".join(CACHE_POSITIONS)
    if isinstance(raw, dict):
        field = top.child("cache", raw)
        field.unknown(("after", "ttl"), where="in cache")
        ttl = field.get(
            "ttl",
            one_of(CACHE_TTLS),
            unset="missing",
            hint="5m (the default) or 1h: how long the service keeps the cache",
        )
        positions = field.get(
            "after",
            strings(single=True, empty=False),
            required=True,
            message=f"cache needs 'after': a list of {names}",
            hint=f"e.g. {CACHE_EXAMPLE}",
        )
        items, listed = field.under("after"), isinstance(raw.get("after"), list)
    else:
        positions = top.get(
            "cache",
            strings(single=True, empty=False),
            message=f"'{{key}}' must be a list of {names}, or {{after, ttl}}",
            hint=f"e.g. {CACHE_EXAMPLE}",
        )
        items, listed = top.under("cache"), isinstance(raw, list)
    after: list[str] = []
    for i, name in enumerate(positions or ()):
        at: tuple[Any, ...] = (i,) if listed else ()
        if name not in CACHE_POSITIONS:
            hint = did_you_mean(name, CACHE_POSITIONS) or f"positions: {names}"
            items.problem(at, f"cache: unknown position '{name}'", hint)
        elif name in after:
            items.problem(at, f"cache: '{name}' is listed twice", "list each position once")
        elif not _has(top, name):
            items.problem(
                at,
                f"cache: a cache point after the {name}, but {_MISSING[name]}",
                f"add {name}, or take '{name}' out of cache",
            )
        else:
            after.append(name)
    if not after:
        return None
    return CacheSpec(tuple(p for p in CACHE_POSITIONS if p in after), ttl)


def _has(top: Fields, position: str) -> bool:
    """Whether the prompt file has that part (written, even if it has problems of its own)."""
    value = top.data.get(position)
    return value is not None and value != [] and value != ""


def _yaml(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(str(exc).splitlines()[0]) from None

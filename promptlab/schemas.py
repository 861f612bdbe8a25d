"""JSON Schema helpers: the smallest valid instance of a schema (what the offline echo model
answers), and checking a structured answer against the prompt's output schema."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

FENCE = re.compile(r"^```[A-Za-z0-9_-]*[ \t]*\n(.*)\n[ \t]*```$", re.DOTALL)
_FORMATS = {
    "date": "2026-01-01",
    "date-time": "2026-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "hostname": "example.com",
}


def minimal_instance(schema: Any, root: Mapping[str, Any] | None = None, depth: int = 0) -> Any:
    """A small value valid against `schema`: required properties only, minimum lengths and
    counts, the first enum or const, the first branch of anyOf/oneOf, local `$ref`s followed."""
    if not isinstance(schema, Mapping) or depth > 20:
        return None
    root = root if root is not None else schema
    if "$ref" in schema and isinstance(schema["$ref"], str) and schema["$ref"].startswith("#/"):
        target: Any = root
        for part in schema["$ref"][2:].split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        return minimal_instance(target, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return minimal_instance(schema[key][0], root, depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            if isinstance(part, Mapping):
                merged.update(part)
        return minimal_instance(merged, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "object":
        props = schema.get("properties") or {}
        return {
            name: minimal_instance(props.get(name, {}), root, depth + 1)
            for name in schema.get("required") or []
        }
    if kind == "array":
        item = schema.get("items") or {}
        return [minimal_instance(item, root, depth + 1) for _ in range(schema.get("minItems", 0))]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = low + 1 if "exclusiveMinimum" in schema and "minimum" not in schema else low
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    if schema.get("format") in _FORMATS:
        return _FORMATS[schema["format"]]
    shortest = int(schema.get("minLength", 0))
    if isinstance(schema.get("pattern"), str):
        return _matching(schema["pattern"], shortest)
    return "x" * shortest


def _matching(pattern: str, shortest: int) -> str:
    """A short string the pattern matches, found by trying runs of a few characters
    (enough for codes such as ^[A-Z]{3}$ or ^\\d{4}$); "x" when none does."""
    try:
        rx = re.compile(pattern)
    except re.error:
        return "x" * shortest
    for n in range(shortest, shortest + 13):
        for ch in ("x", "A", "0", "a", "X"):
            if rx.search(ch * n):
                return ch * n
    return "x" * max(shortest, 1)


REF_KEYS = ("$ref", "$dynamicRef", "$recursiveRef")
LOCAL_REFS_HINT = "only references inside the schema are followed (#/$defs/…); copy the schema in"


def foreign_refs(schema: Any) -> list[str]:
    """The references in `schema` that point outside it (a URL, a file): a declarative check must
    not make promptlab fetch anything, so these are refused where a schema is read."""
    ids: set[str] = set()
    refs: list[str] = []
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key in REF_KEYS and isinstance(value, str):
                    refs.append(value)
                elif key == "$id" and isinstance(value, str):
                    ids.add(value.split("#", 1)[0])
                else:
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return [r for r in refs if not r.startswith("#") and r.split("#", 1)[0] not in ids]


def validator(schema: Mapping[str, Any]) -> Any:
    """A jsonschema validator for `schema` (its draft; `format` asserted) that resolves only
    references inside the schema (any other is unresolvable, never fetched) and whose `pattern`
    and `patternProperties` search with a time limit (timedregex: model output is untrusted)."""
    from jsonschema.validators import validator_for
    from referencing import Registry
    from referencing.exceptions import NoSuchResource

    from promptlab.timedregex import bounded_class

    def refuse(uri: str) -> Any:
        raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs class

    base = validator_for(schema)
    registry = Registry(retrieve=refuse)  # type: ignore[call-arg]  # attrs class
    return bounded_class(base)(schema, format_checker=base.FORMAT_CHECKER, registry=registry)


def parse_json(text: str) -> Any:
    """The answer as JSON; one Markdown code fence around it is allowed. ValueError (where it
    stops parsing) if not."""
    body = text.strip()
    m = FENCE.match(body)
    if m:
        body = m.group(1).strip()
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None


def check_structured(schema: Mapping[str, Any], output: str, native: bool) -> dict[str, Any]:
    """A structured answer: its parsed value, and why it does not parse or validate (or None)."""
    try:
        value = parse_json(output)
    except ValueError as exc:
        return {"value": None, "error": f"not JSON: {exc}", "native": native}
    from referencing.exceptions import Unresolvable

    try:
        errors = sorted(validator(schema).iter_errors(value), key=lambda e: list(e.path))
    except Unresolvable as exc:
        return {"value": value, "error": f"the schema's reference {exc} is not followed",
                "native": native}  # fmt: skip
    error = next(iter(errors), None)
    message = None
    if error is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
        message = f"does not match the schema at ${where}: {error.message}"
    return {"value": value, "error": message, "native": native}

"""JSON assertions: is-json and json-schema, with a small JSON path (`$.items[0].name`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from promptlab.assertions.base import Assertion, BadAssertion, Context, Verdict, quote

_FENCE = re.compile(r"^```[A-Za-z0-9_-]*[ \t]*\n(.*)\n[ \t]*```$", re.DOTALL)
_STEP = re.compile(
    r"""\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]"""
)

PathStep = str | int


def extract_json(output: str) -> Any:
    """Parse the output as JSON; one Markdown code fence around the whole output is allowed."""
    text = output.strip()
    m = _FENCE.match(text)
    if m:
        text = m.group(1).strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None


def parse_path(path: str) -> list[PathStep]:
    """`$.a.b[0]["c d"]` → ['a', 'b', 0, 'c d']. Raises ValueError on bad syntax."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    elif text and not text.startswith((".", "[")):
        text = "." + text
    steps: list[PathStep] = []
    pos = 0
    while pos < len(text):
        m = _STEP.match(text, pos)
        if not m:
            raise ValueError(f"cannot read {text[pos:]!r}")
        name, index, sq, dq = m.groups()
        steps.append(int(index) if index is not None else (name or sq or dq or ""))
        pos = m.end()
    return steps


def pick(data: Any, steps: list[PathStep]) -> Any:
    """Follow `steps` into `data`; KeyError naming the first missing step."""
    cur = data
    for step in steps:
        if isinstance(step, int):
            if not isinstance(cur, list) or step >= len(cur):
                raise KeyError(f"[{step}]")
            cur = cur[step]
        else:
            if not isinstance(cur, dict) or step not in cur:
                raise KeyError(step)
            cur = cur[step]
    return cur


def prepare_path(a: Assertion) -> list[PathStep]:
    raw = a.options.get("path")
    if raw is None:
        return []
    if not isinstance(raw, str):
        raise BadAssertion(f"'path' must be a string like $.items[0].name, got {raw!r}", key="path")
    try:
        return parse_path(raw)
    except ValueError as exc:
        raise BadAssertion(
            f"invalid JSON path {raw!r}: {exc}", "use $.key.sub[0] or $['key with spaces']", "path"
        ) from None


def prepare_is_json(a: Assertion, root: Path) -> list[PathStep]:
    if a.value is not None:
        raise BadAssertion(
            "'is-json' takes no value", "use json-schema to check the shape", "value"
        )
    return prepare_path(a)


def prepare_schema(a: Assertion, root: Path) -> tuple[dict[str, Any], list[PathStep]]:
    schema = a.options.get("schema", a.value)
    if "schema" in a.options and a.value is not None:
        raise BadAssertion("give the schema as 'value' or 'schema', not both", key="schema")
    if not isinstance(schema, dict):
        raise BadAssertion(f"'json-schema' needs a JSON Schema mapping, got {schema!r}",
                           "e.g. value: {type: object, required: [name]}", "value")  # fmt: skip
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "top level"
        raise BadAssertion(f"invalid JSON schema at {where}: {exc.message}",
                           "see https://json-schema.org/understanding-json-schema",
                           "schema" if "schema" in a.options else "value") from None  # fmt: skip
    return schema, prepare_path(a)


def _parsed(a: Assertion, ctx: Context, steps: list[PathStep]) -> tuple[Any, str | None]:
    try:
        data = extract_json(ctx.output)
    except ValueError as exc:
        return None, f"output is not JSON: {exc}"
    if steps:
        try:
            data = pick(data, steps)
        except KeyError as exc:
            return None, f"path {a.options.get('path')} not found (missing {exc.args[0]})"
    return data, None


def is_json(a: Assertion, ctx: Context) -> Verdict:
    data, problem = _parsed(a, ctx, a.compiled)
    if problem:
        return Verdict(False, 0.0, problem)
    return Verdict(True, 1.0, f"valid JSON ({type(data).__name__})")


def json_schema(a: Assertion, ctx: Context) -> Verdict:
    schema, steps = a.compiled
    data, problem = _parsed(a, ctx, steps)
    if problem:
        return Verdict(False, 0.0, problem)
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    errors = sorted(cls(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return Verdict(True, 1.0, "matches the schema")
    first = errors[0]
    where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first.absolute_path)
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return Verdict(False, 0.0, f"schema: {where}: {quote(first.message, 120)}{more}")

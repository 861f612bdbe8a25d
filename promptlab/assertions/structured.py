"""JSON assertions: is-json, json-schema and contains-json, with a small JSON path
(`$.items[0].name`).

`format` in a schema is asserted (jsonschema's FORMAT_CHECKER), not only annotated. Without
optional packages jsonschema checks date, email, idn-email, ipv4, ipv6, regex and (2019-09 and
later) uuid; the dependencies rfc3339-validator (date-time, time) and rfc3986-validator (uri,
uri-reference) make those checked too. Other formats (hostname, duration, json-pointer, iri, …)
are accepted unchecked. tests/testing/test_assertion_json.py pins the list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from promptlab.assertions.base import (
    Assertion,
    BadAssertion,
    Context,
    Verdict,
    project_file,
    quote,
)
from promptlab.schemas import LOCAL_REFS_HINT, foreign_refs, parse_json, validator

_STEP = re.compile(
    r"""\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]"""
)

PathStep = str | int
SCHEMA_FILES = (".json", ".yaml", ".yml")
MAX_JSON_MISSES = 2000  # contains-json: `{`/`[` that start no JSON value before it gives up


extract_json = parse_json  # the output as JSON, one code fence allowed (ValueError if not)


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


def _schema_file(ref: str, root: Path, key: str, project: Path | None) -> Any:
    from promptlab.errors import PromptFileError
    from promptlab.yamlfile import load_mapping, read_text

    hint = "paths are relative to the suite (or prompt) file's directory"
    if not ref.endswith(SCHEMA_FILES):
        raise BadAssertion(f"a schema file must end in .json, .yaml or .yml, got {ref!r}",
                           "or write the schema inline: {type: object, ...}", key)  # fmt: skip
    path = project_file(ref, root, project, key)
    if not path.is_file():
        raise BadAssertion(f"schema file {ref!r} not found under {root}", hint, key)
    try:
        if ref.endswith(".json"):
            return json.loads(read_text(path, what="JSON schema"))
        return load_mapping(path, what="JSON schema").data
    except json.JSONDecodeError as exc:
        raise BadAssertion(f"{ref}:{exc.lineno}: not JSON: {exc.msg}", key=key) from None
    except PromptFileError as exc:
        first = exc.problems[0]
        where = f"{ref}:{first.line}" if first.line else ref
        raise BadAssertion(f"{where}: {first.message}", first.hint, key) from None


def check_schema(schema: Any, key: str = "schema", what: str = "") -> dict[str, Any]:
    """`schema` is a valid JSON Schema mapping (any draft its `$schema` names; 2020-12 without
    one), else BadAssertion naming where it is wrong."""
    if not isinstance(schema, dict):
        raise BadAssertion(f"{what}needs a JSON Schema mapping (or a .json/.yaml file), got "
                           f"{schema!r}", "e.g. value: {type: object, required: [name]}",
                           key)  # fmt: skip
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "top level"
        raise BadAssertion(f"invalid JSON schema at {where}: {exc.message}",
                           "see https://json-schema.org/understanding-json-schema",
                           key) from None  # fmt: skip
    remote = foreign_refs(schema)
    if remote:
        raise BadAssertion(f"the schema refers outside itself: $ref {remote[0]!r}",
                           LOCAL_REFS_HINT, key)  # fmt: skip
    return schema


def load_schema(a: Assertion, root: Path) -> dict[str, Any] | None:
    """The assertion's schema, from `schema:` or `value`: a mapping, or a .json/.yaml file
    relative to the suite (or prompt) file; None when it has none."""
    if "schema" in a.options and a.value is not None:
        raise BadAssertion("give the schema as 'value' or 'schema', not both", key="schema")
    key = "schema" if "schema" in a.options else "value"
    schema = a.options.get("schema", a.value)
    if schema is None:
        return None
    return resolve_schema(schema, root, key, f"'{a.full_type}' ", a.project)


def resolve_schema(
    raw: Any, root: Path, key: str, what: str = "", project: Path | None = None
) -> dict[str, Any]:
    """An inline schema, or the .json/.yaml file a string names (inside `project`); checked."""
    schema = _schema_file(raw, root, key, project) if isinstance(raw, str) else raw
    return check_schema(schema, key, what)


def prepare_schema(a: Assertion, root: Path) -> tuple[dict[str, Any] | None, list[PathStep]]:
    """json-schema: the schema may be left out; the prompt's `output_schema` is used then."""
    return load_schema(a, root), prepare_path(a)


def prepare_contains_json(a: Assertion, root: Path) -> dict[str, Any] | None:
    return load_schema(a, root)


def schema_errors(schema: Mapping[str, Any], data: Any) -> list[Any]:
    """jsonschema ValidationErrors of `data`, in document order; `format` is asserted where
    jsonschema can check it (the module docstring lists which formats)."""
    # `pattern` on model output searches with a time limit (schemas.validator)
    return sorted(validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))


def describe_errors(errors: list[Any], root: str = "$") -> str:
    """`$.items[0].qty: 3 is not of type 'string' (+1 more)` for the first of `errors`."""
    first = errors[0]
    where = root + "".join(f"[{p}]" if isinstance(p, int) else f".{p}"
                           for p in first.absolute_path)  # fmt: skip
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {quote(first.message, 120)}{more}"


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


NO_SCHEMA = "no schema: give the assertion a schema or the prompt an output_schema"


def json_schema(a: Assertion, ctx: Context) -> Verdict:
    own, steps = a.compiled
    schema = own if own is not None else ctx.output_schema
    if schema is None:
        return Verdict(False, 0.0, NO_SCHEMA, broken=True)
    if own is None:
        try:
            check_schema(dict(schema))
        except BadAssertion as exc:
            return Verdict(False, 0.0, f"the prompt's output_schema: {exc.message}", broken=True)
    data, problem = _parsed(a, ctx, steps)
    if problem:
        return Verdict(False, 0.0, problem)
    errors = schema_errors(schema, data)
    if not errors:
        whose = "the schema" if own is not None else "the prompt's output_schema"
        return Verdict(True, 1.0, f"matches {whose}")
    return Verdict(False, 0.0, "schema: " + describe_errors(errors))


def json_candidates(text: str) -> Iterator[Any]:
    """Every JSON object or array in `text`, left to right: at each `{` or `[` not inside one
    already found, the longest JSON value that starts there (so fences and prose around it, and
    several values, are fine). Gives up after MAX_JSON_MISSES starts that do not parse, so an
    output of thousands of stray brackets stays cheap."""
    decoder = json.JSONDecoder()
    pos = 0
    misses = 0
    while misses < MAX_JSON_MISSES:
        starts = [i for i in (text.find("{", pos), text.find("[", pos)) if i >= 0]
        if not starts:
            return
        start = min(starts)
        try:
            value, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            misses += 1
            pos = start + 1
            continue
        yield value
        pos = end


def contains_json(a: Assertion, ctx: Context) -> Verdict:
    schema: dict[str, Any] | None = a.compiled
    first_errors: list[Any] = []
    found = 0
    for value in json_candidates(ctx.output):
        found += 1
        kind = "an object" if isinstance(value, dict) else "an array"
        if schema is None:
            shown = quote(json.dumps(value, ensure_ascii=False), 60)
            return Verdict(True, 1.0, f"found JSON ({kind}): {shown}")
        errors = schema_errors(schema, value)
        if not errors:
            return Verdict(True, 1.0, f"found JSON ({kind}) that matches the schema")
        first_errors = first_errors or errors
    if not found:
        return Verdict(False, 0.0, "no JSON object or array in the output")
    values = "1 JSON value" if found == 1 else f"{found} JSON values"
    return Verdict(False, 0.0, f"{values} found, none matches the schema: "
                   + describe_errors(first_errors))  # fmt: skip

"""The assertion registry is the one list of assertion types: the README's table documents
exactly those types, and the prompt schema accepts every one of them in inline `tests:`."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema

from promptlab.assertions import COMMON_KEYS, TYPES
from promptlab.scaffold import schema_text
from tests.conftest import REPO


def readme_types() -> list[str]:
    """Type names in the first column of the table under `### Assertions` in the `promptlab test`
    section (a cell may name several: "`starts-with`, `ends-with`")."""
    text = (REPO / "README.md").read_text("utf-8")
    section = text.split("\n## Testing prompts: `promptlab test`", 1)[1].split("\n## ", 1)[0]
    table = section.split("\n### Assertions", 1)[1].split("\n### ", 1)[0]
    names: list[str] = []
    for line in table.splitlines():
        if line.startswith("| `"):
            names += re.findall(r"`([^`]+)`", line.split("|")[1])
    return names


def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(schema_text())
    return data


def resolve(root: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = root["definitions"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def named_in(root: dict[str, Any], node: Any, seen: set[int] | None = None) -> set[str]:
    """Every string a schema subtree names: property names, `enum` and `const` values."""
    seen = set() if seen is None else seen
    node = resolve(root, node)
    if id(node) in seen:
        return set()
    seen.add(id(node))
    names: set[str] = set()
    if isinstance(node, dict):
        names |= set(node.get("properties", {}))
        names |= {v for v in node.get("enum", []) if isinstance(v, str)}
        if isinstance(node.get("const"), str):
            names.add(node["const"])
        for key, value in node.items():
            if key not in ("description", "default", "examples", "enum", "const"):
                names |= named_in(root, value, seen)
    elif isinstance(node, list):
        for value in node:
            names |= named_in(root, value, seen)
    return names


def schema_assertion_types(root: dict[str, Any]) -> set[str] | None:
    """The assertion types the schema names for `tests[].assert[]`, or None when it leaves the
    entries open (any object)."""
    tests = resolve(root, root["properties"]["tests"])
    case = resolve(root, tests.get("items", {}))
    entry = case.get("properties", {}).get("assert") if isinstance(case, dict) else None
    if entry is None:
        return None
    other_keys = set(COMMON_KEYS) | {k for check in TYPES.values() for k in check.keys}
    return {n.removeprefix("not-") for n in named_in(root, entry)} - other_keys


def test_readme_table_documents_every_registered_assertion_type() -> None:
    documented = readme_types()
    assert [t for t in TYPES if t not in documented] == []


def test_every_assertion_type_in_the_readme_is_registered_once() -> None:
    documented = readme_types()
    assert [t for t in documented if t not in TYPES] == []
    assert len(documented) == len(set(documented))


def test_prompt_schema_accepts_every_registered_type_in_inline_tests() -> None:
    asserts: list[dict[str, Any]] = []
    for name in TYPES:
        asserts += [{"type": name, "value": "x"}, {name: "x"}, {f"not-{name}": "x", "weight": 0}]
    prompt = {
        "version": "1.0.0",
        "input": "{{ text }}",
        "variables": {"text": {"type": "string"}},
        "tests": [{"name": "every-type", "vars": {"text": "x"}, "assert": asserts}],
    }
    errors = [e.message for e in jsonschema.Draft7Validator(schema()).iter_errors(prompt)]
    assert errors == []


def test_assertion_types_the_prompt_schema_names_are_the_registered_ones() -> None:
    named = schema_assertion_types(schema())
    assert named is None or sorted(named) == sorted(TYPES)

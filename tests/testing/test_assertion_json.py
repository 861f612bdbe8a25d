"""JSON assertions beyond the basics: `format` is checked, json-schema falls back to the prompt's
output_schema, schemas from files, and contains-json finds JSON inside prose."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptlab.assertions import Context, Verdict, evaluate
from tests.conftest import write
from tests.testing.test_assertion_types import parse, result, run


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("date", "2026-12-01", "not a date"),
        ("date", "2026-02-28", "2026-02-30"),
        ("date-time", "2026-12-01T09:30:00Z", "2026-12-01 at 9"),
        ("date-time", "2026-12-01T09:30:00+01:00", "2026-12-01"),
        ("time", "09:30:00Z", "half past nine"),
        ("email", "ana@example.com", "ana at example"),
        ("ipv4", "192.0.2.1", "300.1.1.1"),
        ("uuid", "6f1c2c1e-0c5a-4a8e-9d1e-2b1f3a4c5d6e", "not-a-uuid"),
        ("uri", "https://example.com/a?b=c", "not a uri"),
    ],
)
def test_json_schema_checks_format(fmt: str, good: str, bad: str) -> None:
    spec = f"{{type: json-schema, path: $.v, value: {{type: string, format: {fmt}}}}}"
    assert run(spec, json.dumps({"v": good})).passed, (fmt, good)
    v = run(spec, json.dumps({"v": bad}))
    assert not v.passed, (fmt, bad)
    assert f"is not a '{fmt}'" in v.reason


def test_formats_without_a_checker_are_accepted_unchecked() -> None:
    """The README lists the checked formats; hostname is not one of them."""
    assert run("{json-schema: {format: hostname}}", '"not a host name!"').passed


def test_json_schema_without_a_schema_uses_the_prompts_output_schema() -> None:
    a, problems = parse("json-schema")
    assert a is not None, problems
    schema = {"type": "object", "required": ["total"]}

    def check(output: str) -> Verdict:
        r = result(output)
        return evaluate(a, Context(output, r, {}, "case", Path.cwd(), output_schema=schema))

    assert check('{"total": 3}').passed
    assert check('{"total": 3}').reason == "matches the prompt's output_schema"
    assert not check('{"sum": 3}').passed


def test_json_schema_with_no_schema_anywhere_fails_either_way() -> None:
    v = run("json-schema", '{"a": 1}')
    assert not v.passed
    assert v.reason == "no schema: give the assertion a schema or the prompt an output_schema"
    assert not run("not-json-schema", '{"a": 1}').passed  # undecidable: never negated


def test_json_schema_reads_a_schema_file_relative_to_the_suite(tmp_path: Path) -> None:
    write(tmp_path / "schemas" / "order.json", '{"type": "object", "required": ["id"]}')
    write(tmp_path / "schemas" / "order.yaml", "type: object\nrequired: [id]\n")
    for ref in ("schemas/order.json", "schemas/order.yaml"):
        assert run(f"{{json-schema: {ref}}}", '{"id": 1}', tmp_path).passed
        assert not run(f"{{json-schema: {ref}}}", '{"no": 1}', tmp_path).passed


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{json-schema: schemas/missing.json}", "schema file 'schemas/missing.json' not found"),
        ("{json-schema: order.txt}", "must end in .json, .yaml or .yml"),
        ("{json-schema: bad.json}", "bad.json:1: not JSON"),
        ("{contains-json: {type: objekt}}", "invalid JSON schema"),
        ("{type: contains-json, schema: 5}", "needs a JSON Schema mapping"),
    ],
)
def test_bad_schemas_are_load_errors(tmp_path: Path, spec: str, message: str) -> None:
    write(tmp_path / "bad.json", "{type: object}")
    a, problems = parse(spec, tmp_path)
    assert a is None
    assert message in problems[0].message


PROSE = 'Here you go:\n```json\n{"name": "Ana", "age": 31}\n```\nAnything else?'


def test_contains_json_finds_an_object_or_array_inside_prose() -> None:
    assert run("contains-json", PROSE).passed
    assert run("contains-json", "The ids are [1, 2, 3].").passed
    v = run("contains-json", "No JSON here {not: json} [or, this")
    assert not v.passed and v.reason == "no JSON object or array in the output"
    assert not run("contains-json", 'Just a string: "x" and 42').passed


def test_contains_json_with_a_schema_passes_when_any_value_found_matches() -> None:
    spec = "{contains-json: {type: object, required: [age]}}"
    assert run(spec, PROSE).passed
    two = 'First {"name": "Bo"} then {"name": "Ana", "age": 31}.'
    assert run(spec, two).passed
    v = run(spec, 'Only {"name": "Bo"} and [1].')
    assert not v.passed
    assert v.reason.startswith("2 JSON values found, none matches the schema: $: ")


def test_contains_json_schema_checks_format_too() -> None:
    spec = "{type: contains-json, schema: {properties: {d: {format: date}}}}"
    assert run(spec, 'Due: {"d": "2026-12-01"}').passed
    assert not run(spec, 'Due: {"d": "soon"}').passed


def test_not_contains_json_passes_on_plain_text() -> None:
    assert run("not-contains-json", "plain words").passed
    assert not run("not-contains-json", PROSE).passed

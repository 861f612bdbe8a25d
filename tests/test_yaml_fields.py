"""The typed field reader: values, defaults, and problems at file:line with did-you-mean hints."""

from __future__ import annotations

from typing import Any

import pytest

from promptlab.errors import Problem
from promptlab.fields import (
    BOOL,
    LIST,
    MAPPING,
    NON_BLANK,
    STRING,
    Fields,
    Kind,
    did_you_mean,
    integer,
    number,
    one_of,
    strings,
    suggest,
)
from promptlab.yamlfile import parse_yaml


def read(text: str) -> tuple[Fields, list[Problem]]:
    problems: list[Problem] = []
    return Fields(parse_yaml(text, "f.yaml"), problems), problems


def test_unknown_key_suggests_the_closest_name() -> None:
    f, problems = read("name: a\nverison: 1\n")
    f.unknown(("name", "version"))
    assert problems == [Problem("f.yaml", "unknown key 'verison'", 2, "did you mean 'version'?")]


def test_unknown_key_without_a_close_name_lists_the_allowed_keys() -> None:
    f, problems = read("zzz: 1\n")
    f.unknown(("name", "version"))
    assert problems[0].hint == "allowed keys: name, version"


def test_unknown_keys_are_reported_in_file_order_with_what_and_where() -> None:
    f, problems = read("b: 1\nok: 2\na: 3\n")
    f.unknown(("ok",), what="setting", where="in defaults")
    assert [(p.message, p.line) for p in problems] == [
        ("unknown setting 'b' in defaults", 1),
        ("unknown setting 'a' in defaults", 3),
    ]


def test_known_reports_one_key_and_says_whether_it_is_allowed() -> None:
    f, problems = read("ok: 1\n")
    assert f.known("ok", ("ok",)) and not problems
    assert not f.known("okk", ("ok",)) and problems[0].hint == "did you mean 'ok'?"


def test_a_good_value_is_returned_as_is() -> None:
    f, problems = read("n: 3\nt: 0.5\nflag: true\nname: x\n")
    assert f.get("n", integer(1)) == 3
    assert f.get("t", number(0, 1)) == 0.5
    assert f.get("flag", BOOL) is True
    assert f.get("name", NON_BLANK) == "x"
    assert problems == []


def test_a_bad_value_is_a_problem_at_its_line_and_returns_the_default() -> None:
    f, problems = read("a: 1\nrepeat: 0\n")
    assert f.get("repeat", integer(1), 5) == 5
    assert problems == [Problem("f.yaml", "'repeat' must be a positive integer, got 0", 2)]


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        (STRING, "3", "'k' must be a string"),
        (NON_BLANK, "'  '", "'k' must be a non-empty string"),
        (BOOL, "yes-ish", "'k' must be true or false"),
        (MAPPING, "[1]", "'k' must be a mapping"),
        (LIST, "x", "'k' must be a list"),
        (strings(), "[a, 1]", "'k' must be a list of strings"),
        (integer(1), "true", "'k' must be a positive integer, got True"),
        (integer(0), "-1", "'k' must be an integer ≥ 0, got -1"),
        (number(0, 1), "1.5", "'k' must be a number from 0 to 1, got 1.5"),
        (number(0), "-2", "'k' must be a number ≥ 0, got -2"),
        (number(positive=True), "0", "'k' must be a positive number, got 0"),
        (number(0, 1), "false", "'k' must be a number from 0 to 1, got False"),
        (one_of(("xml", "markdown")), "html", "'k' must be one of xml, markdown, got 'html'"),
    ],
)
def test_each_kind_names_what_the_value_must_be(kind: Kind[Any], value: str, message: str) -> None:
    f, problems = read(f"k: {value}\n")
    assert f.get("k", kind) is None
    assert [p.message for p in problems] == [message]


def test_a_custom_message_fills_in_key_and_value_and_keeps_the_hint() -> None:
    f, problems = read("temperature: hot\n")
    f.get("temperature", number(0, 1), message="'{key}' between 0 and 1, got {value}", hint="h")
    assert problems == [Problem("f.yaml", "'temperature' between 0 and 1, got 'hot'", 1, "h")]


def test_braces_in_a_key_are_not_filled_in_again() -> None:
    f, problems = read("'{value}': 3\n")
    f.get("{value}", STRING, message="'{key}' is {value}")
    assert problems[0].message == "'{value}' is 3"


def test_null_counts_as_unset_by_default() -> None:
    f, problems = read("k: null\n")
    assert f.get("k", STRING, "dflt") == "dflt"
    assert problems == []


def test_unset_missing_checks_a_null_value() -> None:
    f, problems = read("k: null\n")
    assert f.get("k", STRING, "dflt", unset="missing") == "dflt"
    assert [p.message for p in problems] == ["'k' must be a string"]


def test_unset_empty_takes_the_default_for_any_empty_value() -> None:
    f, problems = read("a: []\nb: ''\nc: 0\nd: x\n")
    for key in ("a", "b", "c", "missing"):
        assert f.get(key, MAPPING, {}, unset="empty") == {}
    assert problems == []
    f.get("d", MAPPING, {}, unset="empty")
    assert [p.line for p in problems] == [4]


def test_a_required_key_that_is_missing_is_a_problem_at_the_mapping() -> None:
    f, problems = read("outer:\n  other: 1\n")
    inner = f.mapping("outer")
    assert inner.get("tests", LIST, required=True, message="needs 'tests'") is None
    assert problems == [Problem("f.yaml", "needs 'tests'", 1)]


def test_a_single_string_counts_as_a_list_of_one_when_allowed() -> None:
    f, problems = read("models: nova\nempty: ['']\n")
    assert f.get("models", strings(single=True)) == ["nova"]
    assert f.get("empty", strings()) == [""]
    assert f.get("empty", strings(empty=False)) is None
    assert len(problems) == 1


def test_a_nested_mapping_reports_problems_at_its_own_lines() -> None:
    f, problems = read("inference:\n  temperature: 2\n  overrides:\n    m: {max_tokens: 0}\n")
    inference = f.mapping("inference")
    inference.get("temperature", number(0, 1))
    overrides = inference.mapping("overrides")
    overrides.mapping("m").get("max_tokens", integer(1))
    assert [p.line for p in problems] == [2, 4]


def test_a_value_that_is_not_a_mapping_reads_as_an_empty_one() -> None:
    f, problems = read("inference: 3\n")
    inference = f.mapping("inference", hint="keys: temperature")
    assert list(inference) == [] and inference.get("temperature", number(0, 1)) is None
    assert problems == [Problem("f.yaml", "'inference' must be a mapping", 1, "keys: temperature")]


def test_a_child_over_reshaped_data_keeps_the_document_lines() -> None:
    f, problems = read("variables:\n  x: integer\n")
    decls = f.mapping("variables")
    spec = decls.child("x", {"type": decls.data["x"], "typo": 1})
    spec.unknown(("type",))
    assert [(p.message, p.line) for p in problems] == [("unknown key 'typo'", 2)]


def test_did_you_mean_honours_the_cutoff() -> None:
    assert did_you_mean("contians", ["contains", "regex"]) == "did you mean 'contains'?"
    assert did_you_mean("xyz", ["contains"]) is None
    assert suggest("xyz", ("a", "b")) == "allowed keys: a, b"


def test_nan_is_not_a_number_in_any_range() -> None:
    f, problems = read("w: .nan\nt: .nan\ns: .nan\n")
    assert f.get("w", number(0)) is None
    assert f.get("t", number(0, 1)) is None
    assert f.get("s", number(positive=True)) is None
    assert len(problems) == 3

"""XML assertions: is-xml, contains-xml, element paths, and entity expansion refused."""

from __future__ import annotations

import pytest

from tests.testing.test_assertion_types import parse, run

ANSWER = '<answer lang="en"><reason>It fits.</reason><score>4</score></answer>'


def test_is_xml_needs_the_whole_output_to_be_one_document() -> None:
    assert run("is-xml", ANSWER).passed
    assert run("is-xml", f"```xml\n{ANSWER}\n```").passed
    assert run("is-xml", f'<?xml version="1.0" encoding="UTF-8"?>\n{ANSWER}').passed
    v = run("is-xml", f"Sure! {ANSWER}")
    assert not v.passed and v.reason == "not well-formed XML: invalid token: line 1, column 4"
    assert "mismatched tag" in run("is-xml", "<a><b></a></b>").reason
    assert run("is-xml", "  ").reason == "empty output"


def test_is_xml_elements_are_paths_that_must_exist() -> None:
    assert run("{type: is-xml, elements: [answer/reason, score]}", ANSWER).passed
    v = run("{type: is-xml, elements: [reason, answer/verdict, /reason]}", ANSWER)
    assert not v.passed
    assert v.reason == "XML <answer> has no answer/verdict, /reason"


def test_element_paths_ignore_namespaces() -> None:
    doc = '<r:answer xmlns:r="urn:x"><r:reason>ok</r:reason></r:answer>'
    assert run("{type: is-xml, elements: [answer/reason]}", doc).passed
    assert run("{type: is-xml, elements: ['r:answer/r:reason']}", doc).passed


def test_contains_xml_finds_an_element_inside_prose() -> None:
    out = f"Here is my answer:\n{ANSWER}\nHope that helps."
    v = run("contains-xml", out)
    assert v.passed and v.reason.startswith("found XML <answer>: ")
    assert run("contains-xml", "A line break: <br/> here.").passed
    assert not run("contains-xml", "if a < b and c > d then <oops").passed
    assert not run("contains-xml", "<a><b></a>").passed


def test_contains_xml_with_elements_passes_when_any_element_found_has_them() -> None:
    out = f"<note>first</note> then {ANSWER}"
    assert run("{contains-xml: [reason]}", out).passed
    v = run("{contains-xml: [verdict]}", out)
    assert not v.passed and v.reason == "found XML <note> but no verdict"


def test_nested_elements_of_the_same_name_are_found_whole() -> None:
    assert run("{contains-xml: [item/item]}", "List: <item><item>x</item></item>.").passed


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol3;</lolz>"""


@pytest.mark.parametrize("kind", ["is-xml", "contains-xml"])
def test_entity_declarations_are_refused_not_expanded(kind: str) -> None:
    v = run(kind, BILLION_LAUGHS)
    assert not v.passed
    if kind == "is-xml":
        assert v.reason.startswith("refused XML with entity declarations")


def test_external_entities_are_refused() -> None:
    doc = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    assert run("is-xml", doc).reason.startswith("refused XML")


def test_a_doctype_without_entities_is_fine() -> None:
    assert run("is-xml", "<!DOCTYPE note><note>hi</note>").passed


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{type: is-xml, elements: 'a b'}", "invalid element path"),
        ("{type: is-xml, elements: []}", "list of element paths"),
        ("{type: contains-xml, value: [a], elements: [b]}", "not both"),
    ],
)
def test_bad_element_paths_are_load_errors(spec: str, message: str) -> None:
    a, problems = parse(spec)
    assert a is None
    assert message in problems[0].message

"""Tool-call assertions: tool-called (one, none, an order, a count), tool-args, valid-tool-call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from promptlab.assertions import Context, Verdict, evaluate
from tests.testing.test_assertion_types import parse, result

WEATHER = {"type": "object", "properties": {"city": {"type": "string"},
           "unit": {"enum": ["C", "F"]}, "day": {"type": "string", "format": "date"}},
           "required": ["city"], "additionalProperties": False}  # fmt: skip
TIME = {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]}
TOOLS = {"toolConfig": {"tools": [
    {"toolSpec": {"name": "get_weather", "description": "Weather",
                  "inputSchema": {"json": WEATHER}}},
    {"toolSpec": {"name": "get_time", "description": "Time", "inputSchema": {"json": TIME}}},
]}}  # fmt: skip


def use(name: str, tool_input: Any, tid: str = "t") -> dict[str, Any]:
    return {"toolUse": {"toolUseId": tid, "name": name, "input": tool_input}}


def exchange(*calls: tuple[str, Any], request: dict[str, Any] | None = None) -> dict[str, Any]:
    """Result fields for a model that made `calls`, one turn each (results scripted back), the
    last one in the final answer."""
    turns: list[dict[str, Any]] = []
    for i, (name, tool_input) in enumerate(calls[:-1]):
        turns.append({"role": "assistant", "content": [use(name, tool_input, f"t{i}")]})
        turns.append({"role": "user", "content": [
            {"toolResult": {"toolUseId": f"t{i}", "content": [{"text": "ok"}]}}]})  # fmt: skip
    content = [use(*calls[-1], "last")] if calls else [{"text": "It is sunny."}]
    return {"turns": turns, "content": content, "request": TOOLS if request is None else request}


def check(spec: str, *calls: tuple[str, Any], request: dict[str, Any] | None = None) -> Verdict:
    a, problems = parse(spec)
    assert a is not None, problems
    r = result("", **exchange(*calls, request=request))
    return evaluate(a, Context(r.output, r, {}, "case", Path.cwd()))


PARIS = ("get_weather", {"city": "Paris"})
ZONE = ("get_time", {"zone": "CET"})


def test_tool_called_names_what_was_called_instead() -> None:
    assert check("{tool-called: get_weather}", PARIS).passed
    v = check("{tool-called: get_weather}", ZONE)
    assert not v.passed
    assert v.reason == "called get_time, not get_weather"
    nothing = check("{tool-called: get_weather}")
    assert nothing.reason == "no tool was called, not get_weather"


def test_tool_called_for_a_tool_the_prompt_does_not_declare_says_so() -> None:
    v = check("{tool-called: get_wether}", PARIS)
    assert not v.passed
    assert "get_wether is not one of the prompt's tools: get_weather, get_time" in v.reason


def test_tool_called_without_a_value_means_some_tool_and_its_negation_means_none() -> None:
    assert check("tool-called", ZONE).passed
    assert not check("tool-called").passed
    none = check("not-tool-called")
    assert none.passed and none.reason == "no tool was called"
    some = check("not-tool-called", ZONE, PARIS)
    assert not some.passed and some.reason == "called get_time, get_weather"


def test_not_tool_called_with_a_name_reads_as_what_was_called_instead() -> None:
    v = check("{not-tool-called: get_weather}", ZONE)
    assert v.passed and v.reason == "called get_time, not get_weather"
    assert not check("{not-tool-called: get_weather}", PARIS).passed


def test_tool_called_list_is_an_order_others_may_come_between() -> None:
    assert check("{tool-called: [get_time, get_weather]}", ZONE, PARIS).passed
    assert check("{tool-called: [get_time, get_weather]}", ZONE, ("x", {}), PARIS).passed
    v = check("{tool-called: [get_time, get_weather]}", PARIS, ZONE)
    assert not v.passed
    assert v.reason == ("called get_weather, get_time, not get_time → get_weather in order "
                        "(no get_weather after get_time)")  # fmt: skip


def test_tool_called_times_is_an_exact_count_across_turns() -> None:
    twice = (PARIS, ("get_weather", {"city": "Lyon"}))
    assert check("{tool-called: get_weather, times: 2}", *twice).passed
    v = check("{tool-called: get_weather, times: 1}", *twice)
    assert not v.passed and v.reason == "called get_weather 2 times, not 1"
    assert check("{tool-called: get_weather, times: 0}", ZONE).passed
    assert check("tool-called", *twice).reason == "called get_weather ×2"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{tool-called: [get_time, get_weather], times: 2}", "give a single name"),
        ("{tool-called: get_time, times: -1}", "whole number ≥ 0"),
        ("{tool-called: [get_time, 3]}", "a tool name or a list of names"),
        ("{type: tool-args, tool: get_weather}", "needs something to check"),
        ("{type: tool-args, value: Paris}", "compared at a 'path'"),
        ("{type: tool-args, equals: Paris}", "'equals' must be a mapping"),
        ("{type: tool-args, path: '$.a[x]', value: 1}", "invalid JSON path"),
        ("{type: tool-args, schema: {type: objekt}}", "invalid JSON schema"),
        ("{valid-tool-call: x}", "takes no value"),
    ],
)
def test_bad_tool_assertions_are_load_errors(spec: str, message: str) -> None:
    a, problems = parse(spec)
    assert a is None
    assert message in problems[0].message


def test_tool_args_equals_the_whole_input_of_the_first_call() -> None:
    spec = "{type: tool-args, equals: {city: Paris}}"
    assert check(spec, PARIS, ZONE).passed
    v = check(spec, ZONE, PARIS)  # the first call is get_time
    assert not v.passed
    assert v.reason == 'get_time: input {"zone": "CET"} is not {"city": "Paris"}'


def test_tool_args_json_equality_tells_true_from_1() -> None:
    assert not check("{type: tool-args, equals: {n: 1}}", ("f", {"n": True})).passed
    assert check("{type: tool-args, equals: {n: 1}}", ("f", {"n": 1.0})).passed


def test_tool_args_path_and_value_of_a_named_tool_any_of_its_calls() -> None:
    spec = "{type: tool-args, tool: get_weather, path: $.city, value: Lyon}"
    assert check(spec, ZONE, PARIS, ("get_weather", {"city": "Lyon"})).passed
    v = check(spec, PARIS)
    assert not v.passed and v.reason == 'get_weather: input $.city is "Paris", not "Lyon"'
    missing = check("{type: tool-args, path: $.unit, value: C}", PARIS)
    assert "input has no $.unit" in missing.reason


def test_tool_args_shorthand_takes_the_keys_as_its_value() -> None:
    spec = "{tool-args: {tool: get_weather, path: $.city, value: Paris}}"
    assert check(spec, PARIS).passed
    assert not check(spec, ("get_weather", {"city": "Rome"})).passed


def test_tool_args_schema_checks_the_input_or_the_value_at_path() -> None:
    assert check("{type: tool-args, schema: {required: [city]}}", PARIS).passed
    v = check("{type: tool-args, path: $.day, schema: {format: date}}",
              ("get_weather", {"city": "Paris", "day": "next friday"}))  # fmt: skip
    assert not v.passed
    assert v.reason.startswith("get_weather: input $.day: ")
    assert "is not a 'date'" in v.reason


def test_tool_args_fails_clearly_when_the_tool_was_never_called() -> None:
    v = check("{type: tool-args, tool: get_weather, equals: {city: Paris}}", ZONE)
    assert not v.passed and v.reason == "get_weather was not called (called get_time)"
    assert check("{type: tool-args, equals: {}}").reason == "no tool was called"


def test_valid_tool_call_checks_every_call_against_its_own_input_schema() -> None:
    assert check("valid-tool-call", PARIS, ZONE).passed
    bad = check("valid-tool-call", PARIS, ("get_time", {"tz": "CET"}))
    assert not bad.passed
    assert bad.reason == "call 2 (get_time): input $: \"'zone' is a required property\""
    extra = check("valid-tool-call", ("get_weather", {"city": "Paris", "unit": "K"}))
    assert not extra.passed and extra.reason.startswith("get_weather: input $.unit: ")


def test_valid_tool_call_checks_formats_of_the_tool_schema() -> None:
    good = ("get_weather", {"city": "Paris", "day": "2026-12-01"})
    assert check("valid-tool-call", good).passed
    assert not check("valid-tool-call", ("get_weather", {"city": "P", "day": "soon"})).passed


def test_valid_tool_call_fails_a_call_to_an_undeclared_tool() -> None:
    v = check("valid-tool-call", ("delete_all", {}))
    assert not v.passed
    assert v.reason == "delete_all: not a declared tool (declared: get_weather, get_time)"
    none = check("valid-tool-call", PARIS, request={})
    assert not none.passed and "(declared: none)" in none.reason


def test_valid_tool_call_with_no_calls_has_nothing_to_check() -> None:
    assert check("valid-tool-call").passed

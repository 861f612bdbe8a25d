"""Tool-call assertions: tool-called, tool-args, valid-tool-call.

They read `Result.tool_calls()` (every toolUse of the exchange, in order, across turns) and the
tools the prompt declared in the recorded request (`toolConfig.tools[].toolSpec`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from itertools import groupby
from pathlib import Path
from typing import Any

from promptlab.assertions.base import Assertion, BadAssertion, Context, Verdict
from promptlab.assertions.structured import (
    PathStep,
    check_schema,
    describe_errors,
    pick,
    prepare_path,
    resolve_schema,
    schema_errors,
)

TOOL_ARGS_KEYS = ("tool", "equals", "path", "value", "schema")
SHOWN = 6  # calls named in a reason


def _names(calls: list[dict[str, Any]]) -> list[str]:
    return [str(c.get("name", "")) for c in calls]


def _called(calls: list[dict[str, Any]]) -> str:
    """`called get_time, search ×2` (repeats in a row counted) or `no tool was called`."""
    if not calls:
        return "no tool was called"
    runs = [(name, len(list(group))) for name, group in groupby(_names(calls))]
    shown = [name if n == 1 else f"{name} ×{n}" for name, n in runs[:SHOWN]]
    more = f", … (+{len(runs) - SHOWN})" if len(runs) > SHOWN else ""
    return "called " + ", ".join(shown) + more


def declared_tools(ctx: Context) -> dict[str, Mapping[str, Any]]:
    """Tool name → its toolSpec, from the recorded request."""
    request = ctx.result.request if isinstance(ctx.result.request, Mapping) else {}
    config = request.get("toolConfig") or {}
    specs: dict[str, Mapping[str, Any]] = {}
    for tool in config.get("tools") or []:
        spec = tool.get("toolSpec") if isinstance(tool, Mapping) else None
        if isinstance(spec, Mapping) and spec.get("name"):
            specs[str(spec["name"])] = spec
    return specs


def _undeclared(name: str, ctx: Context) -> str:
    tools = declared_tools(ctx)
    if not tools or name in tools:
        return ""
    return f" ({name} is not one of the prompt's tools: {', '.join(tools)})"


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, 1 is 1.0, mappings and lists compared deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _json(value: Any, limit: int = 60) -> str:
    """Compact JSON on one line (json.dumps escapes newlines), cut at `limit` characters."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- tool-called


def prepare_tool_called(a: Assertion, root: Path) -> tuple[list[str], int | None]:
    """value: nothing (some tool), a name, or names in the order they must be called."""
    v = a.value
    names = [] if v is None else [v] if isinstance(v, str) else v
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise BadAssertion(f"'{a.full_type}' takes a tool name or a list of names, got {v!r}",
                           "e.g. tool-called: get_weather, or [search, book] for an order",
                           "value")  # fmt: skip
    times = a.options.get("times")
    if times is not None:
        if isinstance(times, bool) or not isinstance(times, int) or times < 0:
            raise BadAssertion(f"'times' must be a whole number ≥ 0, got {times!r}", key="times")
        if len(names) != 1:
            raise BadAssertion("'times' counts the calls of one tool: give a single name",
                               "e.g. {tool-called: get_weather, times: 2}", "times")  # fmt: skip
    return list(names), times


def _in_order(called: list[str], wanted: list[str]) -> int:
    """How many of `wanted` occur in `called` in that order (a subsequence)."""
    got = 0
    for name in called:
        if got < len(wanted) and name == wanted[got]:
            got += 1
    return got


def tool_called(a: Assertion, ctx: Context) -> Verdict:
    wanted, times = a.compiled
    calls = ctx.result.tool_calls()
    called = _called(calls)
    names = _names(calls)
    if not wanted:
        return Verdict(bool(calls), 1.0 if calls else 0.0, called)
    if len(wanted) == 1:
        name = wanted[0]
        n = names.count(name)
        if times is not None:
            ok = n == times
            counted = f"called {name} {n} time{'s' if n != 1 else ''}"
            reason = counted if ok else f"{counted}, not {times}"
            if n == 0 and not ok:
                reason = f"{called}, not {name}{_undeclared(name, ctx)}"
            return Verdict(ok, 1.0 if ok else 0.0, reason)
        if n:
            return Verdict(True, 1.0, called)
        return Verdict(False, 0.0, f"{called}, not {name}{_undeclared(name, ctx)}")
    matched = _in_order(names, wanted)
    order = " → ".join(wanted)
    if matched == len(wanted):
        return Verdict(True, 1.0, f"{called} ({order} in order)")
    missing = wanted[matched]
    after = f" after {wanted[matched - 1]}" if matched else ""
    return Verdict(False, matched / len(wanted), f"{called}, not {order} in order "
                   f"(no {missing}{after}){_undeclared(missing, ctx)}")  # fmt: skip


# ---------------------------------------------------------------- tool-args


def prepare_tool_args(a: Assertion, root: Path) -> dict[str, Any]:
    """tool, equals, path (+ value), schema. The shorthand `tool-args: {tool: x, equals: ...}`
    gives the keys as its value."""
    opts: dict[str, Any] = dict(a.options)
    value = a.value
    if isinstance(value, dict) and "path" not in opts and set(value) <= set(TOOL_ARGS_KEYS):
        opts.update(value)
        value = opts.pop("value", None)
    tool = opts.get("tool")
    if tool is not None and (not isinstance(tool, str) or not tool):
        raise BadAssertion(f"'tool' must be a tool name, got {tool!r}", key="tool")
    equals = opts.get("equals")
    if "equals" in opts and not isinstance(equals, dict):
        raise BadAssertion(f"'equals' must be a mapping (the whole input), got {equals!r}",
                           "e.g. equals: {city: Paris}; use path and value for one field",
                           "equals")  # fmt: skip
    steps: list[PathStep] | None = None
    if opts.get("path") is not None:
        steps = prepare_path(Assertion(type=a.type, options={"path": opts["path"]}))
    if value is not None and steps is None:
        raise BadAssertion("'value' of tool-args is compared at a 'path'",
                           "add path: $.city, or use equals: for the whole input",
                           "value")  # fmt: skip
    schema = opts.get("schema")
    if schema is not None:
        schema = resolve_schema(schema, root, "schema", "'schema' of tool-args ", a.project)
    if equals is None and steps is None and schema is None:
        raise BadAssertion("'tool-args' needs something to check: equals, path (and value) "
                           "or schema", "e.g. {type: tool-args, tool: get_weather, "
                           "path: $.city, value: Paris}", None)  # fmt: skip
    return {"tool": tool, "equals": equals, "steps": steps, "path": opts.get("path"),
            "value": value, "has_value": value is not None, "schema": schema}  # fmt: skip


def _check_input(spec: dict[str, Any], data: Any) -> str | None:
    """Why this input fails the assertion, or None when it passes."""
    if spec["equals"] is not None and not _same(data, spec["equals"]):
        return f"input {_json(data)} is not {_json(spec['equals'])}"
    target = data
    where = "$"
    if spec["steps"] is not None:
        where = str(spec["path"])
        try:
            target = pick(data, spec["steps"])
        except KeyError as exc:
            return f"input has no {where} (missing {exc.args[0]}): {_json(data)}"
        if spec["has_value"] and not _same(target, spec["value"]):
            return f"input {where} is {_json(target, 40)}, not {_json(spec['value'], 40)}"
    if spec["schema"] is not None:
        errors = schema_errors(spec["schema"], target)
        if errors:
            return "input " + describe_errors(errors, where)
    return None


def tool_args(a: Assertion, ctx: Context) -> Verdict:
    spec: dict[str, Any] = a.compiled
    calls = ctx.result.tool_calls()
    name = spec["tool"]
    if name is None:
        if not calls:
            return Verdict(False, 0.0, "no tool was called")
        chosen = calls[:1]
    else:
        chosen = [c for c in calls if c.get("name") == name]
        if not chosen:
            return Verdict(False, 0.0, f"{name} was not called ({_called(calls)})"
                           f"{_undeclared(name, ctx)}")  # fmt: skip
    problems = []
    for i, call in enumerate(chosen):
        problem = _check_input(spec, call.get("input"))
        label = call.get("name") if len(chosen) == 1 else f"{call.get('name')} call {i + 1}"
        if problem is None:
            return Verdict(True, 1.0, f"{label}: input matches")
        problems.append(f"{label}: {problem}")
    more = f" (+{len(problems) - 1} more call(s), none matched)" if len(problems) > 1 else ""
    return Verdict(False, 0.0, problems[0] + more)


# ---------------------------------------------------------------- valid-tool-call


def prepare_valid_tool_call(a: Assertion, root: Path) -> None:
    if a.value is not None:
        raise BadAssertion("'valid-tool-call' takes no value: it checks every call against its "
                           "tool's inputSchema", key="value")  # fmt: skip


def valid_tool_call(a: Assertion, ctx: Context) -> Verdict:
    calls = ctx.result.tool_calls()
    if not calls:
        return Verdict(True, 1.0, "no tool was called (nothing to check)")
    tools = declared_tools(ctx)
    for i, call in enumerate(calls, 1):
        name = str(call.get("name", ""))
        label = f"call {i} ({name})" if len(calls) > 1 else name
        spec = tools.get(name)
        if spec is None:
            known = ", ".join(tools) if tools else "none"
            return Verdict(False, 0.0, f"{label}: not a declared tool (declared: {known})")
        schema = (spec.get("inputSchema") or {}).get("json")
        if not isinstance(schema, Mapping):
            return Verdict(False, 0.0, f"{label}: the tool declares no inputSchema.json",
                           broken=True)  # fmt: skip
        try:
            check_schema(dict(schema))
        except BadAssertion as exc:
            return Verdict(False, 0.0, f"{name}'s inputSchema: {exc.message}", broken=True)
        errors = schema_errors(schema, call.get("input"))
        if errors:
            return Verdict(False, 0.0, f"{label}: input " + describe_errors(errors))
    if len(calls) == 1:
        return Verdict(True, 1.0, f"{calls[0].get('name')}: input matches its schema")
    return Verdict(True, 1.0, f"{len(calls)} calls: inputs match their tools' schemas")

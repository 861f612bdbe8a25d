"""The template sandbox with size limits: Jinja's sandbox refuses Python internals and bounds
`range()`, but `'a' * 10**9`, `[1] * 10**9`, `10 ** 10**7`, `'%0999999999d' % 1` or a string
doubled in a loop would still take all memory or hang. Each is refused as it is attempted
(a SecurityError, reported at the template's line), and what a template writes is counted as
it is written (`render_bounded`)."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from typing import Any

import jinja2
import jinja2.compiler
import jinja2.nodes
import jinja2.runtime
import jinja2.sandbox
from jinja2.exceptions import SecurityError

MAX_RENDERED_CHARS = 4_000_000  # one section or turn (about a million tokens)
MAX_SEQUENCE = 4_000_000  # characters or items in one value a template makes
MAX_INT_DIGITS = 4_300  # Python's own limit for turning an integer into text
MAX_LOOP_STEPS = 1_000_000  # `{% for %}` iterations in one render, nested loops counted in all
_MAX_INT_BITS = MAX_INT_DIGITS * 10 // 3  # log2(10) ≈ 3.32

# a width or precision in a %-format or str.format spec: '%0999d', '{:>999}', '{:.999f}'
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_SPEC = re.compile(r"\{[^{}]*:[^{}\d]*(\d+)?(?:[,_])?(?:\.(\d+))?[^{}]*\}")


_steps = threading.local()  # loop steps of the render under way in this thread


class TooLarge(SecurityError):
    """A template value or output over the sandbox's limits."""


def _refuse(what: str) -> TooLarge:
    return TooLarge(f"{what} (the limit is {MAX_SEQUENCE:,} characters or items)")


def _length(value: Any) -> int:
    return len(value) if isinstance(value, Sized) and not isinstance(value, Mapping) else 0


def _check_size(value: Any, what: str) -> Any:
    if isinstance(value, Sized) and len(value) > MAX_SEQUENCE:
        raise _refuse(f"{what} makes a value of {len(value):,} items")
    if isinstance(value, int) and not isinstance(value, bool) and \
            value.bit_length() > _MAX_INT_BITS:  # fmt: skip
        raise TooLarge(f"{what} makes an integer over {MAX_INT_DIGITS:,} digits")
    return value


def _check_format(text: str, what: str) -> None:
    """Widths and precisions in a format string, before it is applied."""
    for pattern in (_PERCENT_SPEC, _FORMAT_SPEC):
        for match in pattern.finditer(text):
            for number in match.groups():
                if number and number.isdigit() and int(number) > MAX_SEQUENCE:
                    raise _refuse(f"{what} pads to {int(number):,} characters")


def _check_args(args: Iterable[Any], what: str) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_SEQUENCE:
            raise _refuse(f"{what} is given {arg:,}")


def _multiply(left: Any, right: Any) -> Any:
    for seq, n in ((left, right), (right, left)):
        if isinstance(n, int) and _length(seq) and _length(seq) * n > MAX_SEQUENCE:
            raise _refuse(f"repeating {_length(seq):,} × {n:,}")
    if isinstance(left, int) and isinstance(right, int) and \
            left.bit_length() + right.bit_length() > _MAX_INT_BITS:  # fmt: skip
        raise TooLarge(f"a product over {MAX_INT_DIGITS:,} digits")
    return left * right


def _power(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int) and right > 0 and \
            right * max(left.bit_length() - 1, 0) > _MAX_INT_BITS:  # fmt: skip
        raise TooLarge(f"a power over {MAX_INT_DIGITS:,} digits")
    return left**right


def _modulo(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        _check_format(left, "a %-format")
        _check_args(right if isinstance(right, tuple) else (right,), "a %-format")
    return left % right


def _add(left: Any, right: Any) -> Any:
    if _length(left) + _length(right) > MAX_SEQUENCE:
        raise _refuse(f"joining {_length(left):,} and {_length(right):,} items")
    return left + right


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "*": _multiply, "**": _power, "%": _modulo, "+": _add,
}  # fmt: skip


_PASSED = (jinja2.runtime.Context, jinja2.nodes.EvalContext, jinja2.Environment)


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose numeric arguments (widths, counts) and result are bounded."""

    def bounded(*args: Any, **kwargs: Any) -> Any:
        plain = [a for a in args if not isinstance(a, _PASSED)]
        _check_args([*plain[1:], *kwargs.values()], f"filter '{name}'")
        if name == "format" and plain and isinstance(plain[0], str):
            _check_format(plain[0], "filter 'format'")
        return _check_size(func(*args, **kwargs), f"filter '{name}'")

    for attr in ("jinja_pass_arg",):  # pass_context / pass_eval_context / pass_environment
        if hasattr(func, attr):
            setattr(bounded, attr, getattr(func, attr))
    return bounded


class _Generator(jinja2.compiler.CodeGenerator):
    """`a ~ b` goes through the environment too, so a string doubled in a loop is stopped;
    every `{% for %}` iterates through `environment.counted`, so nested loops that write
    nothing still end."""

    def visit_For(self, node: jinja2.nodes.For, frame: jinja2.compiler.Frame) -> None:
        counted = jinja2.nodes.EnvironmentAttribute("counted", lineno=node.iter.lineno)
        node.iter = jinja2.nodes.Call(counted, [node.iter], [], None, None,
                                      lineno=node.iter.lineno)  # fmt: skip
        super().visit_For(node, frame)

    def visit_Concat(self, node: jinja2.nodes.Concat, frame: jinja2.compiler.Frame) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class LimitedSandbox(jinja2.sandbox.SandboxedEnvironment):
    """Jinja's sandbox, with every operation that can multiply a value's size bounded."""

    intercepted_binops = frozenset(_BINOPS)
    code_generator_class = _Generator

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any,
                   right: Any) -> Any:  # fmt: skip
        return _check_size(_BINOPS[operator](left, right), f"'{operator}'")

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any,
             **kwargs: Any) -> Any:  # fmt: skip
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "a call")
        _check_args([*args, *kwargs.values()], f"'{name}'")
        if isinstance(owner, str) and name == "replace" and len(args) >= 2:
            old, new = str(args[0]), str(args[1])
            grows = owner.count(old) * (len(new) - len(old)) if old else len(owner) * len(new)
            if len(owner) + grows > MAX_SEQUENCE:
                raise _refuse(f"'replace' makes {len(owner) + grows:,} characters")
        result = super().call(__context, __obj, *args, **kwargs)
        if owner is not None and not isinstance(owner, (str, bytes)):
            _check_size(owner, f"'{name}'")  # list.extend(list) in a loop
        return _check_size(result, f"'{name}'")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """`'...'.format(...)` and `.format_map(...)`: widths checked before formatting."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text, name = str(value.__self__), value.__name__

        def bounded(*args: Any, **kwargs: Any) -> str:
            _check_format(text, f"'{name}'")
            _check_args([*args, *kwargs.values()], f"'{name}'")
            return str(_check_size(wrapped(*args, **kwargs), f"'{name}'"))

        return functools.update_wrapper(bounded, value)

    def counted(self, items: Iterable[Any]) -> Iterator[Any]:
        """The items of a `{% for %}`, counted against MAX_LOOP_STEPS for this render."""
        for item in items:
            _steps.count = getattr(_steps, "count", 0) + 1
            if _steps.count > MAX_LOOP_STEPS:
                raise TooLarge(f"loops ran over {MAX_LOOP_STEPS:,} steps")
            yield item

    def bounded_concat(self, parts: Iterable[Any]) -> str:
        text = "".join(str(p) for p in parts)
        return str(_check_size(text, "'~'"))


def render_bounded(template: jinja2.Template, values: Mapping[str, Any]) -> str:
    """The template's text, counted as it is written: over MAX_RENDERED_CHARS is refused
    before the rest is made."""
    parts: list[str] = []
    size = 0
    _steps.count = 0
    for chunk in template.generate(**values):
        size += len(chunk)
        if size > MAX_RENDERED_CHARS:
            raise TooLarge(f"the rendered text is over {MAX_RENDERED_CHARS:,} characters")
        parts.append(chunk)
    return "".join(parts)

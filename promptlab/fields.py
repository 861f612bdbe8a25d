"""Typed reads of YAML mapping fields: each bad value becomes a Problem at its file:line.

A validator declares what each key must be and gets back the value or a default:

    top = Fields(doc, problems)
    top.unknown(TOP_KEYS)                                  # did-you-mean for typos
    layout = top.get("layout", one_of(LAYOUTS), "xml", unset="missing")
    params = top.mapping("inference")                      # a nested mapping, read the same way
    temperature = params.get("temperature", number(0, 1), hint="e.g. temperature: 0.2")

Problems are appended to the caller's list in the order the reads happen; the caller decides
what to raise (PromptFileError with all of them, ConfigError with the first).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar, overload

from promptlab.errors import Problem
from promptlab.yamlfile import PathKey, YamlDoc

T = TypeVar("T")
D = TypeVar("D")

# Which values of a key mean "not given", so that the read returns its default unchecked:
#   "missing"  only a missing key (`key: null` is checked, and so is a bad value)
#   "null"     a missing key or null (`key:` with nothing after it)
#   "empty"    a missing key or any empty or false value: null, "", [], {}, 0, false
Unset = Literal["missing", "null", "empty"]


@dataclass(frozen=True)
class Kind(Generic[T]):
    """What a value must be: a test and the message for a value that fails it.

    In `message`, {key} stands for the key and {value} for the value as Python writes it.
    `convert` turns a shorthand into the full form before the test (one string → a list).
    """

    test: Callable[[Any], bool]
    message: str
    convert: Callable[[Any], Any] | None = None


def _is_number(v: Any) -> bool:
    """An int or a finite float: YAML's .nan and .inf are no weight, threshold or score."""
    if isinstance(v, float):
        return math.isfinite(v)
    return isinstance(v, int) and not isinstance(v, bool)


STRING: Kind[str] = Kind(lambda v: isinstance(v, str), "'{key}' must be a string")
NON_EMPTY: Kind[str] = Kind(
    lambda v: isinstance(v, str) and v != "", "'{key}' must be a non-empty string"
)
NON_BLANK: Kind[str] = Kind(
    lambda v: isinstance(v, str) and bool(v.strip()), "'{key}' must be a non-empty string"
)
BOOL: Kind[bool] = Kind(lambda v: isinstance(v, bool), "'{key}' must be true or false")
MAPPING: Kind[dict[Any, Any]] = Kind(lambda v: isinstance(v, dict), "'{key}' must be a mapping")
LIST: Kind[list[Any]] = Kind(lambda v: isinstance(v, list), "'{key}' must be a list")


def strings(*, single: bool = False, empty: bool = True) -> Kind[list[str]]:
    """A list of strings. `single`: one string counts as a list of one; `empty`: "" allowed."""

    def test(v: Any) -> bool:
        return isinstance(v, list) and all(isinstance(s, str) and (empty or s) for s in v)

    convert = (lambda v: [v] if isinstance(v, str) else v) if single else None
    return Kind(test, "'{key}' must be a list of strings", convert)


def integer(minimum: int = 1, maximum: int | None = None) -> Kind[int]:
    """An integer (not a bool) of at least `minimum` (and at most `maximum`)."""
    words = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"
    if maximum is not None:
        words += f" up to {maximum:,}"
    return Kind(
        lambda v: (
            isinstance(v, int)
            and not isinstance(v, bool)
            and v >= minimum
            and (maximum is None or v <= maximum)
        ),
        f"'{{key}}' must be {words}, got {{value}}",
    )


def number(
    minimum: float | None = None, maximum: float | None = None, *, positive: bool = False
) -> Kind[float]:
    """An int or float (not a bool) within minimum..maximum, or above zero if `positive`."""

    def test(v: Any) -> bool:
        return (
            _is_number(v)
            and (not positive or v > 0)
            and (minimum is None or v >= minimum)
            and (maximum is None or v <= maximum)
        )

    if positive:
        words = "a positive number"
    elif minimum is not None and maximum is not None:
        words = f"a number from {minimum:g} to {maximum:g}"
    elif minimum is not None:
        words = f"a number ≥ {minimum:g}"
    elif maximum is not None:
        words = f"a number ≤ {maximum:g}"
    else:
        words = "a number"
    return Kind(test, f"'{{key}}' must be {words}, got {{value}}")


def one_of(choices: Iterable[Any]) -> Kind[Any]:
    """One of the given values."""
    options = tuple(choices)
    return Kind(
        lambda v: v in options,
        f"'{{key}}' must be one of {', '.join(map(str, options))}, got {{value}}",
    )


def did_you_mean(word: str, options: Iterable[str], cutoff: float = 0.6) -> str | None:
    """'did you mean 'x'?' for the option closest to `word`, if one is close enough."""
    import difflib

    close = difflib.get_close_matches(word, list(options), n=1, cutoff=cutoff)
    return f"did you mean '{close[0]}'?" if close else None


def suggest(key: str, allowed: Iterable[str]) -> str:
    """The hint for an unknown key: the closest allowed key, or the list of allowed keys."""
    options = list(allowed)
    return did_you_mean(key, options) or "allowed keys: " + ", ".join(options)


_PLACEHOLDER = re.compile(r"\{(key|value)\}")


def _fill(template: str, key: Any, value: Any) -> str:
    """The message with {key} and {value} filled in (in one pass: a key may contain braces)."""
    return _PLACEHOLDER.sub(lambda m: str(key) if m[1] == "key" else repr(value), template)


class Fields:
    """One mapping of a YAML document, read key by key with types.

    `at` is the mapping's path in the document (for line numbers); `data` is the mapping,
    by default the document's top level.
    """

    def __init__(
        self,
        doc: YamlDoc,
        problems: list[Problem],
        at: PathKey = (),
        data: Mapping[Any, Any] | None = None,
    ) -> None:
        self.doc = doc
        self.problems = problems
        self.at = tuple(at)
        self.data: Mapping[Any, Any] = doc.data if data is None else data

    def __contains__(self, key: Any) -> bool:
        return key in self.data

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self.data))

    def problem(self, path: PathKey, message: str, hint: str | None = None) -> None:
        """Record a problem at `path` inside this mapping (() is the mapping itself)."""
        self.problems.append(self.doc.problem((*self.at, *path), message, hint))

    def known(
        self, key: Any, allowed: Iterable[str], *, what: str = "key", where: str = ""
    ) -> bool:
        """Whether `key` is allowed; if not, a problem suggesting the closest allowed key.

        The message is "unknown <what> '<key>'", followed by `where` (e.g. "in test case").
        """
        options = tuple(allowed)
        if key in options:
            return True
        message = f"unknown {what} '{key}'" + (f" {where}" if where else "")
        self.problem((key,), message, suggest(str(key), options))
        return False

    def unknown(self, allowed: Iterable[str], *, what: str = "key", where: str = "") -> None:
        """A problem for every key not in `allowed`, in the order of the file."""
        options = tuple(allowed)
        for key in self.data:
            self.known(key, options, what=what, where=where)

    def is_unset(self, key: Any, unset: Unset = "null") -> bool:
        if key not in self.data:
            return True
        value = self.data[key]
        return (unset == "null" and value is None) or (unset == "empty" and not value)

    @overload
    def get(
        self,
        key: Any,
        kind: Kind[T],
        *,
        message: str | None = ...,
        hint: str | None = ...,
        unset: Unset = ...,
        required: bool = ...,
    ) -> T | None: ...

    @overload
    def get(
        self,
        key: Any,
        kind: Kind[T],
        default: D,
        *,
        message: str | None = ...,
        hint: str | None = ...,
        unset: Unset = ...,
        required: bool = ...,
    ) -> T | D: ...

    def get(
        self,
        key: Any,
        kind: Kind[Any],
        default: Any = None,
        *,
        message: str | None = None,
        hint: str | None = None,
        unset: Unset = "null",
        required: bool = False,
    ) -> Any:
        """The value of `key` if it is of `kind`; else a problem, and `default`.

        An unset key (see Unset) returns `default` without a check, or, if `required`, is a
        problem at the mapping's own line. `message` replaces the kind's message.
        """
        template = message or kind.message
        if self.is_unset(key, unset):
            if required:
                self.problem((), _fill(template, key, None), hint)
            return default
        raw = self.data[key]
        value = kind.convert(raw) if kind.convert else raw
        if not kind.test(value):
            self.problem((key,), _fill(template, key, raw), hint)
            return default
        return value

    def mapping(
        self,
        key: Any,
        *,
        message: str | None = None,
        hint: str | None = None,
        unset: Unset = "null",
    ) -> Fields:
        """The mapping under `key`, to read in turn (empty when unset or not a mapping)."""
        value = self.get(key, MAPPING, {}, message=message, hint=hint, unset=unset)
        return self.child(key, value)

    def under(self, key: Any) -> Fields:
        """A place inside this mapping (a list under `key`) to report problems at."""
        return Fields(self.doc, self.problems, (*self.at, key), {})

    def child(self, key: Any, data: Mapping[Any, Any]) -> Fields:
        """Fields for `data`, found under `key` of this mapping."""
        return Fields(self.doc, self.problems, (*self.at, key), data)

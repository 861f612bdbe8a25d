"""Regular expressions applied to untrusted text (model output) with a time limit.

Python's `re` has no timeout and holds the GIL while it backtracks, so one pattern such as
`(a|aa)+$` on a long answer would hang a run and Ctrl-C with it. These searches run in the
`regex` engine (the `re` syntax), which stops after REGEX_TIMEOUT_S and releases the GIL
while matching. Used by the `regex` check and by JSON Schema `pattern` / `patternProperties`
(json-schema checks, structured answers)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

REGEX_TIMEOUT_S = 1.0  # matching time one pattern may take on one text


def search(pattern: str, flags: int, text: str) -> Any:
    """`re.search(pattern, text, flags)`, stopped after REGEX_TIMEOUT_S: raises TimeoutError."""
    return _compiled(pattern, flags).search(text, timeout=REGEX_TIMEOUT_S, concurrent=True)


def gave_up(pattern: str) -> str:
    return (f"/{pattern}/ gave up after {REGEX_TIMEOUT_S:g} s of matching (the pattern "
            "backtracks too much on this text: make it more specific, e.g. no nested repeats "
            "like (a+)+)")  # fmt: skip


@functools.lru_cache(maxsize=256)
def _compiled(source: str, flags: int) -> Any:
    import regex as engine  # imported by the first search only

    same = re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE | re.UNICODE  # same values
    ascii_only = engine.ASCII if flags & re.ASCII else 0  # 256 in re, 128 in regex
    return engine.compile(source, (flags & same) | ascii_only)


@functools.lru_cache(maxsize=16)
def bounded_class(base: Any) -> Any:
    """A jsonschema validator class (`validator_for(schema)`) with time-limited `pattern` and
    `patternProperties`; make validators from it as from `base`."""
    from jsonschema.validators import extend

    return extend(base, {"pattern": _pattern, "patternProperties": _pattern_properties})


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "string"):
        return
    try:
        found = search(pattern, 0, instance)
    except TimeoutError:
        yield ValidationError(gave_up(pattern))
        return
    if not found:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: dict[str, Any], instance: Any,
                        schema: Any) -> Iterator[Any]:  # fmt: skip
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            try:
                found = search(pattern, 0, key)
            except TimeoutError:
                yield ValidationError(gave_up(pattern))
                return
            if found:
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)

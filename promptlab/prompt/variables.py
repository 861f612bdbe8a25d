"""Variable values from the command line and vars files, coerced and checked against their types."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from promptlab.errors import UsageError
from promptlab.prompt.model import Prompt, Variable
from promptlab.yamlfile import load_mapping


def check_value(var: Variable, value: Any) -> Any:
    """Check a typed value (from YAML/JSON) against its declaration; returns it."""
    ok = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": _is_number,
        "boolean": lambda v: isinstance(v, bool),
        "list": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "image": _is_media_value,
        "document": _is_media_value,
        "video": _is_media_value,
    }[var.type]
    if not ok(value):
        raise UsageError(f"'{var.name}' must be {_article(var.type)}, got {value!r}")
    if var.enum and value not in var.enum:
        raise UsageError(
            f"'{var.name}' must be one of {', '.join(map(str, var.enum))}, got {value!r}"
        )
    return value


def _is_media_value(v: Any) -> bool:
    """A path, an s3:// URI or inline text (documents), a mapping form, or a parsed value."""
    from promptlab.media import Attachment

    return isinstance(v, str | dict | Attachment)


def _is_number(v: Any) -> bool:
    """An int or a finite float (nan and inf are not numbers a prompt can use)."""
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _article(t: str) -> str:
    return f"an {t}" if t[0] in "aeiou" else f"a {t}"


_CLI_EXAMPLES = {
    "string": "text",
    "integer": "3",
    "number": "0.5",
    "boolean": "true",
    "list": "a,b (or a JSON list)",
    "object": """'{"key": "value"}'""",
    "image": "@shots/login.png",
    "document": "@docs/contract.pdf",
    "video": "@clips/demo.mp4",
}


def coerce(var: Variable, text: str) -> Any:
    """Turn a command-line string into the declared type."""
    t = var.type
    try:
        if t in ("string", "image", "document", "video"):
            value: Any = text
        elif t == "integer":
            value = int(text)
        elif t == "number":  # "1" stays 1, as it does in a vars file
            value = int(text) if re.fullmatch(r"\s*[-+]?\d+\s*", text) else float(text)
        elif t == "boolean":
            low = text.strip().lower()
            if low not in ("true", "false", "yes", "no", "1", "0", "on", "off"):
                raise ValueError(text)
            value = low in ("true", "yes", "1", "on")
        elif t == "list":
            value = (
                json.loads(text)
                if text.strip().startswith("[")
                else [s.strip() for s in text.split(",") if s.strip()]
            )
        else:
            value = json.loads(text)
    except ValueError:
        raise UsageError(
            f"variable '{var.name}' must be {_article(t)}, got {text!r}",
            f"e.g. -v {var.name}={_CLI_EXAMPLES[t]}",
        ) from None
    return check_value(var, value)


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """`-v key=value` options → dict. Raises UsageError for a pair without '='."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"-v {pair!r} is not key=value", f"write -v {pair or 'name'}=VALUE")
        out[key.strip()] = value
    return out


def load_vars_file(path: str | Path) -> dict[str, Any]:
    """A YAML or JSON mapping of variable values."""
    doc = load_mapping(Path(path), what="vars file")
    return dict(doc.data)


def resolve_vars(
    prompt: Prompt,
    typed: Mapping[str, Any] | None = None,
    strings: Mapping[str, str] | None = None,
    *,
    use_examples: bool = False,
    cwd: Path | None = None,
) -> dict[str, Any]:
    """Merge defaults, typed values (vars file) and CLI strings; check every variable.

    Media values (image, document, video) become `media.Attachment`s: a path given on the
    command line is relative to the working directory (`cwd`), one written in a file (a
    default, an example, a vars file, a test case) to the prompt file's directory.
    Raises UsageError listing every unknown and every missing variable at once.
    """
    typed = dict(typed or {})
    strings = dict(strings or {})
    declared = prompt.variables
    unknown = sorted(k for k in {*typed, *strings} if k not in declared)
    values: dict[str, Any] = {}
    errors: list[str] = []
    hints: list[str] = []
    invalid: set[str] = set()
    for name, var in declared.items():
        if name in strings:
            try:
                values[name] = coerce(var, strings[name])
                if var.is_media:
                    values[name] = _attachment(var, values[name], cwd or Path.cwd())
            except UsageError as exc:
                errors.append(exc.message)
                hints.extend([exc.hint] if exc.hint else [])
                invalid.add(name)
        elif name in typed:
            try:
                values[name] = check_value(var, typed[name])
            except UsageError as exc:
                errors.append(exc.message)
                invalid.add(name)
        elif var.has_default:
            values[name] = var.default
        elif use_examples and var.example is not None:
            values[name] = var.example
        elif not var.required:
            values[name] = None
    base = Path(prompt.path).resolve().parent
    for name, var in declared.items():
        if var.is_media and name not in strings and values.get(name) is not None:
            try:
                values[name] = _attachment(var, values[name], base)
            except UsageError as exc:
                errors.append(exc.message)
                hints.extend([exc.hint] if exc.hint else [])
                invalid.add(name)
    missing = [n for n, v in declared.items() if n not in values and v.required and
               n not in invalid]  # fmt: skip
    parts = []
    if unknown:
        known = ", ".join(declared) or "none"
        parts.append(f"unknown variable(s): {', '.join(unknown)} (declared: {known})")
    if missing:
        parts.append(f"missing required variable(s): {', '.join(missing)}")
    parts.extend(errors)
    if parts:
        hint = hints[0] if hints and not unknown else "pass -v name=value or --vars FILE"
        if unknown or missing:
            fixes = _unknown_hints(unknown, declared, generic=not missing)
            fixes += [_missing_hint(missing, declared, use_examples)] if missing else []
            hint = "; ".join(fixes)
        raise UsageError(f"{prompt.path}: " + "; ".join(parts), hint)
    return values


def _attachment(var: Variable, value: Any, base: Path) -> Any:
    from promptlab.media import parse_value

    return parse_value(var.type, value, base=base, var=var.name)


def _unknown_hints(
    unknown: list[str], declared: Mapping[str, Variable], generic: bool
) -> list[str]:
    """A close declared name is probably a typo; otherwise remove or declare the variable
    (said when no missing variable needs the hint's room)."""
    from promptlab.fields import did_you_mean

    fixes = [f"{name}: {guess}" for name in unknown
             if (guess := did_you_mean(name, declared))]  # fmt: skip
    if unknown and generic:
        them = "it" if len(unknown) == 1 else "them"
        fixes.append(f"remove {', '.join(unknown)} or declare {them} under 'variables'")
    return fixes


def _missing_hint(missing: list[str], declared: Mapping[str, Variable], use_examples: bool) -> str:
    """`pass -v a=...`, and `--examples` when the missing variables declare examples."""
    hint = "pass " + " ".join(f"-v {m}=..." for m in missing)
    if use_examples:
        return hint
    with_example = [m for m in missing if declared[m].example is not None]
    if with_example == missing:
        their = "their declared examples" if len(missing) > 1 else "its declared example"
        return f"{hint}, or --examples to use {their}"
    if with_example:
        return f"{hint} (--examples fills {', '.join(with_example)} from its example)"
    return hint

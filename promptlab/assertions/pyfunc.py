"""`python` assertions: `file.py:function` from the project, called with (output, context)."""

from __future__ import annotations

import ast
import importlib.util
import math
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from promptlab.assertions.base import (
    Assertion,
    BadAssertion,
    Context,
    Verdict,
    project_file,
    quote,
)

PY_THRESHOLD = 0.5
_modules: dict[Path, ModuleType] = {}
_lock = threading.Lock()


def prepare_python(a: Assertion, root: Path) -> tuple[Path, str]:
    """Check the reference without running it: the file exists and defines the function."""
    ref = a.value
    if not isinstance(ref, str) or ":" not in ref:
        raise BadAssertion(f"'python' needs 'file.py:function', got {ref!r}",
                           "e.g. value: checks/reply.py:is_polite (relative to this file)",
                           "value")  # fmt: skip
    file, _, func = ref.rpartition(":")
    path = project_file(file, root, a.project)
    if not file.endswith(".py") or not path.is_file():
        raise BadAssertion(f"python file {file!r} not found under {root}",
                           "paths are relative to the suite (or prompt) file's directory",
                           "value")  # fmt: skip
    try:
        tree = ast.parse(path.read_text("utf-8"), str(path))
    except SyntaxError as exc:
        raise BadAssertion(
            f"{file}:{exc.lineno}: Python syntax error: {exc.msg}", key="value"
        ) from None
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    if func not in defined:
        hint = "defined: " + ", ".join(sorted(defined)) if defined else "define it at top level"
        raise BadAssertion(f"{file} has no top-level function {func!r}", hint, "value")
    return path, func


def _load(path: Path, func: str) -> Callable[..., Any]:
    with _lock:
        module = _modules.get(path)
        if module is None:
            spec = importlib.util.spec_from_file_location(f"promptlab_check_{len(_modules)}", path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot import {path}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _modules[path] = module
    fn: Callable[..., Any] = getattr(module, func)
    if not callable(fn):
        raise TypeError(f"{func} is not callable")
    return fn


def python(a: Assertion, ctx: Context) -> Verdict:
    path, func = a.compiled
    threshold = a.threshold if a.threshold is not None else PY_THRESHOLD
    context = {
        "vars": dict(ctx.vars),
        "result": ctx.result.to_dict(),
        "case": ctx.case,
        "model": ctx.result.model_alias,
        "prompt": ctx.result.prompt_name,
    }
    try:
        got = _load(path, func)(ctx.output, context)
    except KeyboardInterrupt:  # Ctrl-C (and SIGTERM) still stop the run
        raise
    except SystemExit as exc:  # sys.exit() / exit() in the check or what it imports
        return Verdict(False, 0.0, f"{func} called sys.exit({exc.code!r}); a check must return "
                       "a verdict, not exit", broken=True)  # fmt: skip
    except BaseException as exc:  # user code: any failure is this check's error
        return Verdict(False, 0.0, f"{func} raised {type(exc).__name__}: {exc}", broken=True)
    return interpret(got, threshold, func)


def _not_finite(func: str, value: float) -> Verdict:
    return Verdict(False, 0.0, f"{func} returned a score of {value!r}; a score must be a finite "
                   "number from 0 to 1", broken=True)  # fmt: skip


def interpret(got: Any, threshold: float, func: str) -> Verdict:
    """bool → pass/fail; number → score vs threshold; dict → {pass, score, reason}."""
    if isinstance(got, bool):
        return Verdict(got, 1.0 if got else 0.0, f"{func} returned {got}")
    if isinstance(got, int | float):
        if not math.isfinite(got):
            return _not_finite(func, float(got))
        score = max(0.0, min(1.0, float(got)))
        ok = score >= threshold
        return Verdict(ok, score, f"{func} scored {score:g} ({'≥' if ok else '<'} {threshold:g})")
    if isinstance(got, dict):
        score_raw = got.get("score")
        if score_raw is not None and (isinstance(score_raw, bool)
                                      or not isinstance(score_raw, int | float)):  # fmt: skip
            return Verdict(
                False, 0.0, f"{func} returned a non-numeric score {score_raw!r}", broken=True
            )
        if score_raw is not None and not math.isfinite(score_raw):
            return _not_finite(func, float(score_raw))
        passed = got.get("pass")
        if passed is None and score_raw is None:
            return Verdict(
                False, 0.0, f"{func} returned a dict without 'pass' or 'score'", broken=True
            )
        given = max(0.0, min(1.0, float(score_raw))) if score_raw is not None else None
        ok = bool(passed) if passed is not None else (given or 0.0) >= threshold
        final = given if given is not None else (1.0 if ok else 0.0)
        reason = str(got.get("reason") or f"{func} returned pass={ok}")
        return Verdict(ok, final, reason)
    return Verdict(
        False,
        0.0,
        f"{func} returned {quote(repr(got))}; expected bool, number or dict",
        broken=True,
    )

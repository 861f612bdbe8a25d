"""What CI systems read from promptlab's output: GitHub Actions workflow commands."""

from __future__ import annotations

import contextlib
from pathlib import Path


def github_actions() -> bool:
    """Running as a GitHub Actions step: findings also go out as `::error` annotations."""
    import os

    return os.environ.get("GITHUB_ACTIONS") == "true"


def annotation(file: str, line: int | None, message: str, *, level: str = "error",
               title: str = "promptlab") -> str:  # fmt: skip
    """A GitHub Actions workflow command that marks file:line in the pull request's diff.

    The file is made relative to the checkout ($GITHUB_WORKSPACE, else the working directory).
    """
    import os

    where = Path(file)
    base = Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd())
    with contextlib.suppress(ValueError, OSError):
        where = (base / where if not where.is_absolute() else where).resolve().relative_to(
            base.resolve())  # fmt: skip
    props = [f"file={_escape(where.as_posix(), prop=True)}"]
    if line:
        props.append(f"line={line}")
    props.append(f"title={_escape(title, prop=True)}")
    return f"::{level} {','.join(props)}::{_escape(message)}"


def _escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def step_output(name: str, value: str) -> bool:
    """Set a GitHub Actions step output (`steps.<id>.outputs.<name>`) when running as a step
    with $GITHUB_OUTPUT; True if it was set. `value` is one line (a run id)."""
    import os

    path = os.environ.get("GITHUB_OUTPUT")
    if not github_actions() or not path or "\n" in value:
        return False
    with open(path, "a", encoding="utf-8") as out:
        out.write(f"{name}={value}\n")
    return True

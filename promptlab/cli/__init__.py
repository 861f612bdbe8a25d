"""The `promptlab` command: wiring only. Each command module registers on `app`."""

from __future__ import annotations

import sys

# Importing a command module registers its commands; each keeps heavy imports inside functions.
from promptlab.cli import git as _git  # noqa: F401
from promptlab.cli import models as _models  # noqa: F401
from promptlab.cli import prompts as _prompts  # noqa: F401
from promptlab.cli import run as _run  # noqa: F401
from promptlab.cli import store as _store  # noqa: F401
from promptlab.cli import test as _test  # noqa: F401
from promptlab.cli.app import app, report_error
from promptlab.errors import PromptlabError

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point: user errors become one clear message and exit code 2."""
    try:
        app(standalone_mode=True)
    except PromptlabError as exc:  # raised outside a command body (rare)
        report_error(exc)
        sys.exit(exc.exit_code)

"""The `promptlab` command: wiring only. Each command module registers on `app`."""

from __future__ import annotations

import importlib
import sys

from promptlab.cli.app import app, report_error
from promptlab.errors import PromptlabError

__all__ = ["app", "main"]

# Importing a command module registers its commands, in this order in --help.
# Each keeps its heavy imports (boto3, rich.live, sqlite3 work) inside the command functions.
COMMANDS = ("prompts", "run", "models", "test", "batch", "report", "store", "review", "finetune",
            "git", "deploy")  # fmt: skip
for _module in COMMANDS:
    importlib.import_module(f"promptlab.cli.{_module}")


def main() -> None:
    """Console-script entry point: user errors become one clear message and exit code 2."""
    from promptlab.cli import interrupt

    interrupt.install()
    try:
        app(standalone_mode=True)
    except PromptlabError as exc:  # raised outside a command body (rare)
        report_error(exc)
        sys.exit(exc.exit_code)

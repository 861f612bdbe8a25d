"""SIGTERM (a cancelled CI job, `kill`) stops a run the way Ctrl-C does: finished calls are
printed and recorded and the reports written, then the process exits 143 (128 + SIGTERM)
instead of 130."""

from __future__ import annotations

import signal
from typing import Any

SIGINT_EXIT = 130
SIGTERM_EXIT = 143
_terminated = False


def _on_sigterm(signum: int, frame: Any) -> None:
    global _terminated
    _terminated = True
    raise KeyboardInterrupt


def install() -> None:
    """Handle SIGTERM in the main thread, unless it is ignored (`nohup`-style parents)."""
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (a test driving the app in a thread)
        pass


def exit_code() -> int:
    """The exit code of an interrupted run: 143 after SIGTERM, 130 after Ctrl-C."""
    return SIGTERM_EXIT if _terminated else SIGINT_EXIT

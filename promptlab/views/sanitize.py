"""Model output is untrusted: make it inert before it reaches a terminal or a report."""

from __future__ import annotations

import json
import re

# C0 controls except \t and \n, DEL, and C1 controls (ESC starts ANSI/OSC sequences).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029]")


def dumps(data: object, indent: int | None = None) -> str:
    """JSON with readable Unicode, but DEL and C1 controls (\x9b is CSI) escaped like C0 ones."""
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=str)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def _visible(match: re.Match[str]) -> str:
    ch = match.group(0)
    if ch == "\r":
        return ""
    return f"\\x{ord(ch):02x}"


def inert(text: str) -> str:
    """Replace control characters (ESC, BEL, ...) with visible \\xNN escapes; drop CR."""
    return _CONTROL.sub(_visible, text)


def plain(text: str) -> object:
    """A Rich renderable showing `text` literally: no markup, no escape sequences."""
    from rich.text import Text

    return Text(inert(text))

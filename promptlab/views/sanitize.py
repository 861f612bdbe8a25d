"""Model output is untrusted: make it inert before it reaches a terminal or a report."""

from __future__ import annotations

import json
import re

# Invisible Unicode format characters (category Cf) that can change what a reviewer sees:
# bidi marks, embeddings, overrides and isolates (U+061C, U+200E/F, U+202A-E, U+2066-9), which
# reorder text (a "Trojan Source" answer); zero-width and invisible characters (U+00AD, U+180E,
# U+200B, U+2060-4, U+206A-F, U+FEFF, U+FFF9-B), which hide or split words; and tag characters
# (U+E0001, U+E0020-7F), which carry hidden ASCII. Kept: ZWNJ and ZWJ (U+200C/D), which emoji
# sequences and several scripts need and which reorder nothing, and the format marks that
# Arabic, Syriac, Egyptian and musical text draw visibly.
FORMAT_CHARS = (
    "\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\U000e0001\U000e0020-\U000e007f"
)
# C0 controls except \t and \n, DEL, and C1 controls (ESC starts ANSI/OSC sequences), and the
# format characters above (looked for only in text that is not ASCII).
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CONTROL = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{FORMAT_CHARS}]")


_JSON_RAW = re.compile(f"[\\x7f-\\x9f\\u2028\\u2029{FORMAT_CHARS}]")


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code > 0xFFFF:  # a surrogate pair, as JSON writes characters beyond the BMP
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def json_safe(text: str) -> str:
    """JSON text with DEL, C1 controls (\x9b is CSI) and the invisible format characters
    escaped as \\uNNNN, like json.dumps escapes C0 ones: the same data, shown."""
    return _JSON_RAW.sub(_json_escape, text)


def dumps(data: object, indent: int | None = None) -> str:
    """JSON with readable Unicode, but nothing that acts on a terminal or hides (json_safe)."""
    return json_safe(json.dumps(data, indent=indent, ensure_ascii=False, default=str))


def _visible(match: re.Match[str]) -> str:
    ch = match.group(0)
    if ch == "\r":
        return ""
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def inert(text: str) -> str:
    """Replace control characters (ESC, BEL, ...) with visible \\xNN escapes and invisible format
    characters (bidi overrides, zero-width spaces, tags) with \\uNNNN ones; drop CR."""
    return (_ASCII_CONTROL if text.isascii() else _CONTROL).sub(_visible, text)


def plain(text: str) -> object:
    """A Rich renderable showing `text` literally: no markup, no escape sequences."""
    from rich.text import Text

    return Text(inert(text))

"""Model output is untrusted: invisible Unicode format characters (bidi overrides, zero-width
spaces, tag characters) are shown as escapes in every view and report, as control characters
are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptlab.views.sanitize import dumps, inert
from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

HOSTILE = "ok \u202egnp.exe\u202c \u2066x\u2069 zero\u200bwidth tag\U000e0041 \u200f"
RAW = ("\u202e", "\u202c", "\u2066", "\u2069", "\u200b", "\U000e0041", "\u200f")
PROMPT = 'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'


def test_format_characters_become_visible_escapes_and_joiners_stay() -> None:
    assert inert(HOSTILE) == (
        "ok \\u202egnp.exe\\u202c \\u2066x\\u2069 zero\\u200bwidth tag\\U000e0041 \\u200f"
    )
    emoji = "👩\u200d💻 and \u200c"  # ZWJ sequences and ZWNJ are kept
    assert inert(emoji) == emoji
    assert json.loads(dumps({"a": HOSTILE})) == {"a": HOSTILE}  # same data, escaped
    assert not any(ch in dumps({"a": HOSTILE}) for ch in RAW)


def test_no_view_or_report_shows_a_raw_bidi_override(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_bedrock.script("amazon.nova-micro-v1:0", text=HOSTILE)
    write(project / "prompts" / "p.yaml", PROMPT)
    write(project / "prompts" / "p.tests.yaml", "prompt: p.yaml\ntests:\n"
          "  - {name: a, vars: {text: x}, assert: [{contains: zzz}]}\n")  # fmt: skip
    out = cli("test", "-m", "nova-micro", "--json", "r.json", "--junit", "r.xml",
              "--markdown", "r.md", "--html", "r.html")  # fmt: skip
    assert out.exit_code == 1, out.output
    shown = [out.output] + [(project / f).read_text("utf-8") for f in
                            ("r.json", "r.xml", "r.md", "r.html")]  # fmt: skip
    for fmt in ("table", "markdown", "json", "jsonl"):
        ran = cli("run", "prompts/p.yaml", "-v", "text=x", "-m", "nova-micro", "--format", fmt)
        assert ran.exit_code == 0, ran.output
        shown.append(ran.output)
    shown += [cli("log").output, cli("log", "show", "1").output]
    for text in shown:
        assert not any(ch in text for ch in RAW), text[:300]
    assert "\\u202e" in shown[1] and all("\\u202e" in ran for ran in shown[5:9])

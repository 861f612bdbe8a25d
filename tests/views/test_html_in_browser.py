"""The HTML report in a real browser (headless Chromium): it loads without console errors,
filters from the address work, injected markup never runs, and the page is not blank.

Skipped, with the reason, where no Chromium is installed (Debian: `apt-get install chromium`).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from promptlab.results import Result
from promptlab.testing.outcomes import AssertionOutcome, CaseOutcome, Sample, TestRun
from promptlab.views.html import run_page, test_page

BROWSER = next(
    (found for name in ("chromium", "chromium-browser", "google-chrome")
     if (found := shutil.which(name))), None,
)  # fmt: skip
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium installed")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000",
]  # fmt: skip
HOSTILE = (
    "</script><script>document.title='PWNED-SCRIPT'</script>"
    "<img src=x onerror=\"document.title='PWNED-IMG'\">"
    "[link](javascript:document.title='PWNED-LINK') ![x](http://127.0.0.1:9/x.png)"
)


def result(case: str, model: str, output: str) -> Result:
    return Result(
        prompt_name="greet", prompt_version="1.0.0", prompt_hash="h" * 64, model_alias=model,
        model_id=f"vendor.{model}-v1", region="us-east-1", params={}, request={},
        output=output, content=[{"text": output}], input_tokens=10, output_tokens=5,
        latency_ms=120, cost_usd=0.00002, case=case, started_at="2026-12-01T00:00:00+00:00",
    )  # fmt: skip


def a_test_run() -> TestRun:
    cases = []
    for n in range(30):
        for model in ("nova-lite", "claude-haiku"):
            failing = n % 3 == 0
            output = HOSTILE if n == 0 else f"answer {n} from {model}"
            check = AssertionOutcome(
                "contains: answer",
                "contains",
                not failing,
                0.0 if failing else 1.0,
                1.0,
                "missing" if failing else "",
            )
            sample = Sample(result(f"case-{n}", model, output), "fail" if failing else "pass",
                            check.score, check.reason, [check])  # fmt: skip
            cases.append(CaseOutcome(
                prompt={"name": "greet", "version": "1.0.0", "hash": "h" * 64, "path": "p.yaml"},
                case=f"case-{n}", model=model, model_id=f"vendor.{model}-v1", repeat=1,
                threshold=1.0, samples=[sample], status=sample.status, reason=check.reason,
            ))  # fmt: skip
    return TestRun(cases, "run-1", "2026-12-01T00:00:00+00:00", 1000)


def browse(page: Path, tmp_path: Path, *extra: str, fragment: str = "") -> tuple[str, str]:
    """(DOM after the scripts ran, Chromium's log) of the page."""
    assert BROWSER is not None
    done = subprocess.run(
        [BROWSER, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *extra,
         page.resolve().as_uri() + fragment],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return done.stdout, done.stderr


def console_errors(log: str) -> list[str]:
    return [line for line in log.splitlines()
            if "CONSOLE" in line and re.search(r"error|Uncaught|Refused", line, re.I)]  # fmt: skip


def test_the_test_report_loads_cleanly_and_filters_from_the_address(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(test_page(a_test_run(), source="run-1"), "utf-8")
    dom, log = browse(page, tmp_path, "--dump-dom")
    assert console_errors(log) == []
    statuses = re.findall(r'data-status="(\w+)"', dom)
    assert statuses.count("fail") == 20 and statuses.count("pass") == 40
    dom, log = browse(page, tmp_path, "--dump-dom", fragment="#status=fail&model=nova-lite")
    assert console_errors(log) == []
    shown = re.findall(r'<[^>]*data-status="(\w+)"[^>]*data-model="([\w-]+)"', dom)
    shown += [(s, m) for m, s in re.findall(r'<[^>]*data-model="([\w-]+)"[^>]*data-status="(\w+)"',
                                            dom)]  # fmt: skip
    assert shown and set(shown) == {("fail", "nova-lite")}


def test_injected_markup_in_an_answer_never_runs(tmp_path: Path) -> None:
    for name, text in (
        ("test.html", test_page(a_test_run(), source="run-1")),
        ("run.html", run_page([result("c", "nova-lite", HOSTILE)], source="r")),
    ):
        page = tmp_path / name
        page.write_text(text, "utf-8")
        dom, log = browse(page, tmp_path, "--dump-dom")
        title = re.search(r"<title>(.*?)</title>", dom, re.S)
        assert title is not None and "PWNED" not in title.group(1)
        assert "PWNED" not in "".join(re.findall(r"<title>.*?</title>", dom, re.S))
        assert "127.0.0.1:9" not in log  # the remote image was never requested
        assert console_errors(log) == []


def test_a_screenshot_of_the_report_is_not_blank(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(test_page(a_test_run(), source="run-1"), "utf-8")
    shot = tmp_path / "shot.png"
    browse(page, tmp_path, f"--screenshot={shot}", "--window-size=1200,900")
    assert distinct_colours(shot) > 8


def distinct_colours(png: Path) -> int:
    """How many different byte values the decoded image rows hold (a blank page has ~2)."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return len(set(zlib.decompress(idat)))


def test_tool_calls_structured_errors_and_sources_are_drawn_as_text(tmp_path: Path) -> None:
    r = result("c", "nova-lite", "It will drizzle.")
    r.turns = [
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "get_weather",
                                                       "input": {"city": HOSTILE}}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1",
                                                     "content": [{"text": HOSTILE}]}}]},
    ]  # fmt: skip
    r.content = [{"text": "It will drizzle."}, {"citationsContent": {"citations": [
        {"title": HOSTILE, "sourceContent": [{"text": HOSTILE}],
         "location": {"documentPage": {"documentIndex": 0, "start": 2, "end": 3}}}]}}]  # fmt: skip
    r.structured = {"value": None, "error": HOSTILE, "native": True}
    page = tmp_path / "run.html"
    page.write_text(run_page([r], source="r"), "utf-8")
    dom, log = browse(page, tmp_path, "--dump-dom")
    assert console_errors(log) == []
    assert "PWNED" not in "".join(re.findall(r"<title>.*?</title>", dom, re.S))
    assert "127.0.0.1:9" not in log
    assert '<code>→ get_weather(city="&lt;/script&gt;' in dom
    assert '<div class="sent">← &lt;/script&gt;' in dom
    assert '<div class="invalid">✗ not valid against output_schema: &lt;/script&gt;' in dom
    assert "2 model calls (tool exchange)" in dom and '<div class="muted">sources</div>' in dom
    assert "<li>&lt;/script&gt;" in dom and " p.2: " in dom

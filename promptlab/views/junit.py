"""JUnit XML for CI: one <testcase> per case × model, grouped in one <testsuite> per prompt."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from promptlab.testing import CaseOutcome, TestRun
from promptlab.views.sanitize import inert

# Characters XML 1.0 cannot carry at all (after `inert` has escaped the C0/C1 controls).
_XML_ILLEGAL = re.compile("[\ud800-\udfff\ufffe\uffff]")
OUTPUT_LIMIT = 20_000


def xml_text(text: str) -> str:
    return _XML_ILLEGAL.sub("\ufffd", inert(text))


def _seconds(c: CaseOutcome) -> str:
    total = sum((s.latency_ms or 0) for s in c.samples)
    return f"{total / 1000:.3f}"


def _details(c: CaseOutcome) -> str:
    lines = []
    for s in c.samples:
        head = f"sample {s.result.repeat_index + 1}/{c.repeat}: {s.status}"
        lines.append(head + (f" — {s.reason}" if s.reason else ""))
        for a in s.assertions:
            mark = "ok " if a.passed else "FAIL"
            lines.append(f"  {mark} {a.name} [{a.type}] score={a.score:.2f} w={a.weight:g}: "
                         f"{a.reason}")  # fmt: skip
    if c.repeat > 1:
        agreement = f"{c.agreement:.0%}" if c.agreement is not None else "n/a"
        lines.append(f"pass rate {c.pass_rate:.0%} (threshold {c.threshold:.0%}), "
                     f"agreement {agreement}")  # fmt: skip
    return "\n".join(lines)


def testcase(c: CaseOutcome) -> ET.Element:
    el = ET.Element("testcase", {
        "classname": xml_text(c.prompt["name"]), "name": xml_text(f"{c.case} [{c.model}]"),
        "time": _seconds(c),
    })  # fmt: skip
    if c.where:  # "file:line", the file relative to the project root
        file, _, line = c.where.rpartition(":")
        if file and line.isdigit():
            el.set("file", xml_text(file))
            el.set("line", line)
        else:
            el.set("file", xml_text(c.where))
    props = ET.SubElement(el, "properties")
    agreement = c.agreement
    values = {
        "model": c.model, "model_id": c.model_id, "prompt_version": c.prompt.get("version", ""),
        "prompt_hash": c.prompt.get("hash", ""), "tokens": str(c.tokens),
        "cost_usd": f"{c.cost_usd:.8f}", "latency_ms": f"{c.latency_ms:.0f}"
        if c.latency_ms is not None else "", "pass_rate": f"{c.pass_rate:.4f}",
        "threshold": f"{c.threshold:g}", "repeat": str(c.repeat),
        "agreement": f"{agreement:.4f}" if agreement is not None else "",
    }  # fmt: skip
    for name, value in values.items():
        ET.SubElement(props, "property", {"name": name, "value": xml_text(str(value))})
    if c.status == "fail":
        f = ET.SubElement(el, "failure", {"message": xml_text(c.reason or "failed"),
                                          "type": "AssertionFailure"})  # fmt: skip
        f.text = xml_text(_details(c))
    elif c.status == "error":
        code = next((s.result.error.code for s in c.samples if s.result.error), "Infrastructure")
        e = ET.SubElement(el, "error", {"message": xml_text(c.reason or "not run"),
                                        "type": xml_text(code)})  # fmt: skip
        e.text = xml_text(_details(c))
    out = c.output
    if out:
        ET.SubElement(el, "system-out").text = xml_text(out[:OUTPUT_LIMIT])
    return el


def to_junit(run: TestRun) -> str:
    """The JUnit XML document (UTF-8 text with declaration)."""
    t = run.totals
    root = ET.Element("testsuites", {
        "name": "promptlab", "tests": str(t.cases), "failures": str(t.failed),
        "errors": str(t.errors), "time": f"{run.wall_ms / 1000:.3f}",
    })  # fmt: skip
    suites: dict[str, list[CaseOutcome]] = {}
    for c in run.cases:
        suites.setdefault(c.prompt["name"], []).append(c)
    for name, cases in suites.items():
        suite = ET.SubElement(root, "testsuite", {
            "name": xml_text(name), "tests": str(len(cases)),
            "failures": str(sum(c.status == "fail" for c in cases)),
            "errors": str(sum(c.status == "error" for c in cases)), "skipped": "0",
            "time": f"{sum(float(_seconds(c)) for c in cases):.3f}",
        })  # fmt: skip
        if run.started_at:
            suite.set("timestamp", run.started_at)
        for c in cases:
            suite.append(testcase(c))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

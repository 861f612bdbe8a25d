"""JUnit XML: valid XML, one testcase per case × model, failures vs infrastructure errors."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

ECHOER = 'version: "1.2.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'


def test_junit_has_one_testcase_per_case_and_model(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "echoer.yaml", ECHOER)
    write(project / "prompts" / "echoer.tests.yaml",
          "tests:\n"
          "  - {name: ok, vars: {text: \"Hi Ana\"}, assert: [{contains: Ana}]}\n"
          "  - {name: bad, vars: {text: \"Hi \\e[2J\\x07 <&>\"}, repeat: 2,"
          " assert: [{contains: Ana, name: names-ana}]}\n")  # fmt: skip
    result = cli("test", "-m", "echo", "--no-log", "--junit", "out/junit.xml")
    assert result.exit_code == 1
    root = ET.parse(project / "out" / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "0")
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "echoer"
    cases = {tc.get("name"): tc for tc in suite.iter("testcase")}
    assert set(cases) == {"ok [echo]", "bad [echo]"}
    ok, bad = cases["ok [echo]"], cases["bad [echo]"]
    assert ok.get("classname") == "echoer" and ok.find("failure") is None
    props = {p.get("name"): p.get("value") for p in ok.iter("property")}
    assert props["prompt_version"] == "1.2.0"
    assert {"tokens", "cost_usd", "latency_ms", "model_id", "pass_rate"} <= set(props)
    failure = bad.find("failure")
    assert failure is not None
    assert failure.get("message") == "names-ana: 'Ana' not found"
    assert "sample 2/2" in (failure.text or "")
    out = bad.findtext("system-out") or ""
    assert "<&>" in out and "\\x1b[2J\\x07" in out  # escaped for XML, controls made visible
    raw = (project / "out" / "junit.xml").read_text("utf-8")
    assert "\x1b" not in raw and "\x07" not in raw


def test_infrastructure_failures_are_junit_errors(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.script("amazon.nova-micro-v1:0", fail=99, status=403,
                        error="AccessDeniedException", message="no access")  # fmt: skip
    write(project / "prompts" / "echoer.yaml", ECHOER)
    write(project / "prompts" / "echoer.tests.yaml",
          "tests:\n  - {name: a, vars: {text: x}, assert: [{contains: x}]}\n")  # fmt: skip
    result = cli("test", "-m", "nova-micro", "--no-log", "--junit", "j.xml")
    assert result.exit_code == 3
    root = ET.parse(project / "j.xml").getroot()
    assert root.get("errors") == "1" and root.get("failures") == "0"
    error = root.find("testsuite/testcase/error")
    assert error is not None
    assert error.get("type") == "AccessDeniedException"
    assert "no access" in (error.get("message") or "")

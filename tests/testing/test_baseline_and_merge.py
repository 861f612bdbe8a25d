"""Baselines (--baseline / --update-baseline) and `promptlab report merge` of shard reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from tests.conftest import Cli, write

ECHOER = 'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'


def suite(project: Path, cases: dict[str, str]) -> None:
    """cases: name → echoed text; every case asserts the text contains 'ok'."""
    write(project / "prompts" / "echoer.yaml", ECHOER)
    body = "".join(f"  - {{name: {n}, vars: {{text: {t!r}}}, assert: [{{contains: ok}}]}}\n"
                   for n, t in cases.items())  # fmt: skip
    write(project / "prompts" / "echoer.tests.yaml", "tests:\n" + body)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def test_baseline_diff_shows_newly_failing_passing_and_changed_outputs(
    project: Path, cli: Cli
) -> None:
    suite(project, {"stays": "ok", "breaks": "ok", "heals": "no", "reworded": "ok one"})
    first = cli("test", "-m", "echo", "--no-log", "--update-baseline", "base.json")
    assert first.exit_code == 1
    suite(project, {"stays": "ok", "breaks": "no", "heals": "ok", "reworded": "ok two",
                    "added": "ok"})  # fmt: skip
    result = cli("test", "-m", "echo", "--no-log", "--baseline", "base.json",
                 "--json", "now.json", "--markdown", "r.md")  # fmt: skip
    assert result.exit_code == 1
    diff = load(project / "now.json")["baseline"]
    assert diff["newly_failing"] == ["echoer/breaks@echo"]
    assert diff["newly_passing"] == ["echoer/heals@echo"]
    assert set(diff["changed_outputs"]) == {"echoer/breaks@echo", "echoer/heals@echo",
                                            "echoer/reworded@echo"}  # fmt: skip
    assert diff["new_cases"] == ["echoer/added@echo"]
    assert diff["cost_usd"]["delta"] == 0
    assert "newly failing (1): echoer/breaks@echo" in result.stdout
    md = (project / "r.md").read_text("utf-8")
    assert "| Newly failing | 1 | echoer/breaks&#64;echo |" in md


def test_baseline_that_is_not_a_report_is_exit_2_before_any_call(project: Path, cli: Cli) -> None:
    suite(project, {"a": "ok"})
    write(project / "base.json", '{"results": []}')
    result = cli("test", "-m", "echo", "--no-log", "--baseline", "base.json")
    assert result.exit_code == 2
    assert "not a 'promptlab test --json' report" in result.stderr
    missing = cli("test", "-m", "echo", "--no-log", "--baseline", "nope.json")
    assert missing.exit_code == 2 and "baseline not found" in missing.stderr


def test_report_merge_combines_shards_into_one_report(project: Path, cli: Cli) -> None:
    names = {f"c{i}": ("ok" if i != 3 else "bad") for i in range(12)}
    suite(project, names)
    for i in (1, 2, 3):
        r = cli("test", "-m", "echo", "--no-log", "--shard", f"{i}/3", "--json", f"s{i}.json")
        assert r.exit_code in (0, 1), r.output
        assert load(project / f"s{i}.json")["shard"] == f"{i}/3"
    whole = cli("test", "-m", "echo", "--no-log", "--json", "all.json")
    merged = cli("report", "merge", "s1.json", "s2.json", "s3.json", "--json", "m.json",
                 "--junit", "m.xml", "--markdown", "m.md")  # fmt: skip
    assert merged.exit_code == whole.exit_code == 1
    m, a = load(project / "m.json"), load(project / "all.json")
    assert sorted(c["key"] for c in m["cases"]) == sorted(c["key"] for c in a["cases"])
    assert m["summary"]["cases"] == 12 and m["summary"]["failed"] == 1
    assert ET.parse(project / "m.xml").getroot().get("tests") == "12"
    assert "11 passed, 1 failed of 12" in (project / "m.md").read_text("utf-8")
    again = cli("report", "merge", "s1.json", "s1.json", "--allow-partial")
    assert "appear in more than one report" in again.stderr


def test_report_merge_rejects_other_json(project: Path, cli: Cli) -> None:
    write(project / "x.json", "[1, 2]")
    result = cli("report", "merge", "x.json")
    assert result.exit_code == 2
    assert "x.json: not a 'promptlab test --json' report" in result.stderr

"""`promptlab test` end to end: exit codes, repeats, agreement, filters, shards, example suites."""

from __future__ import annotations

import json
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from itertools import cycle
from pathlib import Path
from typing import Any

import pytest

from promptlab.config import load_config
from promptlab.suite import load_cases
from promptlab.testing import jobs_for, plan, select, shard_of
from tests.conftest import REPO, Cli, write
from tests.fakebedrock import FakeBedrock

ECHOER = 'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'
PROMPT = (
    'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'
    "inference: {temperature: 0.7}\n"
)
MICRO = "amazon.nova-micro-v1:0"


def project_with(project: Path, suite: str, prompt: str = ECHOER) -> Path:
    write(project / "prompts" / "echoer.yaml", prompt)
    return write(project / "prompts" / "echoer.tests.yaml", suite)


def report(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def test_all_passing_cases_exit_0(project: Path, cli: Cli) -> None:
    project_with(project, "tests:\n  - name: greets\n    vars: {text: Hi Ana}\n"
                 "    assert: [{contains: Ana}, {starts-with: Hi}]\n")  # fmt: skip
    result = cli("test", "-m", "echo", "--no-log", "--json", "out.json")
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed of 1" in result.stdout
    data = report(project / "out.json")
    assert data["summary"]["passed"] == 1
    case = data["cases"][0]
    assert case["key"] == "echoer/greets@echo"
    assert case["samples"][0]["result"]["output"] == "Hi Ana"
    assert [a["type"] for a in case["samples"][0]["assertions"]] == ["contains", "starts-with"]


def test_assertion_failure_exits_1_with_the_reason(project: Path, cli: Cli) -> None:
    project_with(project, "tests:\n  - name: greets\n    vars: {text: Hi Bob}\n"
                 "    assert: [{contains: Ana, name: names-ana}]\n")  # fmt: skip
    result = cli("test", "-m", "echo", "--no-log")
    assert result.exit_code == 1
    assert "FAIL" in result.stdout
    assert "names-ana: 'Ana' not found" in result.stdout


def test_fail_under_accepts_a_partial_pass_rate(project: Path, cli: Cli) -> None:
    project_with(project, "tests:\n"
                 "  - {name: a, vars: {text: x}, assert: [{contains: x}]}\n"
                 "  - {name: b, vars: {text: x}, assert: [{contains: x}]}\n"
                 "  - {name: c, vars: {text: x}, assert: [{contains: y}]}\n")  # fmt: skip
    assert cli("test", "-m", "echo", "--no-log", "--fail-under", "0.6").exit_code == 0
    assert cli("test", "-m", "echo", "--no-log", "--fail-under", "0.7").exit_code == 1


def test_model_access_denied_exits_3_and_never_counts_as_pass(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    project_with(project, "tests:\n  - {name: a, vars: {text: x}, assert: [{not-contains: zzz}]}\n")
    fake_bedrock.script(
        "amazon.nova-micro-v1:0",
        fail=99,
        status=403,
        error="AccessDeniedException",
        message="You don't have access to the model with the specified model ID.",
    )
    result = cli("test", "-m", "nova-micro", "--no-log", "--json", "r.json", "--junit", "j.xml")
    assert result.exit_code == 3, result.output
    assert "ERROR" in result.stdout
    data = report(project / "r.json")
    assert data["summary"]["passed"] == 0 and data["summary"]["errors"] == 1
    assert "AccessDeniedException" in data["cases"][0]["reason"]
    assert "<error" in (project / "j.xml").read_text("utf-8")


def test_throttling_after_retries_exits_3(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTLAB_MAX_ATTEMPTS", "1")
    project_with(project, "tests:\n  - {name: a, vars: {text: x}, assert: [{contains: x}]}\n")
    fake_bedrock.script("amazon.nova-micro-v1:0", fail=99, status=429)
    result = cli("test", "-m", "nova-micro", "--no-log")
    assert result.exit_code == 3
    assert "ThrottlingException" in result.stdout


def test_a_non_infrastructure_model_error_is_a_failure(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    project_with(project, "tests:\n  - {name: a, vars: {text: x}, assert: [{contains: x}]}\n")
    fake_bedrock.script("amazon.nova-micro-v1:0", fail=99, status=400,
                        error="ValidationException", message="max_tokens is too large")  # fmt: skip
    result = cli("test", "-m", "nova-micro", "--no-log")
    assert result.exit_code == 1
    assert "ValidationException" in result.stdout


def test_repeats_report_pass_rate_threshold_and_agreement(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    answers = cycle(["Yes, 30 days.", "yes,  30 DAYS.", "Yes, 30 days.", "No."])
    fake_bedrock.script("amazon.nova-micro-v1:0", text=lambda body: next(answers))
    project_with(project, "tests:\n"
                 "  - {name: strict, vars: {text: q}, assert: [{icontains: 30 days}]}\n"
                 "  - {name: lenient, vars: {text: q}, threshold: 0.75,"
                 " assert: [{icontains: 30 days}]}\n")  # fmt: skip
    result = cli("test", "-m", "nova-micro", "--repeat", "4", "-j", "1", "--no-log",
                 "--json", "r.json")  # fmt: skip
    assert result.exit_code == 1, result.output
    cases = {c["case"]: c for c in report(project / "r.json")["cases"]}
    for c in cases.values():
        assert (c["passes"], c["repeat"], c["pass_rate"]) == (3, 4, 0.75)
        assert c["agreement"] == 0.75  # three of four agree once normalized
    assert cases["strict"]["status"] == "fail"
    assert cases["lenient"]["status"] == "pass"
    assert fake_bedrock.count(op="converse") == 8  # repeats are never served from cache


def test_single_temperature_zero_samples_are_cacheable_repeats_are_not(project: Path) -> None:
    project_with(project, "tests:\n  - {name: a, vars: {text: x}}\n",
                 ECHOER + "inference: {temperature: 0}\n")  # fmt: skip
    config = load_config()
    cases = load_cases([], config)
    single, _ = jobs_for(plan(cases, config, models=["echo"]))
    repeated, index = jobs_for(plan(cases, config, models=["echo"], repeat=3))
    assert [j.cacheable for j in single] == [True]
    assert [j.cacheable for j in repeated] == [False] * 3
    assert [r for _, r in index] == [0, 1, 2]


def test_filter_selects_by_glob_or_substring(project: Path, cli: Cli) -> None:
    project_with(project, "tests:\n"
                 "  - {name: refund-ok, vars: {text: x}, assert: [{contains: x}]}\n"
                 "  - {name: refund-late, vars: {text: x}, assert: [{contains: x}]}\n"
                 "  - {name: shipping, vars: {text: x}, assert: [{contains: y}]}\n")  # fmt: skip
    result = cli("test", "-m", "echo", "--no-log", "--filter", "refund-*")
    assert result.exit_code == 0
    assert "2 passed, 0 failed of 2" in result.stdout
    assert cli("test", "-m", "echo", "--no-log", "-k", "SHIP").exit_code == 1
    nothing = cli("test", "-m", "echo", "--no-log", "-k", "nomatch")
    assert nothing.exit_code == 2
    assert "no test case matches --filter" in nothing.stderr


def test_shards_are_deterministic_disjoint_and_cover_every_case(project: Path) -> None:
    names = [f"case-{i}" for i in range(40)]
    body = "".join(f"  - {{name: {n}, vars: {{text: x}}}}\n" for n in names)
    project_with(project, "tests:\n" + body)
    config = load_config()
    cases = load_cases([], config)
    shards = [{c.name for c in select(cases, None, (i, 4))} for i in range(1, 5)]
    assert set().union(*shards) == set(names)
    assert sum(len(s) for s in shards) == len(names)
    assert all(shards)  # 40 cases over 4 shards: none empty
    reordered = list(reversed(cases))
    assert {c.name for c in select(reordered, None, (2, 4))} == shards[1]
    assert shard_of("echoer", "case-7", 4) == shard_of("echoer", "case-7", 4)


def test_bad_shard_is_a_usage_error(project: Path, cli: Cli) -> None:
    project_with(project, "tests:\n  - {name: a, vars: {text: x}}\n")
    result = cli("test", "-m", "echo", "--shard", "5/4")
    assert result.exit_code == 2
    assert "--shard '5/4'" in result.stderr


def test_model_resolution_order_case_then_defaults_then_prompt(project: Path) -> None:
    write(project / "promptlab.yaml", "models: [nova-pro]\n")
    project_with(project, "defaults: {models: [nova-lite]}\ntests:\n"
                 "  - {name: own, models: [echo], vars: {text: x}}\n"
                 "  - {name: suite, vars: {text: x}}\n",
                 ECHOER + "models: [claude-haiku]\n")  # fmt: skip
    config = load_config()
    planned = plan(load_cases([], config), config)
    assert [(p.case.name, p.ref.alias) for p in planned] == [("own", "echo"),
                                                              ("suite", "nova-lite")]  # fmt: skip
    overridden = plan(load_cases([], config), config, models=["echo,nova-micro"])
    assert [(p.case.name, p.ref.alias) for p in overridden] == [
        ("own", "echo"),
        ("suite", "echo"),
        ("suite", "nova-micro"),
    ]  # a case's own models stay
    everywhere = plan(load_cases([], config), config, models=["echo,nova-micro"],
                      override_pinned=True)  # fmt: skip
    assert [p.ref.alias for p in everywhere] == ["echo", "nova-micro"] * 2


def test_github_step_summary_gets_the_markdown_appended(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = project / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    project_with(project, "tests:\n  - {name: a, vars: {text: x}, assert: [{contains: x}]}\n")
    result = cli("test", "-m", "echo", "--no-log", "--markdown", "report.md")
    assert result.exit_code == 0
    text = summary.read_text("utf-8")
    assert text.startswith("# earlier step\n")
    assert "promptlab test: 1 passed, 0 failed of 1" in text
    assert (project / "report.md").read_text("utf-8") in text


def test_markdown_report_escapes_model_output(project: Path, cli: Cli) -> None:
    project_with(project, "tests:\n  - name: nasty\n"
                 "    vars: {text: \"| @team <b>x</b> \\e[31m ``` [a](b)\"}\n"
                 "    assert: [{equals: nothing}]\n")  # fmt: skip
    result = cli("test", "-m", "echo", "--no-log", "--markdown", "r.md")
    assert result.exit_code == 1
    md = (project / "r.md").read_text("utf-8")
    row = next(line for line in md.splitlines() if line.startswith("| ❌"))
    assert "&#64;team" in row and "@team" not in row
    assert "&lt;b&gt;" in row and "<b>" not in row
    assert "\\| &#64;team" in row  # a pipe cannot split the table cell
    assert "\\[a\\](b)" in row  # no links
    assert "\x1b" not in md and "\\x1b" in md
    assert "\n```text\n" in md and "`\u200b``" in md  # the output cannot close its fence
    assert "\x1b" not in result.stdout


def test_example_suites_pass_on_echo(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The shipped example suites: render-* cases run offline; every suite validates. (In a
    copy of the prompts: the image examples write their images under the project.)"""
    shutil.copytree(REPO / "prompts", tmp_path / "prompts")
    monkeypatch.chdir(tmp_path)
    listed = cli("test", "prompts/examples", "-m", "echo", "--dry-run")
    assert listed.exit_code == 0, listed.output
    assert "nothing was called" in listed.stdout
    assert not (tmp_path / ".promptlab").exists()  # a dry run opens no store
    result = cli("test", "prompts/examples", "--filter", "render-*", "--no-log", "--no-cache")
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.stdout
    assert "10 passed" in result.stdout


def test_ci_workflow_uses_oidc_lints_tests_and_uploads_reports() -> None:
    import yaml

    wf = yaml.safe_load((REPO / "examples" / "ci" / "promptlab.yml").read_text("utf-8"))
    assert "pull_request" in wf[True]  # YAML 1.1 reads the key `on` as True
    assert wf["jobs"]["test"]["permissions"]["id-token"] == "write"
    steps = wf["jobs"]["test"]["steps"]
    text = json.dumps(steps)
    assert '"fetch-depth": 0' in text
    assert "aws-actions/configure-aws-credentials" in text and "role-to-assume" in text
    runs = " ".join(s.get("run", "") for s in steps)
    assert "promptlab lint" in " ".join(s.get("run", "") for s in wf["jobs"]["lint"]["steps"])
    assert "promptlab test" in runs and "--junit" in runs and "--markdown" in runs
    assert "actions/upload-artifact" in text
    merge = " ".join(s.get("run", "") for s in wf["jobs"]["report"]["steps"])
    assert "promptlab report merge" in merge


def test_live_progress_bar_on_a_terminal_and_plain_lines_otherwise(project: Path) -> None:
    import io

    from rich.console import Console

    from promptlab.providers.base import ProviderPool
    from promptlab.testing import TestEngine
    from promptlab.views.testreport import LiveProgress, PlainProgress

    project_with(project, "tests:\n  - {name: a, vars: {text: x}, assert: [{contains: x}]}\n"
                 "  - {name: b, vars: {text: x}, assert: [{contains: y}]}\n")  # fmt: skip
    config = load_config()
    planned = plan(load_cases([], config), config, models=["echo"])
    screen = io.StringIO()
    live = LiveProgress(Console(file=screen, force_terminal=True, width=120))
    run = TestEngine(config, ProviderPool(config), progress=live).run(planned)
    assert (run.totals.passed, run.totals.failed) == (1, 1)
    assert "✓ 1" in screen.getvalue() and "✗ 1" in screen.getvalue()
    log = io.StringIO()
    TestEngine(config, ProviderPool(config), progress=PlainProgress(log)).run(planned)
    lines = log.getvalue().splitlines()
    assert lines[0] == "running 2 case(s) × model(s): 2 call(s): 2 offline (free)"
    assert [line.split("] ")[1].split(" ")[0] for line in lines[1:-1]] == ["FAIL"]  # no PASS line
    assert lines[-1] == "[2/2] 1 passed, 1 failed"


def suite(project: Path, text: str, prompt: str = PROMPT) -> None:
    write(project / "prompts" / "echoer.yaml", prompt)
    write(project / "prompts" / "echoer.tests.yaml", text)


def history(project: Path) -> list[sqlite3.Row]:
    con = sqlite3.connect(project / ".promptlab" / "promptlab.db")
    con.row_factory = sqlite3.Row
    try:
        return con.execute("SELECT * FROM calls ORDER BY id").fetchall()
    finally:
        con.close()


def test_an_answer_with_a_lone_surrogate_is_recorded_and_reported(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    # JSON may carry a "\ud800" escape; UTF-8 (SQLite, report files) cannot encode it.
    fake_bedrock.script(MICRO, text="half \ud800 a pair")
    suite(project, "tests:\n  - {name: a, vars: {text: x}, assert: [{contains: whole}]}\n")
    result = cli("test", "-m", "nova-micro", "--json", "r.json", "--markdown", "r.md",
                 "--junit", "r.xml")  # fmt: skip
    assert result.exit_code == 1, result.output  # a failing case: its output is in every report
    data = json.loads((project / "r.json").read_text("utf-8"))
    assert data["cases"][0]["output"] == "half \ufffd a pair"
    assert "half \ufffd a pair" in (project / "r.md").read_text("utf-8")
    system_out = ET.parse(project / "r.xml").getroot().find(".//system-out")
    assert system_out is not None and system_out.text == "half \ufffd a pair"
    (row,) = history(project)
    assert row["output"] == "half \ufffd a pair"

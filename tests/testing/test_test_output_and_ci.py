"""What `promptlab test` shows and writes: pinned models, the plan line, -v, the table, hints,
resume counts, CI progress and annotations, report paths, shard merges."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from promptlab.results import ErrorInfo, Result
from promptlab.testing import AssertionOutcome, BaselineDiff, CaseOutcome, Sample, TestRun
from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

ECHOER = 'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'
LONG = "render-email-carries-order-and-policy-for-a-very-long-case-name"


def suite(project: Path, body: str, prompt: str = ECHOER) -> None:
    write(project / "prompts" / "echoer.yaml", prompt)
    write(project / "prompts" / "echoer.tests.yaml", body)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def outcome(
    case: str,
    status: str = "fail",
    reason: str = "contains: 'x' not found",
    error: ErrorInfo | None = None,
    where: str = "prompts/p.tests.yaml:4",
) -> CaseOutcome:
    r = Result(prompt_name="p", prompt_version="1.0.0", prompt_hash="h", model_alias="echo",
               model_id="echo", region=None, params={}, request={}, output="the answer",
               error=error)  # fmt: skip
    a = AssertionOutcome("contains", "contains", status == "pass", 1.0 if status == "pass" else 0,
                         1, reason)  # fmt: skip
    s = Sample(r, status, a.score, "" if status == "pass" else reason, [] if error else [a])
    return CaseOutcome({"name": "p", "version": "1.0.0", "hash": "h", "path": "prompts/p.yaml"},
                       case, "echo", "echo", 1, 1.0, [s], where=where, status=status,
                       reason="" if status == "pass" else reason)  # fmt: skip


# ---------------------------------------------------------------- pinned models, plan line


def test_dry_run_estimates_the_cost_and_counts_grader_calls(project: Path, cli: Cli) -> None:
    prompt = ECHOER + "inference: {max_tokens: 100}\n"
    suite(project, "tests:\n"
          "  - {name: graded, vars: {text: hello there}, assert: [{judge: polite}]}\n",
          prompt)  # fmt: skip
    result = cli("test", "-m", "nova-micro", "--repeat", "3", "--dry-run")
    assert result.exit_code == 0, result.output
    last = result.stdout.splitlines()[-1]
    # 3 calls of ~3 input tokens at $0.000035/1K in, and up to 100 tokens at $0.00014/1K out
    assert "estimated cost: input $0.00000030," in last
    assert "worst case with output $0.000042" in last
    assert "plus 3 grader call(s) (judge, similar, apply-guardrail)" in last
    assert result.stdout.splitlines()[0].endswith("  prompts/echoer.tests.yaml:2")  # relative
    once = cli("test", "-m", "nova-micro", "--dry-run")
    assert "plus 1 grader call(s)" in once.stdout.splitlines()[-1]


def test_minus_m_keeps_a_cases_own_models_unless_override_pinned(project: Path, cli: Cli) -> None:
    suite(project, "tests:\n"
          "  - {name: render, models: [echo], vars: {text: x}, assert: [{contains: x}]}\n"
          "  - {name: real, vars: {text: x}, assert: [{contains: x}]}\n")  # fmt: skip
    result = cli("test", "-m", "nova-micro", "--repeat", "5", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(x.startswith("echoer/render × echo ") for x in lines)
    assert not any(x.startswith("echoer/render × nova-micro") for x in lines)
    assert "10 call(s): 5 on real models (billed), 5 offline (free)" in lines[-2]
    assert "1 case(s) keep the models of their own 'models:'" in result.stderr
    everything = cli("test", "-m", "nova-micro", "--repeat", "5", "--dry-run",
                     "--override-pinned")  # fmt: skip
    assert "10 call(s): 10 on real models (billed)" in everything.stdout


def test_an_unknown_minus_m_is_rejected_even_when_every_case_is_pinned(
    project: Path, cli: Cli
) -> None:
    suite(project, "tests:\n  - {name: a, models: [echo], vars: {text: x}}\n")
    result = cli("test", "-m", "no-such-model", "--dry-run")
    assert result.exit_code == 2 and "-m:" in result.stderr


# ---------------------------------------------------------------- -v, table, hints


def test_verbose_lists_every_assertion_with_score_and_the_output(project: Path, cli: Cli) -> None:
    suite(
        project,
        "tests:\n  - name: a\n    vars: {text: Hi Bob}\n"
        "    assert: [{contains: Bob}, {contains: Ana, name: names-ana}, {starts-with: Yo}]\n",
    )
    plain = cli("test", "-m", "echo", "--no-log")
    assert "starts-with" not in plain.stdout  # the table shows the first failing assertion only
    result = cli("test", "-m", "echo", "--no-log", "-v")
    assert result.exit_code == 1
    out = result.stdout
    assert "✓ contains  score 1.00  weight 1" in out
    assert "✗ names-ana [contains]  score 0.00" in out and "'Ana' not found" in out
    assert "✗ starts-with  score 0.00" in out
    assert "output:" in out and "      Hi Bob" in out
    assert out.index("FAIL echoer/a@echo") > out.index("┃ Case")  # after the table


def test_case_names_are_never_wrapped_in_the_table() -> None:
    from rich.console import Console

    from promptlab.views.testreport import render_summary

    for width in (80, 120, 200):
        screen = io.StringIO()
        run = TestRun([outcome(LONG, reason="a long reason " * 12), outcome("b", "pass")])
        render_summary(Console(file=screen, width=width), run)
        assert f"p/{LONG}" in screen.getvalue(), width


def test_the_quick_grid_draws_the_new_table_exactly_as_rich_does() -> None:
    from rich.console import Console

    from promptlab.views import grid
    from promptlab.views.testreport import render_summary

    run = TestRun([outcome(f"{LONG}-{i}", "fail" if i % 3 else "pass") for i in range(25)])
    drawn = io.StringIO()
    render_summary(Console(file=drawn, width=250), run)
    assert grid._grid  # the long table went through the quick path; Rich must agree
    by_rich = io.StringIO()
    original = grid.MIN_ROWS
    try:
        grid.MIN_ROWS = 10_000
        render_summary(Console(file=by_rich, width=250), run)
    finally:
        grid.MIN_ROWS = original
    assert drawn.getvalue() == by_rich.getvalue()


def test_errored_cases_show_the_calls_hint() -> None:
    from rich.console import Console

    from promptlab.views.testreport import render_summary, to_markdown

    err = ErrorInfo("AccessDeniedException", "You don't have access.",
                    "enable model access in the Bedrock console", True)  # fmt: skip
    run = TestRun([outcome("a", "error", "model error: AccessDeniedException: no", error=err)])
    screen = io.StringIO()
    render_summary(Console(file=screen, width=250), run)
    assert "hint: enable model access in the Bedrock console" in screen.getvalue()
    assert "hint: enable model access" in to_markdown(run)


def test_invalid_model_identifier_is_infrastructure_exit_3(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    suite(project, "tests:\n  - {name: a, vars: {text: x}, assert: [{contains: x}]}\n")
    fake_bedrock.script("amazon.nova-micro-v1:0", fail=99, status=400,
                        error="ValidationException",
                        message="The provided model identifier is invalid.")  # fmt: skip
    result = cli("test", "-m", "nova-micro", "--no-log", "-v")
    assert result.exit_code == 3, result.output
    assert "hint: unknown model id 'amazon.nova-micro-v1:0'" in result.stdout


def test_resume_says_how_many_calls_were_reused(project: Path, cli: Cli) -> None:
    suite(project, "tests:\n  - {name: a, vars: {text: x}, assert: [{contains: x}]}\n"
          "  - {name: b, vars: {text: y}, assert: [{contains: y}]}\n")  # fmt: skip
    first = cli("test", "-m", "echo", "--no-cache")
    assert first.exit_code == 0, first.output
    again = cli("test", "-m", "echo", "--no-cache", "--resume", "last")
    assert again.exit_code == 0, again.output
    assert "reused 2 finished call(s); 0 call(s) made now" in again.stderr


def test_latency_delta_never_prints_a_negative_zero() -> None:
    from promptlab.views.testreport import delta_ms

    diff = BaselineDiff("b.json", latency_ms=100.2, baseline_latency_ms=100.4)
    assert delta_ms(diff) == "100 ms → 100 ms (0 ms)"
    assert delta_ms(BaselineDiff("b.json", latency_ms=0.0, baseline_latency_ms=0.0)) == "–"
    assert delta_ms(BaselineDiff("b.json", latency_ms=90.0, baseline_latency_ms=100.0)) == (
        "100 ms → 90 ms (-10 ms)")  # fmt: skip


# ---------------------------------------------------------------- CI


def test_plain_progress_prints_failures_and_a_count_every_few_seconds() -> None:
    from promptlab.views.testreport import PlainProgress

    now = [0.0]
    log = io.StringIO()
    progress = PlainProgress(log, every=10, clock=lambda: now[0])
    progress.start(600, 600, "600 call(s): 600 on real models (billed)")
    for i in range(123):
        now[0] += 0.2
        progress.case(outcome(f"c{i}", "fail" if i in (5, 50) else "pass"))
    progress.finish()
    lines = log.getvalue().splitlines()
    assert lines[0] == "running 600 case(s) × model(s): 600 call(s): 600 on real models (billed)"
    assert lines[1].startswith("[6/600] FAIL p/c5@echo — contains: 'x' not found")
    assert "(prompts/p.tests.yaml:4)" in lines[1]
    assert lines[-1] == "[123/600] 121 passed, 2 failed"
    assert 4 <= len(lines) <= 8  # not one line per call


def test_github_actions_gets_error_annotations_at_the_failing_case(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(project))
    suite(project, "tests:\n  - {name: ok, vars: {text: x}, assert: [{contains: x}]}\n"
          "  - {name: bad, vars: {text: x}, assert: [{contains: y}]}\n")  # fmt: skip
    result = cli("test", "-m", "echo", "--no-log")
    assert result.exit_code == 1
    notes = [x for x in result.stdout.splitlines() if x.startswith("::")]
    assert notes == ["::error file=prompts/echoer.tests.yaml,line=3,title=promptlab test::"
                     "FAIL echoer/bad@echo: contains: 'y' not found"]  # fmt: skip


# ---------------------------------------------------------------- report files


def test_reports_use_project_relative_paths_and_junit_lines(project: Path, cli: Cli) -> None:
    suite(project, "tests:\n  - {name: ok, vars: {text: x}, assert: [{contains: x}]}\n"
          "  - {name: bad, vars: {text: x}, assert: [{contains: y}]}\n")  # fmt: skip
    result = cli("test", str(project / "prompts"), "-m", "echo", "--no-log", "--json", "r.json",
                 "--junit", "r.xml", "--markdown", "r.md")  # fmt: skip
    assert result.exit_code == 1, result.output
    cases = {c["case"]: c for c in load(project / "r.json")["cases"]}
    assert cases["bad"]["where"] == "prompts/echoer.tests.yaml:3"
    assert cases["bad"]["prompt"]["path"] == "prompts/echoer.yaml"
    junit = {t.get("name"): t for t in ET.parse(project / "r.xml").getroot().iter("testcase")}
    assert junit["bad [echo]"].get("file") == "prompts/echoer.tests.yaml"
    assert junit["bad [echo]"].get("line") == "3"
    md = (project / "r.md").read_text("utf-8")
    assert "(prompts/echoer.tests.yaml:3)" in md and str(project) not in md


def test_merge_of_an_incomplete_set_of_shards_fails_or_warns(project: Path, cli: Cli) -> None:
    suite(project, "tests:\n" + "".join(
        f"  - {{name: c{i}, vars: {{text: ok}}, assert: [{{contains: ok}}]}}\n"
        for i in range(8)))  # fmt: skip
    for i in (1, 2, 3):
        assert cli("test", "-m", "echo", "--no-log", "--shard", f"{i}/3",
                   "--json", f"s{i}.json").exit_code == 0  # fmt: skip
    partial = cli("report", "merge", "s1.json", "s3.json", "--json", "m.json")
    assert partial.exit_code == 2
    assert "missing 2/3" in partial.stderr and not (project / "m.json").exists()
    allowed = cli("report", "merge", "s3.json", "s1.json", "--allow-partial", "--json", "m.json")
    assert allowed.exit_code == 0
    assert "partial merge: shard(s) 2/3 missing" in allowed.stderr
    assert load(project / "m.json")["shard"] == "1/3, 3/3"
    whole = cli("report", "merge", "s3.json", "s1.json", "s2.json", "--json", "all.json")
    assert whole.exit_code == 0
    data = load(project / "all.json")
    assert data["shard"] is None
    assert [c["case"] for c in data["cases"]] == [f"c{i}" for i in range(8)]  # sorted
    mixed = cli("report", "merge", "s1.json", "--allow-partial")
    assert mixed.exit_code == 0
    write(project / "s4.json", (project / "s1.json").read_text("utf-8").replace('"1/3"', '"1/4"'))
    other = cli("report", "merge", "s1.json", "s4.json", "--allow-partial")
    assert other.exit_code == 2 and "different splits" in other.stderr

"""Inputs that would take unbounded time or memory are refused with one line, at once."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import Cli, sigint_default, write


def _template_prompt(expression: str) -> str:
    return f'version: "1.0.0"\ninput: |\n  {expression}\n'


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ 'a' * 10**9 }}", "repeating 1 × 1,000,000,000"),
        ("{{ [1] * 10**9 }}", "repeating 1 × 1,000,000,000"),
        ("{{ 10 ** 10000000 }}", "a power over 4,300 digits"),
        ("{{ 10**4000 * 10**4000 }}", "a product over 4,300 digits"),
        ("{{ '%0999999999d' % 1 }}", "a %-format pads to 999,999,999 characters"),
        ("{{ '{:>999999999}'.format(1) }}", "'format' pads to 999,999,999 characters"),
        ("{{ '%0999999999d'|format(1) }}", "filter 'format' pads to 999,999,999 characters"),
        ("{{ 'a'|center(10**9) }}", "filter 'center' is given 1,000,000,000"),
        ("{{ 'a'.ljust(10**9) }}", "'ljust' is given 1,000,000,000"),
        ("{{ ('a' * 1000000).replace('a', 'aaaaaaaaaa') }}", "'replace' makes 10,000,000"),
        (
            "{% set ns = namespace(s='a') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}"
            "{% endfor %}",
            "'~' makes a value of 4,194,304 items",
        ),
        (
            "{% set l = [1] %}{% for i in range(60) %}{{ l.extend(l) or '' }}{% endfor %}",
            "'extend' makes a value of 4,194,304 items",
        ),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}xxxxxxxxxx{% endfor %}"
            "{% endfor %}",
            "the rendered text is over 4,000,000 characters",
        ),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "loops ran over 1,000,000 steps",
        ),
    ],
)
def test_a_template_that_grows_without_bound_is_refused_at_its_line(
    cli: Cli, project: Path, template: str, reason: str
) -> None:
    write(project / "p.yaml", _template_prompt(template))
    result = cli("render", "p.yaml")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    line = 2 if "rendered text" in reason else 3  # the section's key, or the expression's line
    assert lines[0].startswith(f"error: p.yaml:{line}: section 'input' was refused by the sandbox")
    assert reason in lines[0]


def test_ordinary_arithmetic_and_formatting_still_render(cli: Cli, project: Path) -> None:
    template = "{{ 'ab' * 3 }} {{ 2 ** 10 }} {{ '%05d' % 7 }} {{ '{:>4}'.format(1) }}"
    template += " {{ 'x'|center(5) }}|"
    write(project / "p.yaml", _template_prompt(template))
    result = cli("render", "p.yaml")
    assert result.exit_code == 0, result.output
    assert "ababab 1024 00007    1   x  |" in result.output


def test_counted_loops_keep_their_loop_variables(cli: Cli, project: Path) -> None:
    template = ("{% for i in items recursive %}{{ i.n }}{% if i.c is defined %}[{{ loop(i.c) }}]"
                "{% endif %}{% endfor %} {% for a in [1, 2] %}{{ loop.index }}/{{ loop.length }} "
                "{% endfor %}{% for x in [] %}x{% else %}empty{% endfor %} "
                "{% for x in [1, 2, 3] if x > 1 %}{{ x }}{% endfor %}")  # fmt: skip
    write(project / "p.yaml", _template_prompt(template) + "variables:\n  items: {type: list, "
          "default: [{n: 1, c: [{n: 2}]}, {n: 3}]}\n")  # fmt: skip
    result = cli("render", "p.yaml")
    assert result.exit_code == 0, result.output
    assert "1[2]3 1/2 2/2 empty 23" in result.output


def _limit_memory() -> None:
    """A child that would build a gigabyte string fails instead of swapping the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (1024**3, 1024**3))


def test_lint_of_a_directory_with_a_huge_template_finishes_in_small_memory(project: Path) -> None:
    prompts = project / "prompts"
    write(prompts / "ok.yaml", 'version: "1.0.0"\ninput: hi\n')
    write(prompts / "huge.yaml", _template_prompt("{{ 'a' * 10**10 }}{{ [0] * 10**10 }}"))
    command = [sys.executable, "-m", "promptlab", "lint", "prompts"]
    result = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=60,
                            preexec_fn=_limit_memory)  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "prompts/huge.yaml:3: error: section 'input' was refused by the sandbox" in (
        result.stdout
    )
    assert "MemoryError" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (["-j", str(10**30)], f"error: --concurrency: '{10**30}': at most 256 calls at once"),
        (["-j", "default=8,echo=100000"], "error: --concurrency: 'echo=100000': at most 256"),
        (["env", "10000000"], "PROMPTLAB_CONCURRENCY='10000000' is not valid: '10000000': at most"),
        (["file", "concurrency: 10000000"], "promptlab.yaml:1: 'concurrency': expected a positive "
         "integer up to 256, got 10000000"),
        (["file", "concurrency: {echo: 100000}"], "promptlab.yaml:1: concurrency 'echo': expected "
         "a positive integer up to 256, got 100000"),
    ],
)  # fmt: skip
def test_concurrency_over_the_maximum_is_refused_before_any_call(
    cli: Cli, project: Path, monkeypatch: pytest.MonkeyPatch, setting: list[str], message: str
) -> None:
    write(project / "p.yaml", 'version: "1.0.0"\ninput: hi\n')
    args = ["run", "p.yaml", "-m", "echo", "--dry-run"]
    if setting[0] == "env":
        monkeypatch.setenv("PROMPTLAB_CONCURRENCY", setting[1])
    elif setting[0] == "file":
        write(project / "promptlab.yaml", setting[1] + "\n")
    else:
        args += setting
    result = cli(*args)
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    ("suite", "args", "message"),
    [
        ("defaults:\n  repeat: 1000000000\n", [], "p.tests.yaml:2: error: 'repeat' must be a "
         "positive integer up to 1,000, got 1000000000"),
        ("", ["--repeat", "1000000000"], "error: --repeat: at most 1,000, got 1,000,000,000"),
    ],
)  # fmt: skip
def test_repeat_over_the_maximum_is_refused_also_in_a_dry_run(
    cli: Cli, project: Path, suite: str, args: list[str], message: str
) -> None:
    write(project / "p.yaml", 'version: "1.0.0"\ninput: hi\n')
    write(project / "p.tests.yaml", suite + "tests:\n  - name: one\n    assert: [{type: contains, "
          "value: hi}]\n")  # fmt: skip
    result = cli("test", "p.yaml", "-m", "echo", "--dry-run", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "1000 call" not in result.output


CATASTROPHIC = (
    "tests:\n  - name: catastrophic\n    repeat: {repeat}\n    vars: {{s: {text}}}\n"
    "    assert:\n      - type: regex\n        value: '(a|aa)+$'\n"
    "  - name: fine\n    vars: {{s: hello}}\n    assert: [{{type: regex, value: 'h.llo'}}]\n"
)


def _catastrophic_suite(project: Path, repeat: int) -> None:
    write(project / "p.yaml", 'version: "1.0.0"\ninput: "{{ s }}"\nvariables:\n  s: {}\n')
    write(project / "p.tests.yaml", CATASTROPHIC.format(repeat=repeat, text="a" * 3000 + "b"))


def test_a_regex_that_backtracks_without_end_fails_its_check_after_the_time_limit(
    cli: Cli, project: Path
) -> None:
    _catastrophic_suite(project, repeat=1)
    result = cli("test", "p.yaml", "-m", "echo", "--json", "r.json")
    assert result.exit_code == 1
    report = json.loads((project / "r.json").read_text("utf-8"))
    status = {c["case"]: c["status"] for c in report["cases"]}
    assert status == {"catastrophic": "fail", "fine": "pass"}
    reason = report["cases"][0]["samples"][0]["assertions"][0]["reason"]
    assert reason.startswith("/(a|aa)+$/ gave up after 1 s of matching")


def test_a_negated_regex_that_runs_out_of_time_does_not_pass(cli: Cli, project: Path) -> None:
    _catastrophic_suite(project, repeat=1)
    suite = (
        (project / "p.tests.yaml").read_text("utf-8").replace("type: regex", "type: not-regex", 1)
    )
    write(project / "p.tests.yaml", suite)
    assert cli("test", "p.yaml", "-m", "echo").exit_code == 1


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_ctrl_c_ends_a_run_stuck_in_backtracking_regexes_promptly(project: Path) -> None:
    _catastrophic_suite(project, repeat=400)  # minutes of regex time, even with the limit
    proc = subprocess.Popen([sys.executable, "-m", "promptlab", "test", "p.yaml", "-m", "echo"],
                            cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=sigint_default)  # fmt: skip
    try:
        time.sleep(4)  # started, and matching
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        proc.communicate(timeout=60)
        waited = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert waited < 20  # the checks under way finish within their limit; no new ones start


def test_a_json_schema_pattern_on_model_output_has_the_same_time_limit(
    cli: Cli, project: Path
) -> None:
    write(project / "p.yaml", 'version: "1.0.0"\ninput: "{{ s }}"\nvariables:\n  s: {}\n')
    answer = '{"code": "' + "a" * 3000 + 'b"}'
    write(project / "p.tests.yaml", "tests:\n  - name: shaped\n    vars: {s: '" + answer + "'}\n"
          "    assert:\n      - type: json-schema\n        value: {type: object, properties: "
          "{code: {type: string, pattern: '(a|aa)+$'}}}\n")  # fmt: skip
    result = cli("test", "p.yaml", "-m", "echo", "--json", "r.json")
    assert result.exit_code == 1
    report = json.loads((project / "r.json").read_text("utf-8"))
    reason = report["cases"][0]["samples"][0]["assertions"][0]["reason"]
    assert "/(a|aa)+$/ gave up after 1 s of matching" in reason

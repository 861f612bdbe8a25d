"""`promptlab lint`: every problem in every file, file:line, exit 1; usage errors exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO, Cli, write

OK = 'version: "1.0.0"\ninstructions: Be brief.\ninput: "{{ who }}"\nvariables:\n  who: {}\n'


def test_shipped_examples_and_suites_pass_lint(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # python: assertions are resolved from the project root
    result = cli("lint")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    checked = int(result.stderr.split()[0])
    assert checked >= 6  # three prompts, three suites
    assert "file(s) OK" in result.stderr


def test_default_path_is_the_prompts_dir(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "a.yaml", OK)
    result = cli("lint")
    assert result.exit_code == 0, result.output
    assert "1 file(s) OK" in result.stderr


def test_reports_every_problem_across_files_then_exits_1(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "good.yaml", OK)
    write(project / "prompts" / "a.yaml", 'version: "1.0.0"\ninstruction: x\ninput: y\n')
    write(project / "prompts" / "sub" / "b.yaml", "version: 2\ninput: hi\nlayout: html\n")
    write(project / "prompts" / "c.yaml", "- not a mapping\n")
    result = cli("lint")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stdout.splitlines()
    assert lines == [
        "prompts/a.yaml:2: error: unknown key 'instruction' — did you mean 'instructions'?",
        "prompts/c.yaml:1: error: top level is a list, expected a mapping of keys — start with"
        " 'version: \"1.0.0\"' and the prompt sections (run 'promptlab init' for a documented"
        " example)",
        "prompts/sub/b.yaml:1: error: 'version' must be a quoted string, got 2"
        ' — e.g. version: "1.0.0"',
        "prompts/sub/b.yaml:3: error: 'layout' must be one of xml, markdown, got 'html'"
        " — xml: <context>...</context> blocks; markdown: '## Context' headings",
    ]
    assert "4 problem(s) in 3 of 4 file(s)" in result.stderr


def test_variable_used_but_not_declared(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "u.yaml",
        'version: "1.0.0"\ninstructions: Be brief.\ncontext: |\n  {{ topic }}\ninput: x\n',
    )
    result = cli("lint")
    assert result.exit_code == 1
    assert result.stdout.strip() == (
        "prompts/u.yaml:3: error: variable 'topic' is used in 'context' but not declared"
        " — add it under 'variables:' (e.g. topic: {type: string})"
    )


def test_variable_declared_but_never_used(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "d.yaml", OK + "  tone: {default: calm}\n")
    result = cli("lint")
    assert result.exit_code == 1
    assert result.stdout.strip() == (
        "prompts/d.yaml:6: error: variable 'tone' is declared but never used"
        " — use it in a section or remove the declaration"
    )


def test_variables_used_in_partials_and_loops_count(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "_partials" / "tone.j2", "Tone: {{ tone }}")
    write(
        project / "prompts" / "p.yaml",
        'version: "1.0.0"\ninstructions: |\n  {% include "_partials/tone.j2" %}\n'
        "input: |\n  {% for item in items %}{{ item }}{% endfor %}\n"
        "variables:\n  tone: {}\n  items: list\n",
    )
    result = cli("lint")
    assert result.exit_code == 0, result.output


def test_missing_version(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "v.yaml", "input: hi\n")
    result = cli("lint")
    assert result.exit_code == 1
    assert result.stdout.startswith("prompts/v.yaml:1: error: missing 'version'")


def test_invalid_versions(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "a.yaml", 'version: "1.0"\ninput: hi\n')
    write(project / "prompts" / "b.yaml", "version: 1.2\ninput: hi\n")
    write(project / "prompts" / "c.yaml", 'version: "v1.0.0"\ninput: hi\n')
    write(project / "prompts" / "d.yaml", 'version: "1.0.0-rc.1+build.5"\ninput: hi\n')
    result = cli("lint")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("prompts/a.yaml:1: error: 'version' '1.0' is not a semantic version")
    assert lines[1] == (
        "prompts/b.yaml:1: error: 'version' must be a quoted string, got 1.2"
        ' — write version: "1.2.0"'
    )
    assert lines[2].startswith("prompts/c.yaml:1: error: 'version' 'v1.0.0' is not a semantic")
    assert len(lines) == 3  # d.yaml is valid semver


def test_include_outside_root_and_python_internals_are_flagged(project: Path, cli: Cli) -> None:
    write(project / "secret.txt", "x")
    write(
        project / "prompts" / "inc.yaml",
        "version: \"1.0.0\"\ninput: |\n  {% include '../secret.txt' %}\n",
    )
    write(project / "prompts" / "mro.yaml", 'version: "1.0.0"\ninput: "{{ \'\'.__class__ }}"\n')
    result = cli("lint")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "prompts/inc.yaml:3: error: include '../secret.txt' not found inside the prompts root"
    )
    assert lines[1].startswith(
        "prompts/mro.yaml:2: error: section 'input' reaches for Python internals ('__class__')"
    )


def test_dynamic_include_is_only_a_warning(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "_partials" / "a.j2", "A")
    write(
        project / "prompts" / "dyn.yaml",
        'version: "1.0.0"\ninput: "{% include part %}"\n'
        "variables:\n  part: {default: _partials/a.j2}\n",
    )
    result = cli("lint")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("prompts/dyn.yaml:2: warning: section 'input' includes")


def test_trial_render_with_examples_finds_runtime_errors(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "rt.yaml",
        'version: "1.0.0"\ninput: |\n  Order {{ order.id }}\n  Total {{ order.total }}\n'
        "variables:\n  order:\n    type: object\n    example: {id: 7}\n",
    )
    result = cli("lint")
    assert result.exit_code == 1
    assert result.stdout.startswith("prompts/rt.yaml:4: error: section 'input':")
    assert "total" in result.stdout


def test_partials_dirs_are_skipped_and_suites_are_checked_as_suites(
    project: Path, cli: Cli
) -> None:
    write(project / "prompts" / "a.yaml", OK)
    write(project / "prompts" / "_partials" / "notes.yaml", "not: a prompt\n")
    good = "prompt: a.yaml\ntests:\n  - name: t\n    vars: {who: x}\n    assert: [{contains: x}]\n"
    write(project / "prompts" / "a.tests.yaml", good)
    result = cli("lint")
    assert result.exit_code == 0, result.output
    assert "2 file(s) OK" in result.stderr
    write(project / "prompts" / "a.tests.yaml", good.replace("contains", "contians"))
    result = cli("lint")
    assert result.exit_code == 1
    assert result.stdout.startswith("prompts/a.tests.yaml:5: error: unknown assertion type")
    assert "did you mean 'contains'?" in result.stdout


def test_nonexistent_path_is_a_usage_error(project: Path, cli: Cli) -> None:
    result = cli("lint", "nowhere")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: nowhere: no such file or directory — pass a prompt file or directory"
    )


def test_lint_single_file_and_yml_extension(project: Path, cli: Cli) -> None:
    path = write(project / "elsewhere" / "one.yml", OK)
    result = cli("lint", str(path))
    assert result.exit_code == 0, result.output


def test_runtime_error_in_a_partial_is_reported_not_raised(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "_partials" / "p.j2", "first\n{{ n + 'x' }}\n")
    write(
        project / "prompts" / "c.yaml",
        'version: "1.0.0"\ninput: |\n  {% include "_partials/p.j2" %}\n'
        "variables:\n  n: {type: integer, example: 3}\n",
    )
    result = cli("lint")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stdout.startswith(
        "prompts/_partials/p.j2:2: error: partial included by 'input' failed: TypeError:"
    )
    assert "(rendering prompts/c.yaml with its defaults and examples)" in result.stdout


def test_problems_in_a_shared_partial_are_reported_once_at_its_line(
    project: Path, cli: Cli
) -> None:
    write(project / "prompts" / "_partials" / "bad.j2", "ok\n{{ who.__class__ }}\n")
    for name in ("a", "b"):
        write(
            project / "prompts" / f"{name}.yaml",
            'version: "1.0.0"\ninput: |\n  {% include "_partials/bad.j2" %}\n'
            "variables:\n  who: string\n",
        )
    result = cli("lint")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "prompts/_partials/bad.j2:2: error: partial '_partials/bad.j2' reaches for Python"
        " internals ('__class__'); the sandbox refuses it — templates may only use variables,"
        " filters and tests"
    ]


def test_missing_include_inside_a_partial_points_at_the_partial(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "_partials" / "outer.j2", "a\nb\n{% include '_partials/gone.j2' %}")
    write(
        project / "prompts" / "x.yaml",
        "version: \"1.0.0\"\ninput: |\n  {% include '_partials/outer.j2' %}\n",
    )
    result = cli("lint")
    assert result.exit_code == 1
    assert result.stdout.startswith(
        "prompts/_partials/outer.j2:3: error: include '_partials/gone.j2' not found"
    )


def test_imports_are_checked_and_ignore_missing_is_allowed(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "_partials" / "m.j2", "{% macro hi(x) %}Hi {{ x }}{% endmacro %}")
    write(
        project / "prompts" / "ok.yaml",
        'version: "1.0.0"\ninput: |\n  {% import "_partials/m.j2" as m %}{{ m.hi(who) }}\n'
        '  {% include "_partials/optional.j2" ignore missing %}\n'
        "variables:\n  who: {example: Ann}\n",
    )
    assert cli("lint").exit_code == 0
    write(
        project / "prompts" / "bad.yaml",
        'version: "1.0.0"\ninput: |\n  {% from "_partials/nope.j2" import hi %}{{ hi(1) }}\n',
    )
    result = cli("lint")
    assert result.exit_code == 1
    assert result.stdout.startswith(
        "prompts/bad.yaml:3: error: include '_partials/nope.j2' not found"
    )

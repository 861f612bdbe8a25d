"""Every bad input to `render`: one clear line naming the file (and line) and the fix, exit 2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import Result

from promptlab import yamlfile
from tests.conftest import Cli, write

GOOD = 'version: "1.0.0"\ninstructions: Be brief.\ninput: "Hi {{ who }}"\nvariables:\n  who: {}\n'


def error_lines(result: Result) -> list[str]:
    """The error output; asserts the shape every bad input must have."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "no error message"
    for line in lines:
        assert " — " in line, f"no hint in: {line}"  # every message carries the fix
    return lines


def one_line(result: Result) -> str:
    lines = error_lines(result)
    assert len(lines) == 1, lines
    return lines[0]


def test_missing_file_names_the_path(project: Path, cli: Cli) -> None:
    line = one_line(cli("render", "prompts/nope.yaml"))
    assert line.startswith("prompts/nope.yaml: error: prompt file not found")


def test_unknown_prompt_name_names_it(project: Path, cli: Cli) -> None:
    line = one_line(cli("render", "no-such-prompt"))
    assert line.startswith("no-such-prompt: error: prompt file not found")


def test_directory_is_refused_with_hint(project: Path, cli: Cli) -> None:
    line = one_line(cli("render", "prompts"))
    assert line.startswith("prompts: error: is a directory")
    assert "*.yaml" in line


def test_empty_file_points_at_the_format(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "empty.yaml", "")
    line = one_line(cli("render", "prompts/empty.yaml"))
    assert line.startswith("prompts/empty.yaml:1: error: empty prompt file")
    assert "version" in line


def test_comment_only_file_is_empty(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "c.yaml", "# nothing yet\n")
    assert "empty prompt file" in one_line(cli("render", "prompts/c.yaml"))


def test_non_utf8_bytes_name_the_line(project: Path, cli: Cli) -> None:
    (project / "prompts" / "latin1.yaml").write_bytes(b'version: "1.0.0"\ninput: caf\xe9\n')
    line = one_line(cli("render", "prompts/latin1.yaml"))
    assert line.startswith("prompts/latin1.yaml:2: error: not valid UTF-8")
    assert "save the file as UTF-8" in line


def test_yaml_syntax_error_names_the_line(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "bad.yaml", 'version: "1.0.0"\ninput: hi\n  context: [oops\n')
    line = one_line(cli("render", "prompts/bad.yaml"))
    assert line.startswith("prompts/bad.yaml:3: error: YAML syntax error")


def test_tab_indentation_is_a_yaml_error(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "tab.yaml", 'version: "1.0.0"\ninput:\n\t- x\n')
    line = one_line(cli("render", "prompts/tab.yaml"))
    assert line.startswith("prompts/tab.yaml:3: error: YAML syntax error")


@pytest.mark.parametrize(
    ("text", "kind"), [("- a\n- b\n", "a list"), ("just text\n", "a single value")]
)
def test_list_or_scalar_at_top_level(project: Path, cli: Cli, text: str, kind: str) -> None:
    write(project / "prompts" / "top.yaml", text)
    line = one_line(cli("render", "prompts/top.yaml"))
    assert line.startswith(f"prompts/top.yaml:1: error: top level is {kind}")
    assert "mapping" in line


def test_wrong_types_each_name_their_line(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "types.yaml",
        "version: 1.0\n"  # 1
        "instructions: Be brief.\n"  # 2
        "input: 42\n"  # 3
        "variables: [who]\n"  # 4
        "models: 7\n"  # 5
        "inference:\n"  # 6
        "  temperature: hot\n"  # 7
        "  max_tokens: -5\n",  # 8
    )
    lines = error_lines(cli("render", "prompts/types.yaml"))
    assert lines == [
        "prompts/types.yaml:1: error: 'version' must be a quoted string, got 1.0"
        ' — write version: "1.0.0"',
        "prompts/types.yaml:3: error: section 'input' must be a string (a Jinja2 template)"
        " — use a YAML block scalar: 'key: |' followed by indented text",
        "prompts/types.yaml:4: error: 'variables' must be a mapping of name → declaration"
        " — declare each variable as 'name: {type: string}'",
        "prompts/types.yaml:5: error: 'models' must be a list of model aliases or ids"
        " — e.g. models: [nova-micro, claude-haiku]",
        "prompts/types.yaml:7: error: 'temperature' must be a number between 0 and 1, got 'hot'"
        " — e.g. temperature: 0.2",
        "prompts/types.yaml:8: error: 'max_tokens' must be a positive integer, got -5"
        " — e.g. max_tokens: 1000",
    ]


def test_variable_declaration_errors_name_their_line(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "vars.yaml",
        'version: "1.0.0"\ninput: "{{ a }} {{ b }} {{ c }}"\nvariables:\n'
        "  a: {type: text}\n"  # 4
        "  b: {type: integer, default: many}\n"  # 5
        "  c: {type: string, enum: [x, y], example: z}\n",  # 6
    )
    lines = error_lines(cli("render", "prompts/vars.yaml"))
    assert lines[0].startswith("prompts/vars.yaml:4: error: variable 'a' has unknown type 'text'")
    assert lines[1].startswith("prompts/vars.yaml:5: error: default of variable 'b'")
    assert lines[2].startswith("prompts/vars.yaml:6: error: example of variable 'c'")
    assert "must be one of x, y" in lines[2]


def test_unknown_key_suggests_the_right_one(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "typo.yaml", 'version: "1.0.0"\ninstruction: Be nice\ninput: hi\n')
    line = one_line(cli("render", "prompts/typo.yaml"))
    assert line == (
        "prompts/typo.yaml:2: error: unknown key 'instruction' — did you mean 'instructions'?"
    )


def test_unknown_nested_keys_are_errors_too(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "nested.yaml",
        'version: "1.0.0"\ninput: "{{ x }}"\nvariables:\n  x: {typ: string}\n'
        "inference:\n  temprature: 0.2\n",
    )
    lines = error_lines(cli("render", "prompts/nested.yaml"))
    assert lines == [
        "prompts/nested.yaml:4: error: unknown key 'typ' in variable 'x' — did you mean 'type'?",
        "prompts/nested.yaml:6: error: unknown inference key 'temprature'"
        " — did you mean 'temperature'?",
    ]


def test_duplicate_key_is_an_error(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "dup.yaml", 'version: "1.0.0"\ninput: a\ninput: b\n')
    line = one_line(cli("render", "prompts/dup.yaml"))
    assert line.startswith("prompts/dup.yaml:3: error: duplicate key 'input'")


def test_missing_version_and_sections(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "bare.yaml", "description: nothing else\n")
    lines = error_lines(cli("render", "prompts/bare.yaml"))
    assert lines[0].startswith("prompts/bare.yaml:1: error: missing 'version'")
    assert lines[1].startswith(
        "prompts/bare.yaml:1: error: a prompt needs at least 'instructions', 'input' or 'messages'"
    )


def test_jinja_syntax_error_names_the_file_line(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "jinja.yaml",
        'version: "1.0.0"\n'  # 1
        "instructions: Be brief.\n"  # 2
        "input: |\n"  # 3
        "  First line\n"  # 4
        "  {% if x %}\n"  # 5
        "  {{ x }\n"  # 6
        "variables:\n  x: {}\n",
    )
    line = one_line(cli("render", "prompts/jinja.yaml"))
    assert line.startswith("prompts/jinja.yaml:6: error: Jinja syntax error in 'input'")
    assert "{% raw %}" in line  # the hint for literal braces


def test_unknown_filter_is_caught_at_load(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "f.yaml",
        'version: "1.0.0"\ninput: |\n  ok\n  {{ x | shout }}\nvariables:\n  x: {}\n',
    )
    line = one_line(cli("render", "prompts/f.yaml", "-v", "x=1"))
    assert line.startswith("prompts/f.yaml:4: error: Jinja syntax error in 'input'")
    assert "shout" in line


def test_undefined_variable_names_the_line(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "undef.yaml",
        'version: "1.0.0"\ninstructions: Be brief.\ninput: |\n  Hello\n  {{ who }}\n',
    )
    line = one_line(cli("render", "prompts/undef.yaml"))
    assert line.startswith("error: prompts/undef.yaml:5: section 'input': 'who' is undefined")
    assert "declare the variable under 'variables'" in line


def test_undefined_attribute_of_a_value(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "attr.yaml",
        'version: "1.0.0"\ninput: "{{ order.total }}"\nvariables:\n  order: {type: object}\n',
    )
    line = one_line(cli("render", "prompts/attr.yaml", "-v", 'order={"id": 1}'))
    assert line.startswith("error: prompts/attr.yaml:2: section 'input':")
    assert "total" in line


def test_missing_and_unknown_variables_list_every_offender(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "many.yaml",
        'version: "1.0.0"\ninput: "{{ a }} {{ b }} {{ c }}"\nvariables: {a: {}, b: {}, c: {}}\n',
    )
    line = one_line(cli("render", "prompts/many.yaml", "-v", "b=1", "-v", "x=1", "-v", "y=2"))
    assert "unknown variable(s): x, y (declared: a, b, c)" in line
    assert "missing required variable(s): a, c" in line
    assert line.endswith("— pass -v a=... -v c=...")


def test_value_of_wrong_type_is_named(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "n.yaml",
        'version: "1.0.0"\ninput: "{{ n }} {{ mode }}"\n'
        "variables:\n  n: integer\n  mode: {enum: [fast, slow]}\n",
    )
    line = one_line(cli("render", "prompts/n.yaml", "-v", "n=many", "-v", "mode=fast"))
    assert "variable 'n' must be an integer, got 'many'" in line
    line = one_line(cli("render", "prompts/n.yaml", "-v", "n=1", "-v", "mode=medium"))
    assert "'mode' must be one of fast, slow, got 'medium'" in line


def test_var_option_without_equals(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "hello.yaml", GOOD)
    line = one_line(cli("render", "prompts/hello.yaml", "-v", "who"))
    assert line == "error: -v 'who' is not key=value — write -v who=VALUE"


def test_vars_file_that_is_not_a_mapping(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "hello.yaml", GOOD)
    write(project / "vars.yaml", "- Ann\n- Bob\n")
    line = one_line(cli("render", "prompts/hello.yaml", "--vars", "vars.yaml"))
    assert line == (
        "vars.yaml:1: error: top level is a list, expected a mapping of keys"
        " — write one 'name: value' line per variable"
    )


def test_vars_file_missing_or_broken(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "hello.yaml", GOOD)
    line = one_line(cli("render", "prompts/hello.yaml", "--vars", "nope.yaml"))
    assert line.startswith("nope.yaml: error: vars file not found")
    write(project / "broken.yaml", "who: [Ann\n")
    line = one_line(cli("render", "prompts/hello.yaml", "--vars", "broken.yaml"))
    assert line.startswith("broken.yaml:2: error: YAML syntax error")


def test_vars_file_in_json_works(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "hello.yaml", GOOD)
    write(project / "vars.json", '{"who": "Ann"}')
    result = cli("render", "prompts/hello.yaml", "--vars", "vars.json")
    assert result.exit_code == 0, result.output
    assert "Hi Ann" in result.stdout


@pytest.mark.parametrize(
    "expr",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ x.__class__.__base__.__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ range.__globals__ }}",
    ],
)
def test_python_internals_are_refused_by_the_sandbox(project: Path, cli: Cli, expr: str) -> None:
    write(
        project / "prompts" / "evil.yaml",
        f'version: "1.0.0"\ninstructions: Be brief.\ninput: "{expr}"\nvariables:\n  x: {{}}\n',
    )
    result = cli("render", "prompts/evil.yaml", "-v", "x=hello")
    line = one_line(result)
    assert "object" not in result.stdout
    assert line.startswith("error: prompts/evil.yaml:3: ")
    assert "refused by the template sandbox" in line


def test_mro_is_refused_by_the_sandbox_not_merely_undefined(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "mro.yaml", 'version: "1.0.0"\ninput: "{{ \'\'.__class__ }}"\n')
    line = one_line(cli("render", "prompts/mro.yaml"))
    assert line.startswith(
        "error: prompts/mro.yaml:2: section 'input' was refused by the template sandbox"
    )
    assert "not Python internals" in line


@pytest.fixture
def outside(project: Path) -> Path:
    """A secret file next to (not inside) the prompts root."""
    secret = write(project / "secret.txt", "TOP-SECRET")
    write(project / "prompts" / "_partials" / "ok.j2", "shared text")
    return secret


@pytest.mark.parametrize("include", ["../secret.txt", "_partials/../../secret.txt", "ABSOLUTE"])
def test_include_outside_the_prompts_root_is_refused(
    project: Path, cli: Cli, outside: Path, include: str
) -> None:
    target = str(outside) if include == "ABSOLUTE" else include
    write(
        project / "prompts" / "inc.yaml",
        f"version: \"1.0.0\"\ninput: |\n  {{% include '{target}' %}}\n",
    )
    result = cli("render", "prompts/inc.yaml")
    line = one_line(result)
    assert "TOP-SECRET" not in result.output
    assert line.startswith("error: prompts/inc.yaml:3: section 'input': include")
    assert "not found inside the prompts root" in line


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinked_partial_leading_outside_is_refused(
    project: Path, cli: Cli, outside: Path
) -> None:
    link = project / "prompts" / "_partials" / "link.j2"
    try:
        link.symlink_to(outside)
    except OSError:
        pytest.skip("cannot create symlinks here")
    write(
        project / "prompts" / "sym.yaml",
        "version: \"1.0.0\"\ninput: |\n  {% include '_partials/link.j2' %}\n",
    )
    result = cli("render", "prompts/sym.yaml")
    assert "TOP-SECRET" not in result.output
    assert "include '_partials/link.j2' not found inside the prompts root" in one_line(result)


def test_include_inside_the_root_works(project: Path, cli: Cli, outside: Path) -> None:
    write(
        project / "prompts" / "sub" / "inc.yaml",
        "version: \"1.0.0\"\ninput: |\n  {% include '_partials/ok.j2' %}\n",
    )
    result = cli("render", "prompts/sub/inc.yaml")
    assert result.exit_code == 0, result.output
    assert "shared text" in result.stdout


def test_error_inside_a_partial_names_the_partial(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "_partials" / "p.j2", "line one\n{{ nope }}\n")
    write(
        project / "prompts" / "p.yaml",
        "version: \"1.0.0\"\ninput: |\n  {% include '_partials/p.j2' %}\n",
    )
    line = one_line(cli("render", "prompts/p.yaml"))
    assert line.startswith("error: prompts/_partials/p.j2:2: partial included by 'input': 'nope'")


def test_huge_file_is_refused_before_parsing(project: Path, cli: Cli) -> None:
    big = project / "prompts" / "big.yaml"
    big.write_text('version: "1.0.0"\ninput: "' + "x" * yamlfile.MAX_FILE_BYTES + '"\n')
    line = one_line(cli("render", "prompts/big.yaml"))
    assert line.startswith("prompts/big.yaml: error: file is ")
    assert f"over the {yamlfile.MAX_FILE_BYTES:,}-byte limit" in line
    assert "--vars" in line


def test_huge_vars_file_is_refused(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "hello.yaml", GOOD)
    (project / "big.yaml").write_text("who: " + "x" * yamlfile.MAX_FILE_BYTES + "\n")
    line = one_line(cli("render", "prompts/hello.yaml", "--vars", "big.yaml"))
    assert line.startswith("big.yaml: error: file is ")


def test_bad_format_option(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "hello.yaml", GOOD)
    line = one_line(cli("render", "prompts/hello.yaml", "-v", "who=A", "--format", "xml"))
    assert line.startswith("error: --format must be text or json")


def test_runtime_error_in_a_section_is_one_line_with_file_and_line(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "t.yaml",
        'version: "1.0.0"\ninput: |\n  first\n  {{ n + "x" }}\nvariables:\n  n: integer\n',
    )
    line = one_line(cli("render", "prompts/t.yaml", "-v", "n=3"))
    assert line.startswith("error: prompts/t.yaml:4: section 'input' failed: TypeError:")


def test_division_by_zero_in_a_partial_names_the_partial(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "_partials" / "calc.j2", "ok\n{{ 1 / n }}\n")
    write(
        project / "prompts" / "t.yaml",
        'version: "1.0.0"\ninput: |\n  {% include "_partials/calc.j2" %}\n'
        "variables:\n  n: integer\n",
    )
    line = one_line(cli("render", "t", "-v", "n=0"))
    assert line.startswith(
        "error: prompts/_partials/calc.j2:2: partial included by 'input' failed: ZeroDivisionError"
    )


def test_include_cycle_is_one_line(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "_partials" / "loop.j2", '{% include "_partials/loop.j2" %}')
    write(
        project / "prompts" / "t.yaml",
        'version: "1.0.0"\ninput: |\n  {% include "_partials/loop.j2" %}\n',
    )
    line = one_line(cli("render", "t"))
    assert "templates include each other without end" in line


def test_missing_variables_are_listed_even_when_another_value_is_wrong(
    project: Path, cli: Cli
) -> None:
    # The message for 'i' contains the letters 'a' and 'n': they must still be reported missing.
    write(
        project / "prompts" / "m.yaml",
        'version: "1.0.0"\ninput: "{{ a }} {{ i }} {{ n }}"\n'
        "variables:\n  a: string\n  i: integer\n  n: number\n",
    )
    line = one_line(cli("render", "m", "-v", "i=abc"))
    assert "missing required variable(s): a, n" in line
    assert "variable 'i' must be an integer, got 'abc'" in line


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity"])
def test_nan_and_infinity_are_not_numbers(project: Path, cli: Cli, value: str) -> None:
    write(
        project / "prompts" / "n.yaml",
        'version: "1.0.0"\ninput: "{{ r }}"\nvariables:\n  r: number\n',
    )
    line = one_line(cli("render", "n", "-v", f"r={value}"))
    assert "'r' must be a number" in line


def test_nan_from_a_vars_file_is_refused(project: Path, cli: Cli) -> None:
    write(
        project / "prompts" / "n.yaml",
        'version: "1.0.0"\ninput: "{{ r }}"\nvariables:\n  r: number\n',
    )
    write(project / "vars.yaml", "r: .nan\n")
    assert "'r' must be a number" in one_line(cli("render", "n", "--vars", "vars.yaml"))


def test_unknown_prompt_name_says_where_it_was_looked_for(project: Path, cli: Cli) -> None:
    line = one_line(cli("render", "no-such-prompt"))
    assert "no prompt named 'no-such-prompt' under prompts/" in line


def test_include_refusal_explains_what_is_refused(project: Path, cli: Cli) -> None:
    write(project / "secret.txt", "x")
    write(
        project / "prompts" / "t.yaml",
        'version: "1.0.0"\ninput: |\n  {% include "../secret.txt" %}\n',
    )
    line = one_line(cli("render", "t"))
    assert "'..', absolute paths and symlinks leading outside are refused" in line

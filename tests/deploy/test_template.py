"""What can be published: `{{ var }}` placeholders (partials expanded); everything else is
reported at file:line, decided by Jinja's parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptlab.deploy.shape import parse_description, parse_target
from promptlab.deploy.template import placeholder_templates
from promptlab.errors import PromptFileError, UsageError
from promptlab.prompt import load_prompt, render, resolve_vars
from tests.conftest import write


def prompt_file(root: Path, body: str, variables: str = "  name: {type: string}\n") -> Path:
    return write(root / "prompts/p.yaml", f'version: "1.0.0"\nvariables:\n{variables}{body}')


def problems(path: Path) -> list[str]:
    with pytest.raises(PromptFileError) as caught:
        placeholder_templates(load_prompt(path))
    return [f"{p.file}:{p.line}: {p.message}" for p in caught.value.problems]


def test_placeholders_render_like_promptlab(tmp_path: Path) -> None:
    write(tmp_path / "prompts/_partials/tone.j2", "Be kind to {{name}}.\n")
    path = prompt_file(
        tmp_path,
        'instructions: |\n  Hi.\n  {% include "_partials/tone.j2" %}\n  Bye.\n'
        "context: |\n  About {{ topic }}\ninput: '{{ name }}'\n",
        "  name: {type: string}\n  topic: {type: string}\n",
    )
    prompt = load_prompt(path)
    t = placeholder_templates(prompt)
    assert t.system == "Hi.\nBe kind to {{name}}.Bye."  # as promptlab renders it
    assert t.names == ("name", "topic")
    rendered = render(prompt, resolve_vars(prompt, None, {"name": "Ana", "topic": "tea"}))
    fill = {"{{name}}": "Ana", "{{topic}}": "tea"}
    system, user = t.system, t.user
    for k, v in fill.items():
        system, user = system.replace(k, v), user.replace(k, v)
    assert (system, user) == (rendered.system, rendered.user)
    assert user.startswith("<context>\nAbout tea\n</context>")


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ("{% if name %}x{% endif %}", "{% if %}"),
        ("{% for c in name %}{{ c }}{% endfor %}", "{% for %}"),
        ("{% set y = 1 %}", "{% set %}"),
        ("{{ name | upper }}", "the filter '| upper'"),
        ("{{ name.title }}", "attribute access '.title'"),
        ("{{ name ~ '!' }}", "the expression (Concat)"),
        ("{{ 'x' if name else 'y' }}", "an inline 'if ... else'"),
        ("{% raw %}{{ name }}{% endraw %}", "literal '{{' text (it would become a placeholder)"),
    ],
)
def test_constructs_are_reported_at_file_line(tmp_path: Path, line: str, what: str) -> None:
    path = prompt_file(tmp_path, f"instructions: |\n  ok {{{{ name }}}}\n  {line}\n")
    assert problems(path) == [
        f"{path}:6: section 'instructions': {what} cannot be published to Prompt Management"
    ]


def test_a_construct_in_a_partial_is_reported_in_the_partial(tmp_path: Path) -> None:
    write(tmp_path / "prompts/_p/x.j2", "one\ntwo {{ name | trim }}\n")
    path = prompt_file(tmp_path, 'input: |\n  {% include "_p/x.j2" %}\n')
    [found] = problems(path)
    assert found == (
        f"{tmp_path / 'prompts/_p/x.j2'}:2: partial '_p/x.j2': the filter '| trim' "
        "cannot be published to Prompt Management"
    )


def test_description_line_round_trip() -> None:
    origin = parse_description(
        "notes\npromptlab: greet 1.2.0 sha256:0123456789ab commit abcdef012345"
    )
    assert origin is not None
    assert (origin.name, origin.version, origin.hash, origin.commit) == (
        "greet",
        "1.2.0",
        "0123456789ab",
        "abcdef012345",
    )
    assert parse_description("made by hand") is None


def test_targets() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT1234"
    assert parse_target(f"bedrock-prompt:{arn}:12").version == "12"
    assert parse_target(arn).version is None
    assert parse_target("PROMPT1234:2").identifier == "PROMPT1234"
    with pytest.raises(UsageError):
        parse_target("arn:aws:bedrock:us-east-1:123456789012:prompt/short:1")

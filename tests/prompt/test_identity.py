"""A prompt's identity (name, version, content hash) and deterministic rendering."""

from __future__ import annotations

from pathlib import Path

from promptlab.prompt import Prompt, load_prompt, render, resolve_vars
from tests.conftest import Cli, write

BASE = """\
version: "1.0.0"
description: Greets people.
instructions: Be brief.
input: "Hi {{ who }}"
variables:
  who: {type: string, default: Ann}
inference: {temperature: 0.2}
"""


def _load(tmp_path: Path, text: str, name: str = "greet.yaml") -> Prompt:
    return load_prompt(write(tmp_path / "prompts" / name, text))


def test_identity_is_name_version_and_sha256(tmp_path: Path) -> None:
    p = _load(tmp_path, BASE)
    assert p.identity == {"name": "greet", "version": "1.0.0", "hash": p.content_hash}
    assert len(p.content_hash) == 64
    assert int(p.content_hash, 16) >= 0
    assert p.short_hash == p.content_hash[:12]


def test_name_defaults_to_file_stem_and_can_be_set(tmp_path: Path) -> None:
    assert _load(tmp_path, BASE, "hello-world.yaml").name == "hello-world"
    assert _load(tmp_path, "name: greeter\n" + BASE).name == "greeter"


def test_hash_ignores_comments_key_order_and_quoting(tmp_path: Path) -> None:
    reordered = """\
# a comment that changes nothing
inference:
  temperature: 0.2   # same value
variables:
  who:
    default: 'Ann'
    type: string
input: 'Hi {{ who }}'
instructions: >-
  Be brief.
description: "Greets people."
version: '1.0.0'
"""
    assert _load(tmp_path, BASE).content_hash == _load(tmp_path, reordered).content_hash


def test_hash_changes_with_any_content(tmp_path: Path) -> None:
    base = _load(tmp_path, BASE).content_hash
    changes = [
        BASE.replace("Be brief.", "Be brief!"),
        BASE.replace("0.2", "0.3"),
        BASE.replace("default: Ann", "default: Bob"),
        BASE.replace('"1.0.0"', '"1.0.1"'),
        BASE + "layout: markdown\n",
    ]
    hashes = {_load(tmp_path, text).content_hash for text in changes}
    assert base not in hashes
    assert len(hashes) == len(changes)


def test_hash_does_not_depend_on_file_name_or_location(tmp_path: Path) -> None:
    a = _load(tmp_path, BASE, "a.yaml")
    b = load_prompt(write(tmp_path / "elsewhere" / "b.yaml", BASE))
    assert a.content_hash == b.content_hash


def test_rendering_is_deterministic(tmp_path: Path) -> None:
    text = BASE.replace(
        'input: "Hi {{ who }}"',
        'input: "{% for k, v in data | dictsort %}{{ k }}={{ v }};{% endfor %} {{ tags | sort }}"',
    ).replace(
        "  who: {type: string, default: Ann}",
        "  data: {type: object}\n  tags: {type: list}",
    )
    p = _load(tmp_path, text)
    values = resolve_vars(p, {"data": {"b": 2, "a": 1, "c": 3}, "tags": ["z", "a"]})
    first = render(p, values)
    assert first.user == "a=1;b=2;c=3; ['a', 'z']"
    assert all(render(p, values) == first for _ in range(5))
    reloaded = _load(tmp_path, text)
    assert render(reloaded, values) == first


def test_render_header_shows_name_version_and_short_hash(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "greet.yaml", BASE)
    p = load_prompt(project / "prompts" / "greet.yaml")
    result = cli("render", "greet")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"# greet v1.0.0 ({p.short_hash})"
    assert cli("render", "greet").stdout == result.stdout


def test_render_follows_replaced_sections(tmp_path: Path) -> None:
    """Compiled templates are cached by source, so a changed section is never rendered stale."""
    from dataclasses import replace

    p = _load(tmp_path, BASE)
    changed = replace(p, sections={**p.sections, "input": "Bye {{ who }}"})
    assert render(p, {"who": "Ann"}).user == "Hi Ann"
    assert render(changed, {"who": "Ann"}).user == "Bye Ann"

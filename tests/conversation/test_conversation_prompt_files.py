"""Prompt files with examples, messages, attachments, tools and output schemas: what `render`
shows and sends, and each bad input as one line at file:line (exit 2, before any call)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, write
from tests.prompt.test_render_bad_input import error_lines, one_line

FEW_SHOT = """\
version: "1.0.0"
instructions: Classify the review.
examples:
  - user: "Review: {{ good }}"
    assistant: positive
  - user: "Review: awful"
    assistant: negative
input: "Review: {{ review }}"
variables:
  review: {type: string}
  good: {type: string, default: great}
"""

CONVERSATION = """\
version: "1.0.0"
messages:
  - role: user
    content: I want to return boots.
  - role: assistant
    content: Were they worn?
  - role: user
    content: "{{ answer }}"
context: Policy says worn footwear cannot be returned.
variables:
  answer: {type: string}
"""


def render_json(cli: Cli, *args: str) -> dict:
    result = cli("render", *args, "-f", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_examples_are_sent_as_real_turns_before_the_user_message(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "c.yaml", FEW_SHOT)
    body = render_json(cli, "c", "-v", "review=meh")
    assert [(m["role"], m["content"]) for m in body["messages"]] == [
        ("user", [{"text": "Review: great"}]),
        ("assistant", [{"text": "positive"}]),
        ("user", [{"text": "Review: awful"}]),
        ("assistant", [{"text": "negative"}]),
        ("user", [{"text": "Review: meh"}]),
    ]
    text = cli("render", "c", "-v", "review=meh").stdout
    assert "━━━ assistant (turn 2 of 5) ━━━\npositive" in text


def test_a_scripted_conversation_ends_with_the_sections_in_its_last_user_turn(
    project: Path, cli: Cli
) -> None:
    write(project / "prompts" / "c.yaml", CONVERSATION)
    body = render_json(cli, "c", "-v", "answer=No, never worn.")
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    last = "No, never worn.\n\n<context>\nPolicy says worn footwear cannot be returned.\n</context>"
    assert body["messages"][-1]["content"] == [{"text": last}]


@pytest.mark.parametrize(
    ("yaml", "line", "message"),
    [
        ("messages:\n  - {role: assistant, content: hi}\n", 3,
         "messages[0]: a conversation starts with the user"),
        ("messages:\n  - {role: user, content: a}\n  - {role: user, content: b}\n", 4,
         "messages[1] is a user turn after a user turn"),
        ("messages:\n  - {role: user, content: a}\n  - {role: assistant, content: b}\n", 4,
         "messages must end with a user turn"),
        ("messages:\n  - {role: system, content: a}\n", 3, "messages[0]: unknown role 'system'"),
        ("input: x\nexamples:\n  - {user: a}\n", 4, "examples[0] needs a 'assistant' text"),
    ],
)  # fmt: skip
def test_turns_that_do_not_alternate_are_an_error_at_their_line(
    project: Path, cli: Cli, yaml: str, line: int, message: str
) -> None:
    write(project / "prompts" / "c.yaml", 'version: "1.0.0"\n' + yaml)
    got = one_line(cli("render", "c"))
    assert got.startswith(f"prompts/c.yaml:{line}: error: {message}"), got


TOOLS = """\
version: "1.0.0"
input: hi
tools:
  - name: {name}
    input_schema: {schema}
tool_choice: {choice}
tool_results:
  - tool: {scripted}
    result: ok
"""


@pytest.mark.parametrize(
    ("fields", "line", "message"),
    [
        ({"name": "get weather", "scripted": "get weather"}, 4,
         "tool name 'get weather' is not valid"),
        ({"schema": "{type: object, properties: {a: {type: strin}}}"}, 5,
         "input_schema of tool 'lookup' is not a valid JSON Schema at properties/a/type"),
        ({"schema": "{type: string}"}, 5, "input_schema of tool 'lookup' must describe an object"),
        ({"scripted": "nope"}, 8, "tool_results[0] scripts tool 'nope', which is not declared"),
        ({"choice": "{tool: nope}"}, 6, "tool_choice names 'nope', which is not declared"),
        ({"choice": "sometimes"}, 6, "tool_choice must be auto, any or {tool: NAME}"),
    ],
)  # fmt: skip
def test_bad_tools_are_an_error_at_their_line(
    project: Path, cli: Cli, fields: dict[str, str], line: int, message: str
) -> None:
    values = {"name": "lookup", "schema": "{type: object}", "choice": "auto", "scripted": "lookup"}
    write(project / "prompts" / "t.yaml", TOOLS.format(**{**values, **fields}))
    got = one_line(cli("render", "t"))
    assert got.startswith(f"prompts/t.yaml:{line}: error: {message}"), got


def test_output_schema_is_sent_as_structured_output_or_written_into_the_format_section(
    project: Path, cli: Cli
) -> None:
    write(project / "prompts" / "s.yaml", 'version: "1.0.0"\ninput: Name a city.\n'
          "format: One JSON object.\noutput_schema: schema.json\n")  # fmt: skip
    write(project / "prompts" / "schema.json", '{"type": "object", "required": ["city"]}')
    native = render_json(cli, "s", "-m", "claude-sonnet-4.5")
    assert native["outputConfig"] == {"textFormat": {"type": "json_schema", "structure": {
        "jsonSchema": {"schema": '{"type":"object","required":["city"]}'}}}}  # fmt: skip
    fallback = render_json(cli, "s", "-m", "nova-micro")
    assert "outputConfig" not in fallback
    user = fallback["messages"][0]["content"][0]["text"]
    assert user.startswith("<input>\nName a city.\n</input>\n\n<format>\nOne JSON object.\n\n")
    assert '"required": [\n    "city"\n  ]' in user
    text = cli("render", "s", "-m", "nova-micro").stdout
    assert "# note: nova-micro: no structured output; the schema was sent in the format" in text


def test_an_invalid_output_schema_is_one_line(project: Path, cli: Cli) -> None:
    bad = 'version: "1.0.0"\ninput: x\noutput_schema: {type: object, required: city}\n'
    write(project / "prompts" / "s.yaml", bad)
    got = one_line(cli("render", "s"))
    assert got.startswith("prompts/s.yaml:3: error: output_schema is not a valid JSON Schema")


def test_a_missing_schema_file_is_one_line(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "s.yaml", 'version: "1.0.0"\ninput: x\noutput_schema: no.json\n')
    got = one_line(cli("render", "s"))
    assert got.startswith("prompts/s.yaml:3: error: output_schema: cannot read no.json")


def test_attachments_must_name_media_variables(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "a.yaml", 'version: "1.0.0"\ninput: x\nvariables:\n'
          "  photo: {type: image}\n  note: {type: string}\nattachments: [note]\n")  # fmt: skip
    lines = error_lines(cli("render", "a"))
    assert lines[0].startswith("prompts/a.yaml:6: error: attachments: 'note' is a string, not")
    assert lines[1].startswith("prompts/a.yaml:6: error: media variable 'photo' is not in")

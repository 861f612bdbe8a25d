"""`guardrail:` in a prompt file and in promptlab.yaml, PROMPTLAB_GUARDRAIL and --guardrail:
the forms accepted, the one-line problems at file:line, and which one a prompt's calls use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from promptlab.config import Config, load_config
from promptlab.errors import ConfigError, PromptFileError, UsageError
from promptlab.guardrails import Guardrail, effective, for_operation, from_option
from promptlab.prompt import load_prompt
from promptlab.scaffold import schema_text
from tests.conftest import Cli, write

HEAD = 'version: "1.0.0"\ninput: hi\n'
ARN = "arn:aws:bedrock:us-east-1:123456789012:guardrail/gr1abc2def3"


def load(tmp_path: Path, guardrail: str) -> Any:
    return load_prompt(write(tmp_path / "prompts" / "g.yaml", HEAD + guardrail)).guardrail


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("guardrail: gr1abc2def3:1\n", Guardrail("gr1abc2def3", "1")),
        ("guardrail: gr1abc2def3:DRAFT\n", Guardrail("gr1abc2def3", "DRAFT")),
        (f"guardrail: {ARN}:12\n", Guardrail(ARN, "12")),
        ("guardrail: {id: gr1, version: 3}\n", Guardrail("gr1", "3")),
        ('guardrail: {id: gr1, version: "2", trace: enabled_full, stream_mode: async}\n',
         Guardrail("gr1", "2", "enabled_full", "async")),
        ("guardrail: false\n", False),
        ("guardrail:\n", None),
    ],
)  # fmt: skip
def test_the_forms_a_prompt_can_name_a_guardrail_in(
    tmp_path: Path, text: str, expected: Any
) -> None:
    assert load(tmp_path, text) == expected


def test_where_a_guardrail_was_set_travels_with_it(tmp_path: Path) -> None:
    found = load(tmp_path, "guardrail: gr1:1\n")
    assert found.origin.endswith("g.yaml:3")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("guardrail: gr1abc2def3\n", "'guardrail': 'gr1abc2def3' has no version"),
        ("guardrail: My-Guard:1\n", "guardrail id 'My-Guard' is not an id or a guardrail ARN"),
        ("guardrail: gr1:v1\n", "guardrail version 'v1' is not a version number or DRAFT"),
        ("guardrail: gr1:0\n", "guardrail version '0' is not a version number or DRAFT"),
        ("guardrail:\n  id: gr1\n  version: 1\n  trace: loud\n", "'trace' must be one of"),
        (
            "guardrail:\n  id: gr1\n  version: 1\n  mode: sync\n",
            "unknown key 'mode' in 'guardrail'",
        ),
        ("guardrail: {version: 1}\n", "'guardrail' needs 'id'"),
        ("guardrail: 7\n", "'guardrail' must be ID:VERSION or a mapping"),
        ("guardrail: true\n", "'guardrail' must be ID:VERSION or a mapping"),
    ],
)
def test_a_malformed_guardrail_is_one_problem_at_its_line(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(PromptFileError) as info:
        load(tmp_path, text)
    problems = info.value.problems
    assert len(problems) == 1
    assert message in problems[0].message
    assert problems[0].line == (6 if "trace" in text or "mode:" in text else 3)
    assert problems[0].hint


def test_schema_and_validator_agree_on_guardrails(tmp_path: Path) -> None:
    validator = jsonschema.Draft7Validator(json.loads(schema_text()))
    for good in (
        "gr1:1",
        f"{ARN}:DRAFT",
        False,
        {"id": "gr1", "version": 1},
        {"id": "gr1", "version": "DRAFT", "trace": "disabled", "stream_mode": "sync"},
    ):
        doc = yaml.safe_load(HEAD) | {"guardrail": good}
        assert not list(validator.iter_errors(doc)), good
        load(tmp_path, yaml.safe_dump({"guardrail": good}))
    for bad in ("gr1", "Gr1:1", True, {"id": "gr1"}, {"id": "gr1", "version": "x"},
                {"id": "gr1", "version": 1, "trace": "on"}):  # fmt: skip
        doc = yaml.safe_load(HEAD) | {"guardrail": bad}
        assert list(validator.iter_errors(doc)), bad
        with pytest.raises(PromptFileError):
            load(tmp_path, yaml.safe_dump({"guardrail": bad}))


def test_the_option_takes_id_colon_version_and_names_itself_when_wrong() -> None:
    assert from_option("gr1:DRAFT") == Guardrail("gr1", "DRAFT")
    assert from_option(None) is None
    for bad, said in (("abc", "has no version"), ("a_b:1", "not an id"), ("gr1:", "no version"),
                      (ARN, "has no version")):  # fmt: skip
        with pytest.raises(UsageError) as info:
            from_option(bad)
        assert info.value.message.startswith(f"--guardrail {bad!r}: ")
        assert said in info.value.message
        assert info.value.hint


def test_promptlab_yaml_and_the_environment_set_the_default(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / "promptlab.yaml", 'guardrail: {id: gr1, version: "2", trace: disabled}\n')
    assert load_config().guardrail == Guardrail("gr1", "2", "disabled")
    monkeypatch.setenv("PROMPTLAB_GUARDRAIL", "gr9:DRAFT")
    chosen = load_config().guardrail
    assert chosen == Guardrail("gr9", "DRAFT") and chosen.origin == "PROMPTLAB_GUARDRAIL"


def test_a_bad_guardrail_in_the_config_or_environment_is_a_config_error(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / "promptlab.yaml", "concurrency: 2\nguardrail: gr1\n")
    with pytest.raises(ConfigError) as info:
        load_config()
    assert info.value.line == 2 and "has no version" in info.value.message
    write(project / "promptlab.yaml", "concurrency: 2\n")
    monkeypatch.setenv("PROMPTLAB_GUARDRAIL", "nope")
    with pytest.raises(ConfigError, match="PROMPTLAB_GUARDRAIL='nope': 'nope' has no version"):
        load_config()


def test_the_flag_wins_then_the_prompt_then_the_config(tmp_path: Path) -> None:
    mine, default, flag = Guardrail("mine", "1"), Guardrail("conf", "1"), Guardrail("flag", "1")
    config = Config(root=tmp_path, guardrail=default)
    assert effective(None, config) == default
    assert effective(mine, config) == mine
    assert effective(False, config) is None
    with_flag = config.with_overrides(guardrail_flag=flag)
    assert effective(mine, with_flag) == effective(False, with_flag) == flag


def test_converse_gets_no_stream_mode_and_converse_stream_does() -> None:
    body = {
        "messages": [],
        "guardrailConfig": Guardrail("g", "1", "enabled", "async").to_converse(),
    }
    sent = for_operation(body, stream=False)
    assert sent["guardrailConfig"] == {"guardrailIdentifier": "g", "guardrailVersion": "1",
                                       "trace": "enabled"}  # fmt: skip
    assert for_operation(body, stream=True) is body
    assert "streamProcessingMode" in body["guardrailConfig"]  # the record keeps what was asked


def test_render_shows_the_guardrail_config_the_calls_carry(project: Path, cli: Cli) -> None:
    write(project / "prompts" / "g.yaml", HEAD + "guardrail: gr1:1\n")
    body = json.loads(cli("render", "g", "-f", "json").stdout)
    assert body["guardrailConfig"] == {"guardrailIdentifier": "gr1", "guardrailVersion": "1",
                                       "trace": "enabled"}  # fmt: skip
    flagged = json.loads(cli("render", "g", "-f", "json", "--guardrail", "gr2:DRAFT").stdout)
    assert flagged["guardrailConfig"]["guardrailIdentifier"] == "gr2"
    text = cli("render", "g").stdout
    assert "━━━ guardrail ━━━\ngr1:1 (trace enabled)" in text
    echo = cli("render", "g", "-m", "echo").stdout
    assert "guardrail" not in echo.split("\n", 2)[2]
    assert "# note: echo: guardrails are not applied offline; guardrail gr1:1 not sent" in echo

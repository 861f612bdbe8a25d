"""The shipped JSON Schema matches the validator and accepts every shipped prompt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from promptlab import prompt as P
from promptlab.errors import PromptFileError
from promptlab.request import INFERENCE_KEYS
from promptlab.scaffold import schema_text, starter_files
from tests.conftest import REPO, Cli, write


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(schema_text())
    return data


def _example_files() -> list[Path]:
    return sorted(
        p for p in (REPO / "prompts").rglob("*.yaml") if not p.name.endswith(".tests.yaml")
    )


def test_schema_is_a_valid_draft7_schema(schema: dict[str, Any]) -> None:
    jsonschema.Draft7Validator.check_schema(schema)


def test_schema_keys_match_the_validator(schema: dict[str, Any]) -> None:
    props = schema["properties"]
    defs = schema["definitions"]
    assert set(props) == set(P.TOP_KEYS)
    assert set(defs["variable"]["properties"]) == set(P.VARIABLE_KEYS)
    assert defs["varType"]["enum"] == list(P.VAR_TYPES)
    assert set(props["inference"]["properties"]) == {*INFERENCE_KEYS, "overrides"}
    assert set(defs["params"]["properties"]) == set(INFERENCE_KEYS)
    assert props["layout"]["enum"] == list(P.LAYOUTS)
    assert props["version"]["pattern"] == P.SEMVER.pattern
    positions = defs["cachePositions"]["anyOf"]
    assert positions[0]["enum"] == positions[1]["items"]["enum"] == list(P.CACHE_POSITIONS)
    assert {s for (s,) in (r["required"] for r in schema["anyOf"])} == {
        "instructions",
        "input",
        "messages",
        "kind",  # kind: image, which is written with prompt: instead
    }
    settings = defs["imageSettings"]["properties"]
    assert set(settings) == set(P.imagespec.IMAGE_KEYS)
    assert settings["task"]["enum"] == list(P.imagespec.IMAGE_TASKS)
    assert set(props["image"]["properties"]) == {*P.imagespec.IMAGE_KEYS, "overrides"}
    assert props["kind"]["enum"] == list(P.imagespec.KINDS)


def test_every_shipped_prompt_validates(schema: dict[str, Any]) -> None:
    files = _example_files()
    assert len([f for f in files if "examples" in f.parts]) >= 3
    validator = jsonschema.Draft7Validator(schema)
    docs = {str(f): yaml.safe_load(f.read_text(encoding="utf-8")) for f in files}
    docs["init: prompts/summarize.yaml"] = yaml.safe_load(starter_files()["prompts/summarize.yaml"])
    for name, doc in docs.items():
        errors = [e.message for e in validator.iter_errors(doc)]
        assert not errors, f"{name}: {errors}"


@pytest.mark.parametrize(
    "text",
    [
        'version: "1.0.0"\ninstruction: x\ninput: y\n',  # unknown top-level key
        'version: "1.0.0"\ninput: y\nvariables:\n  a: {typ: string}\n',  # unknown variable key
        'version: "1.0.0"\ninput: y\nvariables:\n  a: {type: text}\n',  # unknown type
        'version: "1.0.0"\ninput: y\ninference: {temperature: 2}\n',  # out of range
        'version: "1.0.0"\ninput: y\ninference: {overrides: {m: {top_k: 5}}}\n',  # bad override
        'version: "1.0.0"\ninput: y\nlayout: html\n',
        "version: 1.0\ninput: y\n",  # unquoted version
        'version: "1.0"\ninput: y\n',  # not semver
        "input: y\n",  # no version
        'version: "1.0.0"\ncontext: only context\n',  # neither instructions nor input
        'version: "1.0.0"\ninput: y\nreasoning: {effort: max}\n',  # unknown effort
        'version: "1.0.0"\ninput: y\nreasoning: {budget_tokens: 512}\n',  # below 1,024
        'version: "1.0.0"\ninput: y\nreasoning: {effort: low, budget_tokens: 2048}\n',  # both
        'version: "1.0.0"\ninput: y\nreasoning: {}\n',  # neither
        'version: "1.0.0"\ninput: y\nreasoning: {overrides: {m: {effort: low, x: 1}}}\n',
    ],
)
def test_schema_and_validator_reject_the_same_mistakes(
    schema: dict[str, Any], tmp_path: Path, text: str
) -> None:
    assert list(jsonschema.Draft7Validator(schema).iter_errors(yaml.safe_load(text)))
    with pytest.raises(PromptFileError):
        P.load_prompt(write(tmp_path / "prompts" / "bad.yaml", text))


def test_schema_command_prints_the_shipped_schema(cli: Cli, schema: dict[str, Any]) -> None:
    result = cli("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == schema


def test_repo_schema_copy_is_current() -> None:
    """prompts/prompt.schema.json is what the shipped examples' modelines point at."""
    assert (REPO / "prompts" / "prompt.schema.json").read_text(encoding="utf-8") == schema_text()
    for f in _example_files():
        first = f.read_text(encoding="utf-8").splitlines()[0]
        depth = len(f.relative_to(REPO / "prompts").parts) - 1
        assert first == "# yaml-language-server: $schema=" + "../" * depth + "prompt.schema.json"

"""`promptlab init`: a documented starter project, never overwriting anything."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from promptlab.config import CONFIG_KEYS, ENV_VARS, Config, load_config
from promptlab.scaffold import scaffold, schema_text, starter_files
from tests.conftest import REPO, Cli, write

EXPECTED = [
    "prompts/summarize.yaml",
    "prompts/_partials/house-style.j2",
    "prompts/summarize.tests.yaml",
    "promptlab.yaml",
    ".env.example",
    "prompts/prompt.schema.json",
    ".gitignore",
]
AWS_VARS = [
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_ENDPOINT_URL_BEDROCK",
    "AWS_BEARER_TOKEN_BEDROCK",
    "PROMPTLAB_LIVE_TESTS",
]


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "fresh"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


def test_init_creates_a_working_project(empty: Path, cli: Cli) -> None:
    result = cli("init")
    assert result.exit_code == 0, result.output
    for rel in EXPECTED:
        assert (empty / rel).is_file(), rel
        assert f"created  {rel}" in result.stdout
    assert "Next:" in result.stdout
    assert "promptlab render summarize --examples" in result.stdout
    assert "promptlab run summarize -m echo --examples" in result.stdout
    assert (empty / ".gitignore").read_text().splitlines()[1:] == [".promptlab/", ".env"]

    lint = cli("lint")
    assert lint.exit_code == 0, lint.output
    assert "2 file(s) OK" in lint.stderr  # the prompt and its test suite
    offline = cli("test", "--filter", "render-*", "--no-log")
    assert offline.exit_code == 0, offline.output
    assert "1 passed, 0 failed" in offline.stdout
    render = cli("render", "summarize", "--examples")
    assert render.exit_code == 0, render.output
    assert "Style:" in render.stdout  # the partial was included
    assert load_config().file == empty.resolve() / "promptlab.yaml"


def test_init_into_a_new_directory_says_cd(empty: Path, cli: Cli) -> None:
    result = cli("init", "sub/project")
    assert result.exit_code == 0, result.output
    assert (empty / "sub" / "project" / "prompts" / "summarize.yaml").is_file()
    assert "created  sub/project/promptlab.yaml" in result.stdout
    assert "  cd sub/project" in result.stdout


def test_init_never_overwrites_and_says_kept(empty: Path, cli: Cli) -> None:
    write(empty / "promptlab.yaml", "concurrency: 2\n")
    write(empty / "prompts" / "summarize.yaml", "mine\n")
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert (empty / "promptlab.yaml").read_text() == "concurrency: 2\n"
    assert (empty / "prompts" / "summarize.yaml").read_text() == "mine\n"
    assert "kept     promptlab.yaml  (already exists)" in result.stdout
    assert "kept     prompts/summarize.yaml  (already exists)" in result.stdout
    assert "created  .env.example" in result.stdout

    again = cli("init")
    assert again.exit_code == 0
    assert "created" not in again.stdout
    assert again.stdout.count("kept") == len(EXPECTED)


def test_gitignore_is_appended_only_when_missing_entries(empty: Path, cli: Cli) -> None:
    write(empty / ".gitignore", "node_modules/\n/.env")  # no final newline
    result = cli("init")
    assert "updated  .gitignore  (added .promptlab/)" in result.stdout
    text = (empty / ".gitignore").read_text()
    assert text.startswith("node_modules/\n/.env\n")
    assert text.endswith(".promptlab/\n")
    assert text.count(".env") == 1
    cli("init")
    assert (empty / ".gitignore").read_text() == text


def test_init_refuses_a_file_as_directory(empty: Path, cli: Cli) -> None:
    write(empty / "afile", "x")
    result = cli("init", "afile")
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: afile: exists and is not a directory")


def test_scaffolded_config_documents_every_key_and_shows_defaults(tmp_path: Path) -> None:
    text = starter_files()["promptlab.yaml"]
    for key in CONFIG_KEYS:
        assert re.search(rf"^(# )?{key}:", text, re.M), f"{key} is not documented"
    write(tmp_path / "promptlab.yaml", text)
    cfg = load_config(tmp_path)
    default = Config(root=cfg.root)
    for f in fields(Config):
        if f.name in ("root", "file", "prompts_dir", "store_path"):
            continue
        assert getattr(cfg, f.name) == getattr(default, f.name), f.name
    assert cfg.prompts_dir == cfg.root / default.prompts_dir
    assert cfg.store_path == cfg.root / default.store_path


def test_commented_config_examples_are_valid_when_uncommented(tmp_path: Path) -> None:
    text = starter_files()["promptlab.yaml"]
    example = re.compile(r"^# ((?:[a-z_]+:.*)|(?:  +[\w.-]+:.*))$")
    live = "\n".join(
        m.group(1) if (m := example.match(line)) else line for line in text.splitlines()
    )
    write(tmp_path / "promptlab.yaml", live)
    cfg = load_config(tmp_path)
    assert cfg.models == ("nova-micro", "claude-haiku")
    assert cfg.region == "us-east-1"
    assert "house" in cfg.aliases
    assert cfg.prices["nova-micro"].output == 0.00014


def test_env_example_documents_every_variable() -> None:
    text = starter_files()[".env.example"]
    for var in [*ENV_VARS, *AWS_VARS]:
        assert re.search(rf"^# {var}=", text, re.M), f"{var} is not documented"
    assert not re.search(r"^[A-Z_]+=", text, re.M), "every variable stays commented out"


def test_repo_env_example_is_the_shipped_one() -> None:
    assert (REPO / ".env.example").read_text(encoding="utf-8") == scaffold()["files"][
        ".env.example"
    ]


def test_scaffolded_schema_is_the_shipped_schema(empty: Path, cli: Cli) -> None:
    cli("init")
    assert (empty / "prompts" / "prompt.schema.json").read_text() == schema_text()
    first = (empty / "prompts" / "summarize.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=prompt.schema.json"


def test_scaffolded_prompt_documents_every_top_level_key() -> None:
    from promptlab.prompt import SECTIONS, TOP_KEYS

    text = starter_files()["prompts/summarize.yaml"]
    data = yaml.safe_load(text)
    for key in TOP_KEYS:
        assert key in data or key in text, key
    assert set(SECTIONS) <= set(data)

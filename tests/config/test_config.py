"""Project configuration: flag > environment > promptlab.yaml > default; .env; file:line errors."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from promptlab.config import CONFIG_FILE, ENV_VARS, Config, load_config
from promptlab.errors import ConfigError
from tests.conftest import Cli, write


def test_defaults_without_file_or_environment(project: Path) -> None:
    cfg = load_config()
    assert cfg.file is None
    assert cfg.root == project.resolve()
    assert cfg.concurrency == 8
    assert cfg.prompts_dir == project.resolve() / "prompts"
    assert cfg.region is None
    assert cfg.models == ()


def test_file_beats_default(project: Path) -> None:
    write(project / CONFIG_FILE, "concurrency: 3\nmodels: [nova-lite]\nregion: eu-west-1\n")
    cfg = load_config()
    assert (cfg.concurrency, cfg.models, cfg.region) == (3, ("nova-lite",), "eu-west-1")
    assert cfg.file == project.resolve() / CONFIG_FILE


def test_environment_beats_file(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(project / CONFIG_FILE, "concurrency: 3\nmodels: [nova-lite]\nregion: eu-west-1\n")
    monkeypatch.setenv("PROMPTLAB_CONCURRENCY", "5")
    monkeypatch.setenv("PROMPTLAB_MODELS", "claude-haiku, nova-pro")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    cfg = load_config()
    assert (cfg.concurrency, cfg.models, cfg.region) == (
        5,
        ("claude-haiku", "nova-pro"),
        "us-west-2",
    )


def test_flag_beats_environment(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(project / CONFIG_FILE, "concurrency: 3\n")
    monkeypatch.setenv("PROMPTLAB_CONCURRENCY", "5")
    cfg = load_config().with_overrides(concurrency=7, region=None)
    assert cfg.concurrency == 7
    assert load_config().with_overrides(concurrency=None).concurrency == 5


def test_aws_region_wins_over_aws_default_region(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert load_config().region == "us-west-2"
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert load_config().region == "eu-central-1"


def test_every_env_var_is_read(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "PROMPTLAB_MODELS": "a,b",
        "PROMPTLAB_CONCURRENCY": "2",
        "PROMPTLAB_GRADER_CONCURRENCY": "3",
        "PROMPTLAB_PROMPTS_DIR": "my-prompts",
        "PROMPTLAB_MAX_ATTEMPTS": "6",
        "PROMPTLAB_RETRY_MODE": "adaptive",
        "PROMPTLAB_READ_TIMEOUT": "30",
        "PROMPTLAB_CONNECT_TIMEOUT": "2.5",
        "PROMPTLAB_STORE": "state/db.sqlite",
        "PROMPTLAB_NO_LOG": "1",
        "PROMPTLAB_JUDGE_MODEL": "claude-haiku",
        "PROMPTLAB_EMBEDDING_MODEL": "cohere.embed-english-v3",
        "PROMPTLAB_GUARDRAIL": "gr1abc2def3:DRAFT",
    }
    assert set(values) == set(ENV_VARS)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    cfg = load_config()
    default = Config(root=cfg.root)
    for var, field in ENV_VARS.items():
        assert getattr(cfg, field) != getattr(default, field), var
    assert cfg.prompts_dir == project.resolve() / "my-prompts"
    assert cfg.store_path == project.resolve() / "state" / "db.sqlite"
    assert cfg.history is False


def test_dotenv_is_loaded_and_real_environment_wins(
    project: Path, monkeypatch: pytest.MonkeyPatch, clean_env: Callable[[str], None]
) -> None:
    clean_env("PROMPTLAB_CONCURRENCY")
    clean_env("PROMPTLAB_JUDGE_MODEL")
    write(project / ".env", "PROMPTLAB_CONCURRENCY=3\nPROMPTLAB_JUDGE_MODEL=nova-lite\n")
    monkeypatch.setenv("PROMPTLAB_JUDGE_MODEL", "claude-haiku")
    cfg = load_config()
    assert cfg.concurrency == 3
    assert cfg.judge_model == "claude-haiku"
    assert os.environ["PROMPTLAB_CONCURRENCY"] == "3"


def test_dotenv_beats_the_config_file(project: Path, clean_env: Callable[[str], None]) -> None:
    clean_env("PROMPTLAB_CONCURRENCY")
    write(project / CONFIG_FILE, "concurrency: 4\n")
    write(project / ".env", "PROMPTLAB_CONCURRENCY=6\n")
    assert load_config().concurrency == 6


def test_config_in_a_parent_directory_is_the_project_root(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / CONFIG_FILE, "prompts_dir: templates\nstore: {path: .state/db}\n")
    sub = project / "deep" / "er"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    cfg = load_config()
    assert cfg.root == project.resolve()
    assert cfg.prompts_dir == project.resolve() / "templates"
    assert cfg.store_path == project.resolve() / ".state" / "db"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "concurrency: 2\nconcurency: 3\n",
            2,
            "unknown key 'concurency' — did you mean 'concurrency'?",
        ),
        (
            "models: [a]\nconcurrency: lots\n",
            2,
            "expected a positive integer up to 256, got 'lots'",
        ),
        ("retries:\n  mode: eager\n", 2, "retry mode must be standard, adaptive or legacy"),
        ("timeouts:\n  read: -1\n", 2, "timeout 'read' must be a positive number of seconds"),
        ("store:\n  history: maybe\n", 2, "'history' must be true or false"),
        (
            "prices:\n  nova-micro: {input: 1}\n",
            2,
            "price for 'nova-micro' needs 'input' and 'output'",
        ),
        ("aliases: [a, b]\n", 1, "'aliases' must map alias"),
        ("region: [us-east-1]\n", 1, "'region' must be a string"),
        ("models: [a\n", 2, "YAML syntax error"),
        ("- a\n", 1, "top level is a list"),
    ],
)
def test_config_errors_name_file_and_line(
    project: Path, text: str, line: int, message: str
) -> None:
    write(project / CONFIG_FILE, text)
    with pytest.raises(ConfigError) as info:
        load_config()
    err = info.value
    assert (err.file, err.line) == (str(project.resolve() / CONFIG_FILE), line)
    assert message in str(err)


def test_bad_environment_value_names_the_variable(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTLAB_CONCURRENCY", "many")
    with pytest.raises(ConfigError, match="PROMPTLAB_CONCURRENCY='many' is not valid"):
        load_config()


def test_cli_reports_a_bad_config_file_with_line(project: Path, cli: Cli) -> None:
    write(project / CONFIG_FILE, "prompts_dir: prompts\nconcurency: 3\n")
    result = cli("lint")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.strip().endswith(
        f"{CONFIG_FILE}:2: unknown key 'concurency' — did you mean 'concurrency'?"
    )


def test_cli_uses_environment_over_config_file(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok = 'version: "1.0.0"\ninput: hi\n'
    write(project / CONFIG_FILE, "prompts_dir: from-file\n")
    write(project / "from-file" / "a.yaml", ok)
    write(project / "from-env" / "a.yaml", ok)
    write(project / "from-env" / "b.yaml", ok)
    assert "1 file(s) OK" in cli("lint").stderr
    monkeypatch.setenv("PROMPTLAB_PROMPTS_DIR", "from-env")
    assert "2 file(s) OK" in cli("lint").stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prompts_dir:\n", "'prompts_dir': expected a path (a string), got None"),
        ("prompts_dir: [a, b]\n", "'prompts_dir': expected a path (a string), got ['a', 'b']"),
        ("store: {path: 3}\n", "'path': expected a path (a string), got 3"),
    ],
)
def test_config_paths_must_be_strings(project: Path, text: str, message: str) -> None:
    write(project / "promptlab.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_config()
    assert info.value.message == message
    assert info.value.line == 1


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf"])
def test_timeouts_from_the_environment_must_be_positive(project: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="PROMPTLAB_READ_TIMEOUT"):
        load_config(env={"PROMPTLAB_READ_TIMEOUT": value})


def test_non_utf8_dotenv_is_one_line(project: Path, cli: Cli) -> None:
    (project / ".env").write_bytes(b"PROMPTLAB_CONCURRENCY=\xff\n")
    result = cli("lint")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.strip().endswith(
        ".env: not valid UTF-8 (byte 22) — save the file as UTF-8"
    )

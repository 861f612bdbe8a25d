"""`concurrency` (a number, or caps per model), `grader_concurrency`, `--concurrency`."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptlab.config import CONFIG_FILE, Concurrency, Config, load_config, parse_concurrency
from promptlab.errors import ConfigError
from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock


def test_a_number_is_the_overall_cap(project: Path) -> None:
    write(project / CONFIG_FILE, "concurrency: 3\n")
    cfg = load_config()
    assert (cfg.concurrency, cfg.model_concurrency) == (3, {})


def test_a_mapping_caps_single_models_by_alias_or_id(project: Path) -> None:
    write(project / CONFIG_FILE, "aliases: {fast: amazon.nova-micro-v1:0}\nconcurrency:\n"
          "  default: 12\n  claude-sonnet: 2\n  fast: 3\n  amazon.nova-lite-v1:0: 4\n")  # fmt: skip
    cfg = load_config()
    assert cfg.concurrency == 12
    assert cfg.model_concurrency == {"claude-sonnet": 2, "fast": 3, "amazon.nova-lite-v1:0": 4}


def test_a_mapping_without_default_keeps_the_overall_default(project: Path) -> None:
    write(project / CONFIG_FILE, "concurrency: {claude-sonnet: 2}\n")
    cfg = load_config()
    assert (cfg.concurrency, cfg.model_concurrency) == (8, {"claude-sonnet": 2})


@pytest.mark.parametrize(
    ("text", "line", "message", "hint"),
    [
        ("concurrency:\n  default: 0\n", 2, "concurrency 'default': expected a positive "
         "integer up to 256, got 0", None),
        ("concurrency:\n  default: 4\n  claude-sonet: 2\n", 3,
         "concurrency: unknown model 'claude-sonet'", "did you mean claude-sonnet"),
        ("concurrency: {nova-lite: many}\n", 1, "concurrency 'nova-lite': expected a positive "
         "integer up to 256, got 'many'", None),
        ("concurrency: lots\n", 1, "'concurrency': expected a positive integer up to 256, "
         "got 'lots'", "or a mapping: {default: 8, claude-sonnet: 2}"),
        ("concurrency: 100000000000000000000000000000\n", 1, "'concurrency': expected a "
         "positive integer up to 256, got 100000000000000000000000000000", None),
        ("grader_concurrency: 0\n", 1, "'grader_concurrency': expected a positive integer", None),
    ],
)  # fmt: skip
def test_a_bad_concurrency_names_file_line_and_fix(
    project: Path, text: str, line: int, message: str, hint: str | None
) -> None:
    write(project / CONFIG_FILE, text)
    with pytest.raises(ConfigError) as info:
        load_config()
    assert info.value.line == line
    assert message in info.value.message
    if hint:
        assert hint in (info.value.hint or "")


def test_the_environment_sets_the_number_and_adds_caps(project: Path) -> None:
    write(project / CONFIG_FILE, "concurrency: {default: 6, claude-sonnet: 2}\n")
    cfg = load_config(env={"PROMPTLAB_CONCURRENCY": "default=4,nova-lite=1"})
    assert cfg.concurrency == 4
    assert cfg.model_concurrency == {"claude-sonnet": 2, "nova-lite": 1}
    assert load_config(env={"PROMPTLAB_CONCURRENCY": "10"}).model_concurrency == {
        "claude-sonnet": 2
    }
    assert load_config(env={"PROMPTLAB_GRADER_CONCURRENCY": "2"}).grader_concurrency == 2


@pytest.mark.parametrize("value", ["0", "lots", "nova-lite=", "=3", "claude-sonet=2"])
def test_a_bad_concurrency_variable_names_it(project: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="PROMPTLAB_CONCURRENCY"):
        load_config(env={"PROMPTLAB_CONCURRENCY": value})


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("8", Concurrency(8)),
        ("default=8,claude-sonnet=2", Concurrency(8, {"claude-sonnet": 2})),
        ("claude-sonnet=2", Concurrency(None, {"claude-sonnet": 2})),
        (" 8 , us.amazon.nova-lite-v1:0=3 ", Concurrency(8, {"us.amazon.nova-lite-v1:0": 3})),
    ],
)
def test_concurrency_values(text: str, spec: Concurrency) -> None:
    assert parse_concurrency(text) == spec


def test_the_flag_overrides_the_number_and_adds_to_the_caps(tmp_path: Path) -> None:
    config = Config(root=tmp_path, concurrency=6, model_concurrency={"a.b-v1": 2, "c.d-v1": 1})
    flagged = config.with_concurrency(Concurrency(None, {"c.d-v1": 3}))
    assert (flagged.concurrency, flagged.model_concurrency) == (6, {"a.b-v1": 2, "c.d-v1": 3})
    assert config.with_concurrency(Concurrency(10)).concurrency == 10


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("0", "error: --concurrency: '0': expected a positive integer"),
        ("default=8,claude-sonet=2", "error: --concurrency: unknown model 'claude-sonet'"),
        ("nova-lite:2", "error: --concurrency: 'nova-lite:2': expected a positive integer"),
    ],
)  # fmt: skip
def test_a_bad_flag_is_one_line_and_exit_2_before_any_call(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock, flag: str, message: str
) -> None:
    write(project / "prompts" / "p.yaml", 'version: "1.0.0"\ninput: hi\n')
    for command in ("run", "test"):
        result = cli(command, "p", "-m", "nova-lite", "--concurrency", flag)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(message), result.stderr
        assert "Traceback" not in result.output
    assert fake_bedrock.count() == 0


def test_the_flag_caps_a_model_in_a_run(project: Path, cli: Cli, fake_bedrock: FakeBedrock) -> None:
    write(project / "prompts" / "p.yaml", 'version: "1.0.0"\ninput: hi {{ n }}\n'
          "variables: {n: {type: integer}}\n")  # fmt: skip
    write(project / "vars.json", "[" + ",".join(f'{{"n": {i}}}' for i in range(4)) + "]")
    fake_bedrock.default.latency = 0.05
    result = cli("run", "p", "-m", "nova-lite,nova-micro", "--vars", "vars.json",
                 "-j", "default=8,nova-lite=1", "-f", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert fake_bedrock.count(model="amazon.nova-lite-v1:0") == 4
    assert fake_bedrock.peak["amazon.nova-lite-v1:0"] == 1
    assert fake_bedrock.peak["amazon.nova-micro-v1:0"] == 4

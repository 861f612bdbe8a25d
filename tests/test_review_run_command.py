"""`promptlab run` input handling: vars lists, -m, user aliases, Markdown, cache TTL."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptlab.catalogue import resolve
from promptlab.config import Config
from promptlab.errors import UsageError
from promptlab.results import Result
from promptlab.views.export import to_markdown
from tests.conftest import Cli, write

PROMPT = """\
version: "1.0.0"
input: "Hello {{ who }}, from {{ team }}."
variables:
  who: {type: string}
  team: {type: string}
"""


@pytest.fixture
def greet(project: Path) -> Path:
    return write(project / "prompts" / "greet.yaml", PROMPT)


def test_a_bad_item_in_a_vars_list_is_named_with_its_line(
    greet: Path, project: Path, cli: Cli
) -> None:
    write(project / "people.yaml", "- {who: Ann, team: ops}\n- {who: Bob}\n- {who: Cy, team: x}\n")
    result = cli("run", "greet", "-m", "echo", "--vars", "people.yaml")
    assert result.exit_code == 2
    assert "vars #2 (people.yaml:2)" in result.stderr
    assert "missing required variable(s): team" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_wrong_type_in_a_vars_list_item_is_named(greet: Path, project: Path, cli: Cli) -> None:
    write(project / "people.yaml", "- who: Ann\n  team: ops\n- who: [1, 2]\n  team: ops\n")
    result = cli("run", "greet", "-m", "echo", "--vars", "people.yaml")
    assert result.exit_code == 2
    assert "vars #2 (people.yaml:3)" in result.stderr and "'who' must be a string" in result.stderr


def test_an_empty_model_flag_is_an_error_not_the_default_models(greet: Path, cli: Cli) -> None:
    for empty in ("", ","):
        result = cli("run", "greet", "-m", empty, "-v", "who=A", "-v", "team=B")
        assert result.exit_code == 2, result.stdout
        assert "names no model" in result.stderr


def test_negative_cache_ttl_is_a_usage_error(greet: Path, cli: Cli) -> None:
    result = cli("run", "greet", "-m", "echo", "-v", "who=A", "-v", "team=B", "--cache-ttl", "-5")
    assert result.exit_code == 2


# ---------------------------------------------------------------- user aliases


def config_with(tmp_path: Path, **aliases: str) -> Config:
    return Config(root=tmp_path, file=tmp_path / "promptlab.yaml", aliases=aliases)


def test_a_user_alias_may_point_to_another_user_alias(tmp_path: Path) -> None:
    config = config_with(tmp_path, fast="nova-micro", quick="fast")
    ref = resolve("quick", config, "us-east-1")
    assert (ref.alias, ref.model_id) == ("quick", "amazon.nova-micro-v1:0")


def test_user_aliases_may_still_swap_shipped_names(tmp_path: Path) -> None:
    config = config_with(tmp_path, **{"claude-haiku": "nova-micro", "nova-micro": "claude-haiku"})
    assert resolve("claude-haiku", config).model_id == "amazon.nova-micro-v1:0"
    assert resolve("nova-micro", config).model_id == "anthropic.claude-3-haiku-20240307-v1:0"


def test_an_alias_to_an_unknown_model_names_the_alias_and_its_file(tmp_path: Path) -> None:
    config = config_with(tmp_path, bad="nova-mikro", via="bad")
    with pytest.raises(UsageError) as info:
        resolve("via", config)
    assert "alias 'via' (promptlab.yaml aliases) points to 'nova-mikro'" in info.value.message
    assert "via → bad → nova-mikro" in info.value.message
    assert "nova-micro" in (info.value.hint or "")


def test_aliases_that_go_round_in_a_circle_are_an_error(tmp_path: Path) -> None:
    config = config_with(tmp_path, a="b", b="a")
    with pytest.raises(UsageError, match="circle: a → b → a"):
        resolve("a", config)


def test_models_offline_lists_an_alias_whose_target_is_unknown(project: Path, cli: Cli) -> None:
    write(project / "promptlab.yaml", "aliases:\n  fast: nova-micro\n  bad: nonsense\n")
    result = cli("models", "--offline", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert '"alias": "bad"' in result.stdout and '"access": "unknown model"' in result.stdout


def test_models_offline_title_names_the_region_of_the_ids(project: Path, cli: Cli) -> None:
    result = cli("models", "--offline", "--region", "eu-west-1")
    assert result.exit_code == 0
    assert "shipped catalogue for eu-west-1" in result.stdout
    assert "eu.anthropic.claude-3-5-haiku-20241022-v1:0" in result.stdout


# ---------------------------------------------------------------- markdown


def test_markdown_vars_line_is_literal_code_not_escaped_table_text() -> None:
    result = Result(prompt_name="p", prompt_version="1.0.0", prompt_hash="h", model_alias="echo",
                    model_id="echo", region=None, params={}, request={}, output="hi",
                    vars={"who": "a|b<c>`d`"}, real_model=False)  # fmt: skip
    md = to_markdown([result])
    line = next(x for x in md.splitlines() if x.startswith("**vars:**"))
    assert line == "**vars:** ``who='a|b<c>`d`'``"

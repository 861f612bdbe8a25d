"""A broken local setup (region, endpoint, AWS config file, .env) is one line, exit 2, before
any call: never botocore's traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Cli, write

PROMPT = 'version: "1.0.0"\ninput: "hi"\n'


def _one_line(output: str) -> str:
    """The one error line (after `test`'s plan line, if any)."""
    lines = [line for line in output.strip().splitlines() if not line.startswith("running ")]
    assert len(lines) == 1, output
    return lines[0]


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize(
    "args",
    [
        ["run", "p.yaml", "-m", "nova-micro", "--region", "us east 1"],
        ["test", "p.yaml", "-m", "nova-micro", "--region", "us east 1"],
        ["models", "--region", "us east 1"],
    ],
)
def test_a_region_name_botocore_refuses_is_one_line(
    cli: Cli, project: Path, args: list[str]
) -> None:
    write(
        project / "p.yaml",
        PROMPT + "tests:\n  - name: one\n    assert: [{type: contains, value: x}]\n",
    )
    result = cli(*args)
    assert result.exit_code == 2
    assert _one_line(result.output) == (
        "error: 'us east 1' is not an AWS region name — e.g. us-east-1: letters, digits and "
        "dashes; set --region, AWS_REGION or region: in promptlab.yaml"
    )


@pytest.mark.usefixtures("aws_env")
def test_a_region_from_the_environment_is_checked_too(
    cli: Cli, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / "p.yaml", PROMPT)
    monkeypatch.setenv("AWS_REGION", "eu west 1")
    result = cli("run", "p.yaml", "-m", "nova-micro")
    assert result.exit_code == 2 and "'eu west 1' is not an AWS region name" in result.output


def test_a_region_in_promptlab_yaml_is_checked_at_its_line(cli: Cli, project: Path) -> None:
    write(project / "p.yaml", PROMPT)
    write(project / "promptlab.yaml", "prompts_dir: prompts\nregion: us east 1\n")
    result = cli("render", "p.yaml")
    assert result.exit_code == 2
    assert "promptlab.yaml:2: 'region' must be an AWS region name, not 'us east 1'" in result.output


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize(
    ("variable", "args"),
    [
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", ["run", "p.yaml", "-m", "nova-micro"]),
        ("AWS_ENDPOINT_URL_BEDROCK", ["models", "--region", "us-east-1"]),
    ],
)
def test_an_endpoint_that_is_not_a_url_is_one_line(
    cli: Cli, project: Path, monkeypatch: pytest.MonkeyPatch, variable: str, args: list[str]
) -> None:
    write(project / "p.yaml", PROMPT)
    monkeypatch.setenv(variable, "not a url")
    result = cli(*args)
    assert result.exit_code == 2
    line = _one_line(result.output)
    assert line.startswith("error: the endpoint 'not a url' is not a URL — set AWS_ENDPOINT_URL")


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("args", [["run", "p.yaml", "-m", "nova-micro"], ["models"]])
def test_an_aws_config_file_botocore_cannot_parse_is_one_line(
    cli: Cli, project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str]
) -> None:
    write(project / "p.yaml", PROMPT)
    garbage = write(tmp_path / "aws-config", "garbage\n[[[\nx")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(garbage))
    result = cli(*args)
    assert result.exit_code == 2
    assert _one_line(result.output).startswith("error: the AWS config file cannot be read: ")


def test_a_nul_byte_in_dotenv_names_its_line(cli: Cli, project: Path) -> None:
    write(project / "p.yaml", PROMPT)
    (project / ".env").write_bytes(b"A=1\nB=b\0c\n")
    result = cli("render", "p.yaml")
    assert result.exit_code == 2
    assert _one_line(result.output).endswith(
        ".env:2: contains a NUL byte — remove it (environment values cannot hold NUL bytes)"
    )

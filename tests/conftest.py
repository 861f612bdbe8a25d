"""Shared fixtures: an isolated project directory and a CLI runner. No network, no AWS."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from promptlab.cli import app

REPO = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.fakebedrock"]  # the `fake_bedrock` fixture (local fake Bedrock server)


# A prompt answered in one line: what tests of how a model is called (not what it is asked) run.
ONE_LINE_PROMPT = """\
version: "1.0.0"
instructions: You answer in one line.
input: "Question: {{ q }}"
variables:
  q: {type: string, example: capital of France?}
inference: {temperature: 0, max_tokens: 100}
"""


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's AWS setup or promptlab settings."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "PROMPTLAB_", "GITHUB_STEP_SUMMARY")):
            monkeypatch.delenv(key, raising=False)
    # Point boto3 at files that do not exist, so ~/.aws never leaks in.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("COLUMNS", "160")
    from promptlab import profiles

    profiles.forget()  # application inference profiles looked up by an earlier test
    from promptlab import retrieval

    retrieval.forget()  # knowledge-base access and passages found by an earlier test


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty project directory (with prompts/) as the working directory."""
    root = tmp_path / "proj"
    (root / "prompts").mkdir(parents=True)
    monkeypatch.chdir(root)
    yield root


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region: enough for boto3 to sign requests to a stub/local endpoint."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


class Cli:
    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(app, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def cli() -> Cli:
    return Cli()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def sigint_default() -> None:
    """preexec_fn for child processes that tests interrupt: a parent started in the background
    (SIGINT ignored, as `cmd &` does) would otherwise pass SIG_IGN on and Python would ignore
    Ctrl-C."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def sigint_handled() -> Iterator[None]:
    """Python's own Ctrl-C handler in this process, even if SIGINT was inherited as ignored."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)

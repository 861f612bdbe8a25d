"""Real processes: `python -m promptlab` is `promptlab`; prompt commands never import boto3."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

EXAMPLE = str(REPO / "prompts" / "examples" / "support-reply.yaml")


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _console_script() -> str | None:
    here = Path(sys.executable).parent / ("promptlab.exe" if os.name == "nt" else "promptlab")
    return str(here) if here.exists() else shutil.which("promptlab")


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["render", EXAMPLE, "--examples", "-v", "customer_name=Ana"],
        ["render", EXAMPLE, "--examples", "--format", "json"],
        ["render", EXAMPLE],  # missing variables: exit 2
        ["lint", str(REPO / "prompts")],
        ["nonsense-command"],
    ],
)
def test_python_dash_m_behaves_like_promptlab(tmp_path: Path, args: list[str]) -> None:
    script = _console_script()
    if script is None:
        pytest.skip("promptlab console script not installed")
    a = _run([sys.executable, "-m", "promptlab", *args], tmp_path)
    b = _run([script, *args], tmp_path)
    assert a.returncode == b.returncode
    # The usage line names the program as invoked; everything else is identical.
    assert a.stdout.replace("python -m promptlab", "promptlab") == b.stdout
    assert a.stderr.replace("python -m promptlab", "promptlab") == b.stderr
    assert "Traceback" not in a.stderr


def test_help_lists_every_prompt_command(tmp_path: Path) -> None:
    out = _run([sys.executable, "-m", "promptlab", "--help"], tmp_path).stdout
    for name in ("render", "lint", "init", "schema"):
        assert name in out


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["render", EXAMPLE, "--examples"],
        ["render", EXAMPLE, "--examples", "-m", "claude-haiku", "--format", "json"],
        ["lint", str(REPO / "prompts")],
        ["init", "scaffolded"],
        ["schema"],
    ],
)
def test_prompt_commands_do_not_import_boto3(tmp_path: Path, args: list[str]) -> None:
    proc = _run([sys.executable, "-X", "importtime", "-m", "promptlab", *args], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {
        line.split("|")[-1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "promptlab.cli" in imported  # the measurement really happened
    # lint checks suites' JSON schemas, so only it may load jsonschema
    banned = ("boto3", "botocore") if args[0] == "lint" else ("boto3", "botocore", "jsonschema")
    banned += ("textual",)  # the review UI's library: only `review` loads it
    heavy = sorted(m for m in imported if m.split(".")[0] in banned)
    assert heavy == []


def test_lint_reads_retrieved_files_without_ranking_them(tmp_path: Path) -> None:
    # policy-rag retrieves from local files: lint reads them but builds no BM25 index
    examples = str(REPO / "prompts" / "examples")
    proc = _run([sys.executable, "-X", "importtime", "-m", "promptlab", "lint", examples],
                tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")}  # fmt: skip
    assert "promptlab.retrieval.local" in imported  # the files were read
    assert sorted(m for m in imported if m.split(".")[0] in ("numpy", "bm25s")) == []

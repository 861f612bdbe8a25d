"""`.env` is found at the project root (where promptlab.yaml is), like promptlab.yaml itself."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from promptlab.config import CONFIG_FILE, load_config
from tests.conftest import write


def test_dotenv_at_the_root_is_read_from_a_subdirectory(
    project: Path, monkeypatch: pytest.MonkeyPatch, clean_env: Callable[[str], None]
) -> None:
    clean_env("PROMPTLAB_CONCURRENCY")
    write(project / CONFIG_FILE, "models: [echo]\n")
    write(project / ".env", "PROMPTLAB_CONCURRENCY=5\n")
    sub = project / "prompts" / "team"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert load_config().concurrency == 5


def test_the_working_directorys_dotenv_wins_over_the_roots(
    project: Path, monkeypatch: pytest.MonkeyPatch, clean_env: Callable[[str], None]
) -> None:
    clean_env("PROMPTLAB_CONCURRENCY")
    clean_env("PROMPTLAB_JUDGE_MODEL")
    write(project / CONFIG_FILE, "models: [echo]\n")
    write(project / ".env", "PROMPTLAB_CONCURRENCY=5\nPROMPTLAB_JUDGE_MODEL=nova-lite\n")
    sub = project / "work"
    write(sub / ".env", "PROMPTLAB_CONCURRENCY=7\n")
    monkeypatch.chdir(sub)
    cfg = load_config()
    assert cfg.concurrency == 7
    assert cfg.judge_model == "nova-lite"

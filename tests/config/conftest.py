"""Fixtures for the configuration tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Lets a test's .env loading touch os.environ; restored afterwards."""

    def track(name: str) -> None:
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)

    return track

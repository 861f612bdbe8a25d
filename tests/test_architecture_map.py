"""docs/ARCHITECTURE.md stays true: every module and folder it names exists."""

from __future__ import annotations

import re

from tests.conftest import REPO

MAP = REPO / "docs" / "ARCHITECTURE.md"


def named_paths(text: str) -> set[str]:
    """Backticked names that look like files or folders: `runner.py`, `providers/`, `a/b.py`."""
    found: set[str] = set()
    for span in re.findall(r"`([^`\s]+)`", text):
        for part in span.split(" / "):
            part = part.strip()
            if re.fullmatch(r"[\w./-]+(\.py|\.json|\.md|/)", part):
                found.add(part)
    return found


def exists(name: str) -> bool:
    package = REPO / "promptlab"
    folders = ("views", "providers", "prompt", "store", "cli", "testing", "assertions")
    roots = [REPO, REPO / "tests", package, *(package / f for f in folders)]
    return any((root / name).exists() for root in roots)


def test_every_named_module_and_folder_exists() -> None:
    names = named_paths(MAP.read_text("utf-8"))
    assert len(names) > 40
    missing = sorted(n for n in names if not exists(n))
    assert missing == []


def test_the_readme_links_the_map() -> None:
    assert "docs/ARCHITECTURE.md" in (REPO / "README.md").read_text("utf-8")

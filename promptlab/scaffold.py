"""`promptlab init`: write a starter project without ever overwriting a file.

The file contents are package data (promptlab/data/scaffold.yaml and prompt.schema.json).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from promptlab.errors import UsageError

SCHEMA_FILE = "prompt.schema.json"
SCHEMA_DEST = f"prompts/{SCHEMA_FILE}"


@dataclass(frozen=True)
class Action:
    """What init did with one path: created, kept (already there) or updated (.gitignore)."""

    status: str
    path: str
    detail: str = ""


def schema_text() -> str:
    """The prompt-file JSON Schema shipped with promptlab."""
    return (resources.files("promptlab") / "data" / SCHEMA_FILE).read_text("utf-8")


@lru_cache(maxsize=1)
def scaffold() -> dict[str, Any]:
    """The starter files (path → content) and the .gitignore entries."""
    import yaml

    text = (resources.files("promptlab") / "data" / "scaffold.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def starter_files() -> dict[str, str]:
    """Every file init writes, path (relative to the project) → content."""
    files: dict[str, str] = dict(scaffold()["files"])
    files[SCHEMA_DEST] = schema_text()
    return files


def init_project(target: Path) -> list[Action]:
    """Scaffold `target`: prompts/, promptlab.yaml, .env.example, .gitignore entries."""
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target}: exists and is not a directory", "pass a directory to init")
    actions: list[Action] = []
    try:
        target.mkdir(parents=True, exist_ok=True)
        for rel, content in starter_files().items():
            actions.append(_write_new(target, rel, content))
        actions.append(_gitignore(target, list(scaffold()["gitignore"])))
    except OSError as exc:
        where = exc.filename or target
        raise UsageError(
            f"{where}: cannot write: {exc.strerror or exc}", "check the directory's permissions"
        ) from None
    return actions


def _write_new(root: Path, rel: str, content: str) -> Action:
    dest = root / rel
    if dest.exists() or dest.is_symlink():
        return Action("kept", rel, "already exists")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("x", encoding="utf-8", newline="\n") as fh:  # "x": never overwrite
        fh.write(content)
    return Action("created", rel)


def _gitignore(root: Path, entries: list[str]) -> Action:
    """Add missing entries to .gitignore (created if absent); existing lines are untouched."""
    path = root / ".gitignore"
    header = "# promptlab: local state (history, cache) and secrets\n"
    if not path.exists():
        path.write_text(header + "".join(f"{e}\n" for e in entries), encoding="utf-8")
        return Action("created", ".gitignore")
    text = path.read_text(encoding="utf-8", errors="replace")
    present = {line.strip().lstrip("/").rstrip("/") for line in text.splitlines()}
    missing = [e for e in entries if e.strip("/") not in present]
    if not missing:
        return Action("kept", ".gitignore", "already ignores " + ", ".join(entries))
    prefix = "" if not text or text.endswith("\n") else "\n"
    with path.open("a", encoding="utf-8") as fh:
        fh.write(prefix + "\n" + header + "".join(f"{e}\n" for e in missing))
    return Action("updated", ".gitignore", "added " + ", ".join(missing))

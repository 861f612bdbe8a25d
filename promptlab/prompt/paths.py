"""Where prompt files are: a command-line argument to a path, a path to what messages show."""

from __future__ import annotations

from pathlib import Path


def locate(arg: str, prompts_dir: Path) -> Path:
    """A prompt argument: a path, or a prompt name/file stem found under the prompts dir."""
    path = Path(arg)
    if path.exists() or path.suffix in (".yaml", ".yml") or "/" in arg:
        return path
    if prompts_dir.is_dir():
        for candidate in sorted(prompts_dir.rglob("*.y*ml")):
            if candidate.stem == arg and ".tests" not in candidate.name:
                return display_path(candidate)
    return path


def display_path(path: Path) -> Path:
    """`path` relative to the working directory when it is inside it (for messages)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path

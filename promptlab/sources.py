"""Where prompt files come from: a path, a prompt name under prompts/, or (later) a git ref."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promptlab.config import Config
from promptlab.prompt import Prompt, Rendered, load_prompt, locate, render, resolve_vars


def open_prompt(arg: str, config: Config) -> Prompt:
    """Load the prompt named by a command-line argument."""
    return load_prompt(locate(arg, config.prompts_dir), prompts_dir=config.prompts_dir)


def prompt_files(paths: list[Path]) -> list[Path]:
    """Prompt files under the given paths: *.yaml/*.yml, skipping suites and _private dirs."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            for f in sorted([*p.rglob("*.yaml"), *p.rglob("*.yml")]):
                rel = f.relative_to(p).parts
                if any(part.startswith((".", "_")) for part in rel[:-1]):
                    continue
                if f.name.endswith((".tests.yaml", ".tests.yml")):
                    continue
                out.append(f)
        else:
            out.append(p)
    return out


def prepare(
    prompt: Prompt,
    typed: dict[str, Any] | None,
    strings: dict[str, str] | None,
    *,
    use_examples: bool = False,
) -> tuple[dict[str, Any], Rendered]:
    """Resolve variables and render: what `render`, `run --dry-run` and `run` share."""
    values = resolve_vars(prompt, typed, strings, use_examples=use_examples)
    return values, render(prompt, values)

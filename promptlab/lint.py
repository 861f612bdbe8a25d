"""`promptlab lint`: every problem in every prompt file, with file:line."""

from __future__ import annotations

from pathlib import Path

from promptlab.config import Config
from promptlab.errors import Problem, PromptFileError
from promptlab.prompt import Prompt, load_prompt, template_variables
from promptlab.sources import prompt_files


def lint_paths(paths: list[Path], config: Config) -> tuple[list[Problem], int]:
    files = prompt_files(paths)
    problems: list[Problem] = []
    for f in files:
        problems.extend(lint_file(f, config))
    return problems, len(files)


def lint_file(path: Path, config: Config) -> list[Problem]:
    try:
        prompt = load_prompt(path, prompts_dir=config.prompts_dir)
    except PromptFileError as exc:
        return list(exc.problems)
    return check_variables(prompt)


def check_variables(prompt: Prompt) -> list[Problem]:
    """Variables used but not declared, and declared but never used."""
    import jinja2

    doc = prompt.doc
    out: list[Problem] = []
    try:
        used_by_section = template_variables(prompt)
    except jinja2.TemplateError as exc:
        return [Problem(prompt.path, f"template error: {exc}")]
    used: set[str] = set()
    for section, names in used_by_section.items():
        used |= names
        for name in sorted(names - set(prompt.variables)):
            out.append(
                Problem(prompt.path, f"variable '{name}' is used in '{section}' but not declared",
                        doc.line((section,)) if doc else None,
                        f"add it under 'variables:' (e.g. {name}: {{type: string}})")
            )  # fmt: skip
    for name in prompt.variables:
        if name not in used:
            out.append(
                Problem(prompt.path, f"variable '{name}' is declared but never used",
                        doc.line(("variables", name)) if doc else None,
                        "use it in a section or remove the declaration")
            )  # fmt: skip
    return out

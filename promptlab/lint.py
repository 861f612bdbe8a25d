"""`promptlab lint`: every problem in every prompt file, with file:line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from promptlab.config import Config
from promptlab.errors import Problem, PromptFileError, PromptlabError
from promptlab.prompt import (
    Prompt,
    display_path,
    load_prompt,
    make_env,
    render,
    resolve_vars,
)
from promptlab.sources import prompt_files

if TYPE_CHECKING:
    import jinja2


def lint_paths(paths: list[Path], config: Config) -> tuple[list[Problem], int]:
    """Problems in every prompt file under `paths`, and how many files were checked."""
    from promptlab.suite import is_suite_file

    files = [display_path(f) for f in prompt_files(paths) if not is_suite_file(f)]
    problems: list[Problem] = []
    for f in files:
        problems.extend(lint_file(f, config))
    suites = lint_suites(paths, config, set(problems))
    return problems + suites, len(files) + len(_suite_targets(paths))


def _suite_targets(paths: list[Path]) -> list[Path]:
    """Suite files under the paths, plus the suites (or inline tests) of explicit prompt files."""
    from promptlab.suite import is_suite_file, sibling_suite, suite_files

    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(suite_files(p))
        elif is_suite_file(p):
            out.append(p)
        elif (sib := sibling_suite(p)) is not None:
            out.append(sib)
    return list({p.resolve(): p for p in out}.values())


def lint_suites(paths: list[Path], config: Config, seen: set[Problem]) -> list[Problem]:
    """Test cases: suite files and inline `tests:` (unknown keys, assertions, regexes, vars)."""
    from promptlab.suite import load_cases

    args = [str(p) for p in paths if p.is_dir()] + [str(p) for p in _suite_targets(paths)]
    args += [str(p) for p in paths if p.is_file() and _has_inline_tests(p, config)]
    if not args:
        return []
    try:
        load_cases(args, config)
    except PromptFileError as exc:
        found = [replace(p, file=str(display_path(Path(p.file)))) for p in exc.problems]
        return [p for p in found if p not in seen]
    except PromptlabError as exc:
        return [Problem(exc.file or "suite", exc.message, exc.line, exc.hint)]
    return []


def _has_inline_tests(path: Path, config: Config) -> bool:
    from promptlab.suite import is_suite_file

    if is_suite_file(path):
        return False
    try:
        return bool(load_prompt(path, prompts_dir=config.prompts_dir).tests)
    except PromptlabError:
        return False


def lint_file(path: Path, config: Config) -> list[Problem]:
    """Load errors, or else template findings: variables, includes, internals, a trial render."""
    try:
        prompt = load_prompt(path, prompts_dir=config.prompts_dir)
    except PromptFileError as exc:
        return list(exc.problems)
    problems = check_templates(prompt)
    if not problems:
        problems = check_example_render(prompt)
    return problems


def check_variables(prompt: Prompt) -> list[Problem]:
    """Variables used but not declared, and declared but never used."""
    return [p for p in check_templates(prompt) if "variable" in p.message]


def check_templates(prompt: Prompt) -> list[Problem]:
    """Static checks of every section and the partials it includes."""
    doc = prompt.doc
    env = make_env(prompt.root, prompt.loader)
    out: list[Problem] = []
    used: set[str] = set()

    def line(*path: object) -> int | None:
        return doc.line(tuple(path)) if doc else None

    for section, source in prompt.sections.items():
        scan = _Scan(env, prompt.path, line(section))
        scan.source(source, f"section '{section}'")
        out.extend(scan.problems)
        used |= scan.names
        for name in sorted(scan.names - set(prompt.variables)):
            out.append(
                Problem(prompt.path, f"variable '{name}' is used in '{section}' but not declared",
                        line(section), f"add it under 'variables:' (e.g. {name}: {{type: string}})")
            )  # fmt: skip
    for name in prompt.variables:
        if name not in used:
            out.append(
                Problem(prompt.path, f"variable '{name}' is declared but never used",
                        line("variables", name), "use it in a section or remove the declaration")
            )  # fmt: skip
    return out


def check_example_render(prompt: Prompt) -> list[Problem]:
    """Render with defaults and examples when every required variable has one."""
    try:
        values = resolve_vars(prompt, use_examples=True)
    except PromptlabError:
        return []  # some required variable has no example: nothing to try
    try:
        render(prompt, values)
    except PromptlabError as exc:
        return [Problem(exc.file or prompt.path, exc.message, exc.line, exc.hint)]
    return []


class _Scan:
    """Walks a template and the partials it includes, collecting names and problems."""

    def __init__(self, env: jinja2.Environment, file: str, line: int | None) -> None:
        self.env = env
        self.file = file
        self.line = line
        self.names: set[str] = set()
        self.problems: list[Problem] = []
        self.seen: set[str] = set()

    def source(self, source: str, where: str) -> None:
        import jinja2
        import jinja2.meta
        from jinja2 import nodes

        try:
            ast = self.env.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            self._add(f"Jinja syntax error in {where}: {exc.message}", "fix the partial")
            return
        self.names |= jinja2.meta.find_undeclared_variables(ast)
        for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
            if isinstance(node, nodes.Getattr):
                attr: object = node.attr
            elif isinstance(node, nodes.Getitem):
                attr = _const(node.arg)
            if isinstance(attr, str) and attr.startswith("_"):
                self._add(
                    f"{where} reaches for Python internals ('{attr}'); the sandbox refuses it",
                    "templates may only use variables, filters and tests",
                )
        for ref in jinja2.meta.find_referenced_templates(ast):
            if ref is None:
                self._add(
                    f"{where} includes a template chosen at render time; lint cannot check it",
                    'prefer a constant path such as "_partials/tone.j2"',
                    severity="warning",
                )
                continue
            if ref in self.seen:
                continue
            self.seen.add(ref)
            try:
                sub, _, _ = self.env.loader.get_source(self.env, ref)  # type: ignore[union-attr]
            except jinja2.TemplateNotFound:
                self._add(
                    f"include '{ref}' not found inside the prompts root",
                    "includes are paths relative to the prompts root, e.g. _partials/tone.j2; "
                    "'..', absolute paths and symlinks leading outside are refused",
                )
                continue
            self.source(sub, f"partial '{ref}'")

    def _add(self, message: str, hint: str, severity: str = "error") -> None:
        self.problems.append(Problem(self.file, message, self.line, hint, severity))


def _const(node: object) -> object:
    from jinja2 import nodes

    return node.value if isinstance(node, nodes.Const) else None

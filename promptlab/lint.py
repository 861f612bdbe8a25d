"""`promptlab lint`: every problem in every prompt file, with file:line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlab.ci import annotation
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
    from collections.abc import Callable

    import jinja2


def lint_paths(paths: list[Path], config: Config) -> tuple[list[Problem], int]:
    """Problems in every prompt file under `paths`, and how many files were checked.
    Retrieval reads the `retrieve:` files but ranks nothing (no BM25 index is built)."""
    from promptlab.retrieval import unranked
    from promptlab.suite import is_suite_file

    files = [display_path(f) for f in prompt_files(paths) if not is_suite_file(f)]
    problems: list[Problem] = []
    with unranked():
        for f in files:
            problems.extend(lint_file(f, config))
        problems = list(dict.fromkeys(problems))  # a shared partial's findings once
        suites = lint_suites(paths, config, set(problems))
    return problems + suites, len(files) + len(_suite_targets(paths))


def lint_annotations(problems: list[Problem]) -> list[str]:
    """`lint` findings as annotations: errors as ::error, warnings as ::warning."""
    return [annotation(p.file, p.line, p.message + (f" — {p.hint}" if p.hint else ""),
                       level="error" if p.severity == "error" else "warning",
                       title="promptlab lint") for p in problems]  # fmt: skip


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
    """Test cases: suite files and inline `tests:` (unknown keys, assertions, regexes, vars,
    duplicate names) and the models they name (case, suite, prompt, judge and embedding models):
    everything `test` would reject, at once. A case with no model at all is fine (`test -m`)."""
    from promptlab.suite import check_cases
    from promptlab.testing.plan import prepare

    args = [str(p) for p in paths if p.is_dir()] + [str(p) for p in _suite_targets(paths)]
    args += [str(p) for p in paths if p.is_file() and _has_inline_tests(p, config)]
    if not args:
        return []
    try:
        cases, problems = check_cases(args, config)
        try:
            prepare(cases, config, need_models=False)
        except PromptFileError as exc:
            problems = problems + exc.problems
    except PromptFileError as exc:
        problems = exc.problems
    except PromptlabError as exc:
        return [Problem(exc.file or "suite", exc.message, exc.line, exc.hint)]
    found = [replace(p, file=str(display_path(Path(p.file)))) for p in problems]
    return [p for p in dict.fromkeys(found) if p not in seen]


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
    problems = check_templates(prompt) + check_retrieved_files(prompt)
    if not problems:
        problems = check_example_render(prompt)
    if not problems and prompt.kind == "image":
        problems = check_image_models(prompt, config)
    order = {prompt.path: 0}  # the prompt's own findings first, by line; then its partials'
    return sorted(problems, key=lambda p: (order.get(p.file, 1), p.file, p.line or 0))


def check_templates(prompt: Prompt) -> list[Problem]:
    """Static checks of every section (at its key's line) and of the partials it includes."""
    doc = prompt.doc
    env = make_env(prompt.root, prompt.loader)
    out: list[Problem] = []
    used: set[str] = set()

    def line(*path: object) -> int | None:
        return doc.line(tuple(path)) if doc else None

    templates: list[tuple[tuple[Any, ...], str]] = [((k,), v) for k, v in prompt.sections.items()]
    templates += [(t.path, t.text) for t in (*prompt.examples, *prompt.messages)]
    used |= set(prompt.attachments)  # media variables are sent as blocks, not written in text
    for path, source in templates:
        section = ".".join(str(p) for p in path)
        what = f"section '{section}'" if len(path) == 1 else f"turn '{section}'"

        def at(lineno: int, path: tuple[Any, ...] = path) -> int | None:
            """The file line of a line inside the section's template."""
            return doc.text_line(path, lineno) if doc else None

        scan = _Scan(env)
        scan.source(source, what, prompt.path, at)
        out.extend(scan.problems)
        used |= scan.names
        for name in sorted(scan.names - set(prompt.variables)):
            out.append(
                Problem(prompt.path, f"variable '{name}' is used in '{section}' but not declared",
                        line(*path), f"add it under 'variables:' (e.g. {name}: {{type: string}})")
            )  # fmt: skip
    for name in prompt.variables:
        if name not in used:
            out.append(
                Problem(prompt.path, f"variable '{name}' is declared but never used",
                        line("variables", name), "use it in a section or remove the declaration")
            )  # fmt: skip
    return list(dict.fromkeys(out))


def check_retrieved_files(prompt: Prompt) -> list[Problem]:
    """Every local file a `retrieve:` source names is read (text, or a PDF's text layer); one
    that cannot be is a problem at the source's line, whatever the variables' examples."""
    if prompt.retrieval is None:
        return []
    from promptlab.retrieval.local import files_of, read_doc

    out: list[Problem] = []
    for source in prompt.retrieval.sources:
        if source.knowledge_base:
            continue
        try:
            for path in files_of(source):
                read_doc(path)
        except PromptlabError as exc:
            out.append(Problem(source.file or prompt.path, exc.message, source.line, exc.hint))
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
        message = exc.message
        if exc.file and exc.file != prompt.path:  # in a partial: say which prompt got there
            message += f" (rendering {prompt.path} with its defaults and examples)"
        return [Problem(exc.file or prompt.path, message, exc.line, exc.hint)]
    return []


def check_image_models(prompt: Prompt, config: Config) -> list[Problem]:
    """An image prompt against its own `models:`: what each family cannot take (sizes, prompt
    length, images per request, tasks), rendered with defaults and examples."""
    from promptlab.catalogue import resolve
    from promptlab.jobs import Job, image_problems, image_seeds, kind_problem

    try:
        values = resolve_vars(prompt, use_examples=True)
        rendered = render(prompt, values)
    except PromptlabError:
        return []  # a required variable has no example, or a source image is missing
    line = prompt.doc.line(("models",)) if prompt.doc else None
    out: list[Problem] = []
    jobs: list[Job] = []
    for name in prompt.models:
        try:
            ref = resolve(name, config, config.region)
        except PromptlabError as exc:
            out.append(Problem(prompt.path, exc.message, line, exc.hint))
            continue
        wrong = kind_problem(prompt, ref)
        if wrong is not None:
            out.append(Problem(prompt.path, wrong.message, line, wrong.hint))
            continue
        jobs += [Job(prompt, rendered, ref, prompt.inference, seed=seed)
                 for seed in image_seeds(prompt, ref)[:1]]  # fmt: skip
    return out + image_problems(jobs)


class _Scan:
    """Walks a template and the partials it includes, collecting names and problems.

    A problem inside a partial is reported at the partial's own file and line.
    """

    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self.names: set[str] = set()
        self.problems: list[Problem] = []
        self.seen: set[str] = set()

    def source(self, source: str, where: str, file: str, at: Callable[[int], int | None]) -> None:
        """Scan `source` (from `file`; `at` maps a template line to the file's line)."""
        import jinja2
        import jinja2.meta
        from jinja2 import nodes

        def add(node: nodes.Node | None, message: str, hint: str, severity: str = "error") -> None:
            lineno = at(node.lineno if node is not None else 1)
            self.problems.append(Problem(file, message, lineno, hint, severity))

        try:
            ast = self.env.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            lineno = at(exc.lineno or 1)
            self.problems.append(
                Problem(file, f"Jinja syntax error in {where}: {exc.message}", lineno,
                        "fix the template; for literal braces use {% raw %}...{% endraw %}")
            )  # fmt: skip
            return
        self.names |= jinja2.meta.find_undeclared_variables(ast)
        for access in ast.find_all((nodes.Getattr, nodes.Getitem)):
            if isinstance(access, nodes.Getattr):
                attr: object = access.attr
            elif isinstance(access, nodes.Getitem):
                attr = _const(access.arg)
            if isinstance(attr, str) and attr.startswith("_"):
                add(
                    access,
                    f"{where} reaches for Python internals ('{attr}'); the sandbox refuses it",
                    "templates may only use variables, filters and tests",
                )
        for node, ref in _references(ast):
            if ref is None:
                add(
                    node,
                    f"{where} includes a template chosen at render time; lint cannot check it",
                    'prefer a constant path such as "_partials/tone.j2"',
                    severity="warning",
                )
                continue
            try:
                sub, filename, _ = self.env.loader.get_source(self.env, ref)  # type: ignore[union-attr]
            except jinja2.TemplateNotFound:
                if not getattr(node, "ignore_missing", False):
                    add(
                        node,
                        f"include '{ref}' not found inside the prompts root",
                        "includes are paths relative to the prompts root, e.g. _partials/tone.j2;"
                        " '..', absolute paths and symlinks leading outside are refused",
                    )
                continue
            if ref in self.seen:
                continue
            self.seen.add(ref)
            shown = str(display_path(Path(filename))) if filename else ref
            self.source(sub, f"partial '{ref}'", shown, lambda n: n)


def _references(ast: jinja2.nodes.Template) -> list[tuple[jinja2.nodes.Node, str | None]]:
    """Each include, import and extends with its constant path (None when chosen at render time).

    Like `jinja2.meta.find_referenced_templates`, but keeping the node for its line.
    """
    from jinja2 import nodes

    out: list[tuple[nodes.Node, str | None]] = []
    for node in ast.find_all((nodes.Extends, nodes.FromImport, nodes.Import, nodes.Include)):
        template: nodes.Expr = node.template  # type: ignore[attr-defined]
        items = template.items if isinstance(template, nodes.Tuple | nodes.List) else [template]
        for item in items:
            value = _const(item) if isinstance(item, nodes.Const) else None
            if isinstance(item, nodes.Const) and not isinstance(value, str):
                continue
            out.append((node, value if isinstance(value, str) else None))
    return out


def _const(node: object) -> object:
    from jinja2 import nodes

    return node.value if isinstance(node, nodes.Const) else None

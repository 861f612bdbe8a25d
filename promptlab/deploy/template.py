"""A prompt's sections as Prompt Management templates: partials expanded, `{{ var }}` → `{{var}}`.

Prompt Management renders nothing but `{{name}}` placeholders, so any other Jinja construct
(`{% if %}`, loops, `{% set %}`, filters, attribute access, literals, expressions) cannot be
published. Jinja's own parser decides, and each such construct is reported at its file:line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2 import nodes

from promptlab.errors import Problem, PromptFileError
from promptlab.prompt import Prompt, display_path, join_user, make_env

HINT = (
    "Prompt Management fills in {{variable}} placeholders only: compute the value in your "
    "application (or in the variable itself) and pass it as a variable"
)
_BLOCK_TAGS: dict[type[nodes.Node], str] = {
    nodes.If: "{% if %}", nodes.For: "{% for %}", nodes.Assign: "{% set %}",
    nodes.AssignBlock: "{% set %}", nodes.Macro: "{% macro %}", nodes.CallBlock: "{% call %}",
    nodes.FilterBlock: "{% filter %}", nodes.With: "{% with %}", nodes.Import: "{% import %}",
    nodes.FromImport: "{% from ... import %}", nodes.Extends: "{% extends %}",
    nodes.Block: "{% block %}",
}  # fmt: skip


@dataclass(frozen=True)
class Templates:
    """The system text and the user message, with `{{name}}` placeholders."""

    system: str
    user: str
    names: tuple[str, ...]  # placeholders used, in order of first use


def placeholder_templates(prompt: Prompt) -> Templates:
    """The prompt as Prompt Management templates. Raises PromptFileError listing, at file:line,
    every construct Prompt Management cannot render."""
    expander = _Expander(make_env(prompt.root, prompt.loader))
    doc = prompt.doc
    sections: dict[str, str] = {}
    for key, source in prompt.sections.items():

        def at(lineno: int, key: str = key) -> int | None:
            return doc.text_line((key,), lineno) if doc else None

        text = expander.expand(source, f"section '{key}'", prompt.path, at).strip()
        if text:
            sections[key] = text
    if expander.problems:
        raise PromptFileError(sorted(expander.problems, key=lambda p: (p.file, p.line or 0)))
    return Templates(
        sections.get("instructions", ""),
        join_user(sections, prompt.layout),
        tuple(dict.fromkeys(expander.names)),
    )


class _Expander:
    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self.problems: list[Problem] = []
        self.names: list[str] = []
        self.depth = 0

    def expand(self, source: str, where: str, file: str, at: Callable[[int], int | None]) -> str:
        ast = self.env.parse(source)  # syntax errors were reported when the prompt was loaded
        out: list[str] = []
        for node in ast.body:
            out.append(self._statement(node, where, file, at))
        return "".join(out)

    def _problem(self, node: nodes.Node, what: str, where: str, file: str,
                 at: Callable[[int], int | None]) -> str:  # fmt: skip
        message = f"{where}: {what} cannot be published to Prompt Management"
        self.problems.append(Problem(file, message, at(node.lineno or 1), HINT))
        return ""

    def _statement(
        self, node: nodes.Node, where: str, file: str, at: Callable[[int], int | None]
    ) -> str:
        if isinstance(node, nodes.Output):
            return "".join(self._output(child, where, file, at) for child in node.nodes)
        if isinstance(node, nodes.Include) and isinstance(node.template, nodes.Const):
            return self._include(node, str(node.template.value), where, file, at)
        what = _BLOCK_TAGS.get(type(node), f"the {type(node).__name__} statement")
        if isinstance(node, nodes.Include):
            what = "an include chosen at render time"
        return self._problem(node, what, where, file, at)

    def _output(
        self, node: nodes.Node, where: str, file: str, at: Callable[[int], int | None]
    ) -> str:
        if isinstance(node, nodes.TemplateData):
            if "{{" in node.data:
                return self._problem(node, "literal '{{' text (it would become a placeholder)",
                                     where, file, at)  # fmt: skip
            return node.data
        if isinstance(node, nodes.Name) and node.ctx == "load":
            self.names.append(node.name)
            return "{{" + node.name + "}}"
        return self._problem(node, _describe(node), where, file, at)

    def _include(self, node: nodes.Include, ref: str, where: str, file: str,
                 at: Callable[[int], int | None]) -> str:  # fmt: skip
        try:
            source, filename, _ = self.env.loader.get_source(self.env, ref)  # type: ignore[union-attr]
        except jinja2.TemplateNotFound:
            return self._problem(node, f"include '{ref}' (not found)", where, file, at)
        if self.depth > 20:
            return self._problem(node, f"include '{ref}' (includes without end)", where, file, at)
        shown = display_path(Path(filename)).as_posix() if filename else ref
        self.depth += 1
        try:
            return self.expand(source, f"partial '{ref}'", shown, lambda n: n)
        finally:
            self.depth -= 1


def _describe(expr: nodes.Node) -> str:
    """What a `{{ ... }}` expression uses that a plain placeholder cannot."""
    if isinstance(expr, nodes.Filter):
        return f"the filter '| {expr.name}'"
    if isinstance(expr, nodes.Getattr):
        return f"attribute access '.{expr.attr}'"
    if isinstance(expr, nodes.Getitem):
        return "item access '[...]'"
    if isinstance(expr, nodes.CondExpr):
        return "an inline 'if ... else'"
    if isinstance(expr, nodes.Call):
        return "a call"
    if isinstance(expr, nodes.Test):
        return f"the test 'is {expr.name}'"
    if isinstance(expr, nodes.Const):
        return "a literal in {{ }}"
    return f"the expression ({type(expr).__name__})"

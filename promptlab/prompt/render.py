"""Rendering: the sandboxed Jinja environment, the user message, render errors at file:line."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from promptlab.errors import UsageError
from promptlab.prompt.model import MARKDOWN_TITLES, USER_SECTIONS, Prompt, Rendered, Variable
from promptlab.prompt.paths import display_path
from promptlab.prompt.sandbox import LimitedSandbox, TooLarge, render_bounded

if TYPE_CHECKING:
    from promptlab.media import Media
    from promptlab.retrieval.spec import Source


class _RootLoader(jinja2.FileSystemLoader):
    """Includes confined to the prompts root: no absolute paths, no '..', no symlink escapes."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        root = Path(self.searchpath[0]).resolve()
        target = (root / template).resolve()
        if template.startswith(("/", "\\")) or (root != target and root not in target.parents):
            raise jinja2.TemplateNotFound(template)
        return super().get_source(environment, template)


def make_env(root: Path, loader: jinja2.BaseLoader | None = None) -> jinja2.Environment:
    """The sandbox every template runs in: no Python internals, bounded sizes (sandbox.py)."""
    return LimitedSandbox(
        loader=loader or _RootLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(prompt: Prompt, values: Mapping[str, Any], *, source: Source | None = None
           ) -> Rendered:  # fmt: skip
    """Render every section and scripted turn with `values` (already resolved by `resolve_vars`).

    Variable values are data: they are inserted as text and never rendered as templates.
    Media variables are read here (once per file and process) and checked against the
    service's limits. Errors name the file and the line of the section, turn or partial.
    A prompt that retrieves (`source`: the variant, default its first) has its query rendered
    and searched here; the passages are the templates' `passages` and, unless a template
    places them, the end of the context section.
    """
    env: jinja2.Environment | None = None  # made only for a template not compiled at load

    def run(path: tuple[str | int, ...], source: str,
            given: Mapping[str, Any] | None = None) -> str:  # fmt: skip
        nonlocal env
        try:
            template = prompt.templates.get(source)
            if template is None:
                env = env or make_env(prompt.root, prompt.loader)
                template = env.from_string(source)
            return render_bounded(template, values if given is None else given).strip()
        except Exception as exc:  # TemplateError, or a runtime error such as 1 + "x" or 1 / 0
            raise _render_error(prompt, path, exc) from None

    passages: list[dict[str, Any]] = []
    notes: list[str] = []
    label = None
    if prompt.retrieval is not None:
        from promptlab import retrieval

        src = source or prompt.retrieval.default
        label = src.name
        query = retrieval_query(prompt, values, src)
        passages, notes = retrieval.fetch(src, query)
        values = {**values, "passages": passages}
    out: dict[str, str] = {}
    for key, text in prompt.sections.items():
        text = run((key,), text)
        if text:
            out[key] = text
    bare: dict[str, str] | None = None
    if prompt.retrieval is not None:  # the sections as a knowledge base's template gets them
        bare = dict(out)
        if prompt.places_passages:
            without = {**values, "passages": []}
            bare = {key: text for key, source in prompt.sections.items()
                    if (text := run((key,), source, without))}  # fmt: skip
    if passages and not prompt.places_passages:
        from promptlab.retrieval.passages import with_context

        out["context"] = with_context(out.get("context"), passages)
    turns = [(t.role, run(t.path, t.text)) for t in (*prompt.examples, *prompt.messages)]
    last = turns.pop()[1] if prompt.messages else ""
    user = "\n\n".join(filter(None, [last, join_user(out, prompt.layout)]))
    if prompt.kind == "image":  # what the image shows: the text of the request
        user = out.get("prompt", "")
    schema_user = None
    if prompt.output_schema:
        with_schema = {
            **out,
            "format": "\n\n".join(
                filter(None, [out.get("format", ""), schema_instructions(prompt.output_schema)])
            ),
        }
        schema_user = "\n\n".join(filter(None, [last, join_user(with_schema, prompt.layout)]))
    return Rendered(
        out,
        out.get("instructions"),
        user,
        tuple(turns),
        _attachments(prompt, values),
        prompt.tools,
        prompt.tool_choice,
        prompt.output_schema,
        schema_user,
        prompt.cache,
        len(prompt.examples),
        _context_end(prompt, out, last, user),
        tuple(passages),
        label,
        tuple(notes),
        bare,
        prompt.layout,
    )


def retrieval_query(prompt: Prompt, values: Mapping[str, Any], source: Source) -> str | None:
    """A retrieval source's query rendered with `values` (None: the source has no query).
    An empty query is a UsageError at the source's line."""
    if source.query is None:
        return None
    path = (*source.at, "query")
    try:
        template = prompt.templates.get(source.query) or make_env(
            prompt.root, prompt.loader).from_string(source.query)  # fmt: skip
        text = template.render(**values).strip()
    except Exception as exc:  # as in render: a template error at its line
        raise _render_error(prompt, path, exc) from None
    if not text:
        raise UsageError("retrieve: the query is empty for these values",
                         "give the variables it uses a value (e.g. -v question=...)",
                         file=source.file or None, line=source.line)  # fmt: skip
    return text


def _context_end(prompt: Prompt, sections: Mapping[str, str], last: str, user: str) -> int | None:
    """Where the last user text ends its context section (after a scripted last turn's text),
    for a cache point after the context; None when the prompt puts none there."""
    if not prompt.cache or "context" not in prompt.cache.after:
        return None
    context = join_user({"context": sections["context"]}, prompt.layout) if sections.get(
        "context") else ""  # fmt: skip
    head = "\n\n".join(filter(None, [last, context]))
    return len(head) if user.startswith(head) else None


def schema_instructions(schema: Mapping[str, Any]) -> str:
    """The output schema as instructions, for models without structured output."""
    text = json.dumps(schema, indent=2, ensure_ascii=False)
    return ("Answer with only a JSON value (no prose, no code fence) that validates against "
            f"this JSON Schema:\n{text}")  # fmt: skip


def _attachments(prompt: Prompt, values: Mapping[str, Any]) -> tuple[tuple[Variable, Media], ...]:
    """The media variables with a value, read and checked, in `attachments` order."""
    if not prompt.attachments:
        return ()
    from promptlab import media

    loaded = tuple((var, media.load(values[var.name], var=var.name)) for var in prompt.media
                   if values.get(var.name) is not None)  # fmt: skip
    media.check_request([(var.name, m) for var, m in loaded])
    return loaded


def _render_error(prompt: Prompt, path: tuple[str | int, ...], exc: Exception) -> UsageError:
    """A rendering failure as one line: file:line, section, what went wrong, the fix."""
    file, line = _failing_line(prompt, path, exc)
    key = _dotted(path)
    what = "section" if len(path) == 1 else "turn"
    where = f"{what} '{key}'" if file == prompt.path else f"partial included by '{key}'"
    if isinstance(exc, jinja2.UndefinedError):
        msg = f"{where}: {exc.message}"
        hint = "declare the variable under 'variables' and pass it with -v name=value"
    elif isinstance(exc, TooLarge):
        msg = f"{where} was refused by the sandbox: {exc}"
        hint = (
            "templates may not make values or text this large, nor loop this long; pass "
            "large text with --vars"
        )
    elif isinstance(exc, jinja2.exceptions.SecurityError):
        msg = f"{where} was refused by the template sandbox: {exc}"
        hint = "templates may only use variables, filters and tests, not Python internals"
    elif isinstance(exc, jinja2.TemplateNotFound):
        msg = f"{where}: include {exc.name!r} not found inside the prompts root {prompt.root}"
        hint = ("includes are paths relative to the prompts root, e.g. _partials/tone.j2; "
                "'..', absolute paths and symlinks leading outside are refused")  # fmt: skip
    elif isinstance(exc, jinja2.TemplateSyntaxError):
        msg = f"Jinja syntax error in {where}: {exc.message}"
        hint = "fix the template; for literal braces use {% raw %}...{% endraw %}"
    elif isinstance(exc, jinja2.TemplateError):
        msg, hint = f"{where}: {exc}", "fix the template"
    elif isinstance(exc, RecursionError):
        msg = f"{where}: templates include each other without end"
        hint = "remove the include cycle"
    else:
        msg = f"{where} failed: {type(exc).__name__}: {exc}"
        hint = "check the variable values and the expression on that line"
    return UsageError(msg, hint, file=file, line=line)


def _dotted(path: tuple[str | int, ...]) -> str:
    """('examples', 0, 'user') → examples[0].user"""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def _failing_line(
    prompt: Prompt, key: tuple[str | int, ...], exc: BaseException
) -> tuple[str, int | None]:
    """The file and line a Jinja error points at (Jinja rewrites tracebacks to template lines)."""
    doc = prompt.doc
    section_line = doc.line(key) if doc else None
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.lineno:
        if exc.name is None or exc.filename in (None, "<template>"):
            return prompt.path, doc.text_line(key, exc.lineno) if doc else None
        return display_path(Path(exc.filename or exc.name)).as_posix(), exc.lineno
    frames: list[tuple[str, int]] = []
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name == "<template>" or "__jinja_exception__" in tb.tb_frame.f_globals:
            frames.append((name, tb.tb_lineno))
        tb = tb.tb_next
    if not frames:
        return prompt.path, section_line
    name, lineno = frames[-1]
    if name == "<template>":
        return prompt.path, (doc.text_line(key, lineno) if doc else None) or section_line
    return display_path(Path(name)).as_posix(), lineno


def join_user(sections: Mapping[str, str], layout: str) -> str:
    """The user message: context, input and format in that order.

    xml:      <context>\\n...\\n</context> blocks separated by a blank line.
    markdown: '## Context' / '## Input' / '## Output format' headings.
    A prompt with only `input` sends it as is, without a wrapper.
    """
    present = [k for k in USER_SECTIONS if sections.get(k)]
    if present == ["input"]:
        return sections["input"]
    if layout == "markdown":
        return "\n\n".join(f"## {MARKDOWN_TITLES[k]}\n\n{sections[k]}" for k in present)
    return "\n\n".join(f"<{k}>\n{sections[k]}\n</{k}>" for k in present)

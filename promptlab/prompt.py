"""Prompt templates: load and validate the YAML format, coerce variables, render in a sandbox."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
import jinja2.sandbox

from promptlab.errors import Problem, PromptFileError, UsageError
from promptlab.request import INFERENCE_KEYS, InferenceParams, Request
from promptlab.yamlfile import YamlDoc, load_mapping

SECTIONS = ("instructions", "context", "input", "format")
USER_SECTIONS = ("context", "input", "format")
TOP_KEYS = (
    "name", "version", "description", "metadata", *SECTIONS,
    "layout", "variables", "models", "inference", "tests",
)  # fmt: skip
VARIABLE_KEYS = ("type", "description", "default", "required", "enum", "example")
VAR_TYPES = ("string", "integer", "number", "boolean", "list", "object")
LAYOUTS = ("xml", "markdown")
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
)
MARKDOWN_TITLES = {"context": "Context", "input": "Input", "format": "Output format"}


@dataclass(frozen=True)
class Variable:
    name: str
    type: str = "string"
    description: str = ""
    default: Any = None
    required: bool = True
    enum: tuple[Any, ...] = ()
    example: Any = None

    @property
    def has_default(self) -> bool:
        return self.default is not None


@dataclass(frozen=True)
class Prompt:
    """A validated prompt file. Identity: (name, version, content_hash)."""

    name: str
    version: str
    path: str
    root: Path
    content_hash: str
    description: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    sections: Mapping[str, str] = field(default_factory=dict)
    layout: str = "xml"
    variables: Mapping[str, Variable] = field(default_factory=dict)
    models: tuple[str, ...] = ()
    inference: InferenceParams = field(default_factory=InferenceParams)
    overrides: Mapping[str, InferenceParams] = field(default_factory=dict)
    tests: tuple[Any, ...] = ()
    ref: str | None = None  # git commit the file was read at, if any
    loader: jinja2.BaseLoader | None = field(default=None, compare=False, repr=False)
    doc: YamlDoc | None = field(default=None, compare=False, repr=False)
    # Section source → its template, compiled once at load (compiling is the slow part).
    templates: Mapping[str, jinja2.Template] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def short_hash(self) -> str:
        return self.content_hash[:12]

    @property
    def identity(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "hash": self.content_hash}

    def params_for(self, model: str, *aliases: str) -> InferenceParams:
        """Inference params for one model: the prompt's, then its per-model override."""
        params = self.inference
        for key in (model, *aliases):
            if key in self.overrides:
                return params.merged(self.overrides[key])
        return params


@dataclass(frozen=True)
class Rendered:
    """The rendered sections and the messages built from them."""

    sections: Mapping[str, str]
    system: str | None
    user: str

    def request(self, params: InferenceParams | None = None) -> Request:
        return Request.of(self.system, self.user, params)


# ---------------------------------------------------------------- loading


def content_hash(data: Any) -> str:
    """sha256 of the document's normalized content (key order, comments, quoting ignored)."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                           default=str)  # fmt: skip
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def find_root(path: Path, prompts_dir: Path | None = None) -> Path:
    """The directory includes are confined to: the project's prompts dir if the file is in it."""
    resolved = path.resolve()
    if prompts_dir is not None:
        pd = prompts_dir.resolve()
        if pd == resolved.parent or pd in resolved.parents:
            return pd
    for parent in resolved.parents:
        if parent.name == "prompts":
            return parent
    return resolved.parent


def load_prompt(
    path: str | Path,
    *,
    prompts_dir: Path | None = None,
    text: str | None = None,
    loader: jinja2.BaseLoader | None = None,
    root: Path | None = None,
    ref: str | None = None,
) -> Prompt:
    """Load and validate a prompt file. Raises PromptFileError listing every problem.

    `text`, `loader`, `root` and `ref` let callers load a file from elsewhere (a git ref).
    """
    path = Path(path)
    doc = load_mapping(path, what="prompt file", text=text)
    problems: list[Problem] = []
    prompt = _build(doc, path, root or find_root(path, prompts_dir), loader, ref, problems)
    errors = sorted((p for p in problems if p.severity == "error"), key=lambda p: p.line or 0)
    if errors or prompt is None:
        raise PromptFileError(errors or problems)
    return prompt


def _build(
    doc: YamlDoc,
    path: Path,
    root: Path,
    loader: jinja2.BaseLoader | None,
    ref: str | None,
    problems: list[Problem],
) -> Prompt | None:
    data: dict[str, Any] = doc.data

    def bad(keypath: tuple[Any, ...], msg: str, hint: str | None = None) -> None:
        problems.append(doc.problem(keypath, msg, hint))

    for key in data:
        if key not in TOP_KEYS:
            bad((key,), f"unknown key '{key}'", _suggest(str(key), TOP_KEYS))

    name = data.get("name", path.name.removesuffix(".yaml").removesuffix(".yml"))
    if not isinstance(name, str) or not name.strip():
        bad(("name",), "'name' must be a non-empty string", "or leave it out to use the file name")
        name = path.stem

    version = data.get("version")
    if version is None:
        bad((), "missing 'version'", 'add a semantic version, e.g. version: "1.0.0"')
    elif not isinstance(version, str):
        bad(("version",), f"'version' must be a quoted string, got {version!r}",
            f'write version: "{version}.0"' if isinstance(version, float) else
            'e.g. version: "1.0.0"')  # fmt: skip
    elif not SEMVER.match(version):
        bad(("version",), f"'version' {version!r} is not a semantic version",
            'use MAJOR.MINOR.PATCH, e.g. "1.2.0"')  # fmt: skip

    for key in ("description",):
        if key in data and not isinstance(data[key], str):
            bad((key,), f"'{key}' must be a string", "quote it or use a block scalar 'key: |'")
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        bad(
            ("metadata",), "'metadata' must be a mapping", "e.g. metadata: {owner: team, tags: [x]}"
        )
        metadata = {}

    sections: dict[str, str] = {}
    for key in SECTIONS:
        if key in data and data[key] is not None:
            if not isinstance(data[key], str):
                bad((key,), f"section '{key}' must be a string (a Jinja2 template)",
                    "use a YAML block scalar: 'key: |' followed by indented text")  # fmt: skip
            else:
                sections[key] = data[key]
    if not any(data.get(k) is not None for k in ("instructions", "input")):
        bad((), "a prompt needs at least 'instructions' or 'input'",
            "add 'instructions: |' (system prompt) or 'input: |' (data to process)")  # fmt: skip

    layout = data.get("layout", "xml")
    if layout not in LAYOUTS:
        bad(("layout",), f"'layout' must be one of {', '.join(LAYOUTS)}, got {layout!r}",
            "xml: <context>...</context> blocks; markdown: '## Context' headings")  # fmt: skip
        layout = "xml"

    variables = _variables(data.get("variables"), bad)
    models = _models(data.get("models"), bad)
    inference, overrides = _inference(data.get("inference"), bad)

    tests = data.get("tests") or []
    if not isinstance(tests, list):
        bad(("tests",), "'tests' must be a list of test cases", "start each case with '- '")
        tests = []

    env = make_env(root, loader)
    templates: dict[str, jinja2.Template] = {}
    for key, source in sections.items():
        try:
            templates[source] = env.from_string(source)  # syntax, unknown filters and tests
        except jinja2.TemplateSyntaxError as exc:
            hint = "fix the template; for literal braces use {% raw %}...{% endraw %}"
            if isinstance(exc, jinja2.TemplateAssertionError):
                hint = "check the filter or test name"
            problems.append(
                Problem(doc.file, f"Jinja syntax error in '{key}': {exc.message}",
                        doc.text_line((key,), exc.lineno or 1), hint)
            )  # fmt: skip

    if any(p.severity == "error" for p in problems):
        return None
    return Prompt(
        name=name,
        version=str(version),
        path=str(path),
        root=root,
        content_hash=content_hash(data),
        description=data.get("description", "") or "",
        metadata=metadata,
        sections=sections,
        layout=layout,
        variables=variables,
        models=models,
        inference=inference,
        overrides=overrides,
        tests=tuple(tests),
        ref=ref,
        loader=loader,
        doc=doc,
        templates=templates,
    )


def _suggest(key: str, options: tuple[str, ...]) -> str:
    import difflib

    close = difflib.get_close_matches(key, options, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    return "allowed keys: " + ", ".join(options)


def _variables(raw: Any, bad: Any) -> dict[str, Variable]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        bad(("variables",), "'variables' must be a mapping of name → declaration",
            "declare each variable as 'name: {type: string}'")  # fmt: skip
        return {}
    out: dict[str, Variable] = {}
    for name, spec in raw.items():
        where = ("variables", name)
        if not isinstance(name, str) or not name.isidentifier():
            bad(where, f"variable name {name!r} is not a valid identifier",
                "use letters, digits and _, not starting with a digit")  # fmt: skip
            continue
        if spec is None:
            spec = {}
        if isinstance(spec, str):  # shorthand: `name: integer`
            spec = {"type": spec}
        if not isinstance(spec, dict):
            bad(where, f"variable '{name}' must be a mapping",
                f"e.g. {name}: {{type: string, description: ...}}")  # fmt: skip
            continue
        for key in spec:
            if key not in VARIABLE_KEYS:
                bad((*where, key), f"unknown key '{key}' in variable '{name}'",
                    _suggest(str(key), VARIABLE_KEYS))  # fmt: skip
        vtype = spec.get("type", "string")
        if vtype not in VAR_TYPES:
            bad((*where, "type"), f"variable '{name}' has unknown type {vtype!r}",
                "use one of " + ", ".join(VAR_TYPES))  # fmt: skip
            continue
        enum = spec.get("enum") or []
        if not isinstance(enum, list):
            bad((*where, "enum"), f"'enum' of variable '{name}' must be a list",
                "e.g. enum: [low, high]")  # fmt: skip
            enum = []
        required = spec.get("required", "default" not in spec)
        if not isinstance(required, bool):
            bad((*where, "required"), f"'required' of variable '{name}' must be true or false",
                "write required: false (or true)")  # fmt: skip
            required = True
        var = Variable(name, vtype, str(spec.get("description", "") or ""), spec.get("default"),
                       required, tuple(enum), spec.get("example"))  # fmt: skip
        for key in ("default", "example"):
            if spec.get(key) is not None:
                try:
                    check_value(var, spec[key])
                except UsageError as exc:
                    bad((*where, key), f"{key} of variable '{name}': {exc.message}",
                        f"make the {key} match the declared type and enum")  # fmt: skip
        out[name] = var
    return out


def _models(raw: Any, bad: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(m, str) and m for m in raw):
        bad(("models",), "'models' must be a list of model aliases or ids",
            "e.g. models: [nova-micro, claude-haiku]")  # fmt: skip
        return ()
    return tuple(raw)


def _params(raw: dict[str, Any], where: tuple[Any, ...], bad: Any) -> InferenceParams:
    for key in raw:
        if key not in INFERENCE_KEYS:
            bad((*where, key), f"unknown inference key '{key}'",
                _suggest(str(key), INFERENCE_KEYS))  # fmt: skip
    for key in ("temperature", "top_p"):
        v = raw.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)
                              or not 0 <= v <= 1):  # fmt: skip
            bad((*where, key), f"'{key}' must be a number between 0 and 1, got {v!r}",
                f"e.g. {key}: 0.2")  # fmt: skip
    mt = raw.get("max_tokens")
    if mt is not None and (isinstance(mt, bool) or not isinstance(mt, int) or mt < 1):
        bad((*where, "max_tokens"), f"'max_tokens' must be a positive integer, got {mt!r}",
            "e.g. max_tokens: 1000")  # fmt: skip
    stop = raw.get("stop")
    if stop is not None and not (
        isinstance(stop, str) or (isinstance(stop, list) and all(isinstance(s, str) for s in stop))
    ):
        bad((*where, "stop"), "'stop' must be a string or a list of strings",
            'e.g. stop: ["</answer>"]')  # fmt: skip
        raw = {k: v for k, v in raw.items() if k != "stop"}
    return InferenceParams.from_dict({k: raw[k] for k in INFERENCE_KEYS if k in raw})


def _inference(raw: Any, bad: Any) -> tuple[InferenceParams, dict[str, InferenceParams]]:
    if raw is None:
        return InferenceParams(), {}
    if not isinstance(raw, dict):
        bad(("inference",), "'inference' must be a mapping",
            "keys: temperature, top_p, max_tokens, stop, overrides")  # fmt: skip
        return InferenceParams(), {}
    base = {k: v for k, v in raw.items() if k != "overrides"}
    params = _params(base, ("inference",), bad)
    overrides: dict[str, InferenceParams] = {}
    raw_over = raw.get("overrides") or {}
    if not isinstance(raw_over, dict):
        bad(("inference", "overrides"), "'overrides' must map model → inference settings",
            "e.g. overrides: {nova-lite: {temperature: 0.5}}")  # fmt: skip
        raw_over = {}
    for model, spec in raw_over.items():
        if not isinstance(spec, dict):
            bad(("inference", "overrides", model), f"override for '{model}' must be a mapping",
                "e.g. {temperature: 0.5, max_tokens: 500}")  # fmt: skip
            continue
        overrides[str(model)] = _params(spec, ("inference", "overrides", model), bad)
    return params, overrides


# ---------------------------------------------------------------- variables


def check_value(var: Variable, value: Any) -> Any:
    """Check a typed value (from YAML/JSON) against its declaration; returns it."""
    ok = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": _is_number,
        "boolean": lambda v: isinstance(v, bool),
        "list": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
    }[var.type]
    if not ok(value):
        raise UsageError(f"'{var.name}' must be {_article(var.type)}, got {value!r}")
    if var.enum and value not in var.enum:
        raise UsageError(
            f"'{var.name}' must be one of {', '.join(map(str, var.enum))}, got {value!r}"
        )
    return value


def _is_number(v: Any) -> bool:
    """An int or a finite float (nan and inf are not numbers a prompt can use)."""
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _article(t: str) -> str:
    return f"an {t}" if t[0] in "aeiou" else f"a {t}"


_CLI_EXAMPLES = {
    "string": "text",
    "integer": "3",
    "number": "0.5",
    "boolean": "true",
    "list": "a,b (or a JSON list)",
    "object": """'{"key": "value"}'""",
}


def coerce(var: Variable, text: str) -> Any:
    """Turn a command-line string into the declared type."""
    t = var.type
    try:
        if t == "string":
            value: Any = text
        elif t == "integer":
            value = int(text)
        elif t == "number":  # "1" stays 1, as it does in a vars file
            value = int(text) if re.fullmatch(r"\s*[-+]?\d+\s*", text) else float(text)
        elif t == "boolean":
            low = text.strip().lower()
            if low not in ("true", "false", "yes", "no", "1", "0", "on", "off"):
                raise ValueError(text)
            value = low in ("true", "yes", "1", "on")
        elif t == "list":
            value = (
                json.loads(text)
                if text.strip().startswith("[")
                else [s.strip() for s in text.split(",") if s.strip()]
            )
        else:
            value = json.loads(text)
    except ValueError:
        raise UsageError(
            f"variable '{var.name}' must be {_article(t)}, got {text!r}",
            f"e.g. -v {var.name}={_CLI_EXAMPLES[t]}",
        ) from None
    return check_value(var, value)


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """`-v key=value` options → dict. Raises UsageError for a pair without '='."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"-v {pair!r} is not key=value", f"write -v {pair or 'name'}=VALUE")
        out[key.strip()] = value
    return out


def load_vars_file(path: str | Path) -> dict[str, Any]:
    """A YAML or JSON mapping of variable values."""
    doc = load_mapping(Path(path), what="vars file")
    return dict(doc.data)


def resolve_vars(
    prompt: Prompt,
    typed: Mapping[str, Any] | None = None,
    strings: Mapping[str, str] | None = None,
    *,
    use_examples: bool = False,
) -> dict[str, Any]:
    """Merge defaults, typed values (vars file) and CLI strings; check every variable.

    Raises UsageError listing every unknown and every missing variable at once.
    """
    typed = dict(typed or {})
    strings = dict(strings or {})
    declared = prompt.variables
    unknown = sorted(k for k in {*typed, *strings} if k not in declared)
    values: dict[str, Any] = {}
    errors: list[str] = []
    hints: list[str] = []
    invalid: set[str] = set()
    for name, var in declared.items():
        if name in strings:
            try:
                values[name] = coerce(var, strings[name])
            except UsageError as exc:
                errors.append(exc.message)
                hints.extend([exc.hint] if exc.hint else [])
                invalid.add(name)
        elif name in typed:
            try:
                values[name] = check_value(var, typed[name])
            except UsageError as exc:
                errors.append(exc.message)
                invalid.add(name)
        elif var.has_default:
            values[name] = var.default
        elif use_examples and var.example is not None:
            values[name] = var.example
        elif not var.required:
            values[name] = None
    missing = [n for n, v in declared.items() if n not in values and v.required and
               n not in invalid]  # fmt: skip
    parts = []
    if unknown:
        known = ", ".join(declared) or "none"
        parts.append(f"unknown variable(s): {', '.join(unknown)} (declared: {known})")
    if missing:
        parts.append(f"missing required variable(s): {', '.join(missing)}")
    parts.extend(errors)
    if parts:
        hint = hints[0] if hints and not unknown else "pass -v name=value or --vars FILE"
        if missing:
            hint = "pass " + " ".join(f"-v {m}=..." for m in missing)
        raise UsageError(f"{prompt.path}: " + "; ".join(parts), hint)
    return values


# ---------------------------------------------------------------- rendering


class _RootLoader(jinja2.FileSystemLoader):
    """Includes confined to the prompts root: no absolute paths, no '..', no symlink escapes."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        root = Path(self.searchpath[0]).resolve()
        target = (root / template).resolve()
        if template.startswith(("/", "\\")) or (root != target and root not in target.parents):
            raise jinja2.TemplateNotFound(template)
        return super().get_source(environment, template)


def make_env(root: Path, loader: jinja2.BaseLoader | None = None) -> jinja2.Environment:
    return jinja2.sandbox.SandboxedEnvironment(
        loader=loader or _RootLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(prompt: Prompt, values: Mapping[str, Any]) -> Rendered:
    """Render every section with `values` (already resolved by `resolve_vars`).

    Variable values are data: they are inserted as text and never rendered as templates.
    Errors name the file and the line of the section (or of the partial) that failed.
    """
    env: jinja2.Environment | None = None
    out: dict[str, str] = {}
    for key, source in prompt.sections.items():
        try:
            template = prompt.templates.get(source)
            if template is None:
                env = env or make_env(prompt.root, prompt.loader)
                template = env.from_string(source)
            text = template.render(**values)
        except Exception as exc:  # TemplateError, or a runtime error such as 1 + "x" or 1 / 0
            raise _render_error(prompt, key, exc) from None
        text = text.strip()
        if text:
            out[key] = text
    return Rendered(out, out.get("instructions"), join_user(out, prompt.layout))


def _render_error(prompt: Prompt, key: str, exc: Exception) -> UsageError:
    """A rendering failure as one line: file:line, section, what went wrong, the fix."""
    file, line = _failing_line(prompt, key, exc)
    where = f"section '{key}'" if file == prompt.path else f"partial included by '{key}'"
    if isinstance(exc, jinja2.UndefinedError):
        msg = f"{where}: {exc.message}"
        hint = "declare the variable under 'variables' and pass it with -v name=value"
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


def _failing_line(prompt: Prompt, key: str, exc: BaseException) -> tuple[str, int | None]:
    """The file and line a Jinja error points at (Jinja rewrites tracebacks to template lines)."""
    doc = prompt.doc
    section_line = doc.line((key,)) if doc else None
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.lineno:
        if exc.name is None or exc.filename in (None, "<template>"):
            return prompt.path, doc.text_line((key,), exc.lineno) if doc else None
        return _relative(Path(exc.filename or exc.name)).as_posix(), exc.lineno
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
        return prompt.path, (doc.text_line((key,), lineno) if doc else None) or section_line
    return _relative(Path(name)).as_posix(), lineno


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


def template_variables(prompt: Prompt) -> dict[str, set[str]]:
    """Variables each section's template refers to (following constant includes)."""
    env = make_env(prompt.root, prompt.loader)
    found: dict[str, set[str]] = {}
    for key, source in prompt.sections.items():
        names: set[str] = set()
        _scan(env, source, names, set())
        found[key] = names
    return found


def _scan(env: jinja2.Environment, source: str, names: set[str], seen: set[str]) -> None:
    ast = env.parse(source)
    names |= jinja2.meta.find_undeclared_variables(ast)
    for ref in jinja2.meta.find_referenced_templates(ast):
        if ref is None or ref in seen or env.loader is None:
            continue
        seen.add(ref)
        try:
            sub, _, _ = env.loader.get_source(env, ref)
        except jinja2.TemplateNotFound:
            continue
        _scan(env, sub, names, seen)


def locate(arg: str, prompts_dir: Path) -> Path:
    """A prompt argument: a path, or a prompt name/file stem found under the prompts dir."""
    path = Path(arg)
    if path.exists() or path.suffix in (".yaml", ".yml") or "/" in arg:
        return path
    if prompts_dir.is_dir():
        for candidate in sorted(prompts_dir.rglob("*.y*ml")):
            if candidate.stem == arg and ".tests" not in candidate.name:
                return _relative(candidate)
    return path


def display_path(path: Path) -> Path:
    """`path` relative to the working directory when it is inside it (for messages)."""
    return _relative(path)


def _relative(path: Path) -> Path:
    """Show paths relative to the working directory when they are inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path

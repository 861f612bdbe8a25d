"""Loading a prompt file: parse, validate every field, compile the section templates."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jinja2

from promptlab.errors import Problem, PromptFileError, UsageError
from promptlab.prompt.model import (
    LAYOUTS,
    SECTIONS,
    SEMVER,
    TOP_KEYS,
    VAR_TYPES,
    VARIABLE_KEYS,
    Prompt,
    Variable,
)
from promptlab.prompt.render import make_env
from promptlab.prompt.variables import check_value
from promptlab.request import INFERENCE_KEYS, InferenceParams
from promptlab.yamlfile import YamlDoc, load_mapping


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

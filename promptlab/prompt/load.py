"""Loading a prompt file: parse, validate every field, compile the section templates."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jinja2

from promptlab.errors import Problem, PromptFileError, UsageError
from promptlab.fields import (
    BOOL,
    LIST,
    MAPPING,
    NON_BLANK,
    STRING,
    Fields,
    Kind,
    integer,
    number,
    one_of,
    strings,
)
from promptlab.prompt import conversation, imageprompt
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
from promptlab.reasoning import read as read_reasoning
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
    top = Fields(doc, problems)
    top.unknown(TOP_KEYS)
    name = top.get(
        "name",
        NON_BLANK,
        path.name.removesuffix(".yaml").removesuffix(".yml"),
        hint="or leave it out to use the file name",
        unset="missing",
    )
    version = _version(top)
    description = top.get(
        "description", STRING, "", unset="missing", hint="quote it or use a block scalar 'key: |'"
    )
    metadata = top.get(
        "metadata", MAPPING, {}, unset="empty", hint="e.g. metadata: {owner: team, tags: [x]}"
    )
    kind = imageprompt.kind(top)
    if kind == "image":
        return _build_image(top, doc, path, root, loader, ref, problems, name, version,
                            description, metadata)  # fmt: skip
    sections: dict[str, str] = {}
    for key in SECTIONS:
        text = top.get(
            key,
            STRING,
            message="section '{key}' must be a string (a Jinja2 template)",
            hint="use a YAML block scalar: 'key: |' followed by indented text",
        )
        if text is not None:
            sections[key] = text
    if top.is_unset("instructions") and top.is_unset("input") and top.is_unset("messages"):
        top.problem(
            (),
            "a prompt needs at least 'instructions', 'input' or 'messages'",
            "add 'instructions: |' (system prompt) or 'input: |' (data to process)",
        )
    layout = top.get(
        "layout",
        one_of(LAYOUTS),
        "xml",
        unset="missing",
        hint="xml: <context>...</context> blocks; markdown: '## Context' headings",
    )
    variables = _variables(top)
    base = path.resolve().parent
    examples = conversation.examples(top)
    messages = conversation.messages(top)
    attachments = conversation.attachments(top, variables)
    tools = conversation.tools(top, base)
    tool_choice = conversation.tool_choice(top, conversation.tool_names(top))
    tool_results = conversation.tool_results(top, conversation.tool_names(top))
    max_turns = conversation.max_turns(top)
    output_schema = conversation.output_schema(top, base)
    cache = conversation.cache(top)
    models = top.get(
        "models",
        strings(single=True, empty=False),
        [],
        message="'{key}' must be a list of model aliases or ids",
        hint="e.g. models: [nova-micro, claude-haiku]",
    )
    require = _require(top, doc, root, problems) if top.data.get("require") is not None else ()
    inference, overrides = _inference(top)
    reasoning, reasoning_overrides = read_reasoning(top, inference, overrides)
    guardrail = None
    if top.data.get("guardrail") is not None:
        from promptlab import guardrails

        guardrail = guardrails.read(top)
    tests = top.get(
        "tests",
        LIST,
        [],
        message="'{key}' must be a list of test cases",
        hint="start each case with '- '",
        unset="empty",
    )
    retrieval = None
    if top.data.get("retrieve") is not None:
        from promptlab.retrieval.spec import read as read_retrieval

        retrieval = read_retrieval(top, base)
    sources: dict[tuple[Any, ...], str] = {(k,): v for k, v in sections.items()}
    sources.update({t.path: t.text for t in (*examples, *messages)})
    places = False
    env = make_env(root, loader)
    if retrieval is not None:
        from promptlab.retrieval.passages import places_passages

        places = places_passages(env, sources.values())
        sources.update({(*s.at, "query"): s.query for s in retrieval.sources if s.query})
    templates = _compile(doc, sources, env, problems)

    if any(p.severity == "error" for p in problems):
        return None
    return Prompt(
        name=name,
        version=str(version),
        path=str(path),
        root=root,
        content_hash=content_hash(doc.data),
        description=description,
        metadata=metadata,
        sections=sections,
        layout=layout,
        variables=variables,
        models=tuple(models),
        require=require,
        inference=inference,
        overrides=overrides,
        reasoning=reasoning,
        reasoning_overrides=reasoning_overrides,
        tests=tuple(tests),
        examples=examples,
        messages=messages,
        attachments=attachments,
        tools=tools,
        tool_choice=tool_choice,
        tool_results=tool_results,
        max_turns=max_turns,
        output_schema=output_schema,
        cache=cache,
        guardrail=guardrail,
        ref=ref,
        loader=loader,
        doc=doc,
        templates=templates,
        retrieval=retrieval,
        places_passages=places,
    )


def _require(top: Fields, doc: YamlDoc, root: Path, problems: list[Problem]) -> tuple[Any, ...]:
    """`require:`: the checks a fallback chain's answer must pass (assertions, as in a suite's
    `assert:`, that need no model call), each problem at its line."""
    from promptlab.assertions import is_remote, parse_assertion

    items = top.get("require", LIST, [], message="'{key}' must be a list of checks",
                    hint="e.g. require: [is-json] or require: [{contains: Dear}]")  # fmt: skip
    out: list[Any] = []
    for i, raw in enumerate(items):
        check = parse_assertion(raw, doc, ("require", i), root, problems)
        if check is None:
            continue
        if is_remote(check):
            message = f"require: '{check.full_type}' calls a model; a chain's checks run locally"
            hint = ("use it in a test suite's assert: instead; require takes is-json, "
                    "json-schema, contains, regex, …")  # fmt: skip
            problems.append(doc.problem(("require", i), message, hint))
            continue
        out.append(check)
    return tuple(out)


def _build_image(
    top: Fields,
    doc: YamlDoc,
    path: Path,
    root: Path,
    loader: jinja2.BaseLoader | None,
    ref: str | None,
    problems: list[Problem],
    name: str,
    version: str | None,
    description: str,
    metadata: dict[str, Any],
) -> Prompt | None:
    """An image prompt (`kind: image`): prompt and negative prompt templates, image settings."""
    variables = _variables(top)
    for var in variables.values():
        if var.is_media and var.type != "image":
            top.problem(("variables", var.name), f"variable '{var.name}' is a {var.type}: an "
                        "image prompt works from image variables only",
                        f"declare {var.name}: {{type: image}}, or remove it")  # fmt: skip
    spec = imageprompt.image_spec(top, variables)
    sections = imageprompt.sections(top, spec)
    models = top.get("models", strings(single=True, empty=False), [],
                     message="'{key}' must be a list of model aliases or ids",
                     hint="e.g. models: [titan-image, nova-canvas]")  # fmt: skip
    tests = top.get("tests", LIST, [], message="'{key}' must be a list of test cases",
                    hint="start each case with '- '", unset="empty")  # fmt: skip
    templates = _compile(doc, {(k,): v for k, v in sections.items()}, make_env(root, loader),
                         problems)  # fmt: skip
    if any(p.severity == "error" for p in problems):
        return None
    images = tuple(n for n, v in variables.items() if v.type == "image")
    return Prompt(
        name=name, version=str(version), path=str(path), root=root,
        content_hash=content_hash(doc.data), description=description, metadata=metadata,
        sections=sections, variables=variables, models=tuple(models), tests=tuple(tests),
        attachments=images, ref=ref, loader=loader, doc=doc, templates=templates,
        kind="image", image=spec,
    )  # fmt: skip


def _version(top: Fields) -> str | None:
    """The `version`: a quoted semantic version (YAML reads an unquoted 1.0 as a number)."""
    version = top.data.get("version")
    if version is None:
        top.problem((), "missing 'version'", 'add a semantic version, e.g. version: "1.0.0"')
    elif not isinstance(version, str):
        top.problem(
            ("version",),
            f"'version' must be a quoted string, got {version!r}",
            f'write version: "{version}.0"'
            if isinstance(version, float)
            else 'e.g. version: "1.0.0"',
        )
    elif not SEMVER.match(version):
        top.problem(
            ("version",),
            f"'version' {version!r} is not a semantic version",
            'use MAJOR.MINOR.PATCH, e.g. "1.2.0"',
        )
    else:
        return version
    return None


def _compile(
    doc: YamlDoc,
    sources: dict[tuple[Any, ...], str],
    env: jinja2.Environment,
    problems: list[Problem],
) -> dict[str, jinja2.Template]:
    """Template source → compiled template (sections and scripted turns); syntax errors,
    unknown filters and tests are problems at their line."""
    templates: dict[str, jinja2.Template] = {}
    for path, source in sources.items():
        try:
            templates[source] = env.from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            hint = "fix the template; for literal braces use {% raw %}...{% endraw %}"
            if isinstance(exc, jinja2.TemplateAssertionError):
                hint = "check the filter or test name"
            key = ".".join(str(p) for p in path)
            problems.append(
                Problem(
                    doc.file,
                    f"Jinja syntax error in '{key}': {exc.message}",
                    doc.text_line(path, exc.lineno or 1),
                    hint,
                )
            )
    return templates


def _variables(top: Fields) -> dict[str, Variable]:
    decls = top.mapping(
        "variables",
        message="'{key}' must be a mapping of name → declaration",
        hint="declare each variable as 'name: {type: string}'",
    )
    out: dict[str, Variable] = {}
    for name, spec in decls.data.items():
        if not isinstance(name, str) or not name.isidentifier():
            decls.problem(
                (name,),
                f"variable name {name!r} is not a valid identifier",
                "use letters, digits and _, not starting with a digit",
            )
            continue
        if spec is None:
            spec = {}
        if isinstance(spec, str):  # shorthand: `name: integer`
            spec = {"type": spec}
        if not isinstance(spec, dict):
            decls.problem(
                (name,),
                f"variable '{name}' must be a mapping",
                f"e.g. {name}: {{type: string, description: ...}}",
            )
            continue
        var = _variable(name, decls.child(name, spec))
        if var is not None:
            out[name] = var
    return out


def _variable(name: str, spec: Fields) -> Variable | None:
    """One declaration; its default and example must match its type and enum."""
    spec.unknown(VARIABLE_KEYS, where=f"in variable '{name}'")
    vtype = spec.data.get("type", "string")
    if vtype not in VAR_TYPES:
        spec.problem(
            ("type",),
            f"variable '{name}' has unknown type {vtype!r}",
            "use one of " + ", ".join(VAR_TYPES),
        )
        return None
    enum = spec.get(
        "enum",
        LIST,
        [],
        message=f"'enum' of variable '{name}' must be a list",
        hint="e.g. enum: [low, high]",
        unset="empty",
    )
    required = spec.get(
        "required",
        BOOL,
        "default" not in spec,
        unset="missing",
        message=f"'required' of variable '{name}' must be true or false",
        hint="write required: false (or true)",
    )
    for key in ("citations", "context"):
        if key in spec.data and vtype != "document":
            spec.problem(
                (key,),
                f"'{key}' applies to document variables, not {vtype}",
                f"remove it, or declare {name}: {{type: document, {key}: ...}}",
            )
    citations = spec.get("citations", BOOL, False, unset="missing",
                         hint="citations: true asks the model to cite the document")  # fmt: skip
    context = spec.get("context", STRING, unset="missing",
                       hint="a sentence on how to read the document")  # fmt: skip
    var = Variable(
        name,
        vtype,
        str(spec.data.get("description", "") or ""),
        spec.data.get("default"),
        required,
        tuple(enum),
        spec.data.get("example"),
        citations,
        context,
    )
    for key in ("default", "example"):
        if spec.data.get(key) is not None:
            try:
                check_value(var, spec.data[key])
            except UsageError as exc:
                spec.problem(
                    (key,),
                    f"{key} of variable '{name}': {exc.message}",
                    f"make the {key} match the declared type and enum",
                )
    return var


_STRINGS = strings()
_STOP: Kind[Any] = Kind(
    lambda v: isinstance(v, str) or _STRINGS.test(v),
    "'{key}' must be a string or a list of strings",
)


def _params(fields: Fields, allowed: tuple[str, ...] = INFERENCE_KEYS) -> InferenceParams:
    """Inference settings: temperature, top_p, max_tokens, stop."""
    fields.unknown(allowed, what="inference key")
    between = "'{key}' must be a number between 0 and 1, got {value}"
    return InferenceParams.from_dict(
        {
            "temperature": fields.get(
                "temperature", number(0, 1), message=between, hint="e.g. temperature: 0.2"
            ),
            "top_p": fields.get("top_p", number(0, 1), message=between, hint="e.g. top_p: 0.2"),
            "max_tokens": fields.get("max_tokens", integer(1), hint="e.g. max_tokens: 1000"),
            "stop": fields.get("stop", _STOP, hint='e.g. stop: ["</answer>"]'),
        }
    )


def _inference(top: Fields) -> tuple[InferenceParams, dict[str, InferenceParams]]:
    """The prompt's inference settings and its per-model overrides."""
    inference = top.mapping(
        "inference", hint="keys: temperature, top_p, max_tokens, stop, overrides"
    )
    params = _params(inference, (*INFERENCE_KEYS, "overrides"))
    overrides = inference.mapping(
        "overrides",
        message="'{key}' must map model → inference settings",
        hint="e.g. overrides: {nova-lite: {temperature: 0.5}}",
        unset="empty",
    )
    return params, {
        str(model): _params(
            overrides.mapping(
                model,
                unset="missing",
                message="override for '{key}' must be a mapping",
                hint="e.g. {temperature: 0.5, max_tokens: 500}",
            )
        )
        for model in overrides
    }

"""Test suites: cases from a prompt's `tests:` list and from `<name>.tests.yaml` files.

Everything is validated (keys, assertions, variables, rendering) before any model is called;
every problem names its file and line.

Suite file format (`prompts/<name>.tests.yaml`):

    prompt: support-reply.yaml     # relative to this file; default: the sibling <name>.yaml
    defaults: {vars: {}, assert: [], models: [], repeat: 1, threshold: 1.0, min_score: 0.8,
               judge_model: nova-micro, embedding_model: titan-embed, context: [...]}
    tests:
      - name: greets-customer
        vars: {customer_name: Ana}
        assert: [{contains: Ana}]
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from promptlab.assertions import Assertion, parse_assertion
from promptlab.assertions.evidence import Passage, read_context
from promptlab.config import Config, find_root
from promptlab.errors import Problem, PromptFileError, PromptlabError, UsageError
from promptlab.fields import (
    LIST,
    MAPPING,
    NON_EMPTY,
    Fields,
    Kind,
    integer,
    number,
    strings,
)
from promptlab.prompt import (
    Prompt,
    Rendered,
    conversation,
    load_prompt,
    locate,
    render,
    resolve_vars,
)
from promptlab.prompt.model import ToolScript
from promptlab.sources import prompt_files
from promptlab.yamlfile import YamlDoc, load_mapping

SUITE_SUFFIXES = (".tests.yaml", ".tests.yml")
SUITE_KEYS = ("prompt", "description", "defaults", "tests")
DEFAULT_KEYS = (
    "vars", "assert", "models", "repeat", "threshold", "min_score", "judge_model",
    "embedding_model", "context",
)  # fmt: skip
MAX_REPEAT = 1000  # samples per case × model: more is a typo (10**9 would fill memory)
REPEAT_HINT = "samples per case and model; more than a few dozen rarely changes a pass rate"
CASE_KEYS = ("name", "description", "vars", "models", "assert", "repeat", "threshold", "min_score",
             "tool_results", "context")  # fmt: skip
NON_EMPTY_LIST: Kind[list[Any]] = Kind(
    lambda v: isinstance(v, list) and bool(v), "'{key}' must be a non-empty list"
)
MODELS = strings(single=True, empty=False)


@dataclass(frozen=True)
class Case:
    """One validated test case: rendered prompt, assertions, models, repeats."""

    name: str
    prompt: Prompt
    vars: dict[str, Any]
    rendered: Rendered
    asserts: tuple[Assertion, ...] = ()
    models: tuple[str, ...] = ()
    repeat: int = 1
    threshold: float = 1.0
    min_score: float | None = None
    description: str = ""
    file: str = ""
    line: int | None = None
    judge_model: str | None = None
    embedding_model: str | None = None
    model_lines: tuple[str, int | None] = field(default=("", None), compare=False)
    pinned: bool = False  # the case names its own `models:`: `-m` leaves it alone
    tool_results: tuple[ToolScript, ...] | None = None  # None: the prompt's
    context: tuple[Passage, ...] = ()  # `context:`: the evidence grounding checks read first

    @property
    def id(self) -> str:
        return f"{self.prompt.name}/{self.name}"

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Named:
    """A case's name and where it is written (collected even when the case has problems)."""

    prompt_path: Path
    prompt: str
    name: str
    file: str
    line: int | None


def is_suite_file(path: Path) -> bool:
    return path.name.endswith(SUITE_SUFFIXES)


def suite_files(directory: Path) -> list[Path]:
    out = []
    for f in sorted([*directory.rglob("*.tests.yaml"), *directory.rglob("*.tests.yml")]):
        rel = f.relative_to(directory).parts
        if not any(part.startswith((".", "_")) for part in rel[:-1]):
            out.append(f)
    return out


def sibling_suite(prompt_path: Path) -> Path | None:
    stem = prompt_path.name.rsplit(".", 1)[0]
    for suffix in SUITE_SUFFIXES:
        candidate = prompt_path.with_name(stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def discover(args: list[str], config: Config) -> tuple[list[Path], list[Path]]:
    """(prompt files whose inline tests count, suite files) for the command-line paths."""
    prompts: list[Path] = []
    suites: list[Path] = []
    targets = args or [str(config.prompts_dir)]
    for arg in targets:
        path = locate(arg, config.prompts_dir)
        if not path.exists():
            raise UsageError(
                f"{arg}: no such file, directory or prompt name",
                "pass prompt files, suite files (*.tests.yaml) or directories",
            )
        if path.is_dir():
            prompts.extend(prompt_files([path]))
            suites.extend(suite_files(path))
        elif is_suite_file(path):
            suites.append(path)
        else:
            prompts.append(path)
            sib = sibling_suite(path)
            if sib is not None:
                suites.append(sib)
    return _unique(prompts), _unique(suites)


def _unique(paths: list[Path]) -> list[Path]:
    seen: set[Path] = set()
    out = []
    for p in paths:
        r = p.resolve()
        if r not in seen:
            seen.add(r)
            out.append(p)
    return out


class _Loader:
    """Collects every problem across files; loads each prompt once.

    `at_ref` holds prompts given as PATH@REF: wherever PATH is used (its inline tests, a
    suite naming it), the version at that git ref is tested instead of the working file.
    """

    def __init__(self, config: Config, at_ref: dict[Path, Prompt] | None = None) -> None:
        self.config = config
        self.problems: list[Problem] = []
        self.prompts: dict[Path, Prompt | None] = dict(at_ref or {})
        self.named: list[Named] = []  # every case name, valid or not

    def prompt(self, path: Path) -> Prompt | None:
        key = path.resolve()
        if key not in self.prompts:
            try:
                self.prompts[key] = load_prompt(path, prompts_dir=self.config.prompts_dir)
            except PromptFileError as exc:
                self.problems.extend(exc.problems)
                self.prompts[key] = None
        return self.prompts[key]


def load_cases(args: list[str], config: Config) -> list[Case]:
    """Every case under the given paths (default: the prompts dir). Raises PromptFileError.

    A prompt given as PATH@REF (or PATH@vX.Y.Z) is tested as it was at that git ref, with the
    test cases of the working tree (its sibling suite) — so CI can test the base branch's
    prompt and the pull request's with the same cases and compare the reports.
    """
    cases, problems = check_cases(args, config)
    if problems:
        raise PromptFileError(problems)
    return cases


def check_cases(args: list[str], config: Config) -> tuple[list[Case], list[Problem]]:
    """The valid cases and every problem (for `lint`, which checks the valid cases further)."""
    args, at_ref = _resolve_refs(args, config)
    prompt_paths, suite_paths = discover(args, config)
    loader = _Loader(config, at_ref)
    cases: list[Case] = []
    explicit = {locate(a, config.prompts_dir).resolve() for a in args}
    for path in prompt_paths:
        prompt = loader.prompt(path)
        if prompt is None or prompt.doc is None:
            continue
        if not prompt.tests and path.resolve() in explicit and sibling_suite(path) is None:
            loader.problems.append(
                Problem(
                    str(path),
                    "no test cases",
                    None,
                    f"add 'tests:' to the prompt or create "
                    f"{path.name.rsplit('.', 1)[0]}.tests.yaml",
                )
            )
        cases.extend(_cases(list(prompt.tests), prompt.doc, ("tests",), prompt, {}, loader))
    for path in suite_paths:
        try:
            cases.extend(_suite(path, loader))
        except PromptFileError as exc:
            loader.problems.extend(exc.problems)
    _check_unique(loader.named, loader.problems)
    return cases, loader.problems


def _resolve_refs(args: list[str], config: Config) -> tuple[list[str], dict[Path, Prompt]]:
    """Split PATH@REF arguments: (plain paths for discovery, resolved path → prompt at ref)."""
    from promptlab.sources import open_prompt, split_ref

    plain: list[str] = []
    at_ref: dict[Path, Prompt] = {}
    for arg in args:
        path_arg, ref = split_ref(arg)
        if ref is None:
            plain.append(arg)
            continue
        prompt = open_prompt(arg, config)
        path = locate(path_arg, config.prompts_dir)
        if not path.is_file():
            raise UsageError(
                f"{arg}: {path_arg} is not in the working tree, so it has no test cases here",
                "test a prompt that still exists, or restore the file",
            )
        at_ref[path.resolve()] = prompt
        plain.append(path_arg)
    return plain, at_ref


def _suite(path: Path, loader: _Loader) -> list[Case]:
    doc = load_mapping(path, what="suite file")
    top = Fields(doc, loader.problems)
    top.unknown(SUITE_KEYS, where="in suite file")
    if top.is_unset("prompt"):
        stem = path.name
        for suffix in SUITE_SUFFIXES:
            stem = stem.removesuffix(suffix)
        candidates = [path.with_name(stem + ext) for ext in (".yaml", ".yml")]
        target = next((c for c in candidates if c.is_file()), candidates[0])
        if not target.is_file():
            top.problem(
                (),
                f"no prompt file {target.name} next to the suite",
                "add 'prompt: path/to/prompt.yaml' (relative to this file)",
            )
            return []
    else:
        raw_prompt = top.get(
            "prompt", NON_EMPTY, message="'prompt' must be a path to a prompt file"
        )
        if raw_prompt is None:
            return []
        target = path.parent / raw_prompt
        if not target.is_file():
            top.problem(
                ("prompt",),
                f"prompt file {raw_prompt!r} not found",
                "paths are relative to the suite file",
            )
            return []
    prompt = loader.prompt(target)
    if prompt is None:
        return []
    defaults = top.mapping("defaults", unset="empty")
    defaults.unknown(DEFAULT_KEYS, where="in defaults")
    tests = top.get(
        "tests",
        NON_EMPTY_LIST,
        message="a suite file needs a non-empty 'tests:' list",
        hint="add - name: ... / vars: ... / assert: ...",
        unset="missing",
        required=True,
    )
    if tests is None:
        return []
    return _cases(tests, doc, ("tests",), prompt, dict(defaults.data), loader)


def _cases(
    items: list[Any],
    doc: YamlDoc,
    where: tuple[Any, ...],
    prompt: Prompt,
    defaults: dict[str, Any],
    loader: _Loader,
) -> list[Case]:
    problems = loader.problems
    root = Path(doc.file).resolve().parent  # python: checks are relative to the file they're in
    project = project_of(root, loader.config)
    base = Fields(doc, problems, ("defaults",), defaults)
    base_vars = _vars(base)
    base_asserts = _asserts(base, root, project)
    base_models = _models(base)
    base_repeat = base.get("repeat", integer(1, MAX_REPEAT), hint=REPEAT_HINT) or 1
    base_thr = _ratio(base, "threshold")
    base_min = _ratio(base, "min_score")
    base_context = _context(base)
    grader = {
        key: base.get(key, NON_EMPTY, message="'{key}' must be a model alias or id")
        for key in ("judge_model", "embedding_model")
    }
    vars_hint = "set the prompt's variables under the case's 'vars:'" + (
        " (or under 'defaults: vars:' for every case)" if is_suite_file(Path(doc.file)) else ""
    )
    _search_first(prompt, items, base_vars, loader.config.concurrency)
    out: list[Case] = []
    for i, raw in enumerate(items):
        at = (*where, i)
        if not isinstance(raw, dict):
            problems.append(doc.problem(at, "a test case must be a mapping (name, vars, assert)"))
            continue
        before = len(problems)
        case = Fields(doc, problems, at, raw)
        case.unknown(CASE_KEYS, where="in test case")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            case.problem(
                (), "test case needs a 'name'", "names identify cases in reports and baselines"
            )
            name = f"#{i + 1}"
        else:
            loader.named.append(Named(Path(prompt.path).resolve(), prompt.name, name.strip(),
                                      doc.file, doc.line(at)))  # fmt: skip
        case_vars = {**base_vars, **_vars(case)}
        asserts = base_asserts + _asserts(case, root, project)
        models = _models(case) or base_models
        repeat = case.get("repeat", integer(1, MAX_REPEAT), hint=REPEAT_HINT) or base_repeat
        thr = _ratio(case, "threshold")
        min_score = _ratio(case, "min_score")
        desc = raw.get("description") or ""
        declared = {t.name for t in prompt.tools}
        scripts = conversation.tool_results(case, declared) if "tool_results" in raw else None
        context = _context(case) or base_context
        if len(problems) > before:
            continue
        try:
            values = resolve_vars(prompt, case_vars)
        except PromptlabError as exc:  # its hint is about -v; here the values come from vars:
            message = exc.message.removeprefix(f"{prompt.path}: ")
            problems.append(doc.problem((*at, "vars") if "vars" in raw else at,
                                        f"case '{name}': {message}", vars_hint))  # fmt: skip
            continue
        try:
            rendered = render(prompt, values)
        except PromptlabError as exc:
            message = exc.message.removeprefix(f"{prompt.path}: ")
            problems.append(doc.problem((*at, "vars") if "vars" in raw else at,
                                        f"case '{name}': {message}", exc.hint))  # fmt: skip
            continue
        model_key = (*at, "models") if "models" in raw else ("defaults", "models")
        out.append(
            Case(
                name=name.strip(), prompt=prompt, vars=values, rendered=rendered,
                asserts=tuple(asserts), models=tuple(models), repeat=repeat,
                threshold=thr if thr is not None else (base_thr if base_thr is not None else 1.0),
                min_score=min_score if min_score is not None else base_min,
                description=str(desc), file=doc.file, line=doc.line(at),
                judge_model=grader["judge_model"], embedding_model=grader["embedding_model"],
                model_lines=(doc.file, doc.line(model_key)), pinned="models" in raw,
                tool_results=scripts, context=context,
            )
        )  # fmt: skip
    return out


def _search_first(prompt: Prompt, items: list[Any], base_vars: dict[str, Any],
                  workers: int) -> None:  # fmt: skip
    """The cases' knowledge-base searches at once (as `run` does, up to `workers`), before they
    are rendered one by one. A case whose values or query are wrong is left to rendering."""
    if prompt.retrieval is None or not prompt.retrieval.default.knowledge_base:
        return
    from promptlab import retrieval
    from promptlab.prompt.render import retrieval_query

    source = prompt.retrieval.default
    asked: list[tuple[Any, str]] = []
    for raw in items:
        given = raw.get("vars") if isinstance(raw, dict) else None
        try:
            values = resolve_vars(prompt, {**base_vars, **(given if isinstance(given, dict)
                                                            else {})})  # fmt: skip
            query = retrieval_query(prompt, values, source)
        except PromptlabError:
            continue
        if query:
            asked.append((source, query))
    retrieval.prefetch(asked, workers)


def _vars(fields: Fields) -> dict[str, Any]:
    return fields.get("vars", MAPPING, {}, message="'{key}' must be a mapping of name: value")


def _context(fields: Fields) -> tuple[Passage, ...]:
    if "context" not in fields:
        return ()
    passages, problem = read_context(fields.data["context"])
    if problem:
        fields.problem(
            ("context",),
            problem,
            "e.g. context: [{text: Refunds take 5 days., source: returns.md}]",
        )
    return passages


def _models(fields: Fields) -> list[str]:
    return fields.get(
        "models", MODELS, [], message="'{key}' must be a list of model aliases or ids"
    )


def _ratio(fields: Fields, key: str) -> float | None:
    value = fields.get(key, number(0, 1), hint="e.g. 0.8 = 80%")
    return None if value is None else float(value)


def project_of(directory: Path, config: Config) -> Path:
    """The project a suite's files (python checks, schema files) must stay inside: the project
    root when the suite is in it; for a suite elsewhere, the nearest directory above it holding
    promptlab.yaml, else the suite's own directory."""
    root = config.root.resolve()
    if directory.is_relative_to(root):
        return root
    return find_root(directory)[0]


def _asserts(fields: Fields, root: Path, project: Path) -> list[Assertion]:
    items = fields.get(
        "assert",
        LIST,
        [],
        message="'{key}' must be a list of assertions",
        hint="e.g. assert: [{contains: refund}]",
    )
    out = []
    for i, item in enumerate(items):
        at = (*fields.at, "assert", i)
        a = parse_assertion(item, fields.doc, at, root, fields.problems, project)
        if a is not None:
            out.append(a)
    return out


def _check_unique(named: list[Named], problems: list[Problem]) -> None:
    """Duplicate names among every named case, valid or not (so lint lists them at once)."""
    seen: dict[tuple[Path, str], str] = {}
    for n in named:
        key = (n.prompt_path, n.name)
        file, line = n.file, n.line
        if key in seen:
            problems.append(
                Problem(
                    file,
                    f"duplicate test case name '{n.name}' for prompt '{n.prompt}'",
                    line,
                    f"first defined at {seen[key]}; names must be unique",
                )
            )
        else:
            seen[key] = f"{file}:{line}" if line else file


def with_retrieval(cases: list[Case], choices: list[str], workers: int = 1) -> list[Case]:
    """`test --retrieve`: each case whose prompt retrieves, once per chosen variant (a name or
    KEY=VALUE settings), named `case [retrieve k=3]`; other cases as they are. Knowledge bases
    are searched for every case and variant at once (up to `workers` searches)."""
    if not choices:
        return cases
    if not any(c.prompt.retrieval for c in cases):
        raise UsageError(
            "--retrieve: no selected case's prompt has 'retrieve:'",
            "select cases of a prompt that retrieves, or leave --retrieve out",
        )
    from promptlab import retrieval
    from promptlab.prompt.render import retrieval_query

    picked = [(c, c.prompt.retrieval.pick(choices) if c.prompt.retrieval else []) for c in cases]
    retrieval.prefetch([(s, q) for c, sources in picked for s in sources if s.knowledge_base
                        for q in [retrieval_query(c.prompt, c.vars, s)] if q], workers)  # fmt: skip
    out: list[Case] = []
    for case, sources in picked:
        if case.prompt.retrieval is None:
            out.append(case)
            continue
        for source in sources:
            rendered = render(case.prompt, case.vars, source=source)
            out.append(replace(case, name=f"{case.name} [retrieve {source.name}]",
                               rendered=rendered))  # fmt: skip
    return out

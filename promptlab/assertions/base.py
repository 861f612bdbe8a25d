"""Shared types for assertions: the parsed assertion, its verdict and the evaluation context."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from promptlab.request import Request
from promptlab.results import Completion, ErrorInfo, Result

if TYPE_CHECKING:
    from promptlab.assertions.evidence import Passage
    from promptlab.assertions.rated import Ratings
    from promptlab.guardrails import Guardrail, Outcome


@dataclass(frozen=True)
class Assertion:
    """One check from a suite file, validated. `type` is the base type without `not-`."""

    type: str
    negate: bool = False
    value: Any = None
    weight: float = 1.0
    name: str | None = None
    threshold: float | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    file: str | None = None
    line: int | None = None
    on: str = "answer"  # what a text check reads: the answer's text, or its reasoning
    compiled: Any = field(default=None, compare=False, repr=False)
    # The project root: files a check names (python code, schema files) must stay inside it.
    project: Path | None = field(default=None, compare=False, repr=False)

    @property
    def full_type(self) -> str:
        return f"not-{self.type}" if self.negate else self.type

    @property
    def label(self) -> str:
        return self.name or self.full_type

    @property
    def where(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Verdict:
    """Outcome of one assertion on one output. `error` is set when a grader could not run."""

    passed: bool
    score: float
    reason: str
    error: ErrorInfo | None = None
    tokens: int = 0
    cost_usd: float | None = 0.0
    broken: bool = False  # could not be decided (grader failed, check raised): never negated


class BadAssertion(Exception):
    """A configuration problem in one assertion; `key` names the offending sub-key."""

    def __init__(self, message: str, hint: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.key = key


class Services(Protocol):
    """Calls that graders need (judge, similar, apply-guardrail). Cost and tokens come back
    with them."""

    def complete(
        self, model: str, request: Request, about: Result | None = None
    ) -> tuple[Completion, float | None]: ...

    def embed(
        self, model: str, text: str, about: Result | None = None
    ) -> tuple[list[float], int, float | None]: ...

    def apply_guardrail(
        self, guardrail: Guardrail, source: str, text: str, about: Result | None = None
    ) -> tuple[Outcome, float | None]: ...
    def embed_image(
        self, model: str, text: str | None, image: bytes | None, about: Result | None = None
    ) -> tuple[list[float], int, float | None]:
        """A multimodal embedding of a text, an image, or both."""
        ...


@dataclass
class Context:
    """Everything an assertion may look at besides the output text."""

    output: str
    result: Result
    vars: Mapping[str, Any]
    case: str
    root: Path
    services: Services | None = None
    judge_model: str = "nova-micro"
    embedding_model: str = "amazon.titan-embed-text-v2:0"
    user_prompt: str = ""
    # The prompt's `output_schema`: what `json-schema` checks when the assertion has no schema.
    output_schema: Mapping[str, Any] | None = None
    reasoning: str = ""  # the answer's reasoning text: what `on: reasoning` checks
    reasoning_redacted: bool = False
    # The guardrail the case's calls use (guardrails.effective): apply-guardrail's default.
    guardrail: Guardrail | None = None
    # What people's ratings say of this model on this case (`rated`); None: no history.
    ratings: Ratings | None = None
    # The case's `context:` (evidence.read_context): what grounding checks read before the
    # call's own passages.
    case_context: tuple[Passage, ...] = ()
    question: str = ""  # the rendered `input` section (else the user prompt): what was asked
    prompts_dir: Path | None = None  # the project's prompts (a `judges/` folder overrides)


@dataclass(frozen=True)
class Check:
    """A registry entry: how to validate an assertion at load time and how to run it."""

    run: Callable[[Assertion, Context], Verdict]
    prepare: Callable[[Assertion, Path], Any] | None = (
        None  # returns `compiled`; raises BadAssertion
    )
    keys: tuple[str, ...] = ()  # type-specific keys besides the common ones
    value: str = "required"  # "required" | "optional" | "none"
    scored: bool = False  # accepts `threshold`; a negated verdict scores 1 - score
    threshold_max: float | None = 1.0  # `threshold` range 0..threshold_max (None: unbounded)
    remote: bool = False  # calls a model (judge, similar)
    quick: bool = True  # takes microseconds: evaluated where the result arrives, not on a pool
    text: bool = True  # checks the answer's text (so `on: reasoning` can point it at reasoning)
    judged: bool = False  # its grader is the judge model (`judge_model`), not an embedding model
    summary: str = ""


def project_file(ref: str, root: Path, project: Path | None, key: str = "value") -> Path:
    """`ref` (relative to `root`, the suite or prompt file's directory) as a resolved path inside
    the project. Absolute paths and paths leaving the project (through `..` or a symlink) are
    refused: a suite from a pull request must not reach files elsewhere on the machine."""
    hint = "write it relative to the suite (or prompt) file's directory, inside the project"
    if Path(ref).is_absolute() or ref.startswith("~"):
        raise BadAssertion(f"{ref!r} is an absolute path; a check's files must be inside the "
                           "project", hint, key)  # fmt: skip
    inside = (project or root).resolve()
    path = (root / ref).resolve()
    if not path.is_relative_to(inside):
        raise BadAssertion(f"{ref!r} is outside the project ({inside})", hint, key)
    return path


def quote(text: str, limit: int = 60) -> str:
    """A short, single-line repr for reasons (repr shows a newline as \\n, once)."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)

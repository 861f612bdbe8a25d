"""The prompt data model: a validated prompt file, its variables, and a rendered prompt."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlab.request import InferenceParams, Request

if TYPE_CHECKING:
    import jinja2

    from promptlab.yamlfile import YamlDoc

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

"""Prompt templates: the YAML format, variables, and rendering in a sandbox.

model.py holds Prompt, Variable, Rendered and the format's constants; load.py parses and
validates a prompt file; variables.py coerces and checks variable values; render.py holds the
sandboxed Jinja environment and render(); paths.py turns prompt arguments into paths.
"""

from promptlab.prompt.load import content_hash, find_root, load_prompt
from promptlab.prompt.model import (
    CACHE_POSITIONS,
    LAYOUTS,
    MARKDOWN_TITLES,
    SECTIONS,
    SEMVER,
    TOP_KEYS,
    USER_SECTIONS,
    VAR_TYPES,
    VARIABLE_KEYS,
    Prompt,
    Rendered,
    Variable,
)
from promptlab.prompt.paths import display_path, locate
from promptlab.prompt.render import join_user, make_env, render
from promptlab.prompt.variables import (
    check_value,
    coerce,
    load_vars_file,
    parse_assignments,
    resolve_vars,
)

__all__ = [
    "CACHE_POSITIONS",
    "LAYOUTS",
    "MARKDOWN_TITLES",
    "SECTIONS",
    "SEMVER",
    "TOP_KEYS",
    "USER_SECTIONS",
    "VARIABLE_KEYS",
    "VAR_TYPES",
    "Prompt",
    "Rendered",
    "Variable",
    "check_value",
    "coerce",
    "content_hash",
    "display_path",
    "find_root",
    "join_user",
    "load_prompt",
    "load_vars_file",
    "locate",
    "make_env",
    "parse_assignments",
    "render",
    "resolve_vars",
]

"""Passages as the model sees them: the context section's text, and the templates' variable.

Each passage shows its id in brackets, `[1]`, before its source, so the model can cite it and
the `cites` check can find `[1]` in the answer. A template that names `passages` (a section or
a turn) places them itself; otherwise they are added to the end of the context section.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import jinja2
import jinja2.meta


def context_text(passages: Sequence[Mapping[str, Any]]) -> str:
    """`[1] policy-docs/refunds.md` then the passage's text, a blank line between passages."""
    return "\n\n".join(f"[{p['id']}] {p.get('source') or ''}".rstrip() + f"\n{p['text']}"
                       for p in passages)  # fmt: skip


def places_passages(env: jinja2.Environment, templates: Iterable[str]) -> bool:
    """Whether a template uses the `passages` variable (then nothing is added for it)."""
    for source in templates:
        if "passages" not in source:
            continue
        try:
            if "passages" in jinja2.meta.find_undeclared_variables(env.parse(source)):
                return True
        except jinja2.TemplateSyntaxError:
            continue  # reported where the template is compiled
    return False


def with_context(section: str | None, passages: Sequence[Mapping[str, Any]]) -> str:
    """The context section with the passages after its own text."""
    text = context_text(passages)
    return "\n\n".join(filter(None, [section or "", text]))

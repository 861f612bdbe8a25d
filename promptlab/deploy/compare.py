"""What differs between a prompt in git and a deployed version: messages, variables, settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from promptlab.deploy.shape import Content
from promptlab.versions import Section, unified


@dataclass
class DeployedDiff:
    label_a: str
    label_b: str
    metadata: list[str]
    sections: list[Section] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return bool(self.metadata) or any(s.changed for s in self.sections)


def compare(a: Content, b: Content, labels: tuple[str, str]) -> DeployedDiff:
    """Template text per message (unified diffs), then variables, model and inference."""
    la, lb = labels
    out: list[str] = []
    for name in a.variables:
        if name not in b.variables:
            out.append(f"variable removed: {name}")
    for name in b.variables:
        if name not in a.variables:
            out.append(f"variable added: {name}")
    if a.model_id != b.model_id:
        out.append(f"model: {a.model_id or '-'} → {b.model_id or '-'}")
    ia, ib = dict(a.key()[4]), dict(b.key()[4])
    for key in dict.fromkeys([*ia, *ib]):
        if ia.get(key) != ib.get(key):
            out.append(f"inference {key}: {_shown(ia.get(key))} → {_shown(ib.get(key))}")
    diff = DeployedDiff(la, lb, out)
    for title, x, y in (("system", a.system, b.system), ("user message", a.user, b.user)):
        if x or y:
            lines = unified(x, y, f"A {title}", f"B {title}")
            diff.sections.append(Section(title, lines, bool(lines)))
    return diff


def _shown(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return str(list(value))
    return str(value)

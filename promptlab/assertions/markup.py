"""XML assertions: is-xml (the whole output) and contains-xml (an element somewhere in it), each
optionally requiring element paths (`elements: [answer, answer/reason]`).

Parsing untrusted text: defusedxml, not the bare stdlib parser. Python's expat (2.4.1+) caps
entity amplification, but it still expands internal entities up to that cap and the Python docs
point to defusedxml for untrusted data; defusedxml refuses entity declarations and external
references outright (a DOCTYPE without them is fine). It is one pure-Python wheel (32 KB,
no dependencies) that imports in no measurable time beyond xml.etree itself, is already installed
as a dependency of nltk (which rouge-score needs), and a hand-written "no <!DOCTYPE/<!ENTITY"
scan would misjudge them inside comments and CDATA. A refused document fails the assertion.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from promptlab.assertions.base import Assertion, BadAssertion, Context, Verdict, quote
from promptlab.schemas import FENCE

_START = re.compile(r"<([^\W\d][\w.-]*(?::[^\W\d][\w.-]*)?)(?=[\s/>])")
_STEP = re.compile(r"[^\W\d][\w.:-]*")
_NOT_WELL_FORMED = re.compile(r"^not well-formed \((.*?)\)")
MAX_TRIES = 400  # parse attempts of contains-xml: a long output of stray `<` stays cheap

ElementPath = tuple[bool, list[str]]  # (anchored at the root, local names)


def prepare_xml(a: Assertion, root: Path) -> list[ElementPath]:
    """`elements` (or a list `value`): element paths like `answer/reason`; a leading `/`
    anchors the path at the root element."""
    if a.value is not None and "elements" in a.options:
        raise BadAssertion("give the element paths as 'value' or 'elements', not both",
                           key="elements")  # fmt: skip
    key = "elements" if "elements" in a.options else "value"
    raw = a.options.get("elements", a.value)
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw or not all(isinstance(p, str) for p in raw):
        raise BadAssertion(f"'{a.full_type}' takes a list of element paths, got {raw!r}",
                           "e.g. elements: [answer, answer/reason]", key)  # fmt: skip
    paths: list[ElementPath] = []
    for text in raw:
        anchored = text.startswith("/")
        steps = text.strip("/").split("/")
        if not all(_STEP.fullmatch(s) for s in steps):
            raise BadAssertion(f"invalid element path {text!r}",
                               "element names separated by /, e.g. answer/reason", key)  # fmt: skip
        paths.append((anchored, [s.rpartition(":")[2] for s in steps]))
    return paths


def _local(tag: Any) -> str:
    return str(tag).rpartition("}")[2]


def _below(element: Any, steps: list[str]) -> bool:
    if not steps:
        return True
    return any(_local(c.tag) == steps[0] and _below(c, steps[1:]) for c in element)


def _has(root: Any, path: ElementPath) -> bool:
    anchored, steps = path
    heads = [root] if anchored else root.iter()
    return any(_local(e.tag) == steps[0] and _below(e, steps[1:]) for e in heads)


def _show(path: ElementPath) -> str:
    return ("/" if path[0] else "") + "/".join(path[1])


def _parse(text: str) -> tuple[Any, str | None]:
    """The root element, or None and why not."""
    import xml.etree.ElementTree as ET

    import defusedxml
    import defusedxml.ElementTree as DET

    try:
        return DET.fromstring(text), None
    except ET.ParseError as exc:  # expat: "not well-formed (invalid token): line 1, column 4"
        return None, "not well-formed XML: " + _NOT_WELL_FORMED.sub(r"\1", str(exc))
    except defusedxml.DefusedXmlException as exc:
        return None, f"refused XML with entity declarations or external references ({exc})"


def _missing(root: Any, paths: list[ElementPath]) -> list[str]:
    return [_show(p) for p in paths if not _has(root, p)]


def is_xml(a: Assertion, ctx: Context) -> Verdict:
    text = ctx.output.strip()
    m = FENCE.match(text)
    if m:
        text = m.group(1).strip()
    if not text:
        return Verdict(False, 0.0, "empty output")
    root, problem = _parse(text)
    if problem:
        return Verdict(False, 0.0, problem)
    missing = _missing(root, a.compiled)
    if missing:
        return Verdict(False, 0.0, f"XML <{_local(root.tag)}> has no " + ", ".join(missing))
    return Verdict(True, 1.0, f"well-formed XML (root <{_local(root.tag)}>)")


def xml_candidates(text: str) -> list[tuple[Any, str]]:
    """Well-formed XML elements in `text`, left to right: from each start tag, the shortest
    span up to a matching end tag (or the tag itself, self-closed) that parses. At most
    MAX_TRIES start tags and parses, so a long output full of stray `<` stays cheap."""
    found: list[tuple[Any, str]] = []
    tries = 0
    pos = 0
    while tries < MAX_TRIES:
        m = _START.search(text, pos)
        if m is None:
            break
        tries += 1
        start, name = m.start(), re.escape(m.group(1))
        single = re.compile(rf"<{name}(?:\s[^<>]*)?/>").match(text, start)
        ends = [single.end()] if single else []
        ends += [e.end() for e in re.compile(rf"</{name}\s*>").finditer(text, m.end())]
        pos = start + 1
        for end in ends:
            if tries >= MAX_TRIES:
                break
            tries += 1
            root, _ = _parse(text[start:end])
            if root is not None:
                found.append((root, text[start:end]))
                pos = end
                break
    return found


def contains_xml(a: Assertion, ctx: Context) -> Verdict:
    paths: list[ElementPath] = a.compiled
    candidates = xml_candidates(ctx.output)
    if not candidates:
        return Verdict(False, 0.0, "no well-formed XML element in the output")
    for root, span in candidates:
        if not _missing(root, paths):
            return Verdict(True, 1.0, f"found XML <{_local(root.tag)}>: {quote(span, 50)}")
    root = candidates[0][0]
    return Verdict(False, 0.0, f"found XML <{_local(root.tag)}> but no "
                   + ", ".join(_missing(root, paths)))  # fmt: skip

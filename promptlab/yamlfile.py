"""Safe YAML loading that remembers the line of every key, for errors that name file:line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from promptlab.errors import Problem, PromptFileError

MAX_FILE_BYTES = 1024 * 1024  # 1 MiB: a prompt file larger than this is a mistake

PathKey = tuple[Any, ...]
BOOL_TAG = "tag:yaml.org,2002:bool"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (libyaml's when present: several times faster), with keys read as text:
    YAML 1.1 reads a plain `on`, `off`, `yes` or `no` as a boolean, which as a key is never
    meant (`on: reasoning`). Values are read as usual."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        for key_node, _ in node.value:
            plain = isinstance(key_node, yaml.ScalarNode) and not key_node.style  # not quoted
            if plain and key_node.tag == BOOL_TAG:
                key_node.tag = "tag:yaml.org,2002:str"
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping


@dataclass
class YamlDoc:
    """A parsed YAML document plus the 1-based line of every mapping key / list item."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)
    block_scalar: set[PathKey] = field(default_factory=set)

    def line(self, path: PathKey) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), None)

    def text_line(self, path: PathKey, offset: int) -> int | None:
        """The file line of line `offset` (1-based) inside the string value at `path`."""
        base = self.lines.get(tuple(path))
        if base is None:
            return None
        return base + offset if tuple(path) in self.block_scalar else base + offset - 1

    def problem(self, path: PathKey, message: str, hint: str | None = None) -> Problem:
        return Problem(self.file, message, self.line(path), hint)


def read_text(path: Path, *, what: str = "prompt file") -> str:
    """Read a UTF-8 file with the checks every input file needs."""
    if not path.exists():
        raise PromptFileError([Problem(str(path), f"{what} not found", None, "check the path")])
    if path.is_dir():
        raise PromptFileError(
            [Problem(str(path), "is a directory", None, f"pass a {what} (*.yaml) inside it")]
        )
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise PromptFileError(
            [
                Problem(
                    str(path),
                    f"file is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit",
                    None,
                    "keep large data out of prompt files; pass it with --vars"
                    if what == "prompt file"
                    else "split the file or trim the data",
                )
            ]
        )
    raw = path.read_bytes()
    return decode(raw, str(path))


def decode(raw: bytes, file: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PromptFileError(
            [Problem(file, f"not valid UTF-8 (byte {exc.start})", line, "save the file as UTF-8")]
        ) from None


def parse_yaml(text: str, file: str) -> YamlDoc:
    """Parse one YAML document safely. Raises PromptFileError naming file and line."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise PromptFileError(
            [Problem(file, f"file is over the {MAX_FILE_BYTES:,}-byte limit", None,
                     "keep large data out of prompt files; pass it with --vars")]
        )  # fmt: skip
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        parts = [exc.context, exc.problem] if exc.problem_mark else [exc.problem or exc.context]
        reason = ", ".join(p for p in parts if p) or "invalid YAML"
        raise PromptFileError(
            [Problem(file, f"YAML syntax error: {reason}", line, "fix the YAML syntax")]
        ) from None
    except yaml.YAMLError as exc:
        raise PromptFileError([Problem(file, f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    doc = YamlDoc(file, data)
    if node is not None:
        dupes: list[Problem] = []
        _walk(node, (), doc, dupes)
        if dupes:
            raise PromptFileError(dupes)
    return doc


def _walk(node: yaml.Node, path: PathKey, doc: YamlDoc, dupes: list[Problem]) -> None:
    if not path:
        doc.lines[()] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            child = (*path, key)
            if key in seen:
                dupes.append(
                    Problem(
                        doc.file,
                        f"duplicate key '{key}'",
                        key_node.start_mark.line + 1,
                        "the second one would silently replace the first; keep one",
                    )
                )
            seen.add(key)
            doc.lines[child] = key_node.start_mark.line + 1
            if isinstance(value_node, yaml.ScalarNode) and value_node.style in ("|", ">"):
                doc.block_scalar.add(child)
            _walk(value_node, child, doc, dupes)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = (*path, i)
            doc.lines[child] = item.start_mark.line + 1
            _walk(item, child, doc, dupes)


# What to write at the top of each kind of file, for "empty" and "not a mapping" errors.
_SHAPE_HINTS = {
    "prompt file": "start with 'version: \"1.0.0\"' and the prompt sections "
    "(run 'promptlab init' for a documented example)",
    "vars file": "write one 'name: value' line per variable",
    "config file": "write 'key: value' settings (run 'promptlab init' for a documented example)",
}


def load_mapping(path: Path, *, what: str = "file", text: str | None = None) -> YamlDoc:
    """Read and parse a YAML file whose top level must be a mapping."""
    if text is None:
        text = read_text(path, what=what)
    doc = parse_yaml(text, str(path))
    hint = _SHAPE_HINTS.get(what, "write a mapping of 'key: value' lines")
    if doc.data is None:
        raise PromptFileError([Problem(str(path), f"empty {what}", 1, hint)])
    if not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else "a single value"
        raise PromptFileError(
            [Problem(str(path), f"top level is {kind}, expected a mapping of keys", 1, hint)]
        )
    return doc

"""Safe YAML loading that remembers the line of every key, for errors that name file:line."""

from __future__ import annotations

import errno
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from promptlab.errors import Problem, PromptFileError

MAX_FILE_BYTES = 1024 * 1024  # 1 MiB: a prompt file larger than this is a mistake
NAME_MAX = 255  # bytes in one path component (Linux, macOS)

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
    """Read a UTF-8 file with the checks every input file needs: it exists, is a regular file
    (a FIFO would block, a device never ends: both refused before they are opened) and is at
    most MAX_FILE_BYTES (read with that bound, so a file growing meanwhile cannot pass)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise PromptFileError(
            [Problem(str(path), f"{what} not found", None, "check the path")]
        ) from None
    except OSError as exc:
        raise PromptFileError([unreadable(path, exc)]) from None
    if stat.S_ISDIR(st.st_mode):
        raise PromptFileError(
            [Problem(str(path), "is a directory", None, f"pass a {what} (*.yaml) inside it")]
        )
    if not stat.S_ISREG(st.st_mode):
        raise PromptFileError(
            [Problem(str(path), f"not a regular file ({_file_kind(st.st_mode)})", None,
                     f"pass a {what} saved on disk")]
        )  # fmt: skip
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise PromptFileError([unreadable(path, exc)]) from None
    if len(raw) > MAX_FILE_BYTES:
        size = max(st.st_size, len(raw))
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
    return decode(raw, str(path))


def unreadable(path: Path | str, exc: OSError) -> Problem:
    """An OSError reading `path` as one problem: a name too long, a permission denied, …"""
    if exc.errno == errno.ELOOP:
        return Problem(str(path), "too many levels of symbolic links", None, "fix the link")
    if exc.errno == errno.ENAMETOOLONG:
        shown = str(path)[:120] + ("…" if len(str(path)) > 120 else "")
        hint = f"each path component is at most {NAME_MAX} bytes; shorten the name"
        return Problem(shown, "file name too long", None, hint)
    reason = exc.strerror or type(exc).__name__
    return Problem(
        str(path), f"cannot be read: {reason.lower()}", None, "check the path and its permissions"
    )


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):  # fmt: skip
        if test(mode):
            return name
    return "not a file"


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
        doc = YamlDoc(file, None)
        if node is not None:  # lines, duplicates and the alias budget, before building values
            problems: list[Problem] = []
            _walk(node, (), doc, problems, _Aliases())
            if problems:
                raise PromptFileError(problems)
            doc.data = _construct(loader, node, file)
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
    except RecursionError:
        raise PromptFileError(
            [Problem(file, "YAML nested too deeply", None, "flatten the structure")]
        ) from None
    finally:
        loader.dispose()
    return doc


def _construct(loader: _Loader, node: yaml.Node, file: str) -> Any:
    """The document's values; a scalar Python cannot hold (an integer over 4,300 digits, a
    date like 2024-13-45) is one problem at its line."""
    try:
        return loader.construct_document(node)
    except ValueError as exc:
        bad = _bad_scalar(loader, node)
        line = bad.start_mark.line + 1 if bad is not None else None
        hint = "quote it to keep it as text" if bad is not None else "fix the value"
        reason = "an integer over 4,300 digits" if "4300 digits" in str(exc) else str(exc)
        raise PromptFileError(
            [Problem(file, f"YAML value cannot be read: {reason}", line, hint)]
        ) from None


def _bad_scalar(loader: _Loader, root: yaml.Node) -> yaml.ScalarNode | None:
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            loader.constructed_objects, loader.recursive_objects = {}, {}  # after the failure
            try:
                loader.construct_object(node)
            except ValueError:
                return node
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in reversed(node.value) for n in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return None


MAX_ALIAS_USES = 100  # `*name` uses in one file
MAX_ALIAS_NODES = 10_000  # values the aliases add to what the file spells out


@dataclass
class _Aliases:
    """The alias budget: a YAML alias repeats a whole subtree, and aliases of aliases grow
    exponentially ("billion laughs"); anything past the budget is refused, not expanded."""

    sizes: dict[int, int] = field(default_factory=dict)  # node id → values it stands for
    open: set[int] = field(default_factory=set)  # nodes being walked (an alias to one loops)
    uses: int = 0
    added: int = 0
    refused: bool = False

    def use(self, node: yaml.Node, line: int, doc: YamlDoc) -> Problem | None:
        if id(node) in self.open:
            self.refused = True
            return Problem(doc.file, "an alias refers to a value that contains it", line,
                           "YAML aliases must not loop; write the value out")  # fmt: skip
        self.uses += 1
        self.added += self.sizes[id(node)]
        if self.uses > MAX_ALIAS_USES or self.added > MAX_ALIAS_NODES:
            self.refused = True
            return Problem(
                doc.file,
                f"YAML aliases over the budget ({MAX_ALIAS_USES} uses, {MAX_ALIAS_NODES:,} values)",
                line,
                "write the values out, or use fewer `*alias` references",
            )
        return None


def _walk(node: yaml.Node, path: PathKey, doc: YamlDoc, problems: list[Problem],
          aliases: _Aliases) -> int:  # fmt: skip
    """Record lines and duplicate keys; return how many values `node` stands for. An alias
    (a node met again) is counted against the budget and not walked again: lines inside it
    are the line where it is used."""
    if not path:
        doc.lines[()] = node.start_mark.line + 1
    aliases.open.add(id(node))
    size = 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            child = (*path, key)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    Problem(
                        doc.file,
                        f"duplicate key '{key}'",
                        line,
                        "the second one would silently replace the first; keep one",
                    )
                )
            seen.add(key)
            doc.lines[child] = line
            if isinstance(value_node, yaml.ScalarNode) and value_node.style in ("|", ">"):
                doc.block_scalar.add(child)
            size += _child(value_node, child, line, doc, problems, aliases)
            if aliases.refused:
                break
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = (*path, i)
            line = item.start_mark.line + 1
            doc.lines[child] = line
            size += _child(item, child, line, doc, problems, aliases)
            if aliases.refused:
                break
    aliases.open.discard(id(node))
    aliases.sizes[id(node)] = size
    return size


def _child(node: yaml.Node, path: PathKey, line: int, doc: YamlDoc, problems: list[Problem],
           aliases: _Aliases) -> int:  # fmt: skip
    if id(node) in aliases.sizes or id(node) in aliases.open:
        problem = aliases.use(node, line, doc)
        if problem is not None:
            problems.append(problem)
            return 0
        return aliases.sizes[id(node)]
    return _walk(node, path, doc, problems, aliases)


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

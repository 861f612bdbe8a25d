"""The `retrieve:` key: where a prompt's context comes from, read and checked at file:line.

One source, or a mapping of named variants (each a source) to compare side by side:

    retrieve:                       retrieve:
      files: [docs/*.md]              k3: {files: [docs/*.md], query: "{{ q }}", k: 3}
      query: "{{ question }}"         k8: {files: [docs/*.md], query: "{{ q }}", k: 8}
      k: 3
      chunk: 800

A source is local files (`files`: paths or globs relative to the prompt file, whole or cut into
`chunk`-character pieces and ranked by BM25 against `query`) or an Amazon Bedrock knowledge
base (`knowledge_base`: its id, searched through the Retrieve API).
"""

from __future__ import annotations

import glob
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from promptlab.errors import UsageError
from promptlab.fields import MAPPING, NON_BLANK, STRING, Fields, integer, one_of, strings

SOURCE_KEYS = ("files", "knowledge_base", "query", "k", "chunk", "search", "filter", "rerank")
SEARCH_TYPES = ("hybrid", "semantic")  # the Retrieve API's overrideSearchType, lower-cased
DEFAULT_K = 5
MAX_KB_RESULTS = 100  # the Retrieve API's numberOfResults maximum
# What `--retrieve KEY=VALUE` may change, and how its value is read.
OVERRIDABLE = {"k": int, "chunk": int, "search": str, "query": str, "knowledge_base": str}


@dataclass(frozen=True)
class Source:
    """Where one retrieval variant's passages come from, and how many."""

    name: str | None  # the variant's name; None for a prompt's only source
    files: tuple[str, ...] = ()  # paths or globs, relative to `base`
    knowledge_base: str | None = None
    query: str | None = None  # a template; None: every file (or chunk), unranked
    k: int = DEFAULT_K
    chunk: int | None = None  # characters per chunk; None: whole files
    search: str | None = None  # hybrid | semantic (knowledge bases)
    filter: Mapping[str, Any] | None = None  # a Retrieve metadata filter (knowledge bases)
    rerank: str | None = None  # a reranking model's ARN (knowledge bases)
    base: Path = field(default_factory=Path)  # the prompt file's directory
    at: tuple[Any, ...] = ("retrieve",)  # where it is in the prompt file
    line: int | None = None
    file: str = ""

    @property
    def kind(self) -> str:
        return "knowledge-base" if self.knowledge_base else "files"

    @property
    def label(self) -> str:
        return self.name or (f"kb {self.knowledge_base}" if self.knowledge_base else "files")

    def settings(self) -> dict[str, Any]:
        """What decides the passages besides the query and the documents (cache keys)."""
        out: dict[str, Any] = {"k": self.k}
        if self.knowledge_base:
            out.update(knowledge_base=self.knowledge_base, search=self.search,
                       filter=self.filter, rerank=self.rerank)  # fmt: skip
        else:
            out.update(files=list(self.files), chunk=self.chunk)
        return out

    def error(self, message: str, hint: str | None = None) -> UsageError:
        """A problem with this source, at its line in the prompt file."""
        return UsageError(message, hint, file=self.file or None, line=self.line)


@dataclass(frozen=True)
class Retrieval:
    """A prompt's retrieval variants; the first is the default."""

    sources: tuple[Source, ...]

    @property
    def default(self) -> Source:
        return self.sources[0]

    @property
    def named(self) -> bool:
        return self.sources[0].name is not None

    def pick(self, choices: list[str]) -> list[Source]:
        """`--retrieve` values → the variants to run: names of variants, or KEY=VALUE[,…]
        overriding the default's settings (a variant named by the overrides)."""
        if not choices:
            return [self.default]
        by_name = {s.name: s for s in self.sources if s.name}
        out: list[Source] = []
        for choice in choices:
            if "=" in choice:
                out.append(override(self.default, choice))
            elif choice in by_name:
                out.append(by_name[choice])
            else:
                names = ", ".join(by_name) or "none (the prompt has one source)"
                raise UsageError(f"--retrieve {choice!r}: no retrieval variant of that name",
                                 f"variants: {names}; or override a setting, e.g. "
                                 "--retrieve k=3")  # fmt: skip
        return out


def override(source: Source, text: str) -> Source:
    """`k=3,chunk=400` → the source with those settings, named `k=3,chunk=400`."""
    changes: dict[str, Any] = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        key = key.strip()
        if key not in OVERRIDABLE or not value.strip():
            raise UsageError(
                f"--retrieve {text!r}: cannot set {key!r}",
                f"settable: {', '.join(OVERRIDABLE)} (e.g. --retrieve k=3)",
            )
        try:
            changes[key] = OVERRIDABLE[key](value.strip())
        except ValueError:
            raise UsageError(f"--retrieve {text!r}: {key} must be a number",
                             f"e.g. --retrieve {key}=3") from None  # fmt: skip
    if changes.get("k", 1) < 1 or (changes.get("chunk") or 1) < 1:
        raise UsageError(f"--retrieve {text!r}: k and chunk must be positive")
    if "search" in changes and changes["search"] not in SEARCH_TYPES:
        raise UsageError(f"--retrieve {text!r}: search must be one of {', '.join(SEARCH_TYPES)}")
    return replace(source, name=text, **changes)


def read(top: Fields, base: Path) -> Retrieval | None:
    """The prompt's `retrieve:` (None without one); problems at their lines."""
    if top.is_unset("retrieve"):
        return None
    data = top.get(
        "retrieve",
        MAPPING,
        message="'{key}' must be a mapping: a source "
        "(files: or knowledge_base:) or named variants of one",
        hint="e.g. retrieve: {files: [docs/*.md], query: '{{ question }}', k: 3}",
    )
    if data is None:
        return None
    fields = top.child("retrieve", data)
    if not data:
        fields.problem((), "'retrieve' is empty", "add files: [...] or knowledge_base: ID")
        return None
    if any(k in data for k in ("files", "knowledge_base")):
        one = _source(fields, None, base)
        return Retrieval((one,)) if one else None
    sources: list[Source] = []
    for name in fields:
        if not isinstance(name, str) or not name.strip() or "=" in name or "," in name:
            fields.problem((name,), f"retrieval variant name {name!r} must be a plain word",
                           "e.g. k3: {files: [...], k: 3}")  # fmt: skip
            continue
        sub = fields.get(name, MAPPING, message="retrieval variant '{key}' must be a mapping "
                         "(files: or knowledge_base:)", hint="e.g. k3: {files: [docs/*.md], "
                         "k: 3}", unset="missing")  # fmt: skip
        if sub is not None:
            src = _source(fields.child(name, sub), name, base)
            if src:
                sources.append(src)
    return Retrieval(tuple(sources)) if sources else None


def _source(f: Fields, name: str | None, base: Path) -> Source | None:
    where = f" in retrieval variant '{name}'" if name else " in 'retrieve'"
    before = len(f.problems)
    f.unknown(SOURCE_KEYS, where=where)
    files = f.get("files", strings(single=True, empty=False), [],
                  message="'{key}' must be a path or glob, or a list of them",
                  hint="e.g. files: [policy-docs/*.md]", unset="missing")  # fmt: skip
    kb = f.get("knowledge_base", NON_BLANK, message="'{key}' must be a knowledge base id",
               hint="e.g. knowledge_base: KB12345678 (aws bedrock-agent list-knowledge-bases)",
               unset="missing")  # fmt: skip
    if bool(files) == bool(kb):
        f.problem((), f"give either 'files' or 'knowledge_base'{where}",
                  "files: [docs/*.md] (local) or knowledge_base: KB12345678")  # fmt: skip
    query = f.get("query", STRING, hint="a template, e.g. query: '{{ question }}'",
                  unset="missing")  # fmt: skip
    if kb and query is None:
        f.problem((), f"a knowledge base needs a 'query'{where}", "e.g. query: '{{ question }}'")
    k = f.get("k", integer(1), DEFAULT_K, hint="how many passages, e.g. k: 3", unset="missing")
    chunk = f.get("chunk", integer(1), hint="characters per chunk, e.g. chunk: 800",
                  unset="missing")  # fmt: skip
    search = f.get("search", one_of(SEARCH_TYPES), hint="hybrid or semantic", unset="missing")
    filt = f.get("filter", MAPPING, hint="a Retrieve filter, e.g. {equals: {key: year, "
                 "value: 2024}}", unset="missing")  # fmt: skip
    rerank = f.get("rerank", NON_BLANK, hint="a reranking model's ARN", unset="missing")
    if kb:
        if k > MAX_KB_RESULTS:
            f.problem(("k",), f"k {k} is more than a knowledge base returns ({MAX_KB_RESULTS})",
                      f"use k: {MAX_KB_RESULTS} or less")  # fmt: skip
        if chunk is not None:
            f.problem(("chunk",), "'chunk' applies to local files; a knowledge base has its own "
                      "chunking", "remove it")  # fmt: skip
    else:
        for key in ("search", "filter", "rerank"):
            if key in f.data:
                f.problem((key,), f"'{key}' applies to knowledge bases, not local files",
                          "remove it, or use knowledge_base: ID")  # fmt: skip
        for i, pattern in enumerate(files):
            if not matches(base, pattern):
                what = "glob matches no file" if glob.has_magic(pattern) else "file not found"
                f.problem(
                    ("files", i) if isinstance(f.data.get("files"), list) else ("files",),
                    f"{what}: {pattern} (relative to {_shown(base)})",
                    "paths and globs are relative to the prompt file's directory",
                )
    if len(f.problems) > before:
        return None
    return Source(name, tuple(files), kb, query, k, chunk, search, filt, rerank, base, f.at,
                  f.doc.line(f.at), f.doc.file)  # fmt: skip


def matches(base: Path, pattern: str) -> list[Path]:
    """The files a path or glob names (sorted), relative to `base`."""
    full = Path(pattern) if Path(pattern).is_absolute() else base / pattern
    if glob.has_magic(pattern):
        return sorted(Path(p) for p in glob.glob(str(full), recursive=True) if Path(p).is_file())
    return [full] if full.is_file() else []


def _shown(base: Path) -> str:
    try:
        return str(base.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(base)

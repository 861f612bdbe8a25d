"""Local retrieval: files and globs (text, Markdown, PDF), whole or chunked, ranked by BM25.

Nothing here needs AWS or a model. Each file is read once per process; an index (documents
cut into chunks, BM25 over their words) is built the first time a query needs it and kept for
the rest of the run, keyed by the files' contents and the chunk size. BM25 is `bm25s`
(imported here only: 0.22 s with numpy, 0.6 MB; queries over 1,000 documents take ~0.2 ms,
see bench/retrieval.py), PDF text is `pypdf` (imported only for a PDF: 0.15 s, 4.3 MB).
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptlab.errors import UsageError
from promptlab.prompt.paths import display_path
from promptlab.retrieval.spec import Source, matches

WORD = re.compile(r"\w+")
PDF_SUFFIXES = (".pdf",)


@dataclass(frozen=True)
class Doc:
    """One file's text, as read once."""

    path: Path
    text: str
    sha256: str


@dataclass(frozen=True)
class Chunk:
    source: str  # the file as passages name it (relative to the prompt file's directory)
    text: str
    index: int  # which chunk of its file, from 0
    count: int  # how many chunks the file has


_docs: dict[tuple[Path, int, int], Doc] = {}
_indexes: dict[tuple[Any, ...], Index] = {}
_lock = threading.Lock()


def read_doc(path: Path) -> Doc:
    """A file's text (PDF: its pages' text), read once per process. Unreadable: UsageError."""
    stat = path.stat()
    key = (path.resolve(), stat.st_mtime_ns, stat.st_size)  # a file changed is read again
    with _lock:
        if key in _docs:
            return _docs[key]
    raw = path.read_bytes()
    if path.suffix.lower() in PDF_SUFFIXES or raw.startswith(b"%PDF-"):
        text = pdf_text(path, raw)
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UsageError(
                f"{display_path(path)}: not UTF-8 text",
                "retrieve reads text, "
                "Markdown and PDF files; convert it, or leave it out of files:",
            ) from None
    doc = Doc(path, text, hashlib.sha256(raw).hexdigest())
    with _lock:
        _docs[key] = doc
    return doc


def pdf_text(path: Path, raw: bytes) -> str:
    """The text of every page of a PDF, pages separated by a blank line."""
    import io

    import pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise UsageError(
                f"{display_path(path)}: the PDF is encrypted",
                "decrypt it (e.g. qpdf --decrypt) or leave it out of files:",
            )
        pages = [page.extract_text() or "" for page in reader.pages]
    except UsageError:
        raise
    except Exception as exc:  # pypdf raises many kinds for a damaged file
        raise UsageError(f"{display_path(path)}: unreadable PDF ({type(exc).__name__}: {exc})",
                         "re-export the PDF, or leave it out of files:") from None  # fmt: skip
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise UsageError(
            f"{display_path(path)}: the PDF has no text layer (a scan?)",
            "run OCR on it first (e.g. ocrmypdf), or leave it out of files:",
        )
    return text


def files_of(source: Source) -> list[Path]:
    """The source's files, each once, in the order its patterns name them."""
    out: dict[Path, None] = {}
    for pattern in source.files:
        found = matches(source.base, pattern)
        if not found:
            raise source.error(f"retrieve: no file matches {pattern}",
                               "paths and globs are relative to the prompt file")  # fmt: skip
        out.update(dict.fromkeys(found))
    return list(out)


def chunks_of(doc: Doc, size: int | None, shown: str) -> list[Chunk]:
    """The file whole, or cut into pieces of at most `size` characters at paragraph breaks
    (a longer paragraph at spaces). `shown`: its name in the passages."""
    if size is None:
        return [Chunk(shown, doc.text.strip(), 0, 1)]
    pieces: list[str] = []
    current = ""
    for para in (p.strip() for p in re.split(r"\n\s*\n", doc.text)):
        for part in _split(para, size):
            if current and len(current) + 2 + len(part) > size:
                pieces.append(current)
                current = ""
            current = f"{current}\n\n{part}" if current else part
    if current:
        pieces.append(current)
    return [Chunk(shown, t, i, len(pieces)) for i, t in enumerate(pieces)]


def _split(text: str, size: int) -> list[str]:
    """A paragraph in pieces of at most `size` characters, cut at spaces where possible."""
    out: list[str] = []
    while len(text) > size:
        cut = text.rfind(" ", 0, size + 1)
        cut = cut if cut > 0 else size
        out.append(text[:cut].strip())
        text = text[cut:].strip()
    return [*out, text] if text else out


def tokens(text: str) -> list[str]:
    return WORD.findall(text.lower())


class Index:
    """Chunks of some files and a BM25 index over their words (built on the first query)."""

    def __init__(self, chunks: list[Chunk], hashes: tuple[str, ...] = ()) -> None:
        self.chunks = chunks
        self.hashes = hashes  # the files' sha256, in order
        self._bm25: Any = None
        self._lock = threading.Lock()

    def _model(self) -> Any:
        with self._lock:
            if self._bm25 is None:
                import bm25s

                model = bm25s.BM25()
                model.index([tokens(c.text) for c in self.chunks], show_progress=False)
                self._bm25 = model
            return self._bm25

    def search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        """The `k` best chunks for `query` by BM25 score (ties in file order); chunks that share
        no word with the query are left out."""
        words = tokens(query)
        if not words or not self.chunks:
            return []
        import numpy as np

        scores = self._model().get_scores(words)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.chunks[i], float(scores[i])) for i in order if scores[i] > 0]


_by_source: dict[tuple[Any, ...], Index] = {}


def index_for(source: Source) -> Index:
    """The source's index: its files found, read and chunked once per run (process)."""
    where = (str(source.base), source.files, source.chunk)
    with _lock:
        known = _by_source.get(where)
    if known is not None:
        return known
    made = _build(source)
    with _lock:
        return _by_source.setdefault(where, made)


def _build(source: Source) -> Index:
    docs = [read_doc(p) for p in files_of(source)]
    key = (tuple(d.sha256 for d in docs), tuple(str(d.path) for d in docs), source.chunk)
    with _lock:
        found = _indexes.get(key)
    if found is not None:
        return found
    chunks = [c for d in docs for c in chunks_of(d, source.chunk, shown(d.path, source))]
    made = Index(chunks, tuple(d.sha256 for d in docs))
    with _lock:
        return _indexes.setdefault(key, made)


def forget() -> None:
    """Files, chunks and indexes read so far (a test changes files between runs)."""
    with _lock:
        _docs.clear()
        _indexes.clear()
        _by_source.clear()


def shown(path: Path, source: Source) -> str:
    """A file as passages name it: relative to the prompt file's directory where it can be."""
    try:
        return path.resolve().relative_to(source.base.resolve()).as_posix()
    except ValueError:
        return display_path(path).as_posix()


def content_key(source: Source) -> list[str]:
    """The files' content hashes, for the retrieval cache key."""
    return list(index_for(source).hashes)


def retrieve(source: Source, query: str | None) -> list[dict[str, Any]]:
    """Passages from local files: every chunk in file order without a query, else the `k`
    best by BM25. Ids are "1", "2", … in the order given."""
    index = index_for(source)
    if query is None:
        ranked: list[tuple[Chunk, float | None]] = [(c, None) for c in index.chunks]
    else:
        ranked = list(index.search(query, source.k))
    out = []
    for i, (chunk, score) in enumerate(ranked, 1):
        meta: dict[str, Any] = {}
        if chunk.count > 1:
            meta = {"chunk": chunk.index + 1, "chunks": chunk.count}
        out.append({"id": str(i), "text": chunk.text, "source": chunk.source,
                    "score": None if score is None else round(score, 4), "metadata": meta,
                    "cited": None})  # fmt: skip
    return out

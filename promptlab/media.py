"""Attachments: image, document and video variables, read once and checked before any call.

A media variable's value, as a user writes it on the command line, in a vars file or a test
case, becomes an `Attachment` (`parse_value`): where the content comes from, nothing read yet.

    "@shots/login.png"         a local file, relative to `base` (or absolute; `~` expands)
    "s3://bucket/key"          an S3 object, sent as an S3 location (never read here)
    "shots/login.png"          a bare string: a path (images, videos) or inline text (documents)
    {path: shots/login.png}    the same, as a mapping
    {s3: "s3://bucket/key", bucket_owner: "123456789012", format: mp4}
    {text: "...", format: md}  a document given as text (format txt unless told)

Documents also take `name:` (the Converse document name, otherwise derived from the file name);
any mapping takes `format:` (see below).

`load` turns an Attachment into `Media`: a local file is read once per process (a cache keyed by
its resolved path, modification time and size, shared by every case, model and thread, so every
request that attaches it holds the same bytes object), its format is read from its content and
it is checked against Converse's limits (`LIMITS`), so a bad file fails before any call.
`check_request` checks a request's counts and document names; `Media.block()` is the
`request.Image` / `Document` / `Video` block; `describe` is the one-line summary views print.

Formats come from the content (magic bytes), never from the file name, with these exceptions:

- text content (UTF-8 without NUL bytes) is a document in csv (`.csv`), md (`.md`, `.markdown`),
  html (`.html`, `.htm`) or otherwise txt; HTML content (`<!doctype html` or `<html` first) is
  html whatever its name. A mapping's `format:` chooses among these four instead of the name;
- an OLE2 compound file (legacy Office) is doc or xls by the streams it holds; when neither is
  found, a `.doc` / `.xls` name (or `format:`) decides and the Media carries a `notice`;
- MPEG program and transport streams are mpeg, or mpg for a `.mpg` name;
- S3 objects are not read: their format comes from the key's extension, or `format:`.

For any other local file, a `format:` that disagrees with the content is an error.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from promptlab import request
from promptlab.errors import UsageError

MEDIA_KINDS = ("image", "document", "video")

MB = 1024 * 1024


class Limit(NamedTuple):
    max_bytes: int  # an attachment's bytes (sent inline; S3 objects are not measured)
    per_request: int  # blocks of this kind in one request
    max_side: int | None = None  # pixels, width and height (images)


# Converse's limits, as AWS documents them:
#   images:    "up to 20 images; each image's size, height and width must be no more than
#              3.75 MB, 8,000 px and 8,000 px" — Bedrock API reference, ImageBlock;
#              https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ImageBlock.html
#   documents: "up to five documents; each document's size must be no more than 4.5 MB"
#              — API reference, DocumentBlock;
#              https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_DocumentBlock.html
#   video:     one video per request; sent as bytes up to 25 MB, larger (up to 1 GB) from S3
#              — Amazon Nova user guide, video understanding;
#              https://docs.aws.amazon.com/nova/latest/userguide/modalities-video.html
# AWS does not say which megabyte it means; MB here is 2**20 bytes (3.75 MB raw is exactly the
# 5 MB base64 limit that Anthropic's models report as 5,242,880 bytes).
LIMITS: dict[str, Limit] = {
    "image": Limit(max_bytes=int(3.75 * MB), per_request=20, max_side=8000),
    "document": Limit(max_bytes=int(4.5 * MB), per_request=5),
    "video": Limit(max_bytes=25 * MB, per_request=1),
}

# The formats Converse takes, per kind (request.Image / Document / Video `format`).
FORMATS: dict[str, tuple[str, ...]] = {
    "image": ("png", "jpeg", "gif", "webp"),
    "document": ("pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md"),
    "video": ("mkv", "mov", "mp4", "webm", "flv", "mpeg", "mpg", "wmv", "three_gp"),
}
TEXT_FORMATS = ("txt", "md", "csv", "html")

# A name's extension (or a `format:` alias) → format: S3 keys, and choosing among text formats.
EXTENSIONS: dict[str, dict[str, str]] = {
    "image": {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg", "gif": "gif",
              "webp": "webp"},
    "document": {"pdf": "pdf", "csv": "csv", "doc": "doc", "docx": "docx", "xls": "xls",
                 "xlsx": "xlsx", "html": "html", "htm": "html", "txt": "txt", "text": "txt",
                 "md": "md", "markdown": "md"},
    "video": {"mkv": "mkv", "mov": "mov", "qt": "mov", "mp4": "mp4", "m4v": "mp4",
              "webm": "webm", "flv": "flv", "mpeg": "mpeg", "mpg": "mpg", "wmv": "wmv",
              "3gp": "three_gp", "3g2": "three_gp", "three_gp": "three_gp"},
}  # fmt: skip

_CONVERT_HINT = {
    "image": "convert it to PNG or JPEG",
    "document": "convert it to PDF, or save it as plain text",
    "video": "convert it to MP4",
}


# ---------------------------------------------------------------- attachments


@dataclass(frozen=True)
class Attachment:
    """A media variable's value as written, resolved to where its content comes from."""

    kind: str  # image | document | video
    label: str  # as the user wrote it, for records and messages, e.g. "@shots/login.png"
    path: Path | None = None  # absolute path of a local file
    s3_uri: str | None = None
    bucket_owner: str | None = None
    text: str | None = field(default=None, repr=False)  # a document given as inline text
    format: str | None = None  # `format:` of the mapping form (S3, inline text, a check)
    name: str | None = None  # `name:` of a document's mapping form

    def __str__(self) -> str:
        return self.label  # what {{ photo }} shows in a template


def _forms_hint(kind: str) -> str:
    if kind == "document":
        return "write @path/to/file.pdf, s3://bucket/key, the text itself, or {text: ...}"
    example = "@shots/login.png" if kind == "image" else "@clips/demo.mp4"
    return f"write {example}, s3://bucket/key, or {{path: ...}} / {{s3: ...}}"


def parse_value(kind: str, value: Any, *, base: Path, var: str) -> Attachment:
    """A media variable's value → Attachment (see the module docstring for the forms).

    Raises UsageError for a malformed s3:// URI or bucket owner, a mapping with unknown or
    conflicting keys, and a value that is neither a string nor a mapping. Reads no file.
    """
    if isinstance(value, Attachment):
        return value
    if kind not in MEDIA_KINDS:
        raise ValueError(f"not a media kind: {kind!r}")
    if isinstance(value, str):
        return _from_string(kind, value, base=base, var=var)
    if isinstance(value, os.PathLike):
        raw = os.fspath(value)
        return _local(kind, str(raw), label=str(raw), base=base, var=var)
    if isinstance(value, Mapping):
        return _from_mapping(kind, value, base=base, var=var)
    shown = _short(repr(value))
    raise UsageError(f"{var}: {_article(kind)} must be a path, an s3:// URI"
                     f"{', text' if kind == 'document' else ''} or a mapping, got {shown}",
                     _forms_hint(kind))  # fmt: skip


def _from_string(kind: str, value: str, *, base: Path, var: str) -> Attachment:
    stripped = value.strip()
    if stripped.startswith("@"):
        return _local(kind, stripped[1:].strip(), label=stripped, base=base, var=var)
    if stripped[:5].lower() == "s3://":
        return _s3(kind, stripped, label=stripped, var=var)
    if kind == "document":
        if not stripped:
            raise UsageError(f"{var}: the document is empty", _forms_hint(kind))
        _refuse_path_as_text(value, base=base, var=var)
        return Attachment(kind, _text_label(value), text=value)
    if not stripped:
        raise UsageError(f"{var}: no {kind} given", _forms_hint(kind))
    return _local(kind, stripped, label=stripped, base=base, var=var)


_MAPPING_KEYS = {
    "image": ("path", "s3", "bucket_owner", "format"),
    "document": ("path", "s3", "text", "bucket_owner", "format", "name"),
    "video": ("path", "s3", "bucket_owner", "format"),
}


def _from_mapping(kind: str, value: Mapping[Any, Any], *, base: Path, var: str) -> Attachment:
    allowed = _MAPPING_KEYS[kind]
    for key in value:
        if key not in allowed:
            from promptlab.fields import suggest

            raise UsageError(f"{var}: unknown key {key!r} in {_article(kind)} mapping",
                             suggest(str(key), allowed))  # fmt: skip
    sources = [k for k in ("path", "s3", "text") if k in value]
    if len(sources) != 1:
        what = "none" if not sources else " and ".join(sources)
        keys = "path, s3 or text" if kind == "document" else "path or s3"
        raise UsageError(f"{var}: {_article(kind)} mapping needs exactly one of {keys} "
                         f"(got {what})", _forms_hint(kind))  # fmt: skip
    for key in ("path", "s3", "text", "format", "name"):
        if key in value and not isinstance(value[key], str):
            got = _short(repr(value[key]))
            raise UsageError(f"{var}: '{key}' must be a string, got {got}", _forms_hint(kind))
    source = sources[0]
    if "bucket_owner" in value and source != "s3":
        hint = "remove bucket_owner, or give the object as s3: s3://bucket/key"
        raise UsageError(f"{var}: bucket_owner goes with s3, not {source}", hint)
    fmt = _format_option(kind, value.get("format"), source, var)
    name = _name_option(value.get("name"), var)
    if source == "path":
        raw = str(value["path"]).strip()
        local = _local(kind, raw.removeprefix("@").strip(), label=raw, base=base, var=var)
        return Attachment(kind, local.label, path=local.path, format=fmt, name=name)
    if source == "s3":
        uri = str(value["s3"]).strip()
        owner = _bucket_owner(value.get("bucket_owner"), var)
        s3 = _s3(kind, uri, label=uri, var=var)
        return Attachment(kind, s3.label, s3_uri=s3.s3_uri, bucket_owner=owner, format=fmt,
                          name=name)  # fmt: skip
    text = str(value["text"])
    if not text.strip():
        raise UsageError(f"{var}: the document's text is empty", "give it some text, or omit it")
    return Attachment(kind, _text_label(text), text=text, format=fmt, name=name)


def _format_option(kind: str, fmt: str | None, source: str, var: str) -> str | None:
    if fmt is None:
        return None
    canonical = EXTENSIONS[kind].get(fmt.strip().lower().lstrip("."))
    allowed = TEXT_FORMATS if source == "text" else FORMATS[kind]
    if canonical not in allowed:
        raise UsageError(f"{var}: format {fmt!r} is not one Converse takes for "
                         f"{'inline text' if source == 'text' else _plural(kind)}",
                         f"use one of {', '.join(allowed)}")  # fmt: skip
    return canonical


_NAME_PART = r"[A-Za-z0-9()\[\]-]+"
_VALID_NAME = rf"{_NAME_PART}(?:\s{_NAME_PART})*"  # patterns compile on first use (re's cache)


def _name_option(name: str | None, var: str) -> str | None:
    if name is None:
        return None
    if len(name) > 200 or not re.fullmatch(_VALID_NAME, name):
        hint = ("use letters, digits, single spaces, hyphens, parentheses and square brackets "
                f"(1-200 characters), e.g. {document_name(name, var)!r}")  # fmt: skip
        raise UsageError(f"{var}: {name!r} is not a name Converse accepts for a document", hint)
    return name


def _local(kind: str, raw: str, *, label: str, base: Path, var: str) -> Attachment:
    if not raw:
        raise UsageError(f"{var}: '@' needs a path after it", _forms_hint(kind))
    p = Path(raw).expanduser()
    if not p.is_absolute():
        p = Path(base) / p
    return Attachment(kind, label, path=Path(os.path.abspath(p)))


# Bucket names: 3-63 lowercase letters, digits, dots and hyphens, a letter or digit at each end.
_BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
_IP = r"\d{1,3}(?:\.\d{1,3}){3}"


def _s3(kind: str, uri: str, *, label: str, var: str) -> Attachment:
    if uri[:5].lower() != "s3://":
        raise UsageError(f"{var}: {uri!r} is not an s3:// URI", "write s3://bucket/key")
    uri = "s3://" + uri[5:]
    bucket, _, key = uri[5:].partition("/")
    problem = _bucket_problem(bucket)
    if problem is None:
        if not key:
            problem = "it names no object (write s3://bucket/key)"
        elif key.endswith("/"):
            problem = "it names a folder, not an object"
        elif len(uri) > 1024:
            problem = "it is longer than 1024 characters"
        elif any(c in key for c in "\r\n\t"):
            problem = "its key holds a control character"
    if problem:
        raise UsageError(f"{var}: {uri!r} is not an S3 object URI: {problem}",
                         "write s3://bucket/path/to/object, the bucket in lower case")  # fmt: skip
    return Attachment(kind, label, s3_uri=uri)


def _bucket_problem(bucket: str) -> str | None:
    if not bucket:
        return "it has no bucket name"
    if bucket != bucket.lower():
        return f"bucket name {bucket!r} has upper-case letters"
    if not 3 <= len(bucket) <= 63:
        return f"bucket name {bucket!r} is not 3-63 characters long"
    if not re.fullmatch(_BUCKET, bucket):
        return (f"bucket name {bucket!r} may hold only a-z, 0-9, '.' and '-', "
                "with a letter or digit at each end")  # fmt: skip
    if ".." in bucket or ".-" in bucket or "-." in bucket:
        return f"bucket name {bucket!r} has a '..', '.-' or '-.'"
    if re.fullmatch(_IP, bucket):
        return f"bucket name {bucket!r} looks like an IP address"
    return None


def _bucket_owner(owner: Any, var: str) -> str | None:
    if owner is None:
        return None
    text = str(owner) if isinstance(owner, int) and not isinstance(owner, bool) else owner
    if not isinstance(text, str) or not re.fullmatch(r"\d{12}", text.strip()):
        raise UsageError(f"{var}: bucket_owner must be a 12-digit AWS account id, got {owner!r}",
                         'quote it in YAML: bucket_owner: "012345678901"')  # fmt: skip
    return text.strip()


def _refuse_path_as_text(value: str, *, base: Path, var: str) -> None:
    """A bare one-word string naming an existing file was meant as that file, not as text."""
    word = value.strip()
    if len(word) > 300 or any(c.isspace() for c in word) or "." not in word:
        return
    try:
        is_file = (Path(base) / Path(word).expanduser()).is_file()
    except (OSError, ValueError):
        return
    if is_file:
        hint = f"write @{word} to attach the file, or {{text: {word}}} for the text"
        raise UsageError(f"{var}: {word!r} would be sent as the document's text, "
                         "but it names a file", hint)  # fmt: skip


def _text_label(text: str) -> str:
    """'inline text "First words…"': how messages and records name a document given as text."""
    whole = text.strip()
    first = whole.splitlines()[0] if whole else ""
    short = first if len(first) <= 40 else first[:39].rstrip() + "…"
    if first != whole and not short.endswith("…"):
        short += "…"
    return f'inline text "{short}"'


# ---------------------------------------------------------------- media


@dataclass(frozen=True)
class Media:
    """An attachment read and checked: its format, content (or S3 location) and digest."""

    kind: str
    format: str
    name: str  # documents' Converse name (see `document_name`)
    label: str  # as the user wrote it
    path: Path | None
    data: bytes | None = field(repr=False, compare=False)  # shared: one object per file
    s3_uri: str | None
    bucket_owner: str | None
    text: str | None = field(repr=False)
    size: int | None  # of the bytes (None for S3); for inline text of its UTF-8
    sha256: str | None
    width: int | None = None  # images
    height: int | None = None
    notice: str | None = None  # a format chosen by the file name, worth telling the user

    def block(
        self, *, citations: bool = False, context: str | None = None
    ) -> request.Image | request.Document | request.Video:
        """The Converse content block. `citations` and `context` apply to documents only."""
        source = request.Source(data=self.data, s3_uri=self.s3_uri,
                                bucket_owner=self.bucket_owner, text=self.text)  # fmt: skip
        if self.kind == "image":
            return request.Image(self.format, source)
        if self.kind == "document":
            return request.Document(self.format, self.name, source, citations=citations,
                                    context=context)  # fmt: skip
        return request.Video(self.format, source)


def load(att: Attachment, *, var: str) -> Media:
    """Read (once per process) and check an attachment. Raises UsageError naming `var`."""
    if att.kind not in MEDIA_KINDS:
        raise ValueError(f"not a media kind: {att.kind!r}")
    if att.s3_uri is not None:
        return _load_s3(att, var)
    if att.text is not None:
        return _load_text(att, var)
    if att.path is None:
        raise ValueError(f"{var}: an attachment without a source")
    return _load_file(att, att.path, var)


def _load_s3(att: Attachment, var: str) -> Media:
    uri = att.s3_uri or ""
    key_name = uri.rsplit("/", 1)[-1]
    stem, dot, ext = key_name.rpartition(".")
    fmt = att.format or (EXTENSIONS[att.kind].get(ext.lower()) if dot else None)
    if fmt not in FORMATS[att.kind]:
        raise UsageError(f"{var}: cannot tell the {att.kind} format of {uri} from its name",
                         f"write {{s3: {uri}, format: ...}} with one of "
                         f"{', '.join(FORMATS[att.kind])}")  # fmt: skip
    name = ""
    if att.kind == "document":
        name = att.name or document_name(stem if dot else key_name, var)
    return Media(att.kind, fmt, name, att.label, None, None, uri, att.bucket_owner, None,
                 None, None)  # fmt: skip


def _load_text(att: Attachment, var: str) -> Media:
    text = att.text or ""
    encoded = text.encode("utf-8", "surrogatepass")
    _check_size(att, len(encoded), var)
    fmt = att.format or "txt"
    digest = hashlib.sha256(encoded).hexdigest()
    return Media(att.kind, fmt, att.name or document_name(var), att.label, None, None, None,
                 None, text, len(encoded), digest)  # fmt: skip


def _load_file(att: Attachment, path: Path, var: str) -> Media:
    content = _read(att, path, var)
    fmt, notice = _format_of(att, content, var)
    width = height = None
    if att.kind == "image":
        width, height = _check_pixels(att, content, fmt, var)
    name = (att.name or document_name(path.stem, var)) if att.kind == "document" else ""
    return Media(att.kind, fmt, name, att.label, path, content.data, None, None, None,
                 len(content.data), content.sha256, width, height, notice)  # fmt: skip


# ---------------------------------------------------------------- reading, once


class _Content(NamedTuple):
    """What one read of a file gave: its bytes and what is known of them."""

    key: tuple[int, int]  # st_mtime_ns, st_size of the file read
    data: bytes
    sha256: str
    family: str  # a Converse format, "text", "ole2" or "other" (see _sniff)
    what: str  # the detected type, for messages: "PNG", "BMP", "a ZIP archive", ...
    pixels: tuple[int, int] | str | None  # images: (width, height), or why it cannot be read


class _Slot:
    """One file's cache entry; its lock makes concurrent first loads read the file once."""

    __slots__ = ("content", "lock")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.content: _Content | None = None


_SLOTS: dict[str, _Slot] = {}  # resolved path → its last read
_SLOTS_LOCK = threading.Lock()


def clear_cache() -> None:
    """Forget every file read (tests; a long-lived process that wants the memory back)."""
    with _SLOTS_LOCK:
        _SLOTS.clear()


def _read(att: Attachment, path: Path, var: str) -> _Content:
    """The file's content: from the cache while its mtime and size are unchanged."""
    shown = _shown(att)
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        hint = f"looked for {path}"
        if re.match(r"https?://", shown):
            hint = "URLs are not fetched: download the file and write @path, or use s3://"
        raise UsageError(f"{var}: {shown} does not exist", hint) from None
    except OSError as exc:
        raise _unreadable(var, shown, exc) from None
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{var}: {shown} is a directory, not a file",
                         f"name a file inside it, e.g. @{shown.rstrip('/')}/NAME")  # fmt: skip
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{var}: {shown} is not a regular file", "name a file")
    _check_size(att, st.st_size, var)  # before reading: a 2 GB video is never read
    real = os.path.realpath(path)
    key = (st.st_mtime_ns, st.st_size)
    with _SLOTS_LOCK:
        slot = _SLOTS.setdefault(real, _Slot())
    with slot.lock:
        if slot.content is not None and slot.content.key == key:
            return slot.content
        try:
            with open(real, "rb") as f:
                fst = os.fstat(f.fileno())
                data = f.read()
        except OSError as exc:
            raise _unreadable(var, shown, exc) from None
        _check_size(att, len(data), var)  # it grew since the stat
        if not data:
            raise UsageError(f"{var}: {shown} is empty", f"attach a non-empty {att.kind}")
        family, what = _sniff(data)
        pixels = _pixels(data) if family in FORMATS["image"] else None
        content = _Content((fst.st_mtime_ns, fst.st_size), data,
                           hashlib.sha256(data).hexdigest(), family, what, pixels)  # fmt: skip
        slot.content = content
        return content


def _unreadable(var: str, shown: str, exc: OSError) -> UsageError:
    if isinstance(exc, PermissionError):
        return UsageError(f"{var}: {shown} cannot be read (permission denied)",
                          "check the file's permissions")  # fmt: skip
    reason = exc.strerror or type(exc).__name__
    return UsageError(f"{var}: {shown} cannot be read ({reason})", "check the path")


_PIL_LOCK = threading.Lock()  # catch_warnings is process-wide: one header read at a time


def _pixels(data: bytes) -> tuple[int, int] | str:
    """An image's (width, height) from its header, or why Pillow cannot read it."""
    import warnings

    from PIL import Image

    with _PIL_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as im:
                width, height = im.size
                return int(width), int(height)
        except Image.DecompressionBombError:
            return f"it has more than {2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels"
        except Exception as exc:  # Pillow raises many kinds for a damaged header
            return f"its header cannot be read ({type(exc).__name__}: {exc})"


# ---------------------------------------------------------------- checks


def _check_size(att: Attachment, size: int, var: str) -> None:
    limit = LIMITS[att.kind].max_bytes
    if size <= limit:
        return
    if att.kind == "video":
        hint = (f"send videos over {human_size(limit, exact=True)} from S3: upload it and "
                "write s3://bucket/key (or {s3: ..., bucket_owner: ...})")  # fmt: skip
    elif att.kind == "image":
        hint = "resize it, or save it as JPEG"
    elif att.text is not None:
        hint = "shorten the text, or split it into several documents"
    else:
        hint = "compress it, or split it into several documents"
    raise UsageError(f"{var}: {_shown(att)} is {size:,} bytes ({human_size(size)}), over "
                     f"Converse's {human_size(limit, exact=True)} limit for {_article(att.kind)}",
                     hint)  # fmt: skip


def _check_pixels(att: Attachment, content: _Content, fmt: str, var: str) -> tuple[int, int]:
    side = LIMITS["image"].max_side
    if isinstance(content.pixels, str) or content.pixels is None:
        why = content.pixels or "its size is unknown"
        raise UsageError(f"{var}: {_shown(att)} looks like {content.what} but {why}",
                         "the file may be damaged or truncated; re-export it")  # fmt: skip
    width, height = content.pixels
    if side is not None and (width > side or height > side):
        raise UsageError(f"{var}: {_shown(att)} is {width}×{height} px, over Converse's "
                         f"{side} px limit for an image's width and height",
                         f"resize it to at most {side}×{side} px")  # fmt: skip
    return width, height


def _format_of(att: Attachment, content: _Content, var: str) -> tuple[str, str | None]:
    """The Converse format of a local file, from its content (and, for text, its name)."""
    kind, family, what = att.kind, content.family, content.what
    ext = att.path.suffix.lower().lstrip(".") if att.path else ""
    by_name = EXTENSIONS[kind].get(ext)
    fmt: str | None = None
    notice = None
    if kind == "document" and family in ("text", "html"):
        if att.format in TEXT_FORMATS:
            fmt = att.format
        elif family == "html":
            fmt = "html"
        else:
            fmt = by_name if by_name in ("csv", "md", "html") else "txt"
    elif kind == "document" and family == "ole2":
        fmt = att.format if att.format in ("doc", "xls") else by_name
        if fmt not in ("doc", "xls"):
            raise UsageError(f"{var}: {_shown(att)} is {what} that is neither a Word (doc) nor "
                             "an Excel (xls) file", _CONVERT_HINT[kind])  # fmt: skip
        notice = (f"{_shown(att)} is {what} promptlab could not identify; "
                  f"sent as {fmt} by its {'format' if att.format else 'name'}")  # fmt: skip
    elif kind == "video" and family == "mpeg":
        fmt = "mpg" if (att.format or by_name) == "mpg" else "mpeg"
    elif family in FORMATS[kind]:
        fmt = family
    if fmt is None:
        looks = f"its content looks like {what}" if what else "its content is not recognised"
        raise UsageError(f"{var}: {_shown(att)} is not a supported {kind} "
                         f"({', '.join(FORMATS[kind])}): {looks}", _CONVERT_HINT[kind])  # fmt: skip
    if att.format is not None and att.format != fmt and {att.format, fmt} != {"mpeg", "mpg"}:
        hint = "remove 'format' (a local file's format is read from its content)"
        raise UsageError(f"{var}: {_shown(att)} is {fmt} by its content, not {att.format}", hint)
    return fmt, notice


def check_request(items: Sequence[tuple[str, Media]]) -> None:
    """One request's attachments against Converse's counts; document names must be unique."""
    by_kind: dict[str, list[str]] = {}
    for var, media in items:
        by_kind.setdefault(media.kind, []).append(var)
    for kind in MEDIA_KINDS:
        names = by_kind.get(kind, [])
        cap = LIMITS[kind].per_request
        if len(names) > cap:
            hint = {"image": "send fewer images per request, or combine some into one",
                    "document": "send fewer documents per request, or merge some",
                    "video": "send one video per request"}[kind]  # fmt: skip
            raise UsageError(f"{len(names)} {_plural(kind)} in one request ({', '.join(names)}): "
                             f"Converse takes at most {cap}", hint)  # fmt: skip
    seen: dict[str, str] = {}
    for var, media in items:
        if media.kind != "document":
            continue
        if media.name in seen:
            hint = "rename one of the files, or give one a name: {path: ..., name: ...}"
            raise UsageError(f"documents {seen[media.name]} and {var} are both named "
                             f"'{media.name}': Converse needs each document's name to be "
                             "unique in a request", hint)  # fmt: skip
        seen[media.name] = var


# ---------------------------------------------------------------- names and descriptions


_NAME_BAD = r"[^A-Za-z0-9\s()\[\]-]+"


def document_name(raw: str, fallback: str = "document") -> str:
    """A name Converse accepts for a document: letters, digits, single whitespace, hyphens,
    parentheses, square brackets, 1-200 characters. Other runs become one hyphen; a name with
    no letter or digit left becomes `fallback` (made acceptable the same way)."""
    name = re.sub(_NAME_BAD, "-", raw)
    name = re.sub(r"\s+", " ", name).strip(" -")[:200].rstrip(" ")
    if any(c.isascii() and c.isalnum() for c in name):
        return name
    return document_name(fallback) if fallback != "document" else "document"


def human_size(size: int, *, exact: bool = False) -> str:
    """1,234,567 → "1.2 MB" (MB = 2**20 bytes, as in LIMITS); `exact` keeps the digits a
    limit needs ("3.75 MB")."""
    if size < 1024:
        return f"{size} B"
    unit, scale = ("KB", 1024) if size < MB else ("MB", MB)
    return f"{size / scale:g} {unit}" if exact else f"{size / scale:.1f} {unit}"


def describe(media: Media) -> str:
    """One short line: "image png 1280×720 182.4 KB sha256:3f2a9c1b"."""
    parts = [media.kind, media.format]
    if media.kind == "document":
        parts.append(f"'{media.name}'")
    if media.width is not None and media.height is not None:
        parts.append(f"{media.width}×{media.height}")
    if media.s3_uri is not None:
        parts.append(media.s3_uri)
        return " ".join(parts)
    if media.text is not None:
        parts.append("inline")
    if media.size is not None:
        parts.append(human_size(media.size))
    if media.sha256:
        parts.append(f"sha256:{media.sha256[:8]}")
    return " ".join(parts)


def _shown(att: Attachment) -> str:
    """The file as the user wrote it (without the '@')."""
    return att.label.removeprefix("@")


def _article(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _plural(kind: str) -> str:
    return f"{kind}s"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- content sniffing

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ASF = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
_EBML = b"\x1a\x45\xdf\xa3"

# Signatures worth naming in a refusal (never a Converse format).
_OTHER_STRONG = (
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"8BPS", "Photoshop (PSD)"),
    (b"\x1f\x8b", "gzip"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip"),
    (b"Rar!\x1a\x07", "RAR"),
    (b"\x7fELF", "an ELF executable"),
    (b"OggS", "Ogg"),
    (b"fLaC", "FLAC audio"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"\x00\x00\x02\x00", "CUR"),
    (b"\x00asm", "WebAssembly"),
)
_BMP_HEADERS = (12, 16, 40, 52, 56, 64, 108, 124)  # the DIB header's size, after "BM"
_OTHER_WEAK = (  # short signatures: checked only when the content is not text
    (b"MZ", "a Windows executable"),
    (b"ID3", "MP3 audio"),
)


def _sniff(data: bytes) -> tuple[str, str]:
    """(family, what): family is a Converse format, "text", "ole2" or "other"."""
    head = data[:64]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg", "JPEG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif", "GIF"
    if head[:4] == b"RIFF":
        riff = {b"WEBP": ("webp", "WebP"), b"AVI ": ("other", "AVI video"),
                b"WAVE": ("other", "WAV audio")}  # fmt: skip
        return riff.get(head[8:12], ("other", "a RIFF file"))
    if head.startswith(b"%PDF-"):
        return "pdf", "PDF"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _sniff_zip(data)
    if head.startswith(_OLE2):
        return _sniff_ole2(data)
    if head.startswith(_EBML):
        return _sniff_ebml(data)
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(data)
    if head[4:8] in (b"moov", b"mdat", b"wide", b"pnot"):
        return "mov", "QuickTime"
    if head.startswith(b"FLV\x01"):
        return "flv", "FLV"
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return "mpeg", "MPEG"
    if head.startswith(_ASF):
        return "wmv", "WMV (ASF)"
    for magic, what in _OTHER_STRONG:
        if head.startswith(magic):
            return "other", what
    if head[:2] == b"BM" and len(head) >= 18 and _le32(head, 14) in _BMP_HEADERS:
        return "other", "BMP"
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "other", "UTF-16 text (save it as UTF-8)"
    text = _sniff_text(data)
    if text is not None:
        return text
    if _is_transport_stream(data):
        return "mpeg", "an MPEG transport stream"
    for magic, what in _OTHER_WEAK:
        if head.startswith(magic):
            return "other", what
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "other", "MPEG audio (MP3)"
    return "other", ""


def _le32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "little")


def _sniff_text(data: bytes) -> tuple[str, str] | None:
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lead = text.lstrip("\ufeff \t\r\n\f\v")[:1024].lower()
    if lead.startswith(("<!doctype html", "<html")):
        return "html", "HTML"
    if "<svg" in lead and lead.startswith(("<svg", "<?xml", "<!--", "<!doctype svg")):
        return "text", "SVG (text)"
    if lead.startswith("{\\rtf"):
        return "text", "RTF (text)"
    return "text", "text"


def _is_transport_stream(data: bytes) -> bool:
    for start, step in ((0, 188), (4, 192)):  # TS, and M2TS with its 4-byte prefix
        marks = [start + i * step for i in range(3)]
        if len(data) > marks[1] and all(data[m] == 0x47 for m in marks if m < len(data)):
            return True
    return False


def _sniff_zip(data: bytes) -> tuple[str, str]:
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return "other", "a damaged ZIP archive"
    if any(n.startswith("word/") for n in names):
        return "docx", "a Word document (docx)"
    if any(n.startswith("xl/") for n in names):
        return "xlsx", "an Excel workbook (xlsx)"
    if any(n.startswith("ppt/") for n in names):
        return "other", "a PowerPoint presentation (pptx)"
    if "mimetype" in names and "META-INF/container.xml" in names:
        return "other", "an EPUB book"
    if "mimetype" in names and "content.xml" in names:
        return "other", "an OpenDocument file"
    return "other", "a ZIP archive"


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le") + b"\x00\x00"  # a directory entry's name, terminated


_OLE2_STREAMS = (
    (_utf16("WordDocument"), "doc", "a Word document (doc)"),
    (_utf16("Workbook"), "xls", "an Excel workbook (xls)"),
    (_utf16("Book"), "xls", "an Excel workbook (xls)"),
    (_utf16("PowerPoint Document"), "other", "a PowerPoint presentation (ppt)"),
)


def _sniff_ole2(data: bytes) -> tuple[str, str]:
    """Legacy Office: a compound file named by the streams in its directory."""
    for name, family, what in _OLE2_STREAMS:
        if name in data:
            return family, what
    if "__substg1.0_".encode("utf-16-le") in data:
        return "other", "an Outlook message (msg)"
    return "ole2", "an OLE2 compound file"


def _sniff_ebml(data: bytes) -> tuple[str, str]:
    doctype = _ebml_doctype(data)
    if doctype == "webm":
        return "webm", "WebM"
    if doctype in (None, "matroska"):
        return "mkv", "Matroska"
    return "other", f"an EBML file ({doctype})"


def _ebml_doctype(data: bytes) -> str | None:
    """The DocType of an EBML header ("webm", "matroska"), None if it has none."""
    size, pos = _vint(data, len(_EBML), marker=False)
    if size is None:
        return None
    end = min(len(data), pos + size)
    while pos < end:
        element, pos = _vint(data, pos, marker=True)
        length, pos = _vint(data, pos, marker=False)
        if element is None or length is None:
            return None
        if element == 0x4282:
            return data[pos : pos + length].rstrip(b"\x00").decode("ascii", "replace")
        pos += length
    return None


def _vint(data: bytes, pos: int, *, marker: bool) -> tuple[int | None, int]:
    """An EBML variable-length integer at `pos` (with its length marker for element ids)."""
    if pos >= len(data) or data[pos] == 0:
        return None, pos
    length = 9 - data[pos].bit_length()
    if pos + length > len(data):
        return None, pos
    value = int.from_bytes(data[pos : pos + length], "big")
    if not marker:
        value &= (1 << (7 * length)) - 1
    return value, pos + length


_HEIF = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


def _sniff_ftyp(data: bytes) -> tuple[str, str]:
    """ISO base media files by their brands: QuickTime, MP4, 3GPP, or an image or audio."""
    box = int.from_bytes(data[:4], "big")
    major = data[8:12]
    end = min(len(data), box if box >= 16 else 64, 1024)
    brands = {major, *(data[i : i + 4] for i in range(16, end - 3, 4))}
    if major == b"qt  ":
        return "mov", "QuickTime"
    if major[:3] in (b"3gp", b"3g2", b"3ge", b"3gg", b"3gs"):
        return "three_gp", "3GPP"
    if major in (b"avif", b"avis") or (major in _HEIF and brands & {b"avif", b"avis"}):
        return "other", "AVIF"
    if major in _HEIF:
        return "other", "HEIF/HEIC"
    if major in (b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "):
        return "other", "M4A audio"
    if major == b"crx ":
        return "other", "Canon RAW (CR3)"
    return "mp4", "MP4"

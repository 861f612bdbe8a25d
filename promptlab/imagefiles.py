"""Where generated images go: one file each, written once, under stable names, never over
another file.

A name is `<prompt>-<case or vars#>-<model>-<seed>-<index>.<ext>` (the case part left out for a
plain run). A file already there with the same content is reused; one with other content is
kept, and the new image gets `-2`, `-3`, … before its extension. The recorded entry of an image
(`Result.images`) holds its path (absolute), sha256, size in bytes, pixels, format, seed,
index, and why it was filtered (no path then).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from promptlab.errors import UsageError
from promptlab.results import GeneratedImage, Result

DEFAULT_DIR = Path(".promptlab") / "images"
MAX_SUFFIX = 10_000
EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}


def slug(text: str) -> str:
    """A file-name part: lowercase letters, digits, dots and single hyphens."""
    out = re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.")
    return out[:60] or "x"


def stem(result: Result, seed: int | None, index: int) -> str:
    """`product-shot-studio-titan-image-42-0`: prompt, case, model, seed, index."""
    parts = [slug(result.prompt_name)]
    if result.case:
        parts.append(slug(result.case))
    parts += [slug(result.model_alias), str(seed) if seed is not None else "noseed", str(index)]
    return "-".join(parts)


def entry(image: GeneratedImage, path: Path | None) -> dict[str, Any]:
    """The record of one image (what `Result.images` holds)."""
    return {
        "path": str(path) if path is not None else None,
        "sha256": image.sha256,
        "size": len(image.data) if image.data is not None else None,
        "width": image.width,
        "height": image.height,
        "format": image.format,
        "seed": image.seed,
        "index": image.index,
        "filtered": image.filtered,
    }


class ImageFiles:
    """Writes the images of a run into one folder. Safe to share between worker threads."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._ready = False

    def check(self) -> None:
        """Make the folder and prove it can be written, before any call (UsageError)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = self.folder / f".promptlab-write-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            raise UsageError(
                f"--out {self.folder}: cannot write images there ({why})",
                "pick a folder you can write to, e.g. --out images",
            ) from None
        self._ready = True

    def save(self, result: Result, images: Sequence[GeneratedImage]) -> list[dict[str, Any]]:
        """Write each returned image once (filtered ones have no file); their records."""
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self.folder.mkdir(parents=True, exist_ok=True)
                    self._ready = True
        out = []
        for image in images:
            path = None
            if image.data is not None:
                ext = EXTENSIONS.get(image.format or "", "bin")
                sha = image.sha256 or hashlib.sha256(image.data).hexdigest()
                path = self._write(stem(result, image.seed, image.index), ext, image.data, sha)
            out.append(entry(image, path))
        return out

    def place(self, result: Result) -> list[dict[str, Any]]:
        """A cached answer's images, in this folder: each stored file read again and written
        under this call's name (reused when the same content is there). Raises OSError or
        ValueError when a stored file is gone or changed."""
        out = []
        for image in result.images:
            if not image.get("path"):
                out.append(dict(image))
                continue
            stored = Path(image["path"])
            data = stored.read_bytes()
            if hashlib.sha256(data).hexdigest() != image.get("sha256"):
                raise ValueError(f"{stored} changed since it was recorded")
            ext = stored.suffix.lstrip(".") or "png"
            path = self._write(stem(result, image.get("seed"), int(image.get("index") or 0)),
                               ext, data, image["sha256"])  # fmt: skip
            out.append({**image, "path": str(path)})
        return out

    def _write(self, name: str, ext: str, data: bytes, sha256: str) -> Path:
        """`name.ext`, or `name-2.ext`, …: the first free name, or one holding this content."""
        for n in range(1, MAX_SUFFIX):
            path = (self.folder / (f"{name}.{ext}" if n == 1 else f"{name}-{n}.{ext}")).resolve()
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                if _holds(path, sha256, len(data)):
                    return path
                continue
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            return path
        raise OSError(errno.EEXIST, f"no free name for {name}.{ext} in {self.folder}")


def _holds(path: Path, sha256: str, size: int) -> bool:
    """Whether the file at `path` has exactly this content."""
    try:
        if path.stat().st_size != size:
            return False
        return hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    except OSError:
        return False


def intact(images: Sequence[dict[str, Any]]) -> bool:
    """Whether every recorded image file is still there with the same content."""
    for image in images:
        path = image.get("path")
        if path and not _holds(Path(path), str(image.get("sha256")), int(image.get("size") or 0)):
            return False
    return True

"""What the offline `echo` model answers to an image prompt: small deterministic PNGs.

Each image is a 64-pixel (long side, in the requested shape) picture whose colours come from a
hash of the request body and the image's place, and which carries the prompt as its PNG
description. Its "embedding" reads that description, so `similar` between an echo image and a
text behaves like text similarity offline.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
import time
import zlib

from promptlab.estimate import estimate_tokens
from promptlab.imagegen import ImageRequest, image_blocks
from promptlab.request import record_form
from promptlab.results import Completion, GeneratedImage

NOTICE = "echo is not a real model: it draws a placeholder image from the request"
SIDE = 64  # pixels of the long side
DESCRIPTION = "Description"


def complete(request: ImageRequest) -> Completion:
    """The images the request asks for, drawn at once (no network, no cost)."""
    started = time.perf_counter()
    wanted = 1 if request.task == "background-removal" else request.count
    width, height = _shape(request.width, request.height)
    digest = hashlib.sha256(json.dumps(record_form(request.to_converse()), sort_keys=True,
                                       default=str).encode()).digest()  # fmt: skip
    images = []
    for index in range(wanted):
        data = png(width, height, _colours(digest, index), request.user)
        sha = hashlib.sha256(data).hexdigest()
        images.append(GeneratedImage(index, data, "png", sha, width, height, request.seed))
    return Completion(
        output="",
        stop_reason="end_turn",
        input_tokens=estimate_tokens(request.user),
        output_tokens=0,
        tokens_estimated=True,
        latency_ms=int((time.perf_counter() - started) * 1000),
        notices=(NOTICE,),
        content=image_blocks(images),
        images=tuple(images),
    )


def _shape(width: int | None, height: int | None) -> tuple[int, int]:
    if not width or not height:
        return SIDE, SIDE
    if width >= height:
        return SIDE, max(1, round(SIDE * height / width))
    return max(1, round(SIDE * width / height)), SIDE


def _colours(digest: bytes, index: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    seed = hashlib.sha256(digest + index.to_bytes(4, "big")).digest()
    return (seed[0], seed[1], seed[2]), (seed[3], seed[4], seed[5])


def png(
    width: int,
    height: int,
    colours: tuple[tuple[int, int, int], tuple[int, int, int]],
    description: str,
) -> bytes:
    """A PNG: a diagonal split in two colours, the description in an iTXt chunk."""
    (r1, g1, b1), (r2, g2, b2) = colours
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            upper = x * height + y * width < width * height  # above the diagonal
            rows += bytes((r1, g1, b1) if upper else (r2, g2, b2))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    itxt = DESCRIPTION.encode() + b"\x00\x00\x00\x00\x00" + description.encode("utf-8")
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"iTXt", itxt)
            + _chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + _chunk(b"IEND", b""))  # fmt: skip


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def description(data: bytes) -> str | None:
    """The iTXt description echo wrote into a PNG, if any."""
    if not data.startswith(b"\x89PNG"):
        return None
    at = 8
    while at + 8 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        body = data[at + 8 : at + 8 + length]
        if kind == b"iTXt" and body.startswith(DESCRIPTION.encode() + b"\x00"):
            return body[len(DESCRIPTION) + 5 :].decode("utf-8", "replace")
        if kind == b"IDAT":
            return None
        at += 12 + length
    return None


def embed(text: str | None, image: bytes | None) -> tuple[list[float], int]:
    """A deterministic, normalised 256-bucket vector of the words of the text and of the
    image (its echo description; other images by digest chunks): offline similarity."""
    words = re.findall(r"\w+", (text or "").lower())
    if image is not None:
        said = description(image)
        if said is not None:
            words += re.findall(r"\w+", said.lower())
        else:
            digest = hashlib.sha256(image).hexdigest()
            words += [digest[i : i + 4] for i in range(0, 64, 4)]
    vec = [0.0] * 256
    for word in words:
        vec[hashlib.blake2b(word.encode(), digest_size=2).digest()[0]] += 1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec], estimate_tokens(text or "")

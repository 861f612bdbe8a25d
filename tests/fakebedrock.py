"""A local fake of the Bedrock runtime API for tests and benchmarks. No network, no AWS.

botocore clients reach it through AWS_ENDPOINT_URL_BEDROCK_RUNTIME, so the real boto3 path
(signing, retries, timeouts, event-stream decoding, error parsing) is exercised.

Speaks:
    POST /model/{modelId}/converse          Converse (JSON)
    POST /model/{modelId}/converse-stream   ConverseStream (AWS event-stream binary framing)
    POST /model/{modelId}/count-tokens      CountTokens
    POST /model/{modelId}/invoke            InvokeModel: embeddings ({"embedding", ...}, text
                                            or multimodal) and image models (Titan/Nova
                                            taskType bodies → {"images", "error"}; Stability
                                            prompt bodies → {"seeds", "finish_reasons",
                                            "images"}), PNGs of the size asked for

Use in tests (the fixture sets the endpoint variable, fake credentials and us-east-1):

    def test_x(fake_bedrock: FakeBedrock) -> None:
        fake_bedrock.script("amazon.nova-micro-v1:0", text="hello", latency=0.2)
        fake_bedrock.script("m", fail=2, status=429, error="ThrottlingException")
        fake_bedrock.script("m", stream_error=("throttlingException", "slow down"))
        fake_bedrock.script("m", text=lambda body: body["messages"][0]["content"][0]["text"])
        fake_bedrock.script("m", hang=True)          # never answers (until the server stops)
        fake_bedrock.default = Script(text="...")    # models without a script
        ... call the code under test ...
        assert fake_bedrock.count(model="m", op="converse") == 3
        fake_bedrock.requests  # [Recorded(op, model, path, body, headers)], in arrival order

Script fields (all optional): text (str or function of the parsed body), usage
({"inputTokens", "outputTokens"}; default: word counts), stop_reason, latency_ms (reported
metrics.latencyMs), latency (seconds before the response), chunk_delay (seconds between
stream events), chunks (how the text is split when streaming; default: by word),
content_block_start (stream a tool-use block, with contentBlockStart, before the text),
fail / status / error / message (the first `fail` requests get that HTTP error, with an
`x-amzn-ErrorType` header),
stream_error ((lower-camel exception type, message) sent after the first delta),
stream_error_times (how many stream requests get it; default: all), hang, count_tokens
(None: CountTokens answers ValidationException), embedding (vector for /invoke), content (the
answer's Converse content blocks, e.g. reasoningContent, toolUse and text blocks; replaces
`text`; streamed as the events Bedrock sends for each block; or a function of the parsed
body returning them, e.g. a tool call first and text once a toolResult comes back).
Image models: image_error (Titan/Nova's `error` field, with images_returned images, default
none), finish_reasons (Stability's, e.g. ["Filter reason: output image"]), noise (images of
random pixels, as large as real ones, instead of flat colour); a request blocked outright is
fail=1, status=400, error="ValidationException", message="... blocked by our content filters."

Other users: `start_fake_bedrock()` / `FakeBedrock.stop()` (context manager too) for code
outside pytest, e.g. bench/concurrency.py.
"""

from __future__ import annotations

import binascii
import json
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest

MAX_HANG_SECONDS = 30.0  # a hanging handler gives up after this (or when the server stops)
MAX_BODY_BYTES = 8 * 1024 * 1024

TextSpec = str | Callable[[dict[str, Any]], str]


@dataclass
class Script:
    """How the fake answers one model."""

    text: TextSpec = "Hello from the fake Bedrock."
    usage: dict[str, int] | None = None
    stop_reason: str = "end_turn"
    latency_ms: int = 42
    latency: float = 0.0
    chunk_delay: float = 0.0
    chunks: list[str] | None = None
    content_block_start: bool = False
    fail: int = 0
    status: int = 429
    error: str = "ThrottlingException"
    message: str = "Too many requests, please wait before trying again."
    stream_error: tuple[str, str] | None = None
    stream_error_times: int | None = None
    hang: bool = False
    count_tokens: int | None = 17
    content: list[dict[str, Any]] | Callable[[dict[str, Any]], list[dict[str, Any]]] | None = None
    embedding: list[float] = field(default_factory=lambda: [0.6, 0.8, 0.0])
    image_error: str | None = None
    images_returned: int = 0
    finish_reasons: list[str | None] | None = None
    noise: bool = False


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    op: str  # converse | converse-stream | count-tokens | invoke
    model: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


# ---------------------------------------------------------------- event-stream encoding


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        struct.pack("!B", len(raw_name))
        + raw_name
        + b"\x07"  # header value type 7: string
        + struct.pack("!H", len(raw_value))
        + raw_value
    )


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One AWS event-stream message: prelude + CRC, headers, payload, message CRC."""
    raw_headers = b"".join(_header(k, v) for k, v in headers.items())
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = struct.pack("!II", total, len(raw_headers))
    prelude += struct.pack("!I", binascii.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + raw_headers + payload
    return message + struct.pack("!I", binascii.crc32(message) & 0xFFFFFFFF)


def event(event_type: str, payload: dict[str, Any]) -> bytes:
    headers = {
        ":event-type": event_type,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return encode_message(headers, json.dumps(payload).encode())


def exception_event(exception_type: str, message: str) -> bytes:
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_message(headers, json.dumps({"message": message}).encode())


# ---------------------------------------------------------------- the server


class FakeBedrock:
    """The server plus its scripts and the requests it recorded. Thread-safe."""

    def __init__(self) -> None:
        self.default = Script()
        self._scripts: dict[str, Script] = {}
        self._served: dict[tuple[str, str], int] = {}  # (model, kind) → requests so far
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, model: str, **fields: Any) -> Script:
        """Set how `model` answers (fields of Script); returns the script."""
        s = replace(self.default, **fields)
        with self._lock:
            self._scripts[model] = s
        return s

    def script_for(self, model: str) -> Script:
        with self._lock:
            return self._scripts.get(model, self.default)

    def count(self, model: str | None = None, op: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (model is None or r.model == model) and (op is None or r.op == op)
            )

    def requests_for(self, model: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.model == model]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._scripts.clear()
            self._served.clear()
            self.default = Script()

    def _record(self, rec: Recorded, kind: str) -> int:
        """Store the request; returns how many `kind` requests this model had before it."""
        with self._lock:
            self.requests.append(rec)
            n = self._served.get((rec.model, kind), 0)
            self._served[(rec.model, kind)] = n + 1
            return n

    def _record_stream(self, model: str) -> int:
        """How many streams this model served before this one."""
        with self._lock:
            n = self._served.get((model, "stream"), 0)
            self._served[(model, "stream")] = n + 1
            return n

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeBedrock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256  # many clients connect at once (socketserver's default is 5)
    fake: FakeBedrock

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # a client closed its connection: normal
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, chunked streams
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms stalls
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        fake = self.server.fake
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY_BYTES)
        raw = self.rfile.read(length) if length else b""
        parts = self.path.split("?")[0].split("/")
        if len(parts) < 4 or parts[1] != "model":
            self._error(404, "UnknownOperationException", f"no route for {self.path}")
            return
        op, model = parts[-1], unquote("/".join(parts[2:-1]))
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        rec = Recorded(op, model, self.path, body, {k.lower(): v for k, v in self.headers.items()})
        script = fake.script_for(model)
        served = fake._record(rec, "http")
        if script.hang:
            fake.stopping.wait(MAX_HANG_SECONDS)
            self.close_connection = True
            return
        if script.latency:
            fake.stopping.wait(script.latency)
        if served < script.fail:
            self._error(script.status, script.error, script.message)
            return
        if op == "converse":
            self._converse(script, body)
        elif op == "converse-stream":
            self._stream(script, body, fake._record_stream(model))
        elif op == "count-tokens":
            if script.count_tokens is None:
                msg = "The provided model doesn't support counting tokens."
                self._error(400, "ValidationException", msg)
            else:
                self._json(200, {"inputTokens": script.count_tokens})
        elif op == "invoke" and ("taskType" in body or "prompt" in body):
            latency = {"x-amzn-bedrock-invocation-latency": str(script.latency_ms)}
            self._send(200, image_answer(script, body).encode(), latency)
        elif op == "invoke":
            text = str(body.get("inputText", ""))
            self._json(200, {"embedding": script.embedding, "inputTextTokenCount": _words(text)})
        else:
            self._error(404, "UnknownOperationException", f"unknown operation {op}")

    # -------------------------------------------------------- responses

    def _json(
        self, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "fake-request")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self._write(data)

    def _send(self, status: int, data: bytes, extra: dict[str, str] | None = None) -> None:
        """A JSON body already encoded."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "fake-request")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self._write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        self._json(status, {"message": message}, {"x-amzn-ErrorType": f"{code}:http://fake/"})

    def _converse(self, script: Script, body: dict[str, Any]) -> None:
        text = _text(script, body)
        content = _content(script, body)
        content = content if content is not None else [{"text": text}]
        self._json(
            200,
            {
                "output": {"message": {"role": "assistant", "content": content}},
                "stopReason": script.stop_reason,
                "usage": _usage(script, body, text),
                "metrics": {"latencyMs": script.latency_ms},
            },
        )

    def _stream(self, script: Script, body: dict[str, Any], stream_no: int) -> None:
        fake = self.server.fake
        text = _text(script, body)
        chunks = script.chunks if script.chunks is not None else _split_words(text)
        fail = script.stream_error is not None and (
            script.stream_error_times is None or stream_no < script.stream_error_times
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.amazon.eventstream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-RequestId", "fake-request")
        self.end_headers()
        events: list[bytes] = [event("messageStart", {"role": "assistant"})]
        block = 0
        if script.content_block_start:  # a started (tool-use) block before the text block
            start = {"toolUse": {"toolUseId": "tool-1", "name": "lookup"}}
            delta = {"toolUse": {"input": "{}"}}
            events.append(event("contentBlockStart", {"contentBlockIndex": 0, "start": start}))
            events.append(event("contentBlockDelta", {"contentBlockIndex": 0, "delta": delta}))
            events.append(event("contentBlockStop", {"contentBlockIndex": 0}))
            block = 1
        content = _content(script, body)
        if content is not None:
            events.extend(_block_events(content))
            block = len(content) - 1
            chunks = []
        for i, chunk in enumerate(chunks):
            events.append(
                event("contentBlockDelta", {"contentBlockIndex": block, "delta": {"text": chunk}})
            )
            if fail and i == 0:
                break
        if fail and script.stream_error is not None:
            events.append(exception_event(*script.stream_error))
        else:
            events.append(event("contentBlockStop", {"contentBlockIndex": block}))
            events.append(event("messageStop", {"stopReason": script.stop_reason}))
            events.append(
                event(
                    "metadata",
                    {
                        "usage": _usage(script, body, text),
                        "metrics": {"latencyMs": script.latency_ms},
                    },
                )
            )
        for n, ev in enumerate(events):
            if n and script.chunk_delay:
                fake.stopping.wait(script.chunk_delay)
            if not self._write(b"%x\r\n%s\r\n" % (len(ev), ev)):
                return
        self._write(b"0\r\n\r\n")

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
            return True
        except OSError:  # the client went away (timeout, Ctrl-C)
            self.close_connection = True
            return False


def _content(script: Script, body: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The scripted content blocks, or the function's blocks for this request body."""
    if callable(script.content):
        blocks: list[dict[str, Any]] | None = script.content(body)
        return blocks
    return script.content


def _block_events(content: list[dict[str, Any]]) -> list[bytes]:
    """The stream events of whole content blocks: text by word, tool input JSON in two pieces,
    reasoning text then its signature. The last block's contentBlockStop is the caller's."""
    out: list[bytes] = []
    for index, block in enumerate(content):
        deltas: list[dict[str, Any]] = []
        if "text" in block:
            deltas = [{"text": w} for w in _split_words(block["text"])]
        elif "toolUse" in block:
            tool = block["toolUse"]
            start = {"toolUse": {"toolUseId": tool["toolUseId"], "name": tool["name"]}}
            out.append(event("contentBlockStart", {"contentBlockIndex": index, "start": start}))
            raw = json.dumps(tool.get("input", {}))
            half = len(raw) // 2
            deltas = [{"toolUse": {"input": raw[:half]}}, {"toolUse": {"input": raw[half:]}}]
        elif "reasoningContent" in block:
            reasoning = block["reasoningContent"]["reasoningText"]
            deltas = [{"reasoningContent": {"text": w}} for w in _split_words(reasoning["text"])]
            if "signature" in reasoning:
                deltas.append({"reasoningContent": {"signature": reasoning["signature"]}})
        for delta in deltas:
            out.append(event("contentBlockDelta", {"contentBlockIndex": index, "delta": delta}))
        if index < len(content) - 1:
            out.append(event("contentBlockStop", {"contentBlockIndex": index}))
    return out


def _text(script: Script, body: dict[str, Any]) -> str:
    return script.text(body) if callable(script.text) else script.text


def _usage(script: Script, body: dict[str, Any], text: str) -> dict[str, int]:
    if script.usage is not None:
        usage = dict(script.usage)
    else:
        prompt = json.dumps(body.get("messages", [])) + json.dumps(body.get("system", []))
        usage = {"inputTokens": _words(prompt), "outputTokens": _words(text)}
    usage.setdefault("totalTokens", usage.get("inputTokens", 0) + usage.get("outputTokens", 0))
    return usage


def _words(text: str) -> int:
    return len(text.split())


def _split_words(text: str) -> list[str]:
    out: list[str] = []
    for word in text.split(" "):
        out.append(word if not out else " " + word)
    return [c for c in out if c] or [""]


# ---------------------------------------------------------------- image models

STABILITY_SIZES = {"1:1": (1024, 1024), "16:9": (1344, 768), "9:16": (768, 1344),
                   "21:9": (1536, 640), "9:21": (640, 1536), "2:3": (832, 1216),
                   "3:2": (1216, 832), "4:5": (896, 1088), "5:4": (1088, 896)}  # fmt: skip
_PNGS: dict[tuple[int, int, bool, int], tuple[bytes, str]] = {}
_PNG_LOCK = threading.Lock()


def png(width: int, height: int, *, noise: bool = False, shade: int = 0) -> bytes:
    """A PNG of that size: flat colour (small), or random pixels (as large as a photo)."""
    return _drawn(width, height, noise, shade)[0]


def _drawn(width: int, height: int, noise: bool, shade: int) -> tuple[bytes, str]:
    """A PNG and its base64 as a JSON string, made once per size, kind and shade."""
    import base64
    import os
    import zlib

    key = (width, height, noise, shade % 251)
    with _PNG_LOCK:
        if key in _PNGS:
            return _PNGS[key]
    row = bytes((shade * 37 % 256, shade * 91 % 256, 160)) * width
    rows = b"".join(b"\x00" + (os.urandom(3 * width) if noise else row) for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", binascii.crc32(kind + data) & 0xFFFFFFFF)  # fmt: skip

    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b""))  # fmt: skip
    drawn = (data, '"' + base64.b64encode(data).decode("ascii") + '"')
    with _PNG_LOCK:
        _PNGS[key] = drawn
    return drawn


def image_answer(script: Script, body: dict[str, Any]) -> str:
    """What an image model answers (JSON text): Titan/Nova for taskType bodies, Stability
    otherwise. Images are drawn once per size and seed, and sent as base64."""

    def b64(width: int, height: int, n: int) -> str:
        return _drawn(width, height, script.noise, n)[1]

    if "taskType" in body:
        config = body.get("imageGenerationConfig") or {}
        count = 1 if body["taskType"] == "BACKGROUND_REMOVAL" else config.get("numberOfImages", 1)
        width, height = config.get("width", 1024), config.get("height", 1024)
        seed = int(config.get("seed", 0))
        made = script.images_returned if script.image_error else count
        images = ",".join(b64(width, height, seed + n) for n in range(made))
        return f'{{"images": [{images}], "error": {json.dumps(script.image_error)}}}'
    width, height = STABILITY_SIZES.get(str(body.get("aspect_ratio", "1:1")), (1024, 1024))
    seed = int(body.get("seed") or 1234567)
    reasons = script.finish_reasons or [None]
    images = ",".join(b64(width, height, seed) if r is None else b64(8, 8, 0) for r in reasons)
    return (f'{{"seeds": {json.dumps([seed] * len(reasons))}, "finish_reasons": '
            f'{json.dumps(reasons)}, "images": [{images}]}}')  # fmt: skip


def first_user_text(body: dict[str, Any]) -> str:
    """The first user message's text in a Converse body (handy for `text=` functions)."""
    try:
        return str(body["messages"][0]["content"][0]["text"])
    except (KeyError, IndexError, TypeError):
        return ""


def start_fake_bedrock() -> FakeBedrock:
    """Start a server outside pytest; call .stop() (or use `with`) when done."""
    return FakeBedrock()


@pytest.fixture
def fake_bedrock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBedrock]:
    """A running fake, with boto3 pointed at it: endpoint variable, fake credentials, region."""
    fake = FakeBedrock()
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    try:
        yield fake
    finally:
        fake.stop()

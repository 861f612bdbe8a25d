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
    GET  /inference-profiles/{id}           GetInferenceProfile (control plane: point
                                            AWS_ENDPOINT_URL_BEDROCK here too)
    POST /guardrail/{id}/version/{v}/apply  ApplyGuardrail
    GET  /guardrails/{id}?guardrailVersion  GetGuardrail (the bedrock control plane, reached
                                            through AWS_ENDPOINT_URL_BEDROCK)
    GET  /prompt-routers                    ListPromptRouters (control plane; routers added
                                            with `fake_bedrock.prompt_router(ARN, models,
                                            fallback)`, two a page; `router_error` fails it)
    /model-invocation-job(s)…               batch inference jobs: create, get, list, stop
                                            (see "batch inference jobs" below)

Use in tests (the fixture sets the endpoint variable, fake credentials and us-east-1):

    def test_x(fake_bedrock: FakeBedrock) -> None:
        fake_bedrock.script("amazon.nova-micro-v1:0", text="hello", latency=0.2)
        fake_bedrock.script("m", fail=2, status=429, error="ThrottlingException")
        fake_bedrock.script("m", throttle_ratio=0.5)  # about half the requests get a 429
        fake_bedrock.script("m", stream_error=("throttlingException", "slow down"))
        fake_bedrock.script("m", text=lambda body: body["messages"][0]["content"][0]["text"])
        fake_bedrock.script("m", hang=True)          # never answers (until the server stops)
        fake_bedrock.default = Script(text="...")    # models without a script
        ... call the code under test ...
        assert fake_bedrock.count(model="m", op="converse") == 3
        fake_bedrock.peak["m"]  # the most requests for m it was answering at once
        fake_bedrock.requests  # [Recorded(op, model, path, body, headers)], in arrival order

Script fields (all optional): text (str or function of the parsed body), usage
({"inputTokens", "outputTokens", and "cacheReadInputTokens" / "cacheWriteInputTokens" if you
like}; default: word counts), prompt_cache (default True: a request with cachePoint blocks is
answered as Bedrock's prompt cache would: the words before its last cache point are
cacheWriteInputTokens the first time this fake sees that prefix for the model and
cacheReadInputTokens after, and inputTokens counts the rest), stop_reason, latency_ms (reported
metrics.latencyMs), latency (seconds before the response), chunk_delay (seconds between
stream events), chunks (how the text is split when streaming; default: by word),
content_block_start (stream a tool-use block, with contentBlockStart, before the text),
fail / status / error / message (the first `fail` requests get that HTTP error, with an
`x-amzn-ErrorType` header), throttle_ratio (that share of requests, drawn at random from a
seeded generator (`FakeBedrock(seed=…)`), get 429 ThrottlingException at once, without the
latency: a throttled request is refused before any work),
stream_error ((lower-camel exception type, message) sent after the first delta),
stream_error_times (how many stream requests get it; default: all), hang, count_tokens
(None: CountTokens answers ValidationException), embedding (vector for /invoke), content (the
answer's Converse content blocks, e.g. reasoningContent, toolUse and text blocks; replaces
`text`; streamed as the events Bedrock sends for each block; or a function of the parsed
body returning them, e.g. a tool call first and text once a toolResult comes back),
service_tier / latency_mode (what the response says ran; default: the request's serviceTier
and performanceConfig echoed, as Bedrock does), trace (the response's `trace`), invoked_model
(`trace.promptRouter.invokedModelId`; a prompt-router model id gets Claude 3 Haiku's profile
ARN unless scripted), reasoning (a reasoning text answered before `text`, as a
reasoningContent block with a signature, its words counted as output tokens; "" for none),
redacted (the reasoning comes as redactedContent instead); a scripted trace may be a function of
the body (guardrail assessments, e.g. {"guardrail": {"inputAssessment": ...}}), sent in the
stream's metadata event when streaming.
Image models: image_error (Titan/Nova's `error` field, with images_returned images, default
none), finish_reasons (Stability's, e.g. ["Filter reason: output image"]), noise (images of
random pixels, as large as real ones, instead of flat colour); a request blocked outright is
fail=1, status=400, error="ValidationException", message="... blocked by our content filters."

Inference profiles: `fake_bedrock.inference_profile(ARN, "anthropic.claude-3-haiku-...")` makes
GetInferenceProfile answer with that model (foundation-model ARNs in three regions); any other
id is ResourceNotFoundException; `fake_bedrock.profile_error = (403, "AccessDeniedException",
"...")` fails every lookup.

Guardrails (`fake_bedrock.guardrail("gr1", ...)`, fields of GuardrailScript; unscripted ones
exist, in every version, and pass): versions (the versions that exist; None: any), missing
(GetGuardrail answers ResourceNotFoundException), status (GetGuardrail's), get_error ((HTTP
status, error code) for GetGuardrail, e.g. (403, "AccessDeniedException")), apply_error (the
same for ApplyGuardrail), action (NONE or
GUARDRAIL_INTERVENED), assessments (list, or a function of the ApplyGuardrail body), outputs,
usage. Requests are recorded with op "apply-guardrail" / "get-guardrail" and the guardrail id
as `model`.

Other users: `start_fake_bedrock()` / `FakeBedrock.stop()` (context manager too) for code
outside pytest, e.g. bench/concurrency.py.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import struct
import sys
import threading
import time
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
    prompt_cache: bool = True
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
    throttle_ratio: float = 0.0
    count_tokens: int | None = 17
    content: list[dict[str, Any]] | Callable[[dict[str, Any]], list[dict[str, Any]]] | None = None
    embedding: list[float] = field(default_factory=lambda: [0.6, 0.8, 0.0])
    service_tier: str | None = None
    latency_mode: str | None = None
    trace: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]] | None = None
    invoked_model: str | None = None
    reasoning: str = ""
    redacted: bool = False
    image_error: str | None = None
    images_returned: int = 0
    finish_reasons: list[str | None] | None = None
    noise: bool = False


ROUTER_PICK = (  # what a prompt router answers with unless a script says otherwise
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
    "us.anthropic.claude-3-haiku-20240307-v1:0"
)


@dataclass
class GuardrailScript:
    """How the fake answers GetGuardrail and ApplyGuardrail for one guardrail."""

    versions: tuple[str, ...] | None = None
    missing: bool = False
    status: str = "READY"
    get_error: tuple[int, str] | None = None
    apply_error: tuple[int, str] | None = None
    action: str = "NONE"
    assessments: list[dict[str, Any]] | Callable[[dict[str, Any]], list[dict[str, Any]]] = field(
        default_factory=list
    )
    outputs: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, int] = field(
        default_factory=lambda: {
            "topicPolicyUnits": 1, "contentPolicyUnits": 1, "wordPolicyUnits": 0,
            "sensitiveInformationPolicyUnits": 0, "sensitiveInformationPolicyFreeUnits": 0,
            "contextualGroundingPolicyUnits": 0,
        }
    )  # fmt: skip


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    op: str  # converse | converse-stream | count-tokens | invoke | apply-guardrail | get-guardrail
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

    def __init__(self, seed: int = 0) -> None:
        self.default = Script()
        self._random = random.Random(seed)  # throttle_ratio's draws
        self._scripts: dict[str, Script] = {}
        self._guardrails: dict[str, GuardrailScript] = {}
        self._served: dict[tuple[str, str], int] = {}  # (model, kind) → requests so far
        self._in_flight: dict[str, int] = {}  # model → requests being answered now
        self.peak: dict[str, int] = {}  # model → most requests it was answering at once
        self._cached: set[tuple[str, str]] = set()  # (model, prompt prefix) in the prompt cache
        self.requests: list[Recorded] = []
        self.profiles: dict[str, list[str]] = {}  # inference profile ARN or id → model ARNs
        self.profile_error: tuple[int, str, str] | None = None
        self.routers: list[dict[str, Any]] = []  # ListPromptRouters' summaries (prompt_router)
        self.router_error: tuple[int, str, str] | None = None
        self.batch = BatchJobs()  # model invocation jobs (the bedrock control plane)
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

    def inference_profile(self, arn: str, model_id: str) -> None:
        """GetInferenceProfile for `arn` (or its id) answers that it routes to `model_id`."""
        regions = ("us-east-1", "us-east-2", "us-west-2")
        models = [f"arn:aws:bedrock:{r}::foundation-model/{model_id}" for r in regions]
        with self._lock:
            self.profiles[arn] = self.profiles[arn.rsplit("/", 1)[-1]] = models

    def prompt_router(
        self,
        arn: str,
        models: list[str],
        fallback: str,
        *,
        name: str = "",
        type: str = "default",
        quality_difference: float = 0.0,
    ) -> None:
        """ListPromptRouters lists this router (models: foundation model ids)."""
        region = arn.split(":")[3]

        def model_arn(model_id: str) -> dict[str, str]:
            return {"modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model_id}"}

        summary = {
            "promptRouterName": name or arn.rsplit("/", 1)[-1], "promptRouterArn": arn,
            "routingCriteria": {"responseQualityDifference": quality_difference},
            "models": [model_arn(m) for m in models], "fallbackModel": model_arn(fallback),
            "status": "AVAILABLE", "type": type,
        }  # fmt: skip
        with self._lock:
            self.routers.append(summary)

    def guardrail(self, guardrail_id: str, **fields: Any) -> GuardrailScript:
        """Set how guardrail `guardrail_id` answers (fields of GuardrailScript)."""
        s = GuardrailScript(**fields)
        with self._lock:
            self._guardrails[guardrail_id] = s
        return s

    def guardrail_for(self, guardrail_id: str) -> GuardrailScript:
        with self._lock:
            return self._guardrails.get(guardrail_id) or GuardrailScript()

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
            self._guardrails.clear()
            self._served.clear()
            self.peak.clear()
            self.profiles.clear()
            self.profile_error = None
            self.routers.clear()
            self.router_error = None
            self._cached.clear()
            self.default = Script()

    def cache_prefix(self, model: str, prefix: str) -> bool:
        """Whether `prefix` was already in `model`'s prompt cache (it is now)."""
        with self._lock:
            seen = (model, prefix) in self._cached
            self._cached.add((model, prefix))
            return seen

    def _record(self, rec: Recorded, kind: str) -> int:
        """Store the request; returns how many `kind` requests this model had before it."""
        with self._lock:
            self.requests.append(rec)
            n = self._served.get((rec.model, kind), 0)
            self._served[(rec.model, kind)] = n + 1
            return n

    def _busy(self, model: str, delta: int) -> None:
        """Count a request of `model` in (+1) or out (-1) of flight; keep the peak."""
        with self._lock:
            now = self._in_flight[model] = self._in_flight.get(model, 0) + delta
            self.peak[model] = max(self.peak.get(model, 0), now)

    def _throttles(self, script: Script) -> bool:
        """Whether this request is one of the `throttle_ratio` share refused with a 429."""
        if script.throttle_ratio <= 0:
            return False
        with self._lock:
            return self._random.random() < script.throttle_ratio

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

    def do_GET(self) -> None:
        if _batch_route(self, "GET"):
            return
        if self.path.split("?")[0].startswith("/guardrails/"):
            self._get_guardrail()
        elif self.path.split("?")[0] == "/prompt-routers":
            _list_prompt_routers(self)
        else:
            self._get_inference_profile()

    def _get_inference_profile(self) -> None:
        """GetInferenceProfile: GET /inference-profiles/{id}."""
        fake = self.server.fake
        path = self.path.split("?")[0]
        prefix = "/inference-profiles/"
        if not path.startswith(prefix):
            self._error(404, "UnknownOperationException", f"no route for {self.path}")
            return
        arn = unquote(path[len(prefix) :])
        rec = Recorded("get-inference-profile", arn, self.path, {},
                       {k.lower(): v for k, v in self.headers.items()})  # fmt: skip
        fake._record(rec, "http")
        with fake._lock:
            models, failure = fake.profiles.get(arn), fake.profile_error
        if failure is not None:
            self._error(*failure)
        elif models is None:
            self._error(404, "ResourceNotFoundException", f"Inference profile {arn} not found")
        else:
            ident = arn.rsplit("/", 1)[-1]
            self._json(200, {"inferenceProfileName": ident, "inferenceProfileArn": arn,
                             "inferenceProfileId": ident, "status": "ACTIVE",
                             "type": "APPLICATION",
                             "models": [{"modelArn": m} for m in models]})  # fmt: skip

    def _get_guardrail(self) -> None:
        """GetGuardrail: GET /guardrails/{id}?guardrailVersion=V."""
        fake = self.server.fake
        path, _, query = self.path.partition("?")
        parts = path.split("/")
        if len(parts) != 3 or parts[1] != "guardrails":
            self._error(404, "UnknownOperationException", f"no route for {self.path}")
            return
        gid = unquote(parts[2])
        version = dict(p.partition("=")[::2] for p in query.split("&") if p).get(
            "guardrailVersion", "DRAFT"
        )
        headers = {k.lower(): v for k, v in self.headers.items()}
        asked = {"version": version}
        fake._record(Recorded("get-guardrail", gid, self.path, asked, headers), "get")
        script = fake.guardrail_for(gid)
        if script.get_error is not None:
            status, code = script.get_error
            self._error(status, code, f"fake {code} for guardrail {gid}")
            return
        if script.missing or (script.versions is not None and version not in script.versions):
            self._error(404, "ResourceNotFoundException", f"Guardrail {gid} was not found.")
            return
        arn = f"arn:aws:bedrock:us-east-1:123456789012:guardrail/{gid.rsplit('/', 1)[-1]}"
        self._json(200, {
            "name": f"fake-{gid}", "guardrailId": gid, "guardrailArn": arn, "version": version,
            "status": script.status, "createdAt": "2026-01-01T00:00:00Z",
            "updatedAt": "2026-01-01T00:00:00Z",
            "blockedInputMessaging": "Sorry, I can't help with that.",
            "blockedOutputsMessaging": "Sorry, I can't help with that.",
        })  # fmt: skip

    def _apply_guardrail(self, parts: list[str], body: dict[str, Any]) -> None:
        """ApplyGuardrail: POST /guardrail/{id}/version/{v}/apply."""
        fake = self.server.fake
        gid, version = unquote(parts[2]), unquote(parts[4])
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake._record(Recorded("apply-guardrail", gid, self.path, body, headers), "apply")
        script = fake.guardrail_for(gid)
        if script.missing or (script.versions is not None and version not in script.versions):
            self._error(404, "ResourceNotFoundException", f"Guardrail {gid} was not found.")
            return
        if script.apply_error is not None:
            status, code = script.apply_error
            self._error(status, code, f"fake {code} for guardrail {gid}")
            return
        found = script.assessments(body) if callable(script.assessments) else script.assessments
        self._json(200, {"usage": script.usage, "action": script.action,
                         "outputs": script.outputs, "assessments": found})  # fmt: skip

    def do_POST(self) -> None:
        fake = self.server.fake
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY_BYTES)
        raw = self.rfile.read(length) if length else b""
        parts = self.path.split("?")[0].split("/")
        if _batch_route(self, "POST", raw):
            return
        if len(parts) == 6 and parts[1] == "guardrail" and parts[5] == "apply":
            try:
                self._apply_guardrail(parts, json.loads(raw) if raw else {})
            except ValueError:
                self._error(400, "ValidationException", "the body is not JSON")
            return
        if len(parts) < 4 or parts[1] != "model":
            self._error(404, "UnknownOperationException", f"no route for {self.path}")
            return
        op, model = parts[-1], unquote("/".join(parts[2:-1]))
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        rec = Recorded(op, model, self.path, body, {k.lower(): v for k, v in self.headers.items()})
        fake._busy(model, +1)
        try:
            self._answer(fake, rec, body)
        finally:
            fake._busy(model, -1)

    def _answer(self, fake: FakeBedrock, rec: Recorded, body: dict[str, Any]) -> None:
        op, model = rec.op, rec.model
        script = fake.script_for(model)
        served = fake._record(rec, "http")
        if script.hang:
            fake.stopping.wait(MAX_HANG_SECONDS)
            self.close_connection = True
            return
        if fake._throttles(script):
            self._error(429, "ThrottlingException", script.message)
            return
        if script.latency:
            fake.stopping.wait(script.latency)
        if served < script.fail:
            self._error(script.status, script.error, script.message)
            return
        if op == "converse":
            self._converse(script, body, model)
        elif op == "converse-stream":
            self._stream(script, body, fake._record_stream(model), model)
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

    def _converse(self, script: Script, body: dict[str, Any], model: str) -> None:
        text = _text(script, body)
        content = _content(script, body)
        content = content if content is not None else [{"text": text}]
        self._json(
            200,
            {
                "output": {"message": {"role": "assistant", "content": content}},
                "stopReason": script.stop_reason,
                "usage": _usage(script, body, text, self.server.fake, self._model()),
                "metrics": {"latencyMs": script.latency_ms},
                **_served(script, body, model),
            },
        )

    def _stream(self, script: Script, body: dict[str, Any], stream_no: int, model: str) -> None:
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
                        "usage": _usage(script, body, text, fake, self._model()),
                        "metrics": {"latencyMs": script.latency_ms},
                        **_served(script, body, model),
                    },
                )
            )
        for n, ev in enumerate(events):
            if n and script.chunk_delay:
                fake.stopping.wait(script.chunk_delay)
            if not self._write(b"%x\r\n%s\r\n" % (len(ev), ev)):
                return
        self._write(b"0\r\n\r\n")

    def _model(self) -> str:
        return unquote("/".join(self.path.split("?")[0].split("/")[2:-1]))

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
            return True
        except OSError:  # the client went away (timeout, Ctrl-C)
            self.close_connection = True
            return False


def _served(script: Script, body: dict[str, Any], model: str) -> dict[str, Any]:
    """What the response says about how the call ran: serviceTier and performanceConfig (the
    request's, echoed, unless scripted) and trace (a prompt router's pick)."""
    out: dict[str, Any] = {}
    tier = script.service_tier or (body.get("serviceTier") or {}).get("type")
    if tier:
        out["serviceTier"] = {"type": tier}
    latency = script.latency_mode or (body.get("performanceConfig") or {}).get("latency")
    if latency:
        out["performanceConfig"] = {"latency": latency}
    trace = dict(_trace(script, body) or {})
    picked = script.invoked_model or (ROUTER_PICK if "prompt-router/" in model else None)
    if picked:
        trace["promptRouter"] = {"invokedModelId": picked}
    if trace:
        out["trace"] = trace
    return out


def _content(script: Script, body: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The scripted content blocks, or the function's blocks for this request body; with
    `reasoning`, a reasoning block and the text."""
    if callable(script.content):
        blocks: list[dict[str, Any]] | None = script.content(body)
        return blocks
    if script.content is None and (script.reasoning or script.redacted):
        return [_reasoning_block(script), {"text": _text(script, body)}]
    return script.content


def _reasoning_block(script: Script) -> dict[str, Any]:
    if script.redacted:  # a blob: base64 in JSON, as the service sends it
        secret = base64.b64encode((script.reasoning or "hidden").encode()).decode()
        return {"reasoningContent": {"redactedContent": secret}}
    return {"reasoningContent": {"reasoningText": {"text": script.reasoning,
                                                   "signature": "fake-signature"}}}  # fmt: skip


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
        elif "redactedContent" in block.get("reasoningContent", {}):
            secret = block["reasoningContent"]["redactedContent"]
            deltas = [{"reasoningContent": {"redactedContent": secret}}]
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


def _trace(script: Script, body: dict[str, Any]) -> dict[str, Any] | None:
    if callable(script.trace):
        traced: dict[str, Any] = script.trace(body)
        return traced
    return script.trace


def _text(script: Script, body: dict[str, Any]) -> str:
    return script.text(body) if callable(script.text) else script.text


def _usage(
    script: Script, body: dict[str, Any], text: str, fake: FakeBedrock, model: str
) -> dict[str, int]:
    cached = _prompt_cache(body) if script.prompt_cache and script.usage is None else None
    if script.usage is not None:
        usage = dict(script.usage)
    elif cached is not None:
        prefix, rest = cached
        key = "cacheReadInputTokens" if fake.cache_prefix(model, prefix) else (
            "cacheWriteInputTokens")  # fmt: skip
        usage = {"inputTokens": _words(rest), "outputTokens": _words(text),
                 "cacheReadInputTokens": 0, "cacheWriteInputTokens": 0}  # fmt: skip
        usage[key] = _words(prefix)
    else:
        prompt = json.dumps(body.get("messages", [])) + json.dumps(body.get("system", []))
        said = _words(text) + _words(script.reasoning)
        usage = {"inputTokens": _words(prompt), "outputTokens": said}
    usage.setdefault("totalTokens", usage.get("inputTokens", 0) + usage.get("outputTokens", 0))
    return usage


def _prompt_cache(body: dict[str, Any]) -> tuple[str, str] | None:
    """The request read in the service's order (tools, system, messages), as the JSON of the
    blocks before its last cache point and after it; None without cache points."""
    pieces: list[Any] = list((body.get("toolConfig") or {}).get("tools") or [])
    pieces += list(body.get("system") or [])
    for message in body.get("messages") or []:
        pieces += [{"role": message.get("role")}, *(message.get("content") or [])]
    cuts = [i for i, p in enumerate(pieces) if isinstance(p, dict) and "cachePoint" in p]
    if not cuts:
        return None
    before = [p for p in pieces[: cuts[-1]] if "cachePoint" not in p]
    return json.dumps(before), json.dumps(pieces[cuts[-1] + 1 :])


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


# ---------------------------------------------------------------- prompt routers (control plane)


def _list_prompt_routers(handler: _Handler) -> None:
    """ListPromptRouters: GET /prompt-routers, two routers a page (so paging is exercised)."""
    from urllib.parse import parse_qs

    fake = handler.server.fake
    query = parse_qs(handler.path.partition("?")[2])
    headers = {k.lower(): v for k, v in handler.headers.items()}
    fake._record(Recorded("list-prompt-routers", "", handler.path, {}, headers), "get")
    with fake._lock:
        routers, failure = list(fake.routers), fake.router_error
    if failure is not None:
        handler._error(*failure)
        return
    start = int(query.get("nextToken", ["0"])[0])
    page = {"promptRouterSummaries": routers[start : start + 2]}
    if start + 2 < len(routers):
        page["nextToken"] = str(start + 2)
    handler._json(200, page)


# ---------------------------------------------------------------- batch inference jobs
#
# The control plane's model invocation jobs (reached through AWS_ENDPOINT_URL_BEDROCK):
#     POST /model-invocation-job                 CreateModelInvocationJob
#     GET  /model-invocation-job/{id}            GetModelInvocationJob
#     GET  /model-invocation-jobs?nameContains=  ListModelInvocationJobs
#     POST /model-invocation-job/{id}/stop       StopModelInvocationJob
# The fake keeps each job as GetModelInvocationJob answers it (`fake.batch.jobs[id]`). It does
# not run jobs: a test plays the service with `fake.batch.on_get` (called with the job before
# each GetModelInvocationJob answer: write output under its outputDataConfig, set `status`,
# `message`, record counts); tests/batch/service.py has such a player over moto's S3.
# `fake.batch.create_error = (status, code, message)` refuses every CreateModelInvocationJob.


@dataclass
class BatchJobs:
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)  # job id → job
    on_get: Callable[[dict[str, Any]], None] | None = None
    create_error: tuple[int, str, str] | None = None
    created: int = 0  # CreateModelInvocationJob requests that made a job
    lock: threading.Lock = field(default_factory=threading.Lock)

    def by_name(self, name: str) -> dict[str, Any] | None:
        with self.lock:
            return next((j for j in self.jobs.values() if j["jobName"] == name), None)


_BATCH_ARN = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/"


def _batch_route(handler: _Handler, method: str, raw: bytes = b"") -> bool:
    """Answer a model invocation job request; False when the path is not one."""
    path, _, query = handler.path.partition("?")
    parts = [unquote(p) for p in path.split("/")]
    batch = handler.server.fake.batch
    if method == "POST" and path == "/model-invocation-job":
        _batch_create(handler, batch, json.loads(raw or b"{}"))
    elif method == "GET" and path == "/model-invocation-jobs":
        params = dict(p.partition("=")[::2] for p in query.split("&") if p)
        wanted = unquote(params.get("nameContains", ""))
        with batch.lock:
            found = [dict(j) for j in batch.jobs.values() if wanted in j["jobName"]]
        handler._json(200, {"invocationJobSummaries": found})
    elif len(parts) >= 3 and parts[1] == "model-invocation-job":
        job_id = parts[2].rsplit("/", 1)[-1]
        with batch.lock:
            job = batch.jobs.get(job_id)
        if job is None:
            handler._error(404, "ResourceNotFoundException", f"no job {job_id}")
        elif method == "POST" and parts[3:] == ["stop"]:
            with batch.lock:
                job["status"] = (
                    "Stopping" if job["status"] not in ("Completed", "Failed") else job["status"]
                )
            handler._json(200, {})
        elif method == "GET":
            if batch.on_get is not None:
                batch.on_get(job)
            with batch.lock:
                handler._json(200, dict(job))
        else:
            return False
    else:
        return False
    return True


def _batch_create(handler: _Handler, batch: BatchJobs, body: dict[str, Any]) -> None:
    if batch.create_error is not None:
        handler._error(*batch.create_error)
        return
    token = body.get("clientRequestToken")
    with batch.lock:
        same = next((j for j in batch.jobs.values()
                     if token and j.get("clientRequestToken") == token), None)  # fmt: skip
        if same is None:
            job_id = f"{len(batch.jobs) + 1:012d}"[-12:].replace("0", "a")
            same = batch.jobs[job_id] = {
                "jobArn": _BATCH_ARN + job_id, "jobName": body["jobName"],
                "modelId": body["modelId"], "roleArn": body["roleArn"],
                "clientRequestToken": token, "status": "Submitted", "submitTime": time.time(),
                "inputDataConfig": body["inputDataConfig"],
                "outputDataConfig": body["outputDataConfig"],
                "modelInvocationType": body.get("modelInvocationType", "InvokeModel"),
                "timeoutDurationInHours": body.get("timeoutDurationInHours", 24),
            }  # fmt: skip
            batch.created += 1
    handler._json(200, {"jobArn": same["jobArn"]})


def start_fake_bedrock(seed: int = 0) -> FakeBedrock:
    """Start a server outside pytest; call .stop() (or use `with`) when done."""
    return FakeBedrock(seed)


@pytest.fixture
def fake_bedrock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBedrock]:
    """A running fake, with boto3 pointed at it: endpoint variable, fake credentials, region."""
    fake = FakeBedrock()
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK", fake.url)  # GetGuardrail
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    try:
        yield fake
    finally:
        fake.stop()

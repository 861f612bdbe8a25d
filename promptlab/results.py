"""Structured results of model calls: the one record every view renders."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from promptlab.identity import PromptId
from promptlab.masking import mask, mask_optional
from promptlab.request import record_form

if TYPE_CHECKING:
    from promptlab.catalogue import ModelRef
    from promptlab.request import Request

SCHEMA_VERSION = 1

# Failures that mean the AWS set-up is wrong, not the model: a run ends with exit code 2.
SETUP_ERROR_CODES = frozenset({
    "EndpointUnreachable", "NoCredentials", "ExpiredToken", "ExpiredTokenException",
    "UnrecognizedClientException", "InvalidSignatureException",
})  # fmt: skip


@dataclass(frozen=True)
class ErrorInfo:
    code: str  # e.g. ThrottlingException, AccessDeniedException, ModelTimeoutException
    message: str
    hint: str | None = None
    infrastructure: bool = False  # throttling/denied/unreachable: the case could not run

    def __post_init__(self) -> None:  # never keep a credential an error message echoed
        object.__setattr__(self, "message", mask(self.message))
        object.__setattr__(self, "hint", mask_optional(self.hint))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GeneratedImage:
    """One image an image model returned (or withheld): decoded once, hashed once.

    `data` is None for an image the service filtered or blocked; `filtered` says why."""

    index: int  # its place in the response (0-based)
    data: bytes | None = field(default=None, repr=False)
    format: str | None = None  # png | jpeg | webp, from the bytes
    sha256: str | None = None
    width: int | None = None
    height: int | None = None
    seed: int | None = None  # the seed sent, or the one the service reports
    filtered: str | None = None  # e.g. "Filter reason: output image"


@dataclass(frozen=True)
class Completion:
    """What a provider returns for one successful call.

    `content` holds the answer's Converse content blocks (text, reasoning, tool uses,
    citations, images); `output` is their text, what every text view shows.
    """

    output: str
    stop_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: int | None = None  # the service's metrics.latencyMs
    ttft_ms: int | None = None
    tokens_estimated: bool = False
    notices: tuple[str, ...] = ()
    content: tuple[dict[str, Any], ...] = ()
    attempts: int = 1  # requests sent: botocore's retries (throttling, 5xx) included
    retried: tuple[str, ...] = ()  # the error codes of the attempts that were retried
    cache_read_tokens: int | None = None  # input tokens read from the prompt cache
    cache_write_tokens: int | None = None  # input tokens written to the prompt cache
    # What the service says about the call besides the answer: its `trace` (guardrail
    # assessments, the model a prompt router picked), `serviceTier`, `performanceConfig`,
    # `additionalModelResponseFields`, as returned.
    response_meta: dict[str, Any] | None = None
    served_model_id: str | None = None  # the model that ran, when model_id does not say
    images: tuple[GeneratedImage, ...] = ()  # an image model's answer (content: their records)
    # A managed RAG answer's passages (Result.passages), cited ones marked; () for others.
    passages: tuple[dict[str, Any], ...] = ()


# The notice every grader call (judge, embedding) carries in the history, after its kind.
GRADER_NOTICE = "call grading a test output"
REDACTED = "[REDACTED]"  # the reasoning text of a model that bills its reasoning but hides it


def estimate_tokens(text: str) -> int:
    """About 4 characters a token (documented estimate, used where no tokenizer is at hand)."""
    return max(1, (len(text) + 3) // 4) if text else 0


def reasoning_of(content: Iterable[Any]) -> tuple[str, bool]:
    """The reasoning in an answer's content blocks: the text of its `reasoningContent` blocks
    (apart by a blank line), and whether any of it was redacted (`redactedContent`, or a text
    that is only `[REDACTED]`, as Nova 2 sends)."""
    parts, redacted = _reasoning_parts(content)
    return "\n\n".join(parts), redacted


def _reasoning_parts(content: Iterable[Any]) -> tuple[list[str], bool]:
    parts: list[str] = []
    redacted = False
    for block in content:
        rc = block.get("reasoningContent") if isinstance(block, dict) else None
        if not isinstance(rc, dict):
            continue
        rt = rc.get("reasoningText")
        if isinstance(rt, dict) and isinstance(rt.get("text"), str):
            if rt["text"].strip() == REDACTED:
                redacted = True
            elif rt["text"]:
                parts.append(rt["text"])
        elif "redactedContent" in rc:
            redacted = True
    return parts, redacted


def reasoning_tokens(answers: Sequence[Sequence[Any]], output_tokens: int | None) -> int | None:
    """About how many of `output_tokens` were reasoning, over every answer of a call (a tool
    exchange has several): ~4 characters a token of the reasoning text; when the reasoning is
    redacted, the output tokens the answers' text and tool inputs do not account for. At most
    `output_tokens`; None when there is no reasoning (or nothing to estimate it from)."""
    blocks = [b for answer in answers for b in answer if isinstance(b, dict)]
    parts, redacted = _reasoning_parts(blocks)
    if redacted:
        if output_tokens is None:
            return None
        said = "".join(b["text"] for b in blocks if isinstance(b.get("text"), str))
        said += "".join(json.dumps(b["toolUse"].get("input")) for b in blocks
                        if isinstance(b.get("toolUse"), dict))  # fmt: skip
        return max(0, output_tokens - estimate_tokens(said))
    if not parts:
        return None
    tokens = sum(estimate_tokens(part) for part in parts)
    return tokens if output_tokens is None else min(tokens, output_tokens)


def tool_calls(
    turns: Sequence[dict[str, Any]], content: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The tool calls of an exchange (see Result.tool_calls)."""
    answers = [t.get("content") or [] for t in turns if t.get("role") == "assistant"]
    sent: dict[str, Any] = {}
    for t in turns:
        if t.get("role") == "user":
            for block in t.get("content") or []:
                tr = block.get("toolResult") if isinstance(block, dict) else None
                if tr:
                    sent[str(tr.get("toolUseId"))] = tr
    calls: list[dict[str, Any]] = []
    for turn, blocks in enumerate([*answers, list(content)]):
        for block in blocks:
            use = block.get("toolUse") if isinstance(block, dict) else None
            if use:
                tid = str(use.get("toolUseId", ""))
                calls.append({"name": use.get("name", ""), "input": use.get("input"), "id": tid,
                              "turn": turn, "result": sent.get(tid)})  # fmt: skip
    return calls


def plain_content(output: str) -> list[dict[str, Any]]:
    """The content blocks of an answer that is only text."""
    return [{"text": output}] if output else []


@dataclass
class Result:
    """One model call: identity of what was asked, what came back, what it cost."""

    prompt_name: str
    prompt_version: str
    prompt_hash: str
    model_alias: str
    model_id: str
    region: str | None
    params: dict[str, Any]
    request: dict[str, Any]
    output: str = ""
    content: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: int | None = None
    wall_ms: int | None = None
    ttft_ms: int | None = None
    cost_usd: float | None = None
    error: ErrorInfo | None = None
    cached: bool = False
    real_model: bool = True
    tokens_estimated: bool = False
    notices: list[str] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    case: str | None = None
    repeat_index: int = 0
    prompt_path: str | None = None
    prompt_ref: str | None = None
    started_at: str | None = None
    run_id: str | None = None
    attempts: int = 1  # requests sent for this call: retries after throttling etc. included
    # The turns exchanged after the request when tools were scripted: the model's tool-use
    # answers and the tool results sent back, as recorded Converse messages, in order.
    turns: list[dict[str, Any]] = field(default_factory=list)
    # Structured output: {"value": parsed JSON or None, "error": why it failed or None,
    # "native": sent as outputConfig (True) or as instructions (False)}; None without a schema.
    structured: dict[str, Any] | None = None
    cache_read_tokens: int | None = None  # prompt-cache reads (not in input_tokens)
    cache_write_tokens: int | None = None  # prompt-cache writes (not in input_tokens)
    response_meta: dict[str, Any] | None = None  # see Completion.response_meta
    served_model_id: str | None = None  # the model that ran (application profile, router)
    # An image model's answer: one entry per image, {"path", "sha256", "size", "width",
    # "height", "format", "seed", "index", "filtered"} (path None for a filtered image).
    images: list[dict[str, Any]] = field(default_factory=list)
    # The passages retrieved for this call (a knowledge base, local files, or the ones a
    # managed RAG answer was built from), in the order given to the model: {"id" (what the
    # model cites, e.g. "1"), "text", "source" (path or URI), "score" (None when unranked),
    # "metadata", "cited" (True/False when the service reports citations, else None)}.
    passages: list[dict[str, Any]] = field(default_factory=list)
    # A fallback chain's answer: the link that served it (None outside chains, and when every
    # link failed), and each link passed over before it, in order: {"model", "model_id",
    # "served_model_id", "reason", "error", "message", "input_tokens", "output_tokens",
    # "cost_usd", "attempts", "wall_ms"} (chains.attempt). `cost_usd` includes theirs.
    served_by: str | None = None
    fallback: list[dict[str, Any]] = field(default_factory=list)
    # The retrieval variant the passages came from, when a run compares several (a name of the
    # prompt's `retrieve:` variants, or the `--retrieve` overrides such as "k=3"); else None.
    retrieval: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def take(self, completion: Completion) -> None:
        """Copy a provider's answer into this result (cost is the caller's: it knows prices)."""
        self.output = completion.output
        self.content = record_form(completion.content) if completion.content else []
        self.stop_reason = completion.stop_reason
        self.input_tokens = completion.input_tokens
        self.output_tokens = completion.output_tokens
        self.latency_ms = completion.latency_ms
        self.ttft_ms = completion.ttft_ms
        self.tokens_estimated = completion.tokens_estimated
        self.cache_read_tokens = completion.cache_read_tokens
        self.cache_write_tokens = completion.cache_write_tokens
        self.response_meta = completion.response_meta
        self.served_model_id = completion.served_model_id or self.served_model_id
        self.notices.extend(n for n in completion.notices if n not in self.notices)
        if completion.passages:
            self.passages = [dict(p) for p in completion.passages]

    @property
    def reasoning(self) -> str:
        """The answer's reasoning text ("" when it has none), kept apart from `output`."""
        return reasoning_of(self.content)[0]

    @property
    def reasoning_redacted(self) -> bool:
        """Some of the answer's reasoning was redacted by the provider (still billed)."""
        return reasoning_of(self.content)[1]

    @property
    def reasoning_tokens_estimated(self) -> int | None:
        """~ how many of the output tokens were reasoning, across the calls of a tool exchange
        (see reasoning_tokens); None without reasoning."""
        answers = [t.get("content") or [] for t in self.turns
                   if isinstance(t, dict) and t.get("role") == "assistant"]  # fmt: skip
        return reasoning_tokens([*answers, self.content], self.output_tokens)

    def tool_calls(self) -> list[dict[str, Any]]:
        """Every tool the model called, in order, across all turns: dicts with `name`, `input`,
        `id`, `turn` (0 = the first answer) and `result` (the scripted result sent back, or None
        when the exchange stopped there)."""
        return tool_calls(self.turns, self.content)

    @property
    def prompt_id(self) -> PromptId:
        return PromptId(self.prompt_name, self.prompt_version, self.prompt_hash,
                        self.prompt_path, self.prompt_ref)  # fmt: skip

    @property
    def total_tokens(self) -> int:
        """Every token the call used: input (cache reads and writes included) and output."""
        return ((self.input_tokens or 0) + (self.output_tokens or 0)
                + (self.cache_read_tokens or 0) + (self.cache_write_tokens or 0))  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON schema (README: 'Result schema')."""
        return {
            "schema": SCHEMA_VERSION,
            "run_id": self.run_id,
            "prompt": {
                "name": self.prompt_name,
                "version": self.prompt_version,
                "hash": self.prompt_hash,
                "path": self.prompt_path,
                "ref": self.prompt_ref,
            },
            "case": self.case,
            "repeat_index": self.repeat_index,
            "vars": self.vars,
            "model": {
                "alias": self.model_alias,
                "id": self.model_id,
                "region": self.region,
                "real": self.real_model,
            },
            "params": self.params,
            "request": self.request,
            "output": self.output,
            "reasoning": self.reasoning or None,
            "reasoning_redacted": self.reasoning_redacted,
            "content": self.content,
            "stop_reason": self.stop_reason,
            "usage": {
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
                "total_tokens": self.total_tokens,
                "cache_read_tokens": self.cache_read_tokens,
                "cache_write_tokens": self.cache_write_tokens,
                "reasoning_tokens_estimated": self.reasoning_tokens_estimated,
                "estimated": self.tokens_estimated,
            },
            "latency_ms": self.latency_ms,
            "wall_ms": self.wall_ms,
            "ttft_ms": self.ttft_ms,
            "cost_usd": self.cost_usd,
            "cached": self.cached,
            "attempts": self.attempts,
            "notices": list(self.notices),
            "started_at": self.started_at,
            "error": self.error.to_dict() if self.error else None,
            "turns": self.turns,
            "structured": self.structured,
            "response_meta": self.response_meta,
            "served_model_id": self.served_model_id,
            "guardrail": self.guardrail_dict(),
            "images": self.images,
            "passages": self.passages,
            "served_by": self.served_by,
            "fallback": self.fallback,
            "retrieval": self.retrieval,
        }

    def guardrail_dict(self) -> dict[str, Any] | None:
        """What the guardrail did (guardrails.Outcome), derived from the response: never stored."""
        from promptlab.guardrails import outcome

        found = outcome(self)
        return found.to_dict() if found else None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Result:
        err = d.get("error")
        usage = d.get("usage") or {}
        return cls(
            prompt_name=d["prompt"]["name"],
            prompt_version=d["prompt"]["version"],
            prompt_hash=d["prompt"]["hash"],
            prompt_path=d["prompt"].get("path"),
            prompt_ref=d["prompt"].get("ref"),
            model_alias=d["model"]["alias"],
            model_id=d["model"]["id"],
            region=d["model"].get("region"),
            real_model=d["model"].get("real", True),
            params=d.get("params") or {},
            request=d.get("request") or {},
            output=d.get("output") or "",
            content=list(d.get("content") or []),
            stop_reason=d.get("stop_reason"),
            input_tokens=usage.get("input_tokens"),
            output_tokens=usage.get("output_tokens"),
            tokens_estimated=usage.get("estimated", False),
            latency_ms=d.get("latency_ms"),
            wall_ms=d.get("wall_ms"),
            ttft_ms=d.get("ttft_ms"),
            cost_usd=d.get("cost_usd"),
            error=ErrorInfo(**err) if err else None,
            cached=d.get("cached", False),
            attempts=d.get("attempts") or 1,
            notices=list(d.get("notices") or []),
            vars=d.get("vars") or {},
            case=d.get("case"),
            repeat_index=d.get("repeat_index", 0),
            started_at=d.get("started_at"),
            run_id=d.get("run_id"),
            turns=list(d.get("turns") or []),
            structured=d.get("structured"),
            cache_read_tokens=usage.get("cache_read_tokens"),
            cache_write_tokens=usage.get("cache_write_tokens"),
            response_meta=d.get("response_meta"),
            served_model_id=d.get("served_model_id"),
            images=list(d.get("images") or []),
            passages=list(d.get("passages") or []),
            served_by=d.get("served_by"),
            fallback=list(d.get("fallback") or []),
            retrieval=d.get("retrieval"),
        )


def new_result(
    prompt: PromptId,
    model: ModelRef,
    request: Request,
    *,
    region: str | None,
    run_id: str | None,
    notices: Sequence[str] = (),
    vars: dict[str, Any] | None = None,
    case: str | None = None,
    repeat_index: int = 0,
) -> Result:
    """The one way a Result starts: what was asked of which model, nothing answered yet.

    Model calls, grader calls and cache hits all begin here; `Result.take` adds the answer.
    """
    return Result(
        prompt_name=prompt.name,
        prompt_version=prompt.version,
        prompt_hash=prompt.hash,
        prompt_path=prompt.path,
        prompt_ref=prompt.ref,
        model_alias=model.alias,
        model_id=model.model_id,
        region=region,
        params=request.params.to_dict(),
        request=request.to_record(),
        real_model=model.real,
        notices=list(notices),
        vars=dict(vars or {}),
        case=case,
        repeat_index=repeat_index,
        started_at=datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        run_id=run_id,
    )

"""`export finetune`: the answers people rated best, as a training file Bedrock model
customization accepts for the chosen base model.

`FAMILIES` is the table: which base models each row covers, the record shape, whether a record
may hold several turns, and the documented limits. Sources (checked 2026-12):

- Nova (Micro, Lite, Pro): the conversation schema `{"schemaVersion": "bedrock-conversation-2024",
  "system": [{"text"}], "messages": [{"role", "content": [{"text"}]}]}`, first turn user, last
  assistant; `User:`, `Bot:`, `Assistant:`, `System:`, `<image>`, `<video>`, `[EOS]` are reserved
  and fail the job — https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html;
  8 to 20,000 records (Pro: 10,000), 32k tokens per record —
  https://docs.aws.amazon.com/nova/latest/userguide/customize-fine-tune.html
- Claude 3 Haiku: `{"system": "...", "messages": [{"role", "content": "..."}]}`, at least two
  messages, user first, alternating, assistant last, no other keys; 32 to 10,000 records, 32,000
  tokens per record — https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html
  and .../model-training-validation-requirements.html
- Titan Text (Express, Lite, Premier) and Meta Llama 3.1 Instruct: `{"prompt", "completion"}`
  (the non-conversational models; one prompt, one completion); Titan Text: 4,096 tokens per
  record at batch size 1 (and 6 characters per token) — same pages. Llama's record limits are
  not checked (None: unknown, never guessed).

Tokens per record are the call's own input + output token counts (as the model that answered
counted them), or characters / 4 where the call has none: an estimate, said so in the summary.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from promptlab.errors import UsageError

if TYPE_CHECKING:
    from promptlab.testing import TestRun


@dataclass(frozen=True)
class Family:
    name: str
    prefixes: tuple[str, ...]  # base model ids it covers (region prefixes stripped)
    shape: str  # "conversation" (Nova), "messages" (Claude), "prompt-completion"
    multi_turn: bool
    min_records: int | None
    max_records: int | None
    max_tokens: int | None  # input + output per record
    reserved: tuple[str, ...] = ()


NOVA_RESERVED = ("User:", "Bot:", "Assistant:", "System:", "<image>", "<video>", "[EOS]")

FAMILIES: tuple[Family, ...] = (
    Family("nova", ("amazon.nova-micro", "amazon.nova-lite"), "conversation", True, 8, 20_000,
           32_000, NOVA_RESERVED),
    Family("nova-pro", ("amazon.nova-pro",), "conversation", True, 8, 10_000, 32_000,
           NOVA_RESERVED),
    Family("claude-3-haiku", ("anthropic.claude-3-haiku",), "messages", True, 32, 10_000, 32_000),
    Family("titan-text", ("amazon.titan-text",), "prompt-completion", False, None, None, 4_096),
    Family("llama-3.1", ("meta.llama3-1",), "prompt-completion", False, None, None, None),
)  # fmt: skip

SHAPE_NAMES = {
    "conversation": "bedrock-conversation-2024",
    "messages": "system + messages",
    "prompt-completion": "prompt/completion",
}


def family_for(base: str, model_id: str | None) -> Family:
    """The family of a family name or a resolved base model id. UsageError naming them all."""
    by_name = {f.name: f for f in FAMILIES}
    if base in by_name:
        return by_name[base]
    bare = (model_id or base).rsplit("/", 1)[-1]
    for region in ("us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca."):
        bare = bare.removeprefix(region)
    for family in FAMILIES:
        if bare.startswith(family.prefixes):
            return family
    raise UsageError(
        f"--base {base}: no fine-tuning format known for {bare}",
        f"give a base model of one of: {', '.join(f.name for f in FAMILIES)} "
        "(e.g. --base nova-lite)",
    )


# ---------------------------------------------------------------- one record


@dataclass(frozen=True)
class Pair:
    """One answer chosen for training: the conversation as sent, and the answer."""

    system: str
    turns: tuple[tuple[str, str], ...]  # (role, text), ending with a user turn
    answer: str
    tokens: int | None  # the call's input + output tokens, when counted


def read_pair(request: dict[str, Any], answer: str, tokens: int | None) -> Pair | str:
    """The stored Converse request and answer as a Pair, or why it cannot be one."""
    if not isinstance(request.get("messages"), list):
        return "it is not a conversation (an image model's request)"
    system = []
    for block in request.get("system") or []:
        if "text" in block:
            system.append(block["text"])
        elif "cachePoint" not in block:
            return f"its system prompt has {_kind(block)} content (text-only export)"
    turns: list[tuple[str, str]] = []
    for message in request.get("messages") or []:
        texts = []
        for block in message.get("content") or []:
            if "text" in block:
                texts.append(block["text"])
            elif "cachePoint" not in block:
                return f"it sends {_kind(block)} content (text-only export)"
        turns.append((message.get("role", ""), "\n".join(texts)))
    if not turns or turns[-1][0] != "user":
        return "its request does not end with a user message"
    if not answer.strip():
        return "its answer is empty"
    return Pair("\n".join(system), tuple(turns), answer, tokens)


def _kind(block: dict[str, Any]) -> str:
    return next(iter(block), "non-text")


def record(family: Family, pair: Pair) -> dict[str, Any] | str:
    """The JSONL record for this family, or why the pair does not fit it."""
    turns = [*pair.turns, ("assistant", pair.answer)]
    if [role for role, _ in turns] != ["user", "assistant"] * (len(turns) // 2):
        return "its messages do not alternate user, assistant"
    if not family.multi_turn and len(turns) > 2:
        return f"it has several turns ({family.name} takes one prompt and one completion)"
    for word in family.reserved:
        if word in pair.system or any(word in text for role, text in pair.turns if role == "user"):
            return f"its prompt contains {word!r}, which {family.name} reserves"
    tokens = pair.tokens
    if tokens is None:
        chars = len(pair.system) + sum(len(t) for _, t in turns)
        tokens = math.ceil(chars / 4)
    if family.max_tokens is not None and tokens > family.max_tokens:
        return f"it is over {family.name}'s {family.max_tokens:,} tokens per record"
    if family.shape == "conversation":
        out: dict[str, Any] = {"schemaVersion": "bedrock-conversation-2024"}
        if pair.system:
            out["system"] = [{"text": pair.system}]
        out["messages"] = [{"role": r, "content": [{"text": t}]} for r, t in turns]
        return out
    if family.shape == "messages":
        out = {"system": pair.system} if pair.system else {}
        out["messages"] = [{"role": r, "content": t} for r, t in turns]
        return out
    prompt = (pair.system + "\n\n" if pair.system else "") + pair.turns[0][1]
    return {"prompt": prompt, "completion": pair.answer}


# ---------------------------------------------------------------- the whole file


@dataclass(frozen=True)
class Candidate:
    call_id: int
    pair: Pair | str  # a Pair, or why the call cannot be one
    mean_score: float | None
    picked: bool  # picked as better by most raters who picked in its case
    estimated: bool  # tokens estimated from characters
    passed: bool | None = None  # its test case passed (None: no test outcome known)


@dataclass
class Selection:
    records: list[dict[str, Any]] = field(default_factory=list)
    left_out: Counter[str] = field(default_factory=Counter)
    estimated: int = 0  # records whose token count is an estimate
    warnings: list[str] = field(default_factory=list)


def select(
    family: Family, candidates: list[Candidate], *, min_score: float | None, winners: bool,
    passing: bool = False,
) -> Selection:  # fmt: skip
    """Records from the candidates that meet every criterion given, one per distinct prompt
    (the best-rated answer to it), within the family's limits; the rest counted by reason."""
    chosen: dict[str, tuple[float, dict[str, Any], Candidate]] = {}
    out = Selection()
    for c in candidates:
        if min_score is not None and (c.mean_score is None or c.mean_score < min_score):
            out.left_out["not scored" if c.mean_score is None else
                         f"mean score below {min_score:g}"] += 1  # fmt: skip
            continue
        if winners and not c.picked:
            out.left_out["not picked as the better answer"] += 1
            continue
        if passing and c.passed is not True:
            out.left_out["it failed its assertions" if c.passed is False else
                         "no test outcome (give a `test --json` report)"] += 1  # fmt: skip
            continue
        if isinstance(c.pair, str):
            out.left_out[c.pair] += 1
            continue
        made = record(family, c.pair)
        if isinstance(made, str):
            out.left_out[made] += 1
            continue
        key = json.dumps([c.pair.system, c.pair.turns])
        rank = (c.mean_score or 0.0) + (0.5 if c.picked else 0.0)
        if key in chosen:
            out.left_out["a better-rated answer to the same prompt was kept"] += 1
            if chosen[key][0] >= rank:
                continue
        chosen[key] = (rank, made, c)
    kept = list(chosen.values())
    if family.max_records is not None and len(kept) > family.max_records:
        out.left_out[f"over {family.name}'s {family.max_records:,} records"] += (
            len(kept) - family.max_records
        )
        kept = kept[: family.max_records]
    out.records = [made for _, made, _ in kept]
    out.estimated = sum(1 for _, _, c in kept if c.estimated)
    if family.min_records is not None and 0 < len(out.records) < family.min_records:
        out.warnings.append(
            f"{len(out.records)} records: Bedrock needs at least {family.min_records} to "
            f"fine-tune {family.name}; collect more answers before starting a job"
        )
    return out


def report_candidates(run: TestRun) -> list[Candidate]:
    """A `promptlab test --json` report's samples as candidates: passed = the sample passed."""
    out = []
    for case in run.cases:
        for sample in case.samples:
            r = sample.result
            counted = (r.input_tokens is not None and r.output_tokens is not None
                       and not r.tokens_estimated)  # fmt: skip
            tokens = (r.input_tokens or 0) + (r.output_tokens or 0) if counted else None
            pair: Pair | str = (
                "the call failed" if r.error is not None else read_pair(r.request, r.output, tokens)
            )
            out.append(Candidate(0, pair, None, False, not counted, sample.status == "pass"))
    return out

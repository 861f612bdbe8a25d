"""Judged checks against the sources: `grounded`, `context-relevance`, `answer-relevance`.

A judge model reads a judge prompt (judgeprompts.py) and replies with JSON; the reply is read
strictly and scored here. The call goes through the grader services (their budget, recorded
with its cost). When the judge is an offline model (echo), it cannot judge: these checks then
score by word overlap instead, deterministically, so suites run offline (`offline.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptlab.assertions import judgeprompts, offline
from promptlab.assertions.base import Assertion, BadAssertion, Context, Verdict, quote
from promptlab.assertions.evidence import Evidence, evidence, no_evidence, without_markers
from promptlab.assertions.graders import call_failed, json_object

THRESHOLDS = {"grounded": 1.0, "context-relevance": 0.5, "answer-relevance": 1.0}
ADDRESSES = {"fully": 1.0, "partly": 0.5, "no": 0.0}
SHOWN = 5  # unsupported claims named in a reason


@dataclass(frozen=True)
class JudgeSpec:
    kind: str
    prompt: Path | None = None  # the assertion's `judge_prompt:`, resolved and checked


def prepare(a: Assertion, root: Path) -> JudgeSpec:
    if a.value is not None:
        raise BadAssertion(f"'{a.type}' takes no value", f"write - {a.type} (options: model, "
                           "judge_prompt, threshold)", "value")  # fmt: skip
    model = a.options.get("model")
    if model is not None and (not isinstance(model, str) or not model):
        raise BadAssertion(f"'model' must be a model alias or id, got {model!r}", key="model")
    given = a.options.get("judge_prompt")
    if given is None:
        return JudgeSpec(a.type)
    if not isinstance(given, str) or not given.strip():
        raise BadAssertion(f"'judge_prompt' must be the path of a prompt file, got {given!r}",
                           "relative to this file, e.g. judges/strict.yaml",
                           "judge_prompt")  # fmt: skip
    path = (root / given.strip()).resolve()
    if not path.is_file():
        raise BadAssertion(f"judge prompt {given!r} not found (looked for {path})",
                           "the path is relative to the suite file", "judge_prompt")  # fmt: skip
    try:
        judgeprompts.load(a.type, path)
    except judgeprompts.BadJudgePrompt as exc:
        raise BadAssertion(exc.message, exc.hint, "judge_prompt") from None
    return JudgeSpec(a.type, path)


def _threshold(a: Assertion) -> float:
    return a.threshold if a.threshold is not None else THRESHOLDS[a.type]


@dataclass(frozen=True)
class Reply:
    data: dict[str, Any]  # the judge's JSON object, its shape checked (read_reply)
    tokens: int
    cost_usd: float | None


def _ask(
    a: Assertion, ctx: Context, ev: Evidence | None
) -> tuple[str, Reply | None, Verdict | None]:
    """(judge model, its reply, None), or (model, None, None) for an offline judge, or
    (model, None, a verdict saying why there is no reply)."""
    model = str(a.options.get("model") or ctx.judge_model)
    if offline.is_offline(model):
        return model, None, None
    if ctx.services is None:
        return model, None, Verdict(False, 0.0, f"no model access for '{a.type}'", broken=True)
    spec: JudgeSpec = a.compiled
    values = {"question": ctx.question or ctx.user_prompt, "answer": ctx.output,
              "context": ev.formatted() if ev else ""}  # fmt: skip
    try:
        prompt = judgeprompts.load(a.type, judgeprompts.locate(a.type, spec.prompt,
                                                               ctx.prompts_dir))  # fmt: skip
        request = judgeprompts.request(prompt, values)
        completion, cost = ctx.services.complete(model, request, ctx.result)
    except judgeprompts.BadJudgePrompt as exc:
        return model, None, Verdict(False, 0.0, exc.message, broken=True)
    except Exception as exc:
        return model, None, call_failed(f"judge {model}", exc)
    tokens = (completion.input_tokens or 0) + (completion.output_tokens or 0)
    try:
        data = read_reply(a.type, completion.output)
    except ValueError as exc:
        return model, None, Verdict(False, 0.0, f"malformed reply from {model}: {exc}",
                                    tokens=tokens, cost_usd=cost, broken=True)  # fmt: skip
    return model, Reply(data, tokens, cost), None


def read_reply(kind: str, text: str) -> dict[str, Any]:
    """The judge's JSON object (one ```json fence allowed), checked for its kind's shape."""
    data = json_object(text)
    if kind == "grounded":
        claims = data.get("claims")
        if not isinstance(claims, list) or not all(
            isinstance(c, dict) and isinstance(c.get("claim"), str)
            and isinstance(c.get("supported"), bool) for c in claims
        ):  # fmt: skip
            raise ValueError('expected {"claims": [{"claim": text, "supported": true|false}]}')
    elif kind == "context-relevance":
        items = data.get("passages")
        if not isinstance(items, list) or not all(
            isinstance(p, dict) and isinstance(p.get("relevant"), bool) and "id" in p for p in items
        ):
            raise ValueError('expected {"passages": [{"id": "1", "relevant": true|false}]}')
    elif data.get("addresses") not in ADDRESSES:
        raise ValueError('expected {"addresses": "fully" | "partly" | "no", "reason": text}, '
                         f"got addresses {data.get('addresses')!r}")  # fmt: skip
    return data


def _verdict(a: Assertion, score: float, text: str, reply: Reply | None) -> Verdict:
    threshold = _threshold(a)
    ok = score >= threshold
    if not ok:
        text = f"score {score:.2f} < {threshold:g}: {text}"
    if reply is None:
        return Verdict(ok, score, text)
    return Verdict(ok, score, text, tokens=reply.tokens, cost_usd=reply.cost_usd)


def _ask_about_evidence(a: Assertion, ctx: Context) -> tuple[Evidence, str, Reply | None] | Verdict:
    """The evidence, the judge model and its reply (None: judged offline), or the verdict
    when there is no evidence or no reply."""
    ev = evidence(ctx)
    if ev is None:
        return no_evidence()
    model, reply, failed = _ask(a, ctx, ev)
    return failed if failed is not None else (ev, model, reply)


def grounded(a: Assertion, ctx: Context) -> Verdict:
    """Score: the share of the answer's claims the evidence supports (threshold 1.0)."""
    asked = _ask_about_evidence(a, ctx)
    if isinstance(asked, Verdict):
        return asked
    ev, model, reply = asked
    if reply is None:
        known = offline.words(ev.text)
        claims = [(c, offline.supported(c, known)) for c in offline.claims(ctx.output)]
        who = f"{model} (offline, word overlap)"
    else:
        claims = [(c["claim"], c["supported"]) for c in reply.data["claims"]]
        who = model
    if not claims:
        return _verdict(a, 1.0, f"{who}: no factual claims in the answer", reply)
    bad = [c for c, ok in claims if not ok]
    score = 1.0 - len(bad) / len(claims)
    if not bad:
        return _verdict(a, score, f"{who}: all {len(claims)} claim(s) supported by "
                        f"{ev.describe()}", reply)  # fmt: skip
    named = "; ".join(quote(c, 80) for c in bad[:SHOWN])
    more = f" (+{len(bad) - SHOWN} more)" if len(bad) > SHOWN else ""
    return _verdict(a, score, f"{who}: {len(bad)} of {len(claims)} claim(s) not supported by "
                    f"{ev.describe()}: {named}{more}", reply)  # fmt: skip


def context_relevance(a: Assertion, ctx: Context) -> Verdict:
    """Score: the share of the passages that help answer the question (threshold 0.5)."""
    asked = _ask_about_evidence(a, ctx)
    if isinstance(asked, Verdict):
        return asked
    ev, model, reply = asked
    question = ctx.question or ctx.user_prompt
    if reply is None:
        relevant = {p.id for p in ev.passages if offline.relevant(p.text, question)}
        who = f"{model} (offline, word overlap)"
    else:
        relevant = {str(p["id"]).strip("[]") for p in reply.data["passages"]
                    if p["relevant"]}  # fmt: skip
        who = model
    off = [p for p in ev.passages if p.id not in relevant]
    score = 1.0 - len(off) / len(ev.passages)
    text = f"{who}: {len(ev.passages) - len(off)} of {len(ev.passages)} passage(s) relevant"
    if off:
        text += "; not: " + ", ".join(p.label for p in off[:SHOWN])
    return _verdict(a, score, text, reply)


def answer_relevance(a: Assertion, ctx: Context) -> Verdict:
    """Does the answer address the question? fully 1, partly 0.5, no 0 (threshold 1.0).
    Needs no sources."""
    model, reply, failed = _ask(a, ctx, evidence(ctx))
    if failed is not None:
        return failed
    question = ctx.question or ctx.user_prompt
    if reply is None:
        addresses = offline.addresses(without_markers(ctx.output), question)
        text = f"{model} (offline, word overlap): addresses the question {addresses}"
    else:
        addresses = reply.data["addresses"]
        why = reply.data.get("reason")
        text = f"{model}: addresses the question {addresses}" + (
            f": {why}" if isinstance(why, str) and why else "")  # fmt: skip
    return _verdict(a, ADDRESSES[addresses], text, reply)

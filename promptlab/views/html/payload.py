"""What the report's script draws: Results and test outcomes as small JSON-ready dicts.

Numbers are formatted here (views.format), so the page shows them exactly as the terminal does;
model text is made inert (control characters visible) but otherwise kept whole: the page puts
it in the DOM with `textContent` only. Every answer carries `out` (its text, or its structured
value as indented JSON) and, from views.answer, the parts the terminal shows too: `invalid`
(why a structured answer failed its schema), `calls` (tool calls and the results sent back),
`sources` (cited passages), `passages` (what was retrieved for the call: its line and text) and
`exchange` (the model calls of a tool exchange). Content blocks those do not cover (reasoning,
media, unknown kinds) come as `blocks`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from promptlab.results import REDACTED, Result
from promptlab.testing import CaseOutcome, TestRun
from promptlab.views.answer import answer_of
from promptlab.views.export import groups
from promptlab.views.format import model_label, ms, served_label, token_usage, usd, vars_label
from promptlab.views.sanitize import inert
from promptlab.views.testreport import cost, pct

STATUS_ORDER = {"fail": 0, "error": 1, "pass": 2}
IMAGE_FORMATS = frozenset({"png", "jpeg", "gif", "webp"})
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
MAX_INLINE_IMAGE = 2_000_000  # characters of base64; larger images become placeholders


def js(value: Any) -> str:
    """Readable JSON for a <pre>: Unicode kept, anything unknown as its str()."""
    return inert(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def facts(r: Result) -> str:
    parts = [
        f"tokens {token_usage(r, words=True)}",
        f"latency {ms(r.latency_ms)}",
    ]
    if r.wall_ms is not None and r.wall_ms != r.latency_ms:
        parts.append(f"wall {ms(r.wall_ms)}")
    if r.ttft_ms is not None:
        parts.append(f"TTFT {ms(r.ttft_ms)}")
    parts.append("cost –" if r.error else f"cost {usd(r.cost_usd, real=r.real_model)}")
    if r.cached:
        parts.append("cached")
    if r.stop_reason:
        parts.append(f"stop {inert(r.stop_reason)}")
    served = served_label(r)  # a fallback chain's link, a router's pick, the tier that ran
    return " · ".join([served, *parts] if served else parts)


def media(kind: str, body: Any) -> dict[str, Any]:
    body = body if isinstance(body, dict) else {}
    fmt = str(body.get("format") or "?")
    source = body.get("source") if isinstance(body.get("source"), dict) else {}
    raw = source.get("bytes")
    label = [kind, fmt]
    if isinstance(raw, dict):
        if isinstance(raw.get("size"), int):
            label.append(f"{raw['size']:,} bytes")
        if raw.get("sha256"):
            label.append(f"sha256 {str(raw['sha256'])[:12]}…")
    elif source.get("s3Location"):
        label.append(f"at {json.dumps(source['s3Location'], default=str)}")
    out: dict[str, Any] = {"t": "media", "label": inert(" · ".join(label))}
    if (kind == "image" and fmt in IMAGE_FORMATS and isinstance(raw, str)
            and len(raw) <= MAX_INLINE_IMAGE and _BASE64.fullmatch(raw)):  # fmt: skip
        out["src"] = f"data:image/{fmt};base64,{raw}"
    return out


ANSWER_KEYS = ("text", "toolUse", "citationsContent")  # drawn from views.answer, not as blocks


def block(b: Any) -> dict[str, Any]:
    """One Converse content block that is not text, a tool use or a citation (views.answer
    shows those) as a typed item the script knows how to draw."""
    if not isinstance(b, dict):
        return {"t": "other", "label": "block", "json": js(b)}
    if isinstance(b.get("reasoningContent"), dict):
        rc = b["reasoningContent"]
        rt = rc.get("reasoningText")
        if isinstance(rt, dict) and isinstance(rt.get("text"), str):
            if rt["text"].strip() != REDACTED:
                return {"t": "reasoning", "v": inert(rt["text"])}
            return {"t": "reasoning", "v": "(reasoning redacted by the provider)"}
        if "redactedContent" in rc:
            return {"t": "reasoning", "v": "(reasoning redacted by the provider)"}
    for kind in ("image", "document", "video"):
        if kind in b:
            return media(kind, b[kind])
    return {"t": "other", "label": inert(str(next(iter(b), "block"))), "json": js(b)}


def other_blocks(
    content: Sequence[Any], keys: tuple[str, ...] = ANSWER_KEYS
) -> list[dict[str, Any]]:
    """The blocks views.answer does not show: reasoning, media, kinds unknown here."""
    return [block(b) for b in content
            if not (isinstance(b, dict) and any(k in b for k in keys))]  # fmt: skip


def image_data(image: dict[str, Any]) -> dict[str, Any]:
    """One generated image for the page's grid: a thumbnail embedded as a data URI (the page
    stays self-contained and links nowhere) and its line, which names the full file."""
    from promptlab.views.images import image_line
    from promptlab.views.thumbnails import data_uri

    path = image.get("path")
    out: dict[str, Any] = {"label": image_line(image)}
    if path:
        out["src"] = data_uri(str(path))
    return out


def answer_data(r: Result) -> dict[str, Any]:
    """The answer's parts (views.answer) as the script reads them."""
    a = answer_of(r)
    d: dict[str, Any] = {"out": a.text}
    if a.structured:
        d["structured"] = True
    if a.guardrail:
        d["guardrail"] = a.guardrail
        d["blocked"] = a.blocked
    if a.invalid_line:
        d["invalid"] = a.invalid_line
    if a.calls:
        d["calls"] = [{"call": c.call, "json": js(c.input), "result": c.result_line}
                      for c in a.calls]  # fmt: skip
    if a.sources:
        d["sources"] = [s.line() for s in a.sources]
    if a.exchange:
        d["exchange"] = a.exchange
    if r.passages:
        from promptlab.views.rendered import passage_line

        d["passages"] = [{"line": passage_line(p), "text": inert(str(p.get("text") or ""))}
                         for p in r.passages]  # fmt: skip
    if r.images:
        d["images"] = [image_data(i) for i in r.images]
    blocks = other_blocks(r.content, (*ANSWER_KEYS, "image") if r.images else ANSWER_KEYS)
    if blocks:
        d["blocks"] = blocks
    return d


class Results:
    """Numbers each answer drawn on the page, so the script can pick any two to compare."""

    def __init__(self) -> None:
        self.count = 0

    def data(self, r: Result, label: str) -> dict[str, Any]:
        self.count += 1
        d: dict[str, Any] = {"id": self.count, "label": inert(label), "facts": facts(r)}
        d.update(answer_data(r))
        if r.error:
            e = r.error
            d["err"] = {"code": inert(e.code), "message": inert(e.message),
                        "hint": inert(e.hint) if e.hint else None}  # fmt: skip
        if r.notices:
            d["notices"] = [inert(n) for n in r.notices]
        return d


def column_key(r: Result, with_version: bool) -> tuple[Any, ...]:
    model = (r.model_alias, r.model_id, r.real_model)
    return (*model, r.prompt_name, r.prompt_version, r.prompt_hash, r.prompt_ref) if (
        with_version
    ) else model  # fmt: skip


def run_payload(results: Sequence[Result]) -> dict[str, Any]:
    """Columns (model, or prompt version × model) and one row per case or vars set."""
    with_version = len({(r.prompt_hash, r.prompt_ref) for r in results}) > 1
    keys: dict[tuple[Any, ...], int] = {}
    columns: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    numbered = Results()
    for n, group in enumerate(groups(results), 1):
        cells: dict[int, list[dict[str, Any]]] = {}
        for r in group:
            key = column_key(r, with_version)
            if key not in keys:
                keys[key] = len(columns)
                columns.append(column(r, with_version))
            col = keys[key]
            label = f"{inert(group[0].case or f'#{n}')} · {columns[col]['short']}"
            seed = r.images[0].get("seed") if r.images else None
            if seed is not None:
                label += f" · seed {seed}"
            elif r.repeat_index:
                label += f" · repeat {r.repeat_index + 1}"
            cells.setdefault(col, []).append(numbered.data(r, label))
        first = group[0]
        rows.append({
            "key": inert(first.case or vars_label(first.vars, 120) or f"call {n}"),
            "vars": inert(vars_label(first.vars, 2000)) if first.vars else "",
            "status": "error" if any(r.error for r in group) else "ok",
            "cells": {str(c): v for c, v in cells.items()},
        })  # fmt: skip
    return {"kind": "run", "columns": columns, "rows": rows}


def column(r: Result, with_version: bool) -> dict[str, Any]:
    short = r.model_alias
    if with_version:
        short = f"{r.prompt_name} v{r.prompt_version} · {short}"
    return {
        "alias": inert(r.model_alias),
        "prompt": inert(r.prompt_name),
        "short": inert(short),
        "label": inert(model_label(r, with_version=with_version)),
    }


def prompt_label(prompt: dict[str, Any]) -> str:
    return f"{prompt.get('name', '?')} v{prompt.get('version', '?')}"


def test_payload(run: TestRun) -> dict[str, Any]:
    """One row per case × model, failed and errored first."""
    numbered = Results()
    tags = baseline_tags(run)
    cases = sorted(run.cases, key=lambda c: STATUS_ORDER.get(c.status, 3))
    rows = [test_row(c, numbered, tags.get(c.key)) for c in cases]
    return {"kind": "test", "rows": rows}


def test_row(c: CaseOutcome, numbered: Results, tag: str | None) -> dict[str, Any]:
    samples = []
    for s in c.samples:
        label = f"{c.key} · sample {s.result.repeat_index + 1}"
        samples.append({
            "n": s.result.repeat_index + 1, "status": s.status, "score": f"{s.score:.2f}",
            "reason": inert(s.reason), "r": numbered.data(s.result, label),
            "asserts": [[inert(a.name), inert(a.type), a.passed, f"{a.score:.2f}",
                         inert(a.reason),
                         inert(f"{a.error.code}: {a.error.message}") if a.error else ""]
                        for a in s.assertions],
        })  # fmt: skip
    row = {
        "key": inert(c.key), "prompt": inert(c.prompt.get("name", "?")),
        "plabel": inert(prompt_label(c.prompt)), "case": inert(c.case),
        "desc": inert(c.description), "where": inert(c.where),
        "model": inert(c.model), "mid": inert(c.model_id), "status": c.status,
        "reason": inert(c.reason),
        "rate": f"{c.passes}/{c.repeat}" if c.repeat > 1 else pct(c.pass_rate),
        "agree": pct(c.agreement) if c.repeat > 1 else "", "score": f"{c.score:.2f}",
        "cost": cost(c), "lat": ms(c.latency_ms), "samples": samples,
    }  # fmt: skip
    if tag:
        row["base"] = tag
    return row


def baseline_tags(run: TestRun) -> dict[str, str]:
    diff = run.baseline
    if diff is None:
        return {}
    tags: dict[str, str] = {}
    for label, keys in (("output changed", diff.changed_outputs), ("new", diff.new_cases),
                        ("newly passing", diff.newly_passing),
                        ("newly failing", diff.newly_failing)):  # fmt: skip
        for key in keys:
            tags[key] = label  # later lines win: a new failure outranks a changed output
    return tags

"""`promptlab render`: the request as text (every turn, attachment, tool, cache point and
schema) or as the exact JSON body."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from promptlab.controls import RUN_KEY, mode_label, ran
from promptlab.request import ATTACHMENT_BLOCKS, CachePoint, Request, Text, record_form

if TYPE_CHECKING:
    from promptlab.media import Media


def request_json(request: Request, model_id: str | None, include_bytes: bool) -> str:
    """The Converse body as sent (with modelId when a model is named). Attached bytes are
    elided to their sha256 and size, or written as base64 with `include_bytes`."""
    body = request.to_converse()
    shown: dict[str, Any] = _with_base64(body) if include_bytes else record_form(body)
    if model_id:
        shown = {"modelId": model_id, **shown}
    return json.dumps(shown, indent=2, ensure_ascii=False)


def rag_json(kwargs: dict[str, Any]) -> str:
    """A knowledge base's RetrieveAndGenerate request (bedrock-agent-runtime) as sent."""
    return json.dumps(kwargs, indent=2, ensure_ascii=False)


def invoke_json(body: dict[str, Any], model_id: str, include_bytes: bool) -> str:
    """An InvokeModel request as sent: modelId, content types and the body (source images
    elided to their sha256 and size, or as base64 with `include_bytes`)."""
    shown = _with_base64(body) if include_bytes else record_form(body)
    call = {"modelId": model_id, "contentType": "application/json",
            "accept": "application/json", "body": shown}  # fmt: skip
    return json.dumps(call, indent=2, ensure_ascii=False)


def image_text(
    sections: dict[str, str],
    settings: dict[str, Any],
    attachments: Sequence[tuple[str, Media]],
    header: str,
    notices: list[str],
) -> str:
    """An image prompt as a reader checks it: the prompt, the negative prompt, the settings a
    model gets, and each source image (kind, format, size, sha256)."""
    from promptlab.media import describe

    lines = [header, *(f"# note: {n}" for n in notices)]
    lines += ["", "━━━ prompt ━━━", sections.get("prompt", "")]
    if sections.get("negative_prompt"):
        lines += ["", "━━━ negative prompt ━━━", sections["negative_prompt"]]
    if attachments:
        lines += ["", "━━━ images ━━━"]
        lines += [f"[{name}: {describe(media)}]" for name, media in attachments]
    if settings:
        lines += ["", "━━━ image settings ━━━", json.dumps(settings, ensure_ascii=False)]
    return "\n".join(lines)


def _with_base64(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: _with_base64(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_with_base64(v) for v in value]
    return value


def request_text(
    request: Request, attachments: Sequence[tuple[str, Media]], header: str, notices: list[str]
) -> str:
    """The request as a reader checks it: system, each turn (attachments described on a line
    each, in the order sent), tools, output schema, inference settings."""
    lines = [header, *(f"# note: {n}" for n in notices)]
    if request.system:
        lines += ["", "━━━ system (instructions) ━━━"]
        lines += [b.text if isinstance(b, Text) else b.label
                  for b in request.system_content if isinstance(b, Text | CachePoint)]  # fmt: skip
    described = iter(attachments)
    turns = request.messages
    for i, message in enumerate(turns):
        last = i == len(turns) - 1
        title = (
            message.role if len(turns) == 1 else f"{message.role} (turn {i + 1} of {len(turns)})"
        )
        lines += ["", f"━━━ {title} ━━━"]
        for block in message.content:
            if isinstance(block, Text):
                lines.append(block.text.rstrip("\n"))  # text cut at a cache point ends in \n\n
            elif isinstance(block, CachePoint):
                lines.append(block.label)
            elif isinstance(block, ATTACHMENT_BLOCKS) and last:
                from promptlab.media import describe  # only when something is attached

                name, media = next(described, ("?", None))
                lines.append(f"[{name}: {describe(media)}]" if media else f"[{name}]")
            else:
                lines.append(json.dumps(record_form(block.to_converse()), ensure_ascii=False))
    tools = (request.tool_config or {}).get("tools") or []
    if tools:
        lines += ["", "━━━ tools ━━━"]
        for tool in tools:
            if "cachePoint" in tool:
                lines.append(CachePoint(tool["cachePoint"].get("ttl")).label)
                continue
            spec = tool.get("toolSpec", {})
            lines.append(
                f"{spec.get('name')}({_params(spec)})"
                + (f"  {spec['description']}" if spec.get("description") else "")
            )
        choice = (request.tool_config or {}).get("toolChoice")
        if choice:
            which = next(iter(choice))
            lines.append(f"tool choice: {choice['tool']['name'] if which == 'tool' else which}")
    schema = ((request.output_config or {}).get("textFormat") or {}).get("structure", {})
    if schema.get("jsonSchema"):
        lines += [
            "",
            "━━━ output schema (structured output) ━━━",
            json.dumps(json.loads(schema["jsonSchema"]["schema"]), indent=2, ensure_ascii=False),
        ]
    params = request.params.to_dict()
    if params:
        lines += ["", "━━━ inference ━━━", json.dumps(params, ensure_ascii=False)]
    guard = request.guardrail_config
    if guard:
        from promptlab.guardrails import label_of

        mode = guard.get("streamProcessingMode")
        lines += ["", "━━━ guardrail ━━━", f"{label_of(guard)} (trace {guard.get('trace')}"
                  + (f", stream {mode})" if mode else ")")]  # fmt: skip
    mode = mode_label(*ran(None, request))
    if mode:
        lines += ["", "━━━ service ━━━", mode]
    labels = request.metadata or {}
    if labels:
        pairs = " ".join(f"{k}={v}" for k, v in labels.items())
        later = "" if RUN_KEY in labels else f" (a run adds {RUN_KEY})"
        lines += ["", "━━━ request metadata ━━━", pairs + later]
    return "\n".join(lines)


def retrieved_text(passages: Sequence[dict[str, Any]], variant: str | None) -> str:
    """What was retrieved, one line a passage: `[1] policy-docs/refunds.md  score 1.27`."""
    title = "retrieved" + (f" ({variant})" if variant else "")
    lines = ["━━━ " + title + " ━━━"]
    lines += [passage_line(p) for p in passages] or ["(no passages)"]
    return "\n".join(lines)


def passage_line(p: dict[str, Any]) -> str:
    """`[1] policy-docs/refunds.md (chunk 2/3)  score 1.27  cited`, model text made inert."""
    from promptlab.views.sanitize import inert

    meta = p.get("metadata") or {}
    where = f" (chunk {meta['chunk']}/{meta['chunks']})" if "chunk" in meta else ""
    score = f"  score {p['score']:.3g}" if isinstance(p.get("score"), int | float) else ""
    cited = "  cited" if p.get("cited") else ""
    return inert(f"[{p.get('id')}] {p.get('source') or '?'}{where}{score}{cited}")


def _params(spec: dict[str, Any]) -> str:
    """`city: string, days?: integer`: a tool's input properties, optional ones marked."""
    schema = (spec.get("inputSchema") or {}).get("json") or {}
    required = set(schema.get("required") or [])
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        kind = prop.get("type", "any") if isinstance(prop, dict) else "any"
        out.append(f"{name}{'' if name in required else '?'}: {kind}")
    return ", ".join(out)

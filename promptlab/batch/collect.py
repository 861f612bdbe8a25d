"""Output records → Results: joined by record id (the service keeps no order), each priced at
the batch price, or that record's error; records a job never answered get the job's reason.

What a record's Result needs is kept in two parts (state.py): a template per prompt and model
(a Result before any answer, the model, the output schema), and per record its variables,
case, repeat and request (`asked`).
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from promptlab.batch.plan import Call
from promptlab.catalogue import ModelRef, cost_usd, served_base
from promptlab.config import Config
from promptlab.request import Text, record_form
from promptlab.results import Completion, ErrorInfo, Result
from promptlab.schemas import check_structured

BATCH_NOTICE = "ran as a batch inference record (batch price)"


def template_key(call: Call, memo: dict[tuple[Any, ...], str]) -> str:
    """What the records of one prompt, model and settings share, as a short key (`memo`:
    keys already made, by the objects' identity, so that most records skip the digest)."""
    job = call.job
    quick = (id(job.prompt), job.ref, tuple(call.notices), call.region, call.request.params,
             id(job.rendered.output_schema), bool(call.request.output_config))  # fmt: skip
    key = memo.get(quick)
    if key is None:
        shared = (repr(job.prompt_id), job.ref, quick[2], call.region,
                  call.request.params.to_dict(), job.rendered.output_schema, quick[-1])  # fmt: skip
        key = memo[quick] = hashlib.sha256(repr(shared).encode()).hexdigest()[:16]
    return key


def template(call: Call, run_id: str) -> dict[str, Any]:
    """The shared part: a Result before any answer (no per-record fields), and the model."""
    job, ref = call.job, call.job.ref
    result = job.new_result(call.request, call.notices, call.region, run_id).to_dict()
    for key in ("vars", "case", "repeat_index", "request"):
        result.pop(key, None)
    if BATCH_NOTICE not in result["notices"]:
        result["notices"].append(BATCH_NOTICE)
    return {"result": result, "alias": ref.alias, "model_id": ref.model_id,
            "base_id": ref.base_id, "provider": ref.provider,
            "schema": job.rendered.output_schema,
            "native": bool(call.request.output_config)}  # fmt: skip


def asked(call: Call, key: str, body: bytes) -> str:
    """The per-record part, as JSON: template key, variables, case, repeat and the request as
    recorded (the record's body; attachments by digest, never their bytes)."""
    request = call.request
    plain = all(isinstance(b, Text) for m in request.messages for b in m.content)
    recorded = body.decode("utf-8", "surrogatepass") if plain else json.dumps(
        record_form(json.loads(body)), ensure_ascii=False)  # fmt: skip
    return (
        f'{{"t":"{key}","v":{json.dumps(call.job.vars, ensure_ascii=False, default=str)},'
        f'"c":{json.dumps(call.job.case)},"r":{call.job.repeat_index},"q":{recorded}}}'
    )


class Templates:
    """The run's templates as Results, made once each."""

    def __init__(self, forms: dict[str, dict[str, Any]]) -> None:
        self.forms = forms
        self._made: dict[str, tuple[Result, ModelRef]] = {}

    def start(self, record: dict[str, Any]) -> tuple[Result, dict[str, Any], ModelRef]:
        """A record's Result before its answer, its template, its model."""
        key = record["t"]
        form = self.forms[key]
        if key not in self._made:
            ref = ModelRef(form["alias"], form["model_id"], form.get("base_id"),
                           form.get("provider") or "bedrock")  # fmt: skip
            self._made[key] = (Result.from_dict({**form["result"], "request": {}}), ref)
        base, ref = self._made[key]
        result = copy.copy(base)  # a shallow copy (dataclasses.replace is 5× slower here)
        result.vars, result.case = dict(record["v"]), record["c"]
        result.repeat_index, result.request = record["r"], record["q"]
        result.notices, result.content, result.turns = list(base.notices), [], []
        result.images, result.passages = [], []
        return result, form, ref


def completion_of(output: dict[str, Any]) -> Completion:
    """A record's modelOutput (a Converse response body) as a Completion."""
    from promptlab.providers.converse import completion, response_meta

    content = ((output.get("output") or {}).get("message") or {}).get("content") or []
    latency = (output.get("metrics") or {}).get("latencyMs")
    return completion(content, output.get("stopReason"), output.get("usage") or {}, latency,
                       response_meta(output))  # fmt: skip


def answered(
    templates: Templates, record: dict[str, Any], line: dict[str, Any], config: Config | None
) -> Result:
    """The Result of one output line: its answer at the batch price, or its error."""
    result, form, ref = templates.start(record)
    error = line.get("error")
    output = line.get("modelOutput")
    if error or not isinstance(output, dict):
        error = error if isinstance(error, dict) else {}
        code = str(error.get("errorCode") or "BatchRecordError")
        result.error = ErrorInfo(code, str(error.get("errorMessage") or "the record has no output"))
        return result
    completion = completion_of(output)
    result.take(completion)
    result.cost_usd = cost_usd(ref, completion.input_tokens, completion.output_tokens, config,
                               cache_read=completion.cache_read_tokens,
                               cache_write=completion.cache_write_tokens, batch=True,
                               served_by=served_base(ref, completion))  # fmt: skip
    if result.cost_usd is None and ref.real:
        note = f"{ref.alias}: no batch price is known: cost unknown"
        if note not in result.notices:
            result.notices.append(note)
    if form.get("schema"):
        result.structured = check_structured(form["schema"], result.output, bool(form["native"]))
    return result


def unanswered(
    templates: Templates, record: dict[str, Any], job_name: str, status: str, message: str
) -> Result:
    """The Result of a record its job produced no output line for: the job's reason."""
    result, _, _ = templates.start(record)
    why = f": {message}" if message else ""
    if status in ("Completed", "PartiallyCompleted"):
        code, text = "BatchRecordMissing", f"batch job {job_name} wrote no output for this record"
    else:
        code = f"BatchJob{status}"
        text = f"batch job {job_name} {status.lower()}{why}; this record was not processed"
    hint = "run the command again with --resume RUN and without --batch to make them online"
    result.error = ErrorInfo(code, text, hint, infrastructure=True)
    return result

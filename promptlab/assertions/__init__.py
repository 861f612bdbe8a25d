"""Assertions: one function per type plus a registry. A new type is one function + one line.

Each check returns a Verdict (pass, score 0..1, reason). `not-<type>` negates any type.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from promptlab.assertions import (
    graders,
    grounding,
    groundjudge,
    guardrail,
    images,
    markup,
    metrics,
    overlap,
    pyfunc,
    rated,
    structured,
    text,
    tools,
)
from promptlab.assertions.base import (
    Assertion,
    BadAssertion,
    Check,
    Context,
    Services,
    Verdict,
)
from promptlab.errors import Problem
from promptlab.fields import STRING, Fields, did_you_mean, number, one_of
from promptlab.masking import mask
from promptlab.yamlfile import YamlDoc

__all__ = [
    "COMMON_KEYS",
    "TYPES",
    "Assertion",
    "Context",
    "Services",
    "Verdict",
    "evaluate",
    "parse_assertion",
    "uses_judge",
]

COMMON_KEYS = ("type", "value", "weight", "name", "metric", "threshold", "on")
JUDGE_KEYS = ("model", "judge_prompt")  # the judged checks against the sources
ON = ("answer", "reasoning")  # what a text assertion reads (`on:`)

TYPES: dict[str, Check] = {
    "equals": Check(text.equals, text.prepare_equals, summary="output equals the value"),
    "contains": Check(text.contains, text.need_string, summary="output contains the text"),
    "icontains": Check(text.icontains, text.need_string, summary="contains, ignoring case"),
    "contains-any": Check(text.contains_any, text.need_strings, summary="contains one of"),
    "contains-all": Check(text.contains_all, text.need_strings, summary="contains every one of"),
    "icontains-any": Check(text.icontains_any, text.need_strings, summary="contains-any, any case"),
    "icontains-all": Check(text.icontains_all, text.need_strings, summary="contains-all, any case"),
    "starts-with": Check(text.starts_with, text.need_string, summary="output starts with"),
    "ends-with": Check(text.ends_with, text.need_string, summary="output ends with"),
    "regex": Check(text.regex, text.prepare_regex, summary="a regular expression matches"),
    "length": Check(text.length, text.prepare_length, ("min", "max", "unit"), "optional",
                    summary="length in chars or words within min..max"),
    "is-json": Check(structured.is_json, structured.prepare_is_json, ("path",), "none",
                     summary="output parses as JSON"),
    "json-schema": Check(structured.json_schema, structured.prepare_schema, ("schema", "path"),
                         "optional", summary="output (or a field) validates against a schema "
                         "(default: the prompt's output_schema)"),
    "contains-json": Check(structured.contains_json, structured.prepare_contains_json,
                           ("schema",), "optional",
                           summary="a JSON object or array in the output (matching a schema)"),
    "is-xml": Check(markup.is_xml, markup.prepare_xml, ("elements",), "optional",
                    summary="output is well-formed XML (with these elements)"),
    "contains-xml": Check(markup.contains_xml, markup.prepare_xml, ("elements",), "optional",
                          summary="a well-formed XML element in the output"),
    "tool-called": Check(tools.tool_called, tools.prepare_tool_called, ("times",), "optional",
                         text=False, summary="a tool (this one, these in order) was called"),
    "tool-args": Check(tools.tool_args, tools.prepare_tool_args,
                       ("tool", "equals", "path", "schema"), "optional", text=False,
                       summary="a tool call's input equals / has a value / fits a schema"),
    "valid-tool-call": Check(tools.valid_tool_call, tools.prepare_valid_tool_call, (), "none",
                             text=False,
                             summary="every tool call's input fits its tool's inputSchema"),
    "levenshtein": Check(overlap.levenshtein, overlap.prepare_levenshtein, scored=True,
                         threshold_max=None, summary="edit distance ≤ threshold (5)"),
    "rouge-n": Check(overlap.rouge_n, overlap.prepare_rouge, ("n",), scored=True, quick=False,
                     summary="ROUGE-N F-measure ≥ threshold (0.75)"),
    "bleu": Check(overlap.bleu, overlap.prepare_bleu, scored=True, quick=False,
                  summary="sentence BLEU ≥ threshold (0.5)"),
    "max-latency-ms": Check(metrics.max_latency_ms, metrics.need_number, text=False,
                            summary="latency ≤"),
    "max-output-tokens": Check(metrics.max_output_tokens, metrics.need_number, text=False,
                               summary="output tokens ≤"),
    "max-cost-usd": Check(metrics.max_cost_usd, metrics.need_number, text=False,
                          summary="call cost ≤"),
    "stop-reason": Check(metrics.stop_reason, metrics.prepare_stop, text=False,
                         summary="stop reason is"),
    "served-by": Check(metrics.served_by, metrics.prepare_served_by, text=False,
                       summary="a fallback chain's link (or a router's pick) answered"),
    "similar": Check(graders.similar, graders.prepare_similar, ("model", "image"), "optional",
                     scored=True, remote=True, quick=False, text=False,
                     summary="embedding cosine similarity ≥ threshold (0.8; image to text 0.3)"),
    "judge": Check(graders.judge, graders.prepare_model, ("model",), scored=True, remote=True,
                   quick=False, judged=True,
                   summary="a grader model passes the output (or the images) against a rubric"),
    "guardrail": Check(guardrail.guardrail, guardrail.prepare_guardrail, ("policy", "where"),
                       summary="the call's guardrail intervened or passed (by a policy, on input "
                       "or output)"),
    "apply-guardrail": Check(guardrail.apply_guardrail, guardrail.prepare_apply,
                             ("guardrail", "source", "policy"), "optional", remote=True,
                             quick=False, summary="ApplyGuardrail on the output (or input) "
                             "passes (or intervenes, as the value says)"),
    "image-count": Check(images.image_count, images.prepare_count, ("min", "max"), "optional",
                         text=False, summary="images made (filtered ones not counted)"),
    "image-size": Check(images.image_size, images.prepare_size, ("min", "max"), "optional",
                        text=False,
                        summary="every image is WxH, has the shape W:H, or fits min..max"),
    "filtered": Check(images.filtered, images.prepare_filtered, (), "none", text=False,
                      summary="a filter withheld an image (use not-filtered)"),
    "cites": Check(grounding.cites, grounding.prepare_cites, (), "optional",
                   summary="the answer cites N sources, or these, by [id] or the service's "
                   "citations"),
    "numbers-grounded": Check(grounding.numbers_grounded, grounding.prepare_numbers, ("ignore",),
                              "none", summary="every number in the answer is in the sources"),
    "grounded": Check(groundjudge.grounded, groundjudge.prepare, JUDGE_KEYS, "none", scored=True,
                      remote=True, quick=False, judged=True,
                      summary="a judge finds every claim of the answer in the sources "
                      "(share ≥ threshold, 1.0)"),
    "context-relevance": Check(groundjudge.context_relevance, groundjudge.prepare, JUDGE_KEYS,
                               "none", scored=True, remote=True, quick=False, judged=True,
                               text=False, summary="a judge finds the passages relevant to the "
                               "question (share ≥ threshold, 0.5)"),
    "answer-relevance": Check(groundjudge.answer_relevance, groundjudge.prepare, JUDGE_KEYS,
                              "none", scored=True, remote=True, quick=False, judged=True,
                              summary="a judge finds the answer addresses the question "
                              "(fully 1, partly 0.5; threshold 1.0)"),
    "context-recall": Check(grounding.context_recall, grounding.prepare_recall, scored=True,
                            text=False, summary="the expected facts are in the sources "
                            "(share ≥ threshold, 1.0)"),
    "python": Check(pyfunc.python, pyfunc.prepare_python, scored=True, quick=False,
                    summary="file.py:function returns bool, score or {pass, score, reason}"),
    "rated": Check(rated.rated, rated.prepare_rated, ("min_score", "win_rate", "against"), "none",
                   text=False, summary="people's ratings of this model on this case: a mean "
                   "score, or a win rate against another model"),
}  # fmt: skip


def split_type(full: str) -> tuple[str, bool]:
    if full.startswith("not-"):
        return full[4:], True
    return full, False


def _all_type_names() -> list[str]:
    return [*TYPES, *(f"not-{t}" for t in TYPES)]


def suggest_type(name: str) -> str:
    return did_you_mean(name, _all_type_names(), cutoff=0.5) or "known types: " + ", ".join(TYPES)


def parse_assertion(
    raw: Any,
    doc: YamlDoc,
    where: tuple[Any, ...],
    root: Path,
    problems: list[Problem],
    project: Path | None = None,
) -> Assertion | None:
    """Validate one assertion item; append Problems (file:line) and return None when bad.

    `root` is the directory the item's paths are relative to; `project` (default: `root`) the
    directory its files (python checks, schema files) must stay inside.

    Two forms: `{type: contains, value: Ana}` or the shorthand `{contains: Ana}`; either may add
    weight, name (or metric), threshold and the type's own keys.
    """

    def bad(key: str | None, msg: str, hint: str | None = None) -> None:
        problems.append(doc.problem((*where, key) if key else where, msg, hint))

    if isinstance(raw, str):  # `- is-json`
        raw = {"type": raw}
    if not isinstance(raw, dict):
        bad(None, f"an assertion must be a mapping, got {raw!r}", "e.g. - contains: refund")
        return None
    data = dict(raw)
    if "type" not in data:
        candidates = [k for k in data if k not in COMMON_KEYS and split_type(str(k))[0] in TYPES]
        # a key of one candidate's own (apply-guardrail's `guardrail:`) is not a type here
        candidates = [k for k in candidates if not any(
            str(k) in TYPES[split_type(str(o))[0]].keys for o in candidates if o != k)]  # fmt: skip
        others = [k for k in data if k not in COMMON_KEYS and k not in candidates]
        if len(candidates) != 1:
            if candidates:
                bad(None, f"one assertion per item, found {', '.join(map(str, candidates))}",
                    "start a new '- ' item for each")  # fmt: skip
            elif others:
                bad(str(others[0]), f"unknown assertion type '{others[0]}'",
                    suggest_type(str(others[0])))  # fmt: skip
            else:
                bad(None, "assertion has no type", "add type: contains (or the shorthand)")
            return None
        key = candidates[0]
        data["type"] = key
        data["value"] = data.pop(key)
        type_key = str(key)
    else:
        type_key = "type"
    full = data["type"]
    if not isinstance(full, str):
        bad(type_key, f"assertion type must be a string, got {full!r}")
        return None
    base, negate = split_type(full)
    check = TYPES.get(base)
    if check is None:
        bad(type_key, f"unknown assertion type '{full}'", suggest_type(full))
        return None
    before = len(problems)
    if "name" not in data and "metric" in data:
        data["name"] = data["metric"]  # `metric` is another word for `name`
    fields = Fields(doc, problems, where, data)
    fields.unknown((*COMMON_KEYS, *check.keys), where=f"in '{full}' assertion")
    value_key = type_key if type_key != "type" else "value"
    weight = fields.get("weight", number(0), 1, unset="missing")
    name = fields.get("name", STRING, message="'{key}' must be a string, got {value}")
    if not check.scored and not fields.is_unset("threshold"):
        scored = [t for t, c in TYPES.items() if c.scored]
        fields.problem(
            ("threshold",),
            f"'threshold' does not apply to '{full}'",
            f"only {', '.join(scored[:-1])} and {scored[-1]} assertions have a threshold",
        )
    limit = number(0, check.threshold_max)
    threshold = fields.get("threshold", limit) if check.scored else None
    on = fields.get("on", one_of(ON), "answer", unset="missing",
                    message="'{key}' must be answer or reasoning, got {value}",
                    hint="on: reasoning checks the reasoning instead of the answer")  # fmt: skip
    if on == "reasoning" and not check.text:
        fields.problem(
            ("on",),
            f"'on' does not apply to '{full}': it checks the call, not text",
            "on: reasoning works with text checks (contains, regex, judge, …)",
        )
    if len(problems) > before:
        return None
    assertion = Assertion(
        type=base,
        negate=negate,
        value=data.get("value"),
        weight=float(weight),
        name=name,
        threshold=float(threshold) if threshold is not None else None,
        options={k: data[k] for k in check.keys if k in data},
        file=doc.file,
        line=doc.line(where),
        on=on,
        project=project,
    )
    try:
        compiled = check.prepare(assertion, root) if check.prepare else None
    except BadAssertion as exc:
        key = value_key if exc.key == "value" else exc.key
        bad(key, f"'{full}': {exc.message}", exc.hint)
        return None
    return Assertion(**{**assertion.__dict__, "compiled": compiled})


def is_remote(a: Assertion) -> bool:
    return TYPES[a.type].remote


def uses_model(a: Assertion) -> bool:
    """Calls a grader model (judge, similar): one that must be resolved before the run."""
    check = TYPES[a.type]
    return check.remote and "model" in check.keys


def uses_judge(a: Assertion) -> bool:
    """Graded by the judge model (`judge_model` unless the assertion names one)."""
    return TYPES[a.type].judged


def is_quick(a: Assertion) -> bool:
    """Takes microseconds (no model call, no user code)."""
    return TYPES[a.type].quick


def evaluate(a: Assertion, ctx: Context) -> Verdict:
    """Run one assertion; never raises. Negation flips the verdict, not grader errors.

    A negated verdict's score agrees with it: a measured score (scored types: similarity, BLEU,
    a grader's score) becomes 1 - score, the mirror of its threshold; any other check scores
    1 when the negation passes and 0 when it fails — its partial credit (contains-all's share
    found) measures the plain assertion, so `not-contains-all` with 2 of 3 found passes with 1,
    not 0.33.
    """
    check = TYPES[a.type]
    if a.on == "reasoning":
        if not ctx.reasoning:
            why = "was redacted by the provider" if ctx.reasoning_redacted else "is empty"
            return Verdict(False, 0.0, f"on: reasoning, but the answer's reasoning {why}",
                           broken=True)  # fmt: skip
        ctx = replace(ctx, output=ctx.reasoning)
    try:
        v = check.run(a, ctx)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a bug in a check (even sys.exit) must not stop the suite
        v = Verdict(
            False, 0.0, f"assertion failed to run: {type(exc).__name__}: {exc}", broken=True
        )
    if not math.isfinite(v.score):  # NaN would pass every comparison that clamps it
        v = Verdict(False, 0.0, f"score {v.score!r} is not a finite number: {v.reason}",
                    v.error, v.tokens, v.cost_usd, broken=True)  # fmt: skip
    if v.broken:  # an exception's text (a check reading the environment) never shows a secret
        v = replace(v, reason=mask(v.reason))
    if a.negate and v.error is None and not v.broken:
        passed = not v.passed
        score = 1.0 - v.score if check.scored else float(passed)
        return Verdict(passed, score, v.reason, None, v.tokens, v.cost_usd)
    return v

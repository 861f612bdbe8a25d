"""Reasoning ("extended thinking"): the prompt file's `reasoning:` key and how each model family
is asked for it.

    reasoning: {effort: medium}                  # low | medium | high
    reasoning: {budget_tokens: 4096}             # tokens of thinking, at least 1,024
    reasoning:
      effort: low
      overrides: {claude-sonnet-4: {budget_tokens: 8000}}   # per model, as in inference

A family names its style in `catalogue.Quirk.reasoning`; `STYLES` below says what each style
sends and what it changes in the request, every change with a notice, so no model answers a
reasoning request with a 400 and nothing is dropped silently:

    budget  Claude 3.7 Sonnet, Sonnet 4, Opus 4/4.1, Sonnet 4.5, Haiku 4.5, Opus 4.5:
            additionalModelRequestFields.thinking {type: enabled, budget_tokens}; maxTokens
            raised above the budget; temperature (unless 1) and top_p dropped; a forced
            tool_choice sent as auto.
    nova    Nova 2: reasoningConfig {type: enabled, maxReasoningEffort}; temperature and top_p
            dropped; at high, maxTokens dropped.
    effort  gpt-oss: reasoning_effort.
    always  DeepSeek R1 reasons on every call: nothing is sent.
    echo    the offline echo model: the setting as written, answered with a reasoning block.
    ""      everything else: reasoning is not sent.

Pure: no I/O, no AWS; reading the key reports every problem at its file:line (fields.Fields).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from promptlab.fields import Fields, integer, one_of
from promptlab.request import InferenceParams, Request

EFFORTS = ("low", "medium", "high")
MIN_BUDGET = 1024  # Claude's smallest thinking budget
BUDGETS = {"low": 1024, "medium": 4096, "high": 16384}  # effort → Claude budget_tokens
# budget_tokens → effort for families that take an effort: up to 2,048 low, up to 8,192
# medium, above that high (the geometric midpoints between BUDGETS).
EFFORT_CEILINGS = (("low", 2048), ("medium", 8192))
ANSWER_ROOM = 1024  # tokens left for the answer above a thinking budget when max_tokens is unset
KEYS = ("effort", "budget_tokens")
HINT = "e.g. reasoning: {effort: medium} or reasoning: {budget_tokens: 4096}"


@dataclass(frozen=True)
class Reasoning:
    """How hard a model should think: an effort or a token budget (exactly one)."""

    effort: str | None = None  # low | medium | high
    budget_tokens: int | None = None  # ≥ MIN_BUDGET

    @property
    def budget(self) -> int:
        """Thinking tokens for families that take a budget (an effort maps by BUDGETS)."""
        if self.budget_tokens is not None:
            return self.budget_tokens
        return BUDGETS[self.effort or "medium"]

    @property
    def level(self) -> str:
        """The effort for families that take one (a budget maps to the nearest)."""
        if self.effort is not None:
            return self.effort
        return nearest_effort(self.budget_tokens or BUDGETS["medium"])

    def to_dict(self) -> dict[str, Any]:
        if self.effort is not None:
            return {"effort": self.effort}
        return {"budget_tokens": self.budget_tokens}


def nearest_effort(budget: int) -> str:
    for effort, ceiling in EFFORT_CEILINGS:
        if budget <= ceiling:
            return effort
    return "high"


# ---------------------------------------------------------------- the prompt file's key


def read(
    top: Fields, params: InferenceParams, overrides: Mapping[str, InferenceParams]
) -> tuple[Reasoning | None, dict[str, Reasoning]]:
    """`reasoning:` (and its per-model `overrides:`), checked against the max_tokens each one
    runs with: a budget must stay below a max_tokens the file sets."""
    if top.is_unset("reasoning"):
        return None, {}
    field = top.mapping("reasoning", hint=HINT)
    if not isinstance(top.data.get("reasoning"), dict):
        return None, {}
    before = len(field.problems)
    field.unknown((*KEYS, "overrides"), where="in reasoning")
    typo = len(field.problems) > before  # then "needs effort" would say it twice
    per_model = field.mapping(
        "overrides",
        message="'{key}' must map model → reasoning settings",
        hint="e.g. overrides: {claude-sonnet-4: {budget_tokens: 8000}}",
        unset="empty",
    )
    base = _setting(field, params.max_tokens, optional=bool(per_model.data) or typo)
    out: dict[str, Reasoning] = {}
    for model in per_model:
        one = per_model.mapping(model, unset="missing", hint=HINT.replace("reasoning: ", ""),
                                message="override for '{key}' must be a mapping")  # fmt: skip
        if not isinstance(per_model.data[model], dict):
            continue
        before = len(one.problems)
        one.unknown(KEYS, where=f"in reasoning.overrides.{model}")
        own = overrides.get(str(model))
        limit = own.max_tokens if own and own.max_tokens else params.max_tokens
        setting = _setting(one, limit, optional=len(one.problems) > before)
        if setting is not None:
            out[str(model)] = setting
    return base, out


def _setting(field: Fields, max_tokens: int | None, *, optional: bool = False) -> Reasoning | None:
    """One setting: an effort or a budget, not both, not neither (unless `optional`)."""
    effort = field.get("effort", one_of(EFFORTS), unset="missing",
                       message="'{key}' must be low, medium or high, got {value}",
                       hint="low, medium or high; or budget_tokens: N instead")  # fmt: skip
    budget = field.get(
        "budget_tokens",
        integer(MIN_BUDGET),
        unset="missing",
        message=f"'{{key}}' must be an integer ≥ {MIN_BUDGET:,}, got {{value}}",
        hint=f"thinking takes at least {MIN_BUDGET:,} tokens; or effort: low instead",
    )
    if "effort" in field and "budget_tokens" in field:
        field.problem(
            ("budget_tokens",),
            "reasoning takes effort or budget_tokens, not both",
            "keep one: an effort is mapped to a budget per model (low 1,024, medium 4,096, "
            "high 16,384 tokens) and a budget to the nearest effort",
        )
        return None
    if "effort" not in field and "budget_tokens" not in field:
        if not optional:
            field.problem((), "reasoning needs effort or budget_tokens", HINT)
        return None
    if budget is not None and max_tokens is not None and budget >= max_tokens:
        field.problem(
            ("budget_tokens",),
            f"budget_tokens {budget:,} is not below max_tokens {max_tokens:,}: thinking "
            "counts in max_tokens",
            f"raise inference max_tokens above {budget:,} (the budget plus room for the answer), "
            "or lower budget_tokens",
        )
        return None
    if effort is None and budget is None:
        return None
    return Reasoning(effort, budget)


# ---------------------------------------------------------------- per model family

Adapt = Callable[[Request, str, Reasoning], tuple[Request, list[str]]]


def apply(
    request: Request, alias: str, style: str, reasoning: Reasoning | None
) -> tuple[Request, list[str]]:
    """The request with reasoning asked for the way the model's family takes it (`style`, from
    catalogue.Quirk.reasoning), and a notice for every change."""
    if reasoning is None:
        return request, []
    return STYLES.get(style, _not_sent)(request, alias, reasoning)


def _with_fields(request: Request, fields: dict[str, Any], params: InferenceParams) -> Request:
    extra = {**(request.additional_fields or {}), **fields}
    return replace(request, additional_fields=extra, params=params)


def _drop_sampling(p: InferenceParams, alias: str, why: str, *, keep_one: bool = False
                   ) -> tuple[InferenceParams, list[str]]:  # fmt: skip
    """Without temperature and top_p (`keep_one`: a temperature of 1 stays)."""
    kept = 1 if keep_one else None
    drop = [name for name, value in (("temperature", p.temperature), ("top_p", p.top_p))
            if value is not None and not (name == "temperature" and value == kept)]  # fmt: skip
    if not drop:
        return p, []
    return p.without(*drop), [f"{alias}: dropped {' and '.join(drop)}: {why}"]


def _budget(request: Request, alias: str, r: Reasoning) -> tuple[Request, list[str]]:
    """Claude: a thinking budget below maxTokens, no sampling settings, no forced tool."""
    budget = r.budget
    notices = [] if r.budget_tokens else [f"{alias}: effort {r.effort} sent as a thinking "
                                          f"budget of {budget:,} tokens"]  # fmt: skip
    params, dropped = _drop_sampling(request.params, alias, "thinking takes neither "
                                     "(temperature 1 only)", keep_one=True)  # fmt: skip
    notices += dropped
    limit = params.max_tokens
    if limit is None or limit <= budget:
        room = limit or ANSWER_ROOM
        params = replace(params, max_tokens=budget + room)
        notices.append(f"{alias}: maxTokens {budget + room:,} (the thinking budget {budget:,} + "
                       f"{room:,} for the answer): thinking counts in maxTokens")  # fmt: skip
    request = _with_fields(request, {"thinking": {"type": "enabled", "budget_tokens": budget}},
                           params)  # fmt: skip
    choice = (request.tool_config or {}).get("toolChoice") or {}
    if "any" in choice or "tool" in choice:
        config = {**(request.tool_config or {}), "toolChoice": {"auto": {}}}
        request = replace(request, tool_config=config)
        notices.append(f"{alias}: tool_choice sent as auto: thinking cannot force a tool call")
    return request, notices


def _effort_notice(alias: str, r: Reasoning) -> list[str]:
    if r.effort is not None:
        return []
    return [f"{alias}: budget_tokens {r.budget_tokens:,} sent as effort {r.level} (the nearest: "
            "up to 2,048 low, up to 8,192 medium, above high)"]  # fmt: skip


def _nova(request: Request, alias: str, r: Reasoning) -> tuple[Request, list[str]]:
    """Nova 2: an effort; no sampling settings; no maxTokens at high."""
    notices = _effort_notice(alias, r)
    params, dropped = _drop_sampling(request.params, alias, "Nova 2 reasoning takes neither")
    notices += dropped
    if r.level == "high" and params.max_tokens is not None:
        params = params.without("max_tokens")
        notices.append(f"{alias}: dropped max_tokens: Nova 2 reasoning at high takes none")
    fields = {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": r.level}}
    return _with_fields(request, fields, params), notices


def _effort(request: Request, alias: str, r: Reasoning) -> tuple[Request, list[str]]:
    """A `reasoning_effort` field (gpt-oss)."""
    fields = {"reasoning_effort": r.level}
    return _with_fields(request, fields, request.params), _effort_notice(alias, r)


def _always(request: Request, alias: str, r: Reasoning) -> tuple[Request, list[str]]:
    return request, [f"{alias} reasons on every call: no reasoning setting is sent"]


def _echo(request: Request, alias: str, r: Reasoning) -> tuple[Request, list[str]]:
    """The offline echo model takes the setting as written (and shows it in its reasoning)."""
    return _with_fields(request, {"reasoning": r.to_dict()}, request.params), []


def _not_sent(request: Request, alias: str, r: Reasoning) -> tuple[Request, list[str]]:
    return request, [f"{alias}: sent without reasoning: no reasoning setting is known for this "
                     "model (README: Reasoning)"]  # fmt: skip


STYLES: dict[str, Adapt] = {
    "budget": _budget,
    "nova": _nova,
    "effort": _effort,
    "always": _always,
    "echo": _echo,
}

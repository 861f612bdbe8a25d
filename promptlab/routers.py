"""Amazon Bedrock prompt routers: the account's routers (ListPromptRouters) and a router
compared with its members on the same cases.

A router ARN runs like any model (`-m arn:…:default-prompt-router/…`): the response names the
model it chose (`trace.promptRouter.invokedModelId`), which prices the call. Run it next to
its member models (`promptlab models --routers` lists them) and `compare` says, per case,
which model the router chose, what it saved against always calling the most expensive member,
and how its quality differs where quality was measured (assertion pass rates in `test`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from promptlab.assertions.rated import Ratings
    from promptlab.results import Result
    from promptlab.testing.outcomes import CaseOutcome

_ROUTER_RE = re.compile(r"^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:\d*:(default-)?prompt-router/.+$")


def is_router(model_id: str) -> bool:
    """A prompt router's ARN (a default router's or one of the account's own)."""
    return bool(_ROUTER_RE.match(model_id))


# ---------------------------------------------------------------- listing


@dataclass(frozen=True)
class RouterRow:
    """One prompt router (the JSON of `models --routers --format json`)."""

    arn: str  # what to pass to -m
    name: str
    type: str  # default | custom
    status: str
    models: tuple[str, ...]  # its member models' base ids (or ARNs when opaque)
    fallback_model: str | None
    quality_difference: float | None  # routingCriteria.responseQualityDifference
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["models"] = list(self.models)
        return d


def list_routers(client: Any) -> list[RouterRow]:
    """The region's prompt routers, default and custom (every page of ListPromptRouters)."""
    from promptlab.modellist import _aws_call

    paginator = client.get_paginator("list_prompt_routers")
    needs = "your IAM identity needs bedrock:ListPromptRouters"
    pages = _aws_call(lambda: list(paginator.paginate()), client.meta.region_name, needs)
    return [row_of(s) for page in pages for s in page.get("promptRouterSummaries", [])]


def row_of(summary: dict[str, Any]) -> RouterRow:
    """A PromptRouterSummary as a row: member and fallback models by their base model id."""
    from promptlab.catalogue import base_id_of

    def model(arn: str) -> str:
        return base_id_of(arn) or arn

    criteria = summary.get("routingCriteria") or {}
    fallback = (summary.get("fallbackModel") or {}).get("modelArn")
    return RouterRow(
        arn=summary["promptRouterArn"],
        name=summary.get("promptRouterName", ""),
        type=summary.get("type", ""),
        status=summary.get("status", ""),
        models=tuple(model(m.get("modelArn", "")) for m in summary.get("models", [])),
        fallback_model=model(fallback) if fallback else None,
        quality_difference=criteria.get("responseQualityDifference"),
        description=summary.get("description", ""),
    )


# ---------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Cell:
    """One column of one case: a model's answer, its cost and (where measured) its quality."""

    case: str
    model: str  # the column's name (the alias typed)
    model_id: str
    cost_usd: float | None
    served_model_id: str | None = None
    quality: float | None = None  # 0..1: pass rate, or a rating; None: not measured
    ok: bool = True


@dataclass(frozen=True)
class RouterCase:
    """A router on one case, against the most expensive member column of that case."""

    case: str
    router: str
    chose: str | None  # the model the router picked (its alias where shipped)
    cost_usd: float | None
    large: str | None  # the member that cost the most on this case
    large_cost_usd: float | None
    quality: float | None
    large_quality: float | None

    @property
    def saved_usd(self) -> float | None:
        if self.cost_usd is None or self.large_cost_usd is None:
            return None
        return round(self.large_cost_usd - self.cost_usd, 8)

    @property
    def quality_delta(self) -> float | None:
        """The router's quality less the large member's (negative: the router did worse)."""
        if self.quality is None or self.large_quality is None:
            return None
        return round(self.quality - self.large_quality, 4)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "saved_usd": self.saved_usd, "quality_delta": self.quality_delta}


def compare(cells: Sequence[Cell]) -> list[RouterCase]:
    """Per case and router column: whom it chose and how it compares with the member column
    that cost the most on that case (members: the case's other columns that are single models,
    neither routers nor fallback chains). Empty when no router ran beside a member."""
    from promptlab.catalogue import alias_for, base_id_of

    by_case: dict[str, list[Cell]] = {}
    for cell in cells:
        by_case.setdefault(cell.case, []).append(cell)
    out: list[RouterCase] = []
    for case, row in by_case.items():
        members = [c for c in row if not is_router(c.model_id) and ">" not in c.model_id
                   and c.ok and c.cost_usd is not None]  # fmt: skip
        large = max(members, key=lambda c: c.cost_usd or 0.0, default=None)
        for cell in row:
            if not is_router(cell.model_id) or large is None:
                continue
            picked = base_id_of(cell.served_model_id or "") or cell.served_model_id
            out.append(RouterCase(
                case, cell.model, alias_for(picked) or picked if cell.ok else None,
                cell.cost_usd, large.model, large.cost_usd, cell.quality, large.quality,
            ))  # fmt: skip
    return out


def rated_quality(result: Result, ratings: Ratings | None) -> float | None:
    """People's mean score of this model's answers to this case (`promptlab review`, same
    prompt version and case or variables), on 0..1 (1 → 0, 5 → 1); None where nobody rated."""
    if ratings is None:
        return None
    scores = ratings(result).scores
    return round((sum(scores) / len(scores) - 1) / 4, 4) if scores else None


def run_cells(results: Iterable[Result], ratings: Ratings | None = None) -> list[Cell]:
    """`run`'s results as cells: quality where ratings exist (rated_quality), else none."""
    return [Cell(r.case or "", r.model_alias, r.model_id, r.cost_usd, r.served_model_id,
                 rated_quality(r, ratings), r.ok) for r in results]  # fmt: skip


def outcome_cells(outcomes: Iterable[CaseOutcome]) -> list[Cell]:
    """`test`'s case outcomes as cells: quality is the share of repeats that passed."""
    cells: list[Cell] = []
    for o in outcomes:
        answered = [s.result for s in o.samples if s.result.ok]
        picked = answered[0].served_model_id if answered else None
        cost = o.cost_usd if o.cost_complete else None
        cells.append(Cell(f"{o.prompt['name']}/{o.case}", o.model, o.model_id, cost, picked,
                          o.pass_rate, bool(answered)))  # fmt: skip
    return cells

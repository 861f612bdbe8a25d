"""`run --dry-run` views: each request that would be sent, its input tokens and input cost."""

from __future__ import annotations

import json
import sys
from typing import Any

from promptlab.config import Config
from promptlab.estimate import Estimate
from promptlab.views.format import usd, vars_label
from promptlab.views.sanitize import inert


def rows(estimates: list[Estimate], config: Config) -> list[dict[str, Any]]:
    """The JSON form: one object per call that would be made."""
    return [
        {
            "prompt": e.job.prompt.identity,
            "model": {"alias": e.job.ref.alias, "id": e.job.ref.model_id, "real": e.job.ref.real},
            "region": config.region if e.job.ref.real else None,
            "vars": e.job.vars,
            "request": e.request.to_record(),
            "input_tokens": e.input_tokens,
            "input_tokens_counted": e.counted,
            "estimated_input_cost_usd": e.input_cost,
            "notices": e.notices,
        }
        for e in estimates
    ]


def write_json(estimates: list[Estimate], warnings: list[str], config: Config) -> None:
    sys.stdout.write(json.dumps(rows(estimates, config), indent=2, ensure_ascii=False) + "\n")


def write_jsonl(estimates: list[Estimate], warnings: list[str], config: Config) -> None:
    sys.stdout.write("".join(json.dumps(r, ensure_ascii=False) + "\n"
                             for r in rows(estimates, config)))  # fmt: skip


def write_text(estimates: list[Estimate], warnings: list[str], config: Config) -> None:
    """One readable block per call, then the total input cost and every notice."""
    from rich.console import Console
    from rich.text import Text

    out = Console(highlight=False, soft_wrap=True)
    out.print(Text("dry run: nothing was sent", style="bold"))
    several = len({e.job.case for e in estimates}) > 1
    for e in estimates:
        req, ref = e.request, e.job.ref
        head = Text(f"\n{ref.label}", style="bold")
        if not ref.real:
            head.append(" (not a real model)", style="dim")
        out.print(head)
        if several:
            out.print(Text(inert(f"  {e.job.case}: {vars_label(e.job.vars, 100)}")))
        params = ", ".join(f"{k}={v}" for k, v in req.params.to_dict().items()) or "–"
        tokens = f"{e.input_tokens:,}" + ("" if e.counted else " (estimate)")
        out.print(Text(f"  characters: system {len(req.system or '')}, user {len(req.user)}"
                       f" · params: {params}"))  # fmt: skip
        out.print(Text(f"  input tokens: {tokens} · input cost: "
                       f"{usd(e.input_cost, real=ref.real)}"))  # fmt: skip
    costs = [e.input_cost for e in estimates if e.job.ref.real]
    total = "unknown (some prices unknown)" if None in costs else usd(sum(c or 0 for c in costs))
    out.print(Text(f"\n{len(estimates)} call(s) · estimated input cost {total}", style="bold"))
    for note in dict.fromkeys([*warnings, *(n for e in estimates for n in e.notices)]):
        out.print(Text(f"note: {note}", style="yellow"))
    out.print(
        Text("estimates: ~4 characters per token where CountTokens is not available", style="dim")
    )


# --format name → view (every other name shows the text view)
WRITERS = {"json": write_json, "jsonl": write_jsonl}


def show(estimates: list[Estimate], warnings: list[str], config: Config, fmt: str) -> None:
    WRITERS.get(fmt, write_text)(estimates, warnings, config)

"""`run --dry-run` views: each request that would be sent, its input tokens and input cost, the
worst-case output cost (max_tokens at the output price), and with prompt-cache points the
input cost of a first call (writing the cache) and of later ones (reading it)."""

from __future__ import annotations

import json
import sys
from typing import Any

from promptlab.config import Config
from promptlab.estimate import Estimate
from promptlab.imagegen import ImageRequest
from promptlab.views.format import usd, vars_label
from promptlab.views.sanitize import inert


def rows(estimates: list[Estimate], config: Config) -> list[dict[str, Any]]:
    """The JSON form: one object per call that would be made."""
    return [
        {
            "prompt": e.job.prompt.identity,
            "model": {"alias": e.job.ref.alias, "id": e.job.ref.model_id, "real": e.real},
            "region": config.region if e.real else None,
            "vars": e.job.vars,
            "request": e.request.to_record(),
            "input_tokens": e.input_tokens,
            "input_tokens_counted": e.counted,
            "estimated_input_cost_usd": e.input_cost,
            "max_output_tokens": e.max_output_tokens,
            "worst_case_output_cost_usd": e.max_output_cost,
            "prompt_cache": None
            if e.cache is None
            else {
                "prefix_tokens": e.cache.prefix_tokens,
                "ttl": e.cache.ttl,
                "first_call_input_cost_usd": e.cache.first_call_cost,
                "later_call_input_cost_usd": e.cache.later_call_cost,
            },
            "notices": e.notices,
            **({"links": [link_row(x) for x in e.links]} if e.links else {}),
        }
        for e in estimates
    ]


def link_row(e: Estimate) -> dict[str, Any]:
    """A fallback chain's link in the JSON form: the chain's costs are the sums of these."""
    return {"model": {"alias": e.job.ref.alias, "id": e.job.ref.model_id, "real": e.real},
            "input_tokens": e.input_tokens, "estimated_input_cost_usd": e.input_cost,
            "max_output_tokens": e.max_output_tokens,
            "worst_case_output_cost_usd": e.max_output_cost}  # fmt: skip


def chain_line(e: Estimate) -> str:
    """`claude-sonnet>nova-pro: priced as its worst case, every link called once: …`."""
    each = " + ".join(f"{x.job.ref.alias} {usd(x.input_cost, real=x.real)}" for x in e.links)
    return (f"{e.job.ref.alias}: priced as its worst case, every link called once (input "
            f"{each}); it stops at the first link that answers")  # fmt: skip


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
        if not e.real:
            head.append(" (not a real model)", style="dim")
        out.print(head)
        if several:
            out.print(Text(inert(f"  {e.job.case}: {vars_label(e.job.vars, 100)}")))
        if isinstance(req, ImageRequest):
            out.print(Text(f"  characters: prompt {len(req.user)} · {image_line(e)}"))
            continue
        if e.links:
            out.print(Text(f"  fallback chain: {chain_line(e)}"))
        params = ", ".join(f"{k}={v}" for k, v in req.params.to_dict().items()) or "–"
        tokens = f"{e.input_tokens:,}" + ("" if e.counted else " (estimate)")
        out.print(Text(f"  characters: system {len(req.system or '')}, user {len(req.user)}"
                       f" · params: {params}"))  # fmt: skip
        out.print(Text(f"  input tokens: {tokens} · input cost: "
                       f"{usd(e.input_cost, real=e.real)}"))  # fmt: skip
        if e.cache is not None:
            out.print(Text(f"  prompt cache: {cache_line(e)}"))
        out.print(Text(f"  output: {max_output(e)} · worst-case output cost: {worst(e)}"))
    out.print(Text(f"\n{len(estimates)} call(s) · {totals(estimates)}", style="bold"))
    for note in notes(estimates, warnings):
        out.print(Text(f"note: {note}", style="yellow"))
    if not all(e.counted for e in estimates):
        out.print(Text(ESTIMATED, style="dim"))


ESTIMATED = "estimates: ~4 characters per token where CountTokens is not available"


def cache_line(e: Estimate) -> str:
    """The input cost with the prompt cache: a first call writes it, later calls read it."""
    assert e.cache is not None
    c = e.cache
    line = f"~{c.prefix_tokens:,} tokens before the last cache point (estimate, kept {c.ttl})"
    if not e.real:
        return line
    first = usd(c.first_call_cost)
    if c.first_call_cost is None and c.later_call_cost is not None and c.ttl == "1h":
        first += " (no price for 1-hour cache writes: set cache_write_1h under prices:)"
    return (f"{line} · first call {first}, writing the cache · later calls "
            f"{usd(c.later_call_cost)} each, reading it · without the cache "
            f"{usd(e.input_cost)}")  # fmt: skip


def image_line(e: Estimate) -> str:
    """`images: 2 (seed 7) · cost: $0.0200`: what an image call makes and costs."""
    req = e.request
    assert isinstance(req, ImageRequest)
    wanted = 1 if req.task == "background-removal" else req.count
    seed = f" (seed {req.seed})" if req.seed is not None else ""
    size = f" {req.width}x{req.height}" if req.width and req.height else ""
    return f"images: {wanted}{size}{seed} · cost: {usd(e.input_cost, real=e.real)}"


def max_output(e: Estimate) -> str:
    if e.max_output_tokens is None:
        return "no max_tokens (the model's own limit)"
    return f"up to {e.max_output_tokens:,} tokens"


def worst(e: Estimate) -> str:
    """The output cost if the answer is max_tokens long."""
    if isinstance(e.request, ImageRequest):
        return "–"  # images are priced per image: the cost is known
    if e.max_output_tokens is None and e.real:
        return "unknown (set max_tokens)"
    return usd(e.max_output_cost, real=e.real)


def totals(estimates: list[Estimate]) -> str:
    """Total input cost, and the worst case: every answer max_tokens long."""
    real = [e for e in estimates if e.real]
    costs = [e.input_cost for e in real]
    total = "unknown (some prices unknown)" if None in costs else usd(sum(c or 0 for c in costs))
    if estimates and all(isinstance(e.request, ImageRequest) for e in estimates):
        return f"cost of the images {total}"
    outputs = [e.max_output_cost for e in real]
    if None in costs or None in outputs:
        most = "unknown (some prices or max_tokens unknown)"
    else:
        most = usd(sum(c or 0 for c in costs) + sum(c or 0 for c in outputs))
    line = f"estimated input cost {total} · worst case with output {most} (max_tokens answers)"
    if any(e.cache for e in real):
        first = [e.cache.first_call_cost if e.cache else e.input_cost for e in real]
        later = [e.cache.later_call_cost if e.cache else e.input_cost for e in real]
        line += (f" · with the prompt cache {_sum(first)} on a first run, {_sum(later)} on a "
                 "run that reads it")  # fmt: skip
    return line


def _sum(costs: list[float | None]) -> str:
    return "unknown (some prices unknown)" if None in costs else usd(sum(c or 0 for c in costs))


def notes(estimates: list[Estimate], warnings: list[str]) -> list[str]:
    return list(dict.fromkeys([*warnings, *(n for e in estimates for n in e.notices)]))


def write_markdown(estimates: list[Estimate], warnings: list[str], config: Config) -> None:
    """A Markdown table: one row per call that would be made, then the totals and notes."""
    from promptlab.views.export import md_cell

    several = len({e.job.case for e in estimates}) > 1
    caching = any(e.cache for e in estimates)
    numbers = ["input tokens", "input cost", "max output", "worst-case output cost",
               *(["cached prefix", "first call (writes)", "later calls (read)"]
                 if caching else [])]  # fmt: skip
    head = ["model", *(["vars"] if several else []), *numbers]
    lines = ["## dry run: nothing was sent", "", "| " + " | ".join(head) + " |",
             "|" + "---|" * (len(head) - len(numbers)) + "---:|" * len(numbers)]  # fmt: skip
    for e in estimates:
        ref = e.job.ref
        cells = [ref.label + ("" if e.real else " (not a real model)")]
        if several:
            cells.append(f"{e.job.case}: {vars_label(e.job.vars, 100)}")
        image = isinstance(e.request, ImageRequest)
        cells += ["–" if image else f"{e.input_tokens:,}" + ("" if e.counted else " (estimate)"),
                  usd(e.input_cost, real=e.real),
                  "–" if e.max_output_tokens is None else f"{e.max_output_tokens:,}",
                  worst(e)]  # fmt: skip
        if caching:
            cache = e.cache
            cells += ["–", "–", "–"] if cache is None else [
                f"~{cache.prefix_tokens:,} ({cache.ttl})",
                usd(cache.first_call_cost, real=e.real),
                usd(cache.later_call_cost, real=e.real)]  # fmt: skip
        lines.append("| " + " | ".join(md_cell(c) for c in cells) + " |")
    lines += ["", f"**{len(estimates)} call(s)** · {md_cell(totals(estimates))}", ""]
    chains = [chain_line(e) for e in estimates if e.links]
    lines += [f"- note: {md_cell(n)}" for n in dict.fromkeys([*notes(estimates, warnings),
                                                              *chains])]  # fmt: skip
    if not all(e.counted for e in estimates):
        lines.append(f"- {ESTIMATED}")
    sys.stdout.write("\n".join(lines).rstrip("\n") + "\n")


# --format name → view (every other name shows the text view)
WRITERS = {"json": write_json, "jsonl": write_jsonl, "markdown": write_markdown}


def show(estimates: list[Estimate], warnings: list[str], config: Config, fmt: str) -> None:
    WRITERS.get(fmt, write_text)(estimates, warnings, config)

"""`promptlab stats`: per-group calls, errors, latency percentiles, tokens, prompt-cache hit ratio
and savings, and cost; a bar chart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from promptlab.views.format import ms, tokens, usd
from promptlab.views.sanitize import inert

if TYPE_CHECKING:
    from rich.table import Table

    from promptlab.store.query import GroupStats


def stats_table(groups: list[GroupStats], by: str) -> Table:
    """One row per group; by model, the model id with the alias beside it. When any call
    needed retries or was throttled: `retried` (calls), `+tries` (extra attempts) and
    `throttled` (calls that failed throttled after every attempt). When any group is a
    fallback chain: `fell back` (its calls that passed over a link) and `served by`."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    with_alias = by == "model"
    retries = any(g.retried or g.throttled for g in groups)
    # where some call used the prompt cache: its hit ratio and savings, after the cost (the
    # token counts are in JSON and CSV)
    caching = any(g.cache_read_tokens or g.cache_write_tokens for g in groups)
    chains = any(g.served_by for g in groups)  # fallback chains: how often, and to whom
    cells: list[list[Any]] = [
        [
            Text(inert(g.group)), *([Text(inert(g.alias or ""))] if with_alias else []),
            f"{g.calls:,}", f"{g.cached:,}",
            f"{g.errors} ({g.error_rate:.0%})" if g.errors else "0",
            *([f"{g.retried:,}", f"{g.extra_attempts:,}", f"{g.throttled:,}"] if retries else []),
            ms(g.latency_p50_ms, unit=False), ms(g.latency_p95_ms, unit=False),
            ms(g.ttft_p50_ms, unit=False), tokens(g.input_tokens), tokens(g.output_tokens),
            usd(g.cost_usd),
            *([f"{g.cache_hit_ratio:.0%}", usd(g.cache_saved_usd)] if caching else []),
            *([fell_back(g), Text(inert(served_by(g)))] if chains else []),
        ]
        for g in groups
    ]  # fmt: skip
    names = (by, *(["alias"] if with_alias else []), "calls", "cached", "errors",
             *(["retried", "+tries", "throttled"] if retries else []), "p50 ms",
             "p95 ms", "ttft", "in tok", "out tok",
             "cost", *(["cache hit", "cache saved"] if caching else []),
             *(["fell back", "served by"] if chains else []))  # fmt: skip
    labels = 2 if with_alias else 1
    for i, name in enumerate(names):
        width = max([len(name), *(len(str(c[i])) for c in cells)])
        table.add_column(name, justify="left" if i < labels else "right", no_wrap=True,
                         min_width=width)  # fmt: skip
    for c in cells:
        table.add_row(*c)
    return table


def fell_back(g: GroupStats) -> str:
    """`3 (30%)`: a chain's calls that passed over their first link ('' for single models)."""
    if not g.served_by:
        return ""
    return f"{g.fell_back} ({g.fell_back / g.calls:.0%})" if g.fell_back else "0"


def served_by(g: GroupStats) -> str:
    """`nova-pro 7, nova-lite 3`: which link of a chain served how many of its calls."""
    ranked = sorted(g.served_by.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{link} {n}" for link, n in ranked)


def stats_chart(groups: list[GroupStats], metric: str, width: int = 40) -> Table:
    """A horizontal bar per group (labelled by alias where there is one): total cost or p50
    latency."""
    from rich.table import Table
    from rich.text import Text

    def value(g: GroupStats) -> float:
        return g.cost_usd if metric == "cost" else float(g.latency_p50_ms or 0)

    top = max((value(g) for g in groups), default=0.0) or 1.0
    chart = Table.grid(padding=(0, 1))
    chart.add_column(no_wrap=True)
    chart.add_column(no_wrap=True)
    chart.add_column(justify="right", no_wrap=True)
    for g in groups:
        v = value(g)
        bar = "█" * max(1 if v > 0 else 0, round(v / top * width))
        label = usd(v) if metric == "cost" else ms(v)
        chart.add_row(Text(inert(g.alias or g.group)), Text(bar, style="cyan"), label)
    return chart

"""Small formatting helpers shared by every view (numbers, labels, summaries).

Money, milliseconds and token counts are formatted here and nowhere else, so that one value
looks the same in `run`, `test`, `log`, `stats` and `models`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from promptlab.results import Result

NOT_REAL = "not a real model"


def usd(value: float | None, *, real: bool = True) -> str:
    """US dollars, never rounded to zero: `$0`, `$0.000014`, `$0.0123`, `$1,234.57`.

    Below a cent six decimals (more when that would still show only zeros); from a cent on,
    four; from a dollar on, cents with thousands separators, as on the bill. `unknown` when the
    price is not known; `$0 (offline)` for a model that isn't real.
    """
    if not real:
        return "$0 (offline)"
    if value is None:
        return "unknown"
    if value == 0:
        return "$0"
    if value >= 1:
        return f"${value:,.2f}"
    if value >= 0.01:
        return f"${value:.4f}"
    text = f"{value:.6f}"
    if not text.strip("-0."):  # a fraction of a millionth: two significant digits
        text = f"{value:.{1 - math.floor(math.log10(abs(value)))}f}"
    return f"${text}"


def ms(value: float | None, *, unit: bool = True) -> str:
    """Milliseconds: `850 ms`, from 10 s on `12.3 s`; `–` when unknown.

    unit=False: the bare count (`12,345`, blank when unknown), for a column headed "ms".
    """
    if not unit:
        return "" if value is None else f"{value:,.0f}"
    if value is None:
        return "–"
    return f"{value:.0f} ms" if value < 10_000 else f"{value / 1000:.1f} s"


def tokens(value: int | None, estimated: bool = False) -> str:
    """A token count with thousands separators (`~` when estimated); `–` when unknown."""
    if value is None:
        return "–"
    return f"~{value:,}" if estimated else f"{value:,}"


def reasoning_share(r: Result) -> str:
    """` (~900 reasoning)`: about how many of the output tokens were reasoning (they are in the
    output count and billed as output); "" without reasoning."""
    n = r.reasoning_tokens_estimated
    return "" if n is None else f" (~{n:,} reasoning)"


def usage(
    input_tokens: int | None,
    output_tokens: int | None,
    cache_read: int | None = None,
    cache_write: int | None = None,
    *,
    estimated: bool = False,
    words: bool = False,
) -> str:
    """Input and output tokens, `1,200 / 180` (`1,200 in / 180 out` with `words`); when the
    call used the prompt cache, its reads and writes beside the input (they are not part of
    it): `1,200 (+3,000 cache read, 0 written) / 180`."""
    head = tokens(input_tokens, estimated) + (" in" if words else "")
    if cache_read is not None or cache_write is not None:
        head += f" (+{tokens(cache_read or 0)} cache read, {tokens(cache_write or 0)} written)"
    return f"{head} / {tokens(output_tokens, estimated)}" + (" out" if words else "")


def token_usage(r: Result, *, words: bool = False) -> str:
    """A call's `usage` (input, prompt-cache reads and writes, output) and the reasoning
    among its output tokens."""
    used = usage(r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens,
                 estimated=r.tokens_estimated, words=words)  # fmt: skip
    return used + reasoning_share(r)


def local_time(ts: float | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A Unix timestamp in local time; blank when there is none."""
    return datetime.fromtimestamp(ts).strftime(fmt) if ts is not None else ""


def model_label(r: Result, *, with_version: bool = False) -> str:
    """Column header: alias, resolved id, and the prompt version when versions are compared."""
    head = r.model_alias
    if r.model_id != r.model_alias:
        head += f"\n{r.model_id}"
    if not r.real_model:
        head += f"\n({NOT_REAL})"
    if r.retrieval:
        head += f"\nretrieve {r.retrieval}"
    if with_version:
        ref = f" @{r.prompt_ref[:8]}" if r.prompt_ref else ""
        head = f"{r.prompt_name} v{r.prompt_version}{ref}\n{head}"
    return head


def served_label(r: Result) -> str:
    """What actually ran when it is not plain on-demand standard: the model an application
    inference profile or a prompt router served (`house → claude-haiku`), a service tier other
    than the default, latency-optimized inference; '' otherwise (and for errors)."""
    from promptlab.catalogue import alias_for, base_id_of
    from promptlab.controls import mode_label, ran
    from promptlab.views.sanitize import inert

    if r.fallback or r.served_by:
        return inert(chain_label(r))
    if r.error:
        return ""
    parts: list[str] = []
    if r.served_model_id:
        base = base_id_of(r.served_model_id) or r.served_model_id
        parts.append(f"{r.model_alias} → {alias_for(base) or base}")
    mode = mode_label(*ran(r.response_meta, r.request))
    return inert(" · ".join([*parts, mode] if mode else parts))


def chain_label(r: Result) -> str:
    """A fallback chain's cell: the link that served it and why the ones before were passed
    over (`via nova-pro · claude-sonnet: throttled`), or that every link failed."""
    from promptlab.chains import passed_over_line

    head = f"via {r.served_by}" if r.served_by else "no link answered"
    return " · ".join(filter(None, [head, passed_over_line(r.fallback)]))


def vars_label(values: dict[str, object], limit: int = 80) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in values.items())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Summary:
    calls: int
    errors: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None  # None when any real call's price is unknown
    cost_known_partial: float
    fastest: Result | None
    slowest: Result | None
    cache_read_tokens: int | None = None  # None: no call used the prompt cache
    cache_write_tokens: int | None = None
    images: int = 0  # made by image models (filtered ones included)
    filtered: int = 0

    def line(self) -> str:
        cost = usd(self.cost_usd) if self.cost_usd is not None else (
            f"≥ {usd(self.cost_known_partial)} (some prices unknown)"
        )  # fmt: skip
        parts = [
            f"{self.calls} call(s)",
            f"{self.errors} error(s)",
            "tokens " + self.tokens(),
            f"cost {cost}",
        ]
        if self.images:  # image models: the images made say more than tokens
            filtered = f" ({self.filtered} filtered)" if self.filtered else ""
            parts[2] = f"{self.images} image(s){filtered}"
        if self.fastest and self.slowest and self.fastest is not self.slowest:
            parts.append(f"fastest {self.fastest.model_alias} ({ms(self.fastest.wall_ms)})")
            parts.append(f"slowest {self.slowest.model_alias} ({ms(self.slowest.wall_ms)})")
        return " · ".join(parts)

    def tokens(self) -> str:
        """`1,200 in (+3,000 cache read, 0 written) / 180 out`: every token of every call."""
        return usage(self.input_tokens, self.output_tokens, self.cache_read_tokens,
                     self.cache_write_tokens, words=True)  # fmt: skip


def summarize(results: Sequence[Result]) -> Summary:
    ok = [r for r in results if r.ok]
    timed = [r for r in ok if r.wall_ms is not None and not r.cached]
    costs = [r.cost_usd for r in results if r.ok and r.real_model]
    known = sum(c for c in costs if c is not None)
    cached = [r for r in results if r.cache_read_tokens is not None
              or r.cache_write_tokens is not None]  # fmt: skip
    images = [i for r in results for i in r.images]
    return Summary(
        images=len(images),
        filtered=sum(1 for i in images if i.get("filtered")),
        calls=len(results),
        errors=len(results) - len(ok),
        input_tokens=sum(r.input_tokens or 0 for r in results),
        output_tokens=sum(r.output_tokens or 0 for r in results),
        cost_usd=None if any(c is None for c in costs) else round(known, 8),
        cost_known_partial=known,
        fastest=min(timed, key=lambda r: r.wall_ms or 0) if timed else None,
        slowest=max(timed, key=lambda r: r.wall_ms or 0) if timed else None,
        cache_read_tokens=sum(r.cache_read_tokens or 0 for r in cached) if cached else None,
        cache_write_tokens=sum(r.cache_write_tokens or 0 for r in cached) if cached else None,
    )

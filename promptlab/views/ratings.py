"""Human ratings in `stats` and `review --import`: win rates with their 95 % interval, mean
scores, and rater agreement."""

from __future__ import annotations

from typing import TYPE_CHECKING

from promptlab.views.sanitize import inert

if TYPE_CHECKING:
    from rich.table import Table

    from promptlab.ratingstats import Agreement, RatingSummary


def percent(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def agreement_lines(a: Agreement) -> list[str]:
    """'agreement: 3 cases rated by 2+ raters, 67 % of rater pairs agree; ana–ben κ 0.40'."""
    if not a.cases:
        return []
    pairs = "; ".join(
        f"{inert(p.raters[0])}–{inert(p.raters[1])} κ "
        + ("–" if p.kappa is None else f"{p.kappa:.2f}") + f" ({p.agreed}/{p.cases})"
        for p in a.by_pair
    )  # fmt: skip
    return [f"agreement: {a.cases} cases rated by 2+ raters, {percent(a.percent)} of rater "
            f"pairs agree" + (f"; Cohen's {pairs}" if pairs else "")]  # fmt: skip


def win_table(summary: RatingSummary) -> Table:
    """One row per (group, opponent): wins, ties, losses, win rate and its 95 % interval."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in (summary.by, "against", "wins", "ties", "losses", "win rate", "95% CI"):
        table.add_column(name, justify="left" if name in (summary.by, "against") else "right",
                         no_wrap=True)  # fmt: skip
    for (a, b), t in sorted(summary.head_to_head.items()):
        low_high = t.interval
        table.add_row(
            Text(inert(summary.names.get(a, a))), Text(inert(summary.names.get(b, b))),
            str(t.wins), str(t.ties), str(t.losses), percent(t.win_rate),
            f"{low_high[0]:.0%}–{low_high[1]:.0%}" if low_high else "–",
        )  # fmt: skip
    return table


def score_table(summary: RatingSummary) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column(summary.by, no_wrap=True)
    table.add_column("scored", justify="right")
    table.add_column("mean score", justify="right")
    for g, s in sorted(summary.scores.items()):
        mean = "–" if s.mean is None else f"{s.mean:.2f}"
        table.add_row(Text(inert(summary.names.get(g, g))), str(s.count), mean)
    return table


def show_summary(summary: RatingSummary) -> None:
    """Printed under `stats`' table when the history holds ratings."""
    from rich.text import Text

    from promptlab.views.console import show, stdout

    console = stdout()
    console.print()
    console.print(Text(f"Human ratings ({summary.judgements}; a tie counts as half a win)",
                       style="bold"))  # fmt: skip
    if summary.head_to_head:
        show(console, win_table(summary))
    if summary.scores:
        console.print()
        show(console, score_table(summary))
    for line in agreement_lines(summary.agreement):
        console.print(Text(line))

"""Charts for the HTML report, drawn as inline SVG here in Python.

Why no chart library: a report must be one self-contained file that opens offline under a
Content-Security-Policy allowing nothing from the network. Drawing the few charts it needs
(horizontal bars and one scatter) as SVG text costs zero bytes of dependency, needs no
JavaScript (the charts show even where scripts are off), and renders instantly: a chart is a
few dozen elements however many calls were made. Colours are presentation attributes, never
`style=` attributes, which the page's CSP would block. Every label is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from promptlab.views.format import ms, usd

COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759")
WIDTH = 640
LABEL_W = 200
BAR_W = 330
BAR_H = 14
LABEL_CHARS = 30


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def clip(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _frame(title: str, height: int, body: list[str], width: int = WIDTH) -> str:
    return (
        f'<figure class="chart"><figcaption>{esc(title)}</figcaption>'
        f'<svg role="img" aria-label="{esc(title)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="system-ui, sans-serif" font-size="12">'
        f"<title>{esc(title)}</title>{''.join(body)}</svg></figure>"
    )


def bars(
    title: str,
    rows: Sequence[tuple[str, Sequence[float | None]]],
    fmt: Callable[[float], str],
    series: Sequence[str] = (),
    top: float | None = None,
) -> str:
    """Horizontal bars: one group per label, one bar per series (p50/p95, …)."""
    if not rows:
        return ""
    n = max(len(values) for _, values in rows)
    known = [v for _, values in rows for v in values if v is not None]
    top = top or max(known, default=0.0) or 1.0
    body: list[str] = []
    y = 8
    if series:
        x = LABEL_W
        for i, name in enumerate(series):
            body.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{COLOURS[i % 4]}"/>'
                        f'<text x="{x + 14}" y="{y + 9}">{esc(name)}</text>')  # fmt: skip
            x += 24 + 7 * len(name)
        y += 20
    for label, values in rows:
        group_h = n * (BAR_H + 2)
        body.append(f'<text x="{LABEL_W - 8}" y="{y + group_h / 2 + 4:.0f}" text-anchor="end">'
                    f"<title>{esc(label)}</title>{esc(clip(label))}</text>")  # fmt: skip
        for i, value in enumerate(values):
            by = y + i * (BAR_H + 2)
            if value is None:
                body.append(f'<text x="{LABEL_W + 4}" y="{by + 11}" fill="#888">n/a</text>')
                continue
            w = max(1.0, BAR_W * max(value, 0.0) / top)
            body.append(f'<rect x="{LABEL_W}" y="{by}" width="{w:.1f}" height="{BAR_H}" '
                        f'fill="{COLOURS[i % 4]}"><title>{esc(label)}: {esc(fmt(value))}</title>'
                        f'</rect><text x="{LABEL_W + w + 4:.1f}" y="{by + 11}">'
                        f"{esc(fmt(value))}</text>")  # fmt: skip
        y += group_h + 10
    return _frame(title, y, body)


def scatter(
    title: str,
    points: Sequence[tuple[str, float, float]],
    x_label: str,
    y_label: str,
    x_fmt: Callable[[float], str],
    y_fmt: Callable[[float], str],
) -> str:
    """Labelled points: x from 0 to the largest value, y from 0 to 1 (a rate)."""
    if not points:
        return ""
    left, right, top_m, bottom = 60, 190, 14, 40
    w, h = 460, 220
    x_max = max(p[1] for p in points) or 1.0
    body = [
        f'<line x1="{left}" y1="{top_m + h}" x2="{left + w}" y2="{top_m + h}" stroke="#888"/>',
        f'<line x1="{left}" y1="{top_m}" x2="{left}" y2="{top_m + h}" stroke="#888"/>',
        f'<text x="{left}" y="{top_m + h + 16}" text-anchor="middle">{esc(x_fmt(0.0))}</text>',
        f'<text x="{left + w}" y="{top_m + h + 16}" text-anchor="middle">{esc(x_fmt(x_max))}'
        "</text>",
        f'<text x="{left + w / 2:.0f}" y="{top_m + h + 32}" text-anchor="middle">'
        f"{esc(x_label)}</text>",
        f'<text x="{left - 6}" y="{top_m + h + 4}" text-anchor="end">{esc(y_fmt(0.0))}</text>',
        f'<text x="{left - 6}" y="{top_m + 4}" text-anchor="end">{esc(y_fmt(1.0))}</text>',
        f'<text x="14" y="{top_m + h / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top_m + h / 2:.0f})">{esc(y_label)}</text>',
    ]
    for i, (label, x, y) in enumerate(points):
        cx = left + w * x / x_max
        cy = top_m + h * (1 - min(max(y, 0.0), 1.0))
        tip = f"{label}: {x_fmt(x)}, {y_fmt(y)}"
        body.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{COLOURS[i % 4]}">'
            f"<title>{esc(tip)}</title></circle>"
            f'<text x="{cx + 8:.1f}" y="{cy + 4:.1f}">{esc(clip(label, 24))}</text>'
        )
    return _frame(title, top_m + h + bottom, body, width=left + w + right)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def latency_chart(per_model: dict[str, list[float]]) -> str:
    rows = [(m, [percentile(v, 50), percentile(v, 95)]) for m, v in per_model.items() if v]
    return bars("Latency per model (service latency)", rows, ms, series=("p50", "p95"))


def cost_chart(per_model: dict[str, float], title: str = "Cost per model") -> str:
    return bars(title, [(m, [c]) for m, c in per_model.items()], usd)


def rate(value: float) -> str:
    return f"{value:.0%}"


def pass_chart(title: str, per_label: dict[str, float]) -> str:
    return bars(title, [(k, [v]) for k, v in per_label.items()], rate, top=1.0)


def cost_vs_pass(points: Sequence[tuple[str, float, float]]) -> str:
    return scatter("Cost against pass rate per model", points, "cost", "pass rate", usd, rate)

"""The HTML report document: header, charts and filters in HTML; answers as a JSON data block.

Safety, since model output, prompt files and test cases are untrusted:
- every value written as HTML here is escaped with `html.escape(..., quote=True)`;
- the data goes in `<script type="application/json">` with `<`, `>`, `&`, U+2028 and U+2029
  written as JSON escapes, so no text can close the element; the script reads it with
  JSON.parse and draws it with textContent only;
- a Content-Security-Policy meta allows nothing from the network and only this page's own
  style and script (by their SHA-256), so an injected handler or script could not run;
- lone surrogates become U+FFFD, so any text can be written as UTF-8.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from promptlab.results import Result
from promptlab.testing import BaselineDiff, TestRun
from promptlab.views.format import summarize
from promptlab.views.html import charts
from promptlab.views.html.payload import run_payload, test_payload
from promptlab.views.html.script import JS
from promptlab.views.html.style import CSS
from promptlab.views.sanitize import inert, json_safe
from promptlab.views.testreport import delta_ms, delta_usd, headline, totals_line, utf8_safe

if TYPE_CHECKING:
    from promptlab.ratingstats import RatingSummary

_SCRIPT_UNSAFE = re.compile("[<>&\u2028\u2029]")
BASELINE_SHOWN = 200  # keys listed per baseline change; the count is always complete


def esc(value: object) -> str:
    return escape(inert(str(value)), quote=True)


def csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def policy() -> str:
    return (f"default-src 'none'; img-src data:; style-src '{csp_hash(CSS)}'; "
            f"script-src '{csp_hash(JS)}'; base-uri 'none'; form-action 'none'")  # fmt: skip


def data_block(payload: Any) -> str:
    """JSON that can sit inside a script element: nothing in it can end the element."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    return json_safe(_SCRIPT_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text))


def document(title: str, body: Iterable[str], payload: dict[str, Any]) -> str:
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        f'<meta http-equiv="Content-Security-Policy" content="{policy()}">\n',
        '<meta name="referrer" content="no-referrer">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        *body,
        '<noscript><p class="muted">The table needs JavaScript; the header and charts '
        "above do not.</p></noscript>\n",
        '<div id="compare" hidden><div class="bar"><strong>compare</strong>'
        '<del id="cmp-a"></del><span>→</span><ins id="cmp-b"></ins>'
        '<button type="button" id="cmp-swap">swap</button>'
        '<button type="button" id="cmp-clear">clear</button></div>'
        '<pre class="diff" id="cmp-diff"></pre></div>\n',
        f'<script type="application/json" id="data">{data_block(payload)}</script>\n',
        f"<script>{JS}</script>\n</body>\n</html>\n",
    ]
    return utf8_safe("".join(parts))


# ---------------------------------------------------------------- header


def items(values: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{esc(v)}</li>" for v in values) + "</ul>"


def identity(results: Sequence[Result]) -> list[tuple[str, str]]:
    """What was run: prompts (version, hash, git ref), models, regions, dates, run ids."""
    prompts: dict[tuple[Any, ...], str] = {}
    models: dict[tuple[Any, ...], str] = {}
    for r in results:
        where = f" · git {r.prompt_ref[:12]}" if r.prompt_ref else ""
        where += f" · {r.prompt_path}" if r.prompt_path else ""
        key = (r.prompt_name, r.prompt_version, r.prompt_hash, r.prompt_ref)
        prompts.setdefault(key, f"{r.prompt_name} v{r.prompt_version} · hash "
                                f"{r.prompt_hash[:12]}{where}")  # fmt: skip
        model = r.model_alias if r.model_id == r.model_alias else f"{r.model_alias} → {r.model_id}"
        models.setdefault((r.model_alias, r.model_id), model + ("" if r.real_model else
                                                                " (not a real model)"))  # fmt: skip
    rows = [("prompts", items(prompts.values())), ("models", items(models.values()))]
    regions = sorted({r.region for r in results if r.region})
    if regions:
        rows.append(("region", esc(", ".join(regions))))
    stamps = sorted(r.started_at for r in results if r.started_at)
    if stamps:
        span = stamps[0] if stamps[0] == stamps[-1] else f"{stamps[0]} – {stamps[-1]}"
        rows.append(("date", esc(span)))
    runs = list(dict.fromkeys(r.run_id for r in results if r.run_id))
    if runs:
        rows.append(("run", esc(", ".join(runs[:10]) + (" …" if len(runs) > 10 else ""))))
    return rows


def header(title: str, source: str, rows: Sequence[tuple[str, str]], totals: Sequence[str]) -> str:
    meta = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in rows)
    lines = "".join(f'<p class="totals">{esc(t)}</p>' for t in totals)
    return (f"<header><h1>{esc(title)}</h1><p class=\"source\">made from {esc(source)}</p>"
            f'<dl class="meta">{meta}</dl>{lines}</header>\n')  # fmt: skip


def chart_section(figures: Iterable[str]) -> str:
    shown = [f for f in figures if f]
    if not shown:
        return ""
    return (f'<details class="chartbox"><summary><h2>Charts ({len(shown)})</h2></summary>'
            f'<section class="charts">{"".join(shown)}</section></details>\n')  # fmt: skip


def options(select: str, label: str, values: Iterable[str], all_label: str = "all") -> str:
    opts = f'<option value="">{esc(all_label)}</option>' + "".join(
        f'<option value="{esc(v)}">{esc(v)}</option>' for v in values
    )
    return f'<label>{esc(label)} <select id="{select}">{opts}</select></label>'


def controls(statuses: Sequence[str], models: Iterable[str], prompts: Iterable[str]) -> str:
    return (
        '<div class="controls"><input type="search" id="f-q" '
        'placeholder="search cases, outputs, reasons" aria-label="search">'
        + options("f-status", "status", statuses)
        + options("f-model", "model", sorted(set(models)))
        + options("f-prompt", "prompt", sorted(set(prompts)))
        + '<span class="count" id="count"></span></div>\n'
    )


def table(cls: str, head: str) -> str:
    return (f'<div class="wrap"><table class="grid {cls}"><thead><tr>{head}</tr></thead>'
            '<tbody id="rows"></tbody></table></div>\n'
            '<button type="button" id="more" class="more" hidden>show more</button>\n')  # fmt: skip


# ---------------------------------------------------------------- charts from data


def latencies(results: Iterable[Result]) -> dict[str, list[float]]:
    per: dict[str, list[float]] = {}
    for r in results:
        value = r.latency_ms if r.latency_ms is not None else r.wall_ms
        if r.ok and not r.cached and value is not None:
            per.setdefault(r.model_alias, []).append(float(value))
    return per


def costs(results: Iterable[Result]) -> dict[str, float]:
    per: dict[str, float] = {}
    for r in results:
        if r.real_model and r.cost_usd is not None:
            per[r.model_alias] = per.get(r.model_alias, 0.0) + r.cost_usd
    return per


# ---------------------------------------------------------------- pages


def run_page(
    results: Sequence[Result], *, source: str, ratings: RatingSummary | None = None
) -> str:
    """One self-contained HTML page comparing the answers of a run, case by case (and, when
    people rated it with `promptlab review`, their verdict beside the charts)."""
    payload = run_payload(results)
    cols = payload["columns"]
    first = results[0] if results else None
    title = f"promptlab run: {first.prompt_name} v{first.prompt_version}" if first else (
        "promptlab run")  # fmt: skip
    head = "<th>case</th>" + "".join(
        f'<th class="col" data-col="{i}" data-model="{esc(c["alias"])}">'
        + "".join(f'<span class="line">{esc(line)}</span>' for line in c["label"].split("\n"))
        + "</th>"
        for i, c in enumerate(cols)
    )
    body = [
        header(title, source, identity(results), [summarize(results).line()]),
        chart_section(run_charts(results)),
        ratings_section(ratings) if ratings is not None else "",
        "<h2>Answers</h2>\n",
        controls(("ok", "error"), (c["alias"] for c in cols), (c["prompt"] for c in cols)),
        table("runs", head),
    ]
    return document(title, body, payload)


def test_page(run: TestRun, *, source: str) -> str:
    """One self-contained HTML page of a test run: totals, charts, baseline, filterable cases."""
    results = [s.result for c in run.cases for s in c.samples]
    t = run.totals
    rows = identity(results)
    rows.append(("outcome", esc(f"{t.passed} passed · {t.failed} failed · {t.errors} error(s) "
                                f"of {t.cases} · pass rate {t.pass_rate:.0%}")))  # fmt: skip
    if run.shard:
        rows.append(("shard", esc(run.shard)))
    if run.interrupted:
        rows.append(("interrupted", "yes: not every case ran"))
    title = "promptlab test"
    heads = ("", "status", "case", "model", "pass", "score", "cost", "latency", "reason")
    body = [
        header(title, source, rows, [headline(run), totals_line(run)]),
        chart_section(test_charts(run, results)),
        baseline_section(run.baseline) if run.baseline else "",
        "<h2>Cases</h2>\n",
        controls(
            ("fail", "error", "pass"),
            (c.model for c in run.cases),
            (str(c.prompt.get("name", "?")) for c in run.cases),
        ),
        table("tests", "".join(f"<th>{esc(h)}</th>" for h in heads)),
    ]
    return document(title, body, test_payload(run))


test_page.__test__ = False  # type: ignore[attr-defined]  # a page maker, not a pytest test


def run_charts(results: Sequence[Result]) -> list[str]:
    return [charts.latency_chart(latencies(results)), charts.cost_chart(costs(results))]


def test_charts(run: TestRun, results: Sequence[Result]) -> list[str]:
    by_model: dict[str, list[bool]] = {}
    by_prompt: dict[str, list[bool]] = {}
    cost: dict[str, float] = {}
    for c in run.cases:
        by_model.setdefault(c.model, []).append(c.status == "pass")
        p = c.prompt
        label = f"{p.get('name', '?')} v{p.get('version', '?')} · {str(p.get('hash', ''))[:8]}"
        by_prompt.setdefault(label, []).append(c.status == "pass")
        cost[c.model] = cost.get(c.model, 0.0) + c.cost_usd
    model_rate = {m: sum(v) / len(v) for m, v in by_model.items()}
    prompt_rate = {p: sum(v) / len(v) for p, v in by_prompt.items()}
    return [
        charts.pass_chart("Pass rate per model", model_rate),
        charts.pass_chart("Pass rate per prompt version", prompt_rate),
        charts.latency_chart(latencies(results)),
        charts.cost_chart(cost, "Cost per model (calls and graders)"),
        charts.cost_vs_pass([(m, cost[m], model_rate[m]) for m in by_model]),
    ]


def ratings_section(summary: RatingSummary) -> str:
    """People's verdict (`promptlab review`): win rates with their 95 % interval, mean scores,
    rater agreement."""

    def pct(x: float | None) -> str:
        return "–" if x is None else f"{x:.0%}"

    def name(subject: str) -> str:
        return esc(summary.names.get(subject, subject))

    parts = [f"<h2>Human ratings ({summary.judgements}; a tie counts as half a win)</h2>\n"
             '<section class="ratings">']  # fmt: skip
    if summary.head_to_head:
        parts.append('<table class="grid"><thead><tr><th>model</th><th>against</th><th>wins</th>'
                     "<th>ties</th><th>losses</th><th>win rate</th><th>95% CI</th></tr></thead>"
                     "<tbody>")  # fmt: skip
        for (a, b), t in sorted(summary.head_to_head.items()):
            ci = t.interval
            parts.append(
                f"<tr><td>{name(a)}</td><td>{name(b)}</td><td>{t.wins}</td><td>{t.ties}</td>"
                f"<td>{t.losses}</td><td>{pct(t.win_rate)}</td>"
                f"<td>{esc(f'{ci[0]:.0%}–{ci[1]:.0%}') if ci else '–'}</td></tr>"
            )
        parts.append("</tbody></table>")
    if summary.scores:
        parts.append('<table class="grid"><thead><tr><th>model</th><th>scored</th>'
                     "<th>mean score</th></tr></thead><tbody>")  # fmt: skip
        for g, sc in sorted(summary.scores.items()):
            mean = "–" if sc.mean is None else f"{sc.mean:.2f}"
            parts.append(f"<tr><td>{name(g)}</td><td>{sc.count}</td><td>{mean}</td></tr>")
        parts.append("</tbody></table>")
    from promptlab.views.ratings import agreement_lines

    parts += [f"<p>{esc(line)}</p>" for line in agreement_lines(summary.agreement)]
    parts.append("</section>\n")
    return "".join(parts)


def baseline_section(diff: BaselineDiff) -> str:
    parts = [f'<h2>Compared with baseline {esc(diff.file)}</h2><section class="baseline">']
    for label, keys in diff.groups():
        if not keys:
            continue
        more = f" (first {BASELINE_SHOWN})" if len(keys) > BASELINE_SHOWN else ""
        opened = " open" if len(keys) <= 20 else ""
        parts.append(
            f"<details{opened}><summary>{esc(label)}: {len(keys)}{more}</summary>"
            f"{items(keys[:BASELINE_SHOWN])}</details>"
        )
    if len(parts) == 1:
        parts.append("<p>no status or output changes</p>")
    parts.append(f"<p>cost {esc(delta_usd(diff))} · latency {esc(delta_ms(diff))}</p></section>\n")
    return "".join(parts)

"""The side-by-side comparison: one column per model, or stacked panels on narrow terminals."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from promptlab.results import Result
from promptlab.views import images
from promptlab.views.answer import answer_of, rich_text
from promptlab.views.export import groups
from promptlab.views.format import (
    model_label,
    ms,
    served_label,
    summarize,
    token_usage,
    usd,
    vars_label,
)
from promptlab.views.sanitize import inert

MIN_COLUMN = 28  # narrower than this per model: stack instead of squeezing


def output_cell(r: Result) -> Text:
    if r.error:
        text = Text(f"{inert(r.output)}\n\n" if r.output else "")  # cut short: what arrived
        text.append(f"✗ {r.error.code}\n", style="bold red")
        text.append(inert(r.error.message), style="red")
        if r.error.hint:
            text.append(f"\nhint: {inert(r.error.hint)}", style="yellow")
        return text
    text = rich_text(answer_of(r))
    if r.cached:
        text.append("\n(cached)", style="dim")
    return text


def reasoning_cell(r: Result, *, full: bool = False) -> Text:
    """The answer's reasoning, dimmed: its first lines, or all of it (`full`)."""
    text, left = answer_of(r).reasoning_text(full=full)
    cell = Text(text, style="dim")
    if left:
        cell.append(f"\n(+{left:,} characters; --show-reasoning shows all)", style="dim italic")
    return cell


def facts(r: Result, *, served: bool = False) -> list[tuple[str, str]]:
    """The rows under the answer; `served`: with what actually ran (see served_label)."""
    return [
        *([("served", served_label(r) or "–")] if served else []),
        ("stop reason", r.stop_reason or "–"),
        ("tokens in / out", token_usage(r)),
        ("latency service / wall", f"{ms(r.latency_ms)} / {ms(r.wall_ms)}{attempts(r)}"),
        ("time to first token", ms(r.ttft_ms)),
        (
            "cost",
            "–"
            if r.error
            else usd(r.cost_usd, real=r.real_model) + (" (cached)" if r.cached else ""),
        ),
    ]


def passages_cell(r: Result) -> Text:
    """The passages the answer was given, one line each: `[1] refunds.md  score 1.27`."""
    from promptlab.views.rendered import passage_line

    return Text("\n".join(passage_line(p) for p in r.passages), style="dim")


def attempts(r: Result) -> str:
    """` (3 attempts)` when retries (throttling, errors, mid-stream failures) were needed."""
    return f" ({r.attempts} attempts)" if r.attempts > 1 else ""


def reasons(group: Sequence[Result]) -> bool:
    return any(answer_of(r).has_reasoning for r in group)


def comparison(
    group: Sequence[Result], *, with_version: bool, full_reasoning: bool = False
) -> Table:
    table = Table(show_lines=True, expand=True, title_justify="left")
    table.add_column("", style="bold", no_wrap=True, ratio=None)
    for r in group:
        table.add_column(Text(model_label(r, with_version=with_version)), ratio=1, overflow="fold")
    table.add_row("output", *[output_cell(r) for r in group])
    if reasons(group):
        table.add_row("reasoning", *[reasoning_cell(r, full=full_reasoning) for r in group])
    if any(r.passages for r in group):
        table.add_row("passages", *[passages_cell(r) for r in group])
    served = any(served_label(r) for r in group)
    rows = [facts(r, served=served) for r in group]
    for i, (name, _) in enumerate(rows[0]):
        table.add_row(name, *[Text(row[i][1]) for row in rows])
    return table


def stacked(group: Sequence[Result], *, with_version: bool, full_reasoning: bool = False
            ) -> Group:  # fmt: skip
    panels: list[RenderableType] = []
    for r in group:
        body = Text()
        body.append_text(output_cell(r))
        body.append("\n")
        if answer_of(r).has_reasoning:
            body.append("\nreasoning\n", style="bold")
            body.append_text(reasoning_cell(r, full=full_reasoning))
            body.append("\n")
        if r.passages:
            body.append("\npassages\n", style="bold")
            body.append_text(passages_cell(r))
            body.append("\n")
        for name, value in facts(r, served=bool(served_label(r))):
            body.append(f"\n{name}: ", style="bold")
            body.append(value)
        title = Text(model_label(r, with_version=with_version).replace("\n", " · "))
        panels.append(Panel(body, title=title, title_align="left"))
    return Group(*panels)


def render_results(
    console: Console,
    results: Sequence[Result],
    *,
    full_reasoning: bool = False,
    thumbnails: bool = True,
) -> None:
    """Print every comparison (one per case/vars set), then the summary line. Reasoning shows
    in its own row, its first lines only unless `full_reasoning`. Image models' answers are a
    table of files (views.images), under inline thumbnails where the terminal draws images
    (views.thumbnails) unless `thumbnails` is off."""
    with_version = len({(r.prompt_hash, r.prompt_ref) for r in results}) > 1
    stacked_models = 0
    for group in groups(results):
        if group[0].case:
            label = f"{group[0].case}: {vars_label(group[0].vars, 200)}"
            console.print(Text(inert(label), style="bold"))
        if images.is_image_group(group):
            if thumbnails:
                from promptlab.views.thumbnails import print_sheet

                print_sheet(console, group)
            console.print(images.image_table(group, with_version=with_version))
            continue
        narrow = console.width < 20 + MIN_COLUMN * len(group)
        stacked_models = max(stacked_models, len(group) if narrow else 0)
        view = stacked if narrow else comparison
        console.print(view(group, with_version=with_version, full_reasoning=full_reasoning))
    console.print(Text(summarize(results).line(), style="bold"))
    if stacked_models > 1 and not console.is_terminal:
        print(stacked_note(stacked_models, console.width), file=sys.stderr)


def stacked_note(models: int, width: int) -> str:
    """Piped output too narrow for side by side: how to get the table."""
    wide = max(200, 20 + MIN_COLUMN * models)
    return (f"note: {models} models shown one under another at {width} columns; for a side-by-"
            f"side table use --format markdown, or COLUMNS={wide}")  # fmt: skip

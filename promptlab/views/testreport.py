"""Renderings of a test run: Rich summary, Markdown (PR comments), JSON, live progress."""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from promptlab.testing import BaselineDiff, CaseOutcome, Progress, TestRun
from promptlab.views.answer import answer_of
from promptlab.views.export import md_text as md
from promptlab.views.format import ms, tokens, usage, usd
from promptlab.views.sanitize import inert, json_safe

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress as Bar
    from rich.progress import TaskID

    from promptlab.results import Result

STATUS = {"pass": "PASS", "fail": "FAIL", "error": "ERROR"}
STYLE = {"pass": "green", "fail": "red", "error": "yellow"}
EMOJI = {"pass": "✅", "fail": "❌", "error": "⚠️"}
REASON_LIMIT = 160
PROGRESS_EVERY_S = 10.0  # CI logs: a count line at most this often
# UTF-16 halves without a partner (from a "\ud800" JSON escape in an answer) cannot be written
# as UTF-8 to a report file or a terminal.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8_safe(text: str) -> str:
    return _LONE_SURROGATE.sub("\ufffd", text)


def to_json(run: TestRun) -> str:
    return utf8_safe(json_safe(json.dumps(run.to_dict(), indent=2, ensure_ascii=False)))


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def cost(c: CaseOutcome) -> str:
    text = usd(c.cost_usd)
    return text if c.cost_complete else f"≥ {text}"


def short(text: str, limit: int = REASON_LIMIT) -> str:
    text = " ".join(utf8_safe(inert(text)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def headline(run: TestRun) -> str:
    t = run.totals
    parts = [f"{t.passed} passed", f"{t.failed} failed"]
    if t.errors:
        parts.append(f"{t.errors} error(s)")
    return f"{', '.join(parts)} of {t.cases} ({t.pass_rate:.0%})"


def totals_line(run: TestRun) -> str:
    t = run.totals
    grader = (
        f" (graders {tokens(t.eval_tokens)} tokens, {usd(t.eval_cost_usd)})"
        if t.eval_tokens
        else ""
    )
    wall = f" · {run.wall_ms / 1000:.1f} s" if run.wall_ms else ""
    used = usage(t.input_tokens, t.output_tokens, t.cache_read_tokens, t.cache_write_tokens,
                 words=True)  # fmt: skip
    return (
        f"{t.samples} call(s) · tokens {used} · cost {usd(t.cost_usd + t.eval_cost_usd)}"
        f"{grader}{wall}"
    )


# ---------------------------------------------------------------- terminal


def reason_of(c: CaseOutcome, limit: int = REASON_LIMIT) -> str:
    """The case's reason, shortened; a failed call's hint (what `run` shows) is kept whole."""
    hint = call_hint(c)
    if not hint:
        return short(c.reason, limit)
    tail = f" — hint: {short(hint, limit)}"
    return short(c.reason, max(40, limit - len(tail))) + tail


def call_hint(c: CaseOutcome) -> str:
    """The hint of the first failed model or grader call of a case that did not pass."""
    if c.status == "pass":
        return ""
    for s in c.samples:
        err = s.result.error or next((a.error for a in s.assertions if a.error), None)
        if err is not None and err.hint:
            return err.hint
    return ""


def render_summary(console: Console, run: TestRun) -> None:
    """Table of case × model results, totals, slowest cases and the baseline comparison.

    Case names and models are never wrapped (so they can be pasted into `-k` and `-m`); the
    Reason column takes the squeeze. When even that does not fit, the table is printed wider
    than the console rather than cutting a name.
    """
    from rich.table import Table
    from rich.text import Text

    repeated = any(c.repeat > 1 for c in run.cases)
    reasons = any(c.reason for c in run.cases)
    table = Table(header_style="bold")
    table.add_column("Case", no_wrap=True, overflow="ignore", min_width=24)
    table.add_column("Model", no_wrap=True, overflow="ignore")
    table.add_column("Result", no_wrap=True)
    table.add_column("Pass", justify="right", no_wrap=True)
    if repeated:
        table.add_column("Agree", justify="right", no_wrap=True)
    table.add_column("Cost", justify="right", no_wrap=True)
    table.add_column("Latency", justify="right", no_wrap=True)
    if reasons:
        table.add_column("Reason", overflow="fold", min_width=REASON_MIN_WIDTH, ratio=3)
    for c in run.cases:
        row: list[Text | str] = [
            Text(f"{c.prompt['name']}/{c.case}"), Text(c.model),
            Text(STATUS[c.status], style=STYLE[c.status]),
            f"{c.passes}/{c.repeat}" if c.repeat > 1 else pct(c.pass_rate),
        ]  # fmt: skip
        if repeated:
            row.append(pct(c.agreement))
        row += [cost(c), ms(c.latency_ms)]
        if reasons:
            row.append(Text(reason_of(c)))
        table.add_row(*row)
    if run.cases:
        from promptlab.views.grid import print_table

        needed = _unwrapped_width(table) + (REASON_MIN_WIDTH + 3 if reasons else 0)
        if needed <= console.width:
            print_table(console, table)
        else:  # names stay whole: wider than the console (the terminal wraps the lines)
            from rich.console import Console

            system: Any = console.color_system
            wide = Console(file=console.file, width=needed, color_system=system,
                           force_terminal=console.is_terminal, no_color=console.no_color,
                           highlight=False)  # fmt: skip
            wide.print(table, crop=False)
    style = "green" if run.totals.failed == run.totals.errors == 0 else "red"
    console.print(Text(headline(run), style=f"bold {style}"))
    console.print(Text(totals_line(run)))
    slow = [c for c in run.slowest() if c.latency_ms]
    if len(run.cases) > 1 and slow:
        shown = ", ".join(f"{c.key} {ms(c.latency_ms)}" for c in slow)
        console.print(Text(f"slowest: {inert(shown)}"))
    if run.baseline is not None:
        for line in baseline_lines(run.baseline):
            console.print(Text(line))


REASON_MIN_WIDTH = 20


def _unwrapped_width(table: object) -> int:
    """Width of a table's no_wrap columns at their widest cell, with padding and borders."""
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    assert isinstance(table, Table)
    total = 1
    for column in table.columns:
        total += 1
        if column.no_wrap:
            cells = [c.cell_len if isinstance(c, Text) else cell_len(str(c)) for c in column.cells]
            total += max([cell_len(str(column.header)), column.min_width or 0, *cells]) + 2
    return total


def render_details(console: Console, run: TestRun) -> None:
    """`test -v`: for each case that did not pass, every sample's assertions (score, weight,
    reason) and the output they judged."""
    from rich.text import Text

    failing = [c for c in run.cases if c.status != "pass"]
    for c in failing:
        console.print()
        head = Text(f"{STATUS[c.status]} ", style=f"bold {STYLE[c.status]}")
        head.append(inert(c.key), style="bold")
        if c.where:
            head.append(f"  {inert(c.where)}", style="dim")
        console.print(head, soft_wrap=True)
        hint = call_hint(c)
        for s in c.samples:
            sample = f"  sample {s.result.repeat_index + 1}/{c.repeat}: {s.status}"
            console.print(Text(sample + (f" (score {s.score:.2f})" if s.assertions else "")))
            if s.result.error is not None:
                e = s.result.error
                console.print(Text(f"    model error: {e.code}: {inert(e.message)}"),
                              soft_wrap=True)  # fmt: skip
            for a in s.assertions:
                mark = Text(
                    "    ✓ " if a.passed else "    ✗ ", style="green" if a.passed else "red"
                )
                label = a.name if a.name == a.type else f"{a.name} [{a.type}]"
                mark.append(f"{inert(label)}  score {a.score:.2f}  weight {a.weight:g}")
                mark.append(f"  {' '.join(inert(a.reason).split())}" if a.reason else "")
                console.print(mark, soft_wrap=True)
            if s.result.ok:
                console.print(Text("    output:", style="dim"))
                text = answer_of(s.result).plain()
                if len(text) > DETAIL_OUTPUT_LIMIT:
                    text = text[:DETAIL_OUTPUT_LIMIT] + f"… ({len(text):,} characters)"
                for line in (text or "(empty)").splitlines() or [""]:
                    console.print(Text(f"      {line}"), soft_wrap=True)
        if hint:
            console.print(Text(f"  hint: {inert(hint)}"), soft_wrap=True)
    if not failing and run.cases:
        console.print(Text("every case passed; nothing more to show"), style="dim")


DETAIL_OUTPUT_LIMIT = 2000


def baseline_lines(diff: BaselineDiff) -> list[str]:
    lines = [f"compared with {diff.file}:"]
    for label, keys in diff.groups():
        if keys:
            lines.append(f"  {label} ({len(keys)}): {', '.join(inert(k) for k in keys)}")
    if len(lines) == 1:
        lines.append("  no status or output changes")
    lines.append(f"  cost {delta_usd(diff)} · latency {delta_ms(diff)}")
    return lines


def delta_usd(diff: BaselineDiff) -> str:
    d = diff.cost_delta_usd
    sign = "+" if d >= 0 else "-"
    return f"{usd(diff.baseline_cost_usd)} → {usd(diff.cost_usd)} ({sign}{usd(abs(d))})"


def delta_ms(diff: BaselineDiff) -> str:
    d = diff.latency_delta_ms
    if d is None or not (diff.latency_ms or diff.baseline_latency_ms):  # unknown, or 0 (echo)
        return "–"
    change = ms(abs(d))
    sign = "" if change == ms(0) else ("+" if d > 0 else "-")  # no "-0 ms"
    return f"{ms(diff.baseline_latency_ms)} → {ms(diff.latency_ms)} ({sign}{change})"


def github_annotations(run: TestRun, root: Path | None = None) -> list[str]:
    """`::error file=…,line=…::` for each failing or errored case, at its `where` (relative to
    the project `root`), so GitHub marks the suite line in the pull request."""
    from promptlab.ci import annotation

    out = []
    for c in run.cases:
        if c.status == "pass" or not c.where:
            continue
        file, _, line = c.where.rpartition(":")
        if not file or not line.isdigit():
            file, line = c.where, ""
        path = str(root / file) if root is not None and not Path(file).is_absolute() else file
        message = f"{STATUS[c.status]} {c.key}: {reason_of(c, 300) or c.status}"
        out.append(annotation(path, int(line) if line else None, inert(message),
                              title="promptlab test"))  # fmt: skip
    return out


# ---------------------------------------------------------------- markdown


def to_markdown(run: TestRun, *, title: str = "promptlab test") -> str:
    t = run.totals
    icon = EMOJI["pass"] if t.failed == t.errors == 0 else EMOJI["fail"]
    lines = [f"## {icon} {title}: {headline(run)}", "", totals_line(run), ""]
    if run.shard:
        lines[-1:] = [f"Shard {run.shard}.", ""]
    if run.cases:
        lines += ["| | Case | Model | Pass rate | Agreement | Cost | Latency | Reason |",
                  "|---|---|---|---:|---:|---:|---:|---|"]  # fmt: skip
        for c in sorted(run.cases, key=lambda c: ("fail", "error", "pass").index(c.status)):
            rate = f"{c.passes}/{c.repeat}" if c.repeat > 1 else pct(c.pass_rate)
            lines.append(
                f"| {EMOJI[c.status]} | {md(c.prompt['name'] + '/' + c.case)} | {md(c.model)} | "
                f"{rate} | {pct(c.agreement)} | {md(cost(c))} | {ms(c.latency_ms)} | "
                f"{md(reason_of(c))} |"
            )
        lines.append("")
    failing = [c for c in run.cases if c.status != "pass"]
    if failing:
        lines += ["<details><summary>Failure details</summary>", ""]
        for c in failing:
            lines.append(f"**{md(c.key)}** ({md(c.where)})")
            lines.append("")
            for s in c.samples:
                for a in s.assertions:
                    if not a.passed and a.weight > 0:
                        label = f"`{a.type}`" + (f" {md(a.name)}" if a.name != a.type else "")
                        lines.append(f"- sample {s.result.repeat_index + 1}: {label}: "
                                     f"{md(short(a.reason, 300))}")  # fmt: skip
                if s.result.error:
                    lines.append(f"- sample {s.result.repeat_index + 1}: "
                                 f"{md(short(s.reason, 300))}")  # fmt: skip
            out = c.output
            if out:
                lines += ["", "Output:", "", "```text", fence_safe(inert(out)[:2000]), "```"]
            lines.append("")
        lines += ["</details>", ""]
    if run.baseline is not None:
        lines += markdown_baseline(run.baseline)
    return utf8_safe("\n".join(lines).rstrip() + "\n")


def fence_safe(text: str) -> str:
    """Model output inside a ``` block: break any fence it contains."""
    return text.replace("```", "`\u200b``")


def markdown_baseline(diff: BaselineDiff) -> list[str]:
    lines = [f"### Compared with baseline `{md(diff.file)}`", ""]
    lines += ["| Change | Count | Cases |", "|---|---:|---|"]
    for label, keys in diff.groups():
        label = label[:1].upper() + label[1:]
        shown = ", ".join(md(k) for k in keys[:20]) + (" …" if len(keys) > 20 else "")
        lines.append(f"| {label} | {len(keys)} | {shown} |")
    lines += ["", f"Cost: {md(delta_usd(diff))} · Latency: {delta_ms(diff)}", ""]
    return lines


# ---------------------------------------------------------------- progress


class PlainProgress(Progress):
    """For CI logs and pipes: the plan, each failure or error as it happens, a count every
    `every` seconds (`[123/600] 118 passed, 5 failed`) and one at the end — not a line per call.
    """

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        every: float = PROGRESS_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream or sys.stderr
        self.total = 0
        self.done = self.passed = self.failed = self.errors = 0
        self.every = every
        self.clock = clock
        self.last = 0.0
        self.shown = ""  # the last count line written
        self.lock = threading.Lock()

    def start(self, cases: int, samples: int, plan: str = "") -> None:
        self.total = cases
        self.last = self.clock()
        self._write(f"running {cases} case(s) × model(s): {plan or f'{samples} call(s)'}")

    def count(self) -> str:
        errors = f", {self.errors} error(s)" if self.errors else ""
        return f"[{self.done}/{self.total}] {self.passed} passed, {self.failed} failed{errors}"

    def sample(self, result: Result) -> None:
        self._tick()

    def case(self, outcome: CaseOutcome) -> None:
        with self.lock:
            self.done += 1
            self.passed += outcome.status == "pass"
            self.failed += outcome.status == "fail"
            self.errors += outcome.status == "error"
            n = self.done
        if outcome.status != "pass":
            rate = f" ({outcome.passes}/{outcome.repeat})" if outcome.repeat > 1 else ""
            why = f" — {reason_of(outcome, 200)}" if outcome.reason else ""
            where = f" ({inert(outcome.where)})" if outcome.where else ""
            self._write(f"[{n}/{self.total}] {STATUS[outcome.status]} {inert(outcome.key)}"
                        f"{rate}{why}{where}")  # fmt: skip
        self._tick()

    def _tick(self) -> None:
        with self.lock:
            due = self.clock() - self.last >= self.every
        if due:
            self._count()

    def finish(self) -> None:
        if self.done:
            self._count()

    def _count(self) -> None:
        line = self.count()
        if line != self.shown:
            self.shown = line
            self._write(line)

    def _write(self, line: str) -> None:
        with self.lock:
            self.stream.write(line + "\n")
            self.stream.flush()
            self.last = self.clock()


class LiveProgress(Progress):
    """A Rich progress bar on a TTY: cases done, passes/failures, tokens and cost, ETA."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.lock = threading.Lock()
        self.passed = self.failed = self.errors = 0
        self.tokens = 0
        self.cost = 0.0
        self.bar: Bar | None = None
        self.task: TaskID | None = None

    def _stats(self) -> str:
        return (f"[green]✓ {self.passed}[/] [red]✗ {self.failed}[/] [yellow]! {self.errors}[/] "
                f"· {tokens(self.tokens)} tok · {usd(self.cost)}")  # fmt: skip

    def start(self, cases: int, samples: int, plan: str = "") -> None:
        from rich.text import Text

        calls = plan or f"{samples} call(s)"
        self.console.print(Text(f"testing {cases} case(s) × model(s): {calls}"), soft_wrap=True)
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        bar = RichProgress(
            TextColumn("testing"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), TextColumn("ETA"),
            TimeRemainingColumn(), console=self.console, transient=True,
        )  # fmt: skip
        self.task = bar.add_task("test", total=cases, stats=self._stats())
        bar.start()
        self.bar = bar

    def _update(self, advance: int = 0) -> None:
        bar = self.bar
        if bar is not None and self.task is not None:
            bar.update(self.task, advance=advance, stats=self._stats())

    def sample(self, result: Result) -> None:
        with self.lock:
            self.tokens += result.total_tokens
            self.cost += result.cost_usd or 0.0
            self._update()

    def case(self, outcome: CaseOutcome) -> None:
        with self.lock:
            self.passed += outcome.status == "pass"
            self.failed += outcome.status == "fail"
            self.errors += outcome.status == "error"
            self.tokens += sum(s.eval_tokens for s in outcome.samples)
            self.cost += sum(s.eval_cost_usd for s in outcome.samples)
            self._update(advance=1)

    def finish(self) -> None:
        bar = self.bar
        if bar is not None:
            bar.stop()
            self.bar = None

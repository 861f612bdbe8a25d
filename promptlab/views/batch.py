"""Batch inference on screen: the jobs' progress while waiting, their table (`batch status`),
what was submitted (`--no-wait`), how to collect, and the `--dry-run --batch` plan."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from promptlab.views.format import usd
from promptlab.views.sanitize import inert

if TYPE_CHECKING:
    from promptlab.batch.state import JobRow


def _elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _job_id(row: JobRow) -> str:
    return row.job_arn.rsplit("/", 1)[-1] if row.job_arn else "-"


def _done(row: JobRow) -> str:
    if row.processed is None:
        return f"{row.records:,}"
    return f"{row.processed:,}/{row.records:,}"


def jobs_table(rows: Sequence[JobRow], elapsed: float | None = None) -> Table:
    title = f"batch jobs · {_elapsed(elapsed)} waiting" if elapsed is not None else None
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for name in ("model", "job", "status", "records", "message"):
        table.add_column(name, overflow="fold")
    for row in rows:
        style = {"Completed": "green", "PartiallyCompleted": "yellow", "Failed": "red",
                 "Stopped": "red", "Expired": "red"}.get(row.status or "", "")  # fmt: skip
        table.add_row(row.model_alias, _job_id(row), Text(row.status or "-", style=style),
                      _done(row), inert(row.message or ""))  # fmt: skip
    return table


class JobsProgress:
    """While waiting: a live table on a terminal; otherwise one line per job whenever its
    status or processed count changes (CI logs stay short)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._live: Any = None
        self._seen: dict[str, tuple[str | None, int | None]] = {}

    def __call__(self, rows: list[JobRow], elapsed: float) -> None:
        if self.console.is_terminal:
            if self._live is None:
                from rich.live import Live

                self._live = Live(console=self.console, auto_refresh=False, transient=False)
                self._live.start()
            self._live.update(jobs_table(rows, elapsed), refresh=True)
            return
        for row in rows:
            now = (row.status, row.processed)
            if self._seen.get(row.job_name) != now:
                self._seen[row.job_name] = now
                message = f" ({inert(row.message)})" if row.message else ""
                self.console.print(f"batch: {row.model_alias} {_job_id(row)} {row.status} "
                                   f"{_done(row)} records, {_elapsed(elapsed)}{message}",
                                   highlight=False, soft_wrap=True)  # fmt: skip

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


def print_jobs(console: Console, rows: Sequence[JobRow]) -> None:
    console.print(jobs_table(rows))


def collect_hint(run_id: str) -> str:
    return f"promptlab batch collect {run_id}"


def print_submitted(err: Console, run_id: str, rows: Sequence[JobRow]) -> None:
    """--no-wait: the run id, each job, and the commands that pick them up."""
    err.print(f"submitted run {run_id}: {len(rows)} batch job(s)", highlight=False)
    for row in rows:
        err.print(f"  {row.model_alias}: {_job_id(row)} ({row.records:,} records) "
                  f"{row.job_arn or ''}", highlight=False, soft_wrap=True)  # fmt: skip
    err.print(f"status: promptlab batch status {run_id} · results: {collect_hint(run_id)}",
              highlight=False, soft_wrap=True)  # fmt: skip


def print_left_running(err: Console, run_id: str) -> None:
    """Ctrl-C while waiting: the jobs go on in AWS; how to pick them up."""
    err.print(f"interrupted: the batch jobs of run {run_id} keep running in AWS; collect them "
              f"with `{collect_hint(run_id)}` (or stop them: promptlab batch stop {run_id})",
              highlight=False, soft_wrap=True)  # fmt: skip


def print_failed_jobs(err: Console, rows: Sequence[JobRow]) -> None:
    """A job that failed, was stopped or expired: the service's reason, once per job."""
    for row in rows:
        if row.status in ("Failed", "Stopped", "Expired"):
            why = f": {inert(row.message)}" if row.message else ""
            err.print(Text(f"error: batch job {_job_id(row)} ({row.model_alias}) "
                           f"{row.status.lower()}{why}; the records it finished are kept",
                           style="red"), soft_wrap=True)  # fmt: skip


def plan_table(lines: Sequence[dict[str, Any]]) -> Table:
    """`--dry-run --batch`: per model, records, where they go and why, jobs, cost both ways."""
    table = Table(title="batch plan", title_justify="left", show_edge=False, pad_edge=False)
    for name in ("model", "records", "runs", "jobs", "input online", "at batch price", "why"):
        table.add_column(name, overflow="fold",
                         justify="right" if name in ("records", "jobs") else "left")  # fmt: skip
    for line in lines:
        table.add_row(line["model"], f"{line['records']:,}", line["runs"], str(line["jobs"]),
                      usd(line["online_usd"]), usd(line["batch_usd"]), line["why"])  # fmt: skip
    return table

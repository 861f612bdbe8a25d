"""`--batch` on `run` and `test` (shared options), and `promptlab batch status|wait|collect|stop
RUN`: a run's batch inference jobs picked up from any process (e.g. a later CI job)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from promptlab.cli.app import OptionalValues, app, handle_errors
from promptlab.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

    from promptlab.batch.service import BatchRun
    from promptlab.config import Config

BatchOpt = typer.Option(
    None, "--batch", metavar="[=auto]",
    help="Run through Bedrock batch inference (about half the on-demand price; answers in "
    "minutes to hours): the models that offer it, with enough records. --batch=auto: only "
    "where batch is known to be cheaper. The rest run online, with a notice.",
)  # fmt: skip
NoWaitOpt = typer.Option(
    False, "--no-wait",
    help="With --batch: submit, print the run and job ids, and exit; then `promptlab batch "
    "collect RUN`.",
)  # fmt: skip
S3Opt = typer.Option(
    None, "--s3", metavar="s3://BUCKET/PREFIX",
    help="With --batch: where records are uploaded and answers written (default: batch.s3).",
)  # fmt: skip
RoleOpt = typer.Option(
    None, "--role-arn", metavar="ARN",
    help="With --batch: the IAM role Bedrock assumes for the job (default: batch.role_arn).",
)  # fmt: skip
CleanupOpt = typer.Option(
    False, "--cleanup",
    help="With --batch: delete the uploaded records and the job output from S3 once collected.",
)  # fmt: skip


@dataclass(frozen=True)
class BatchChoice:
    """What `--batch`, `--no-wait` and `--cleanup` asked for."""

    mode: str  # "on" or "auto"
    wait: bool = True
    cleanup: bool = False


def batch_choice(
    value: str | None, no_wait: bool, s3: str | None, role_arn: str | None, cleanup: bool
) -> BatchChoice | None:
    """The batch options checked (one usage error naming the option), or None: online."""
    if value is None:
        for flag, given in (("--no-wait", no_wait), ("--s3", s3), ("--role-arn", role_arn),
                            ("--cleanup", cleanup)):  # fmt: skip
            if given:
                raise UsageError(f"{flag} goes with --batch", f"add --batch, or drop {flag}")
        return None
    if value not in ("on", "auto"):
        raise UsageError(f"--batch={value}: expected --batch or --batch=auto")
    return BatchChoice(value, wait=not no_wait, cleanup=cleanup)


def with_batch_options(config: Config, s3: str | None, role_arn: str | None) -> Config:
    """--s3 and --role-arn over the config's `batch:`, each shape checked (exit 2)."""
    from promptlab.batch import shapes

    for flag, value, problem, form in (("--s3", s3, shapes.s3_problem, shapes.S3_FORM),
                                       ("--role-arn", role_arn, shapes.role_problem,
                                        shapes.ROLE_FORM)):  # fmt: skip
        if value is not None:
            why = problem(value)
            if why is not None:
                raise UsageError(f"{flag}: {why}", f"expected {form}")
    if s3 is None and role_arn is None:
        return config
    old = config.batch
    return replace(config, batch=replace(old, s3=s3 or old.s3, role_arn=role_arn or old.role_arn))


def batch_run(
    config: Config,
    store: Any,
    choice: BatchChoice,
    err: Console,
    *,
    region: str | None = None,
    profile: str | None = None,
) -> BatchRun:
    """The run's BatchRun (its jobs are kept in the history, which it needs)."""
    from promptlab.batch.service import BatchRun
    from promptlab.views.batch import JobsProgress

    if store is None or not store.history:
        hint = "drop --no-log / PROMPTLAB_NO_LOG, or set store: {history: true}"
        raise UsageError("--batch needs the run history (it keeps the run's jobs)", hint)

    def notify(note: str) -> None:  # why calls run online: said before any wait
        err.print(f"note: {note}", highlight=False, soft_wrap=True)

    return BatchRun(config, store.run_id, mode=choice.mode, wait=choice.wait,
                    cleanup=choice.cleanup, region=region, profile=profile,
                    progress=JobsProgress(err), notify=notify)  # fmt: skip


def report_batch(err: Console, outcome: Any, batch: BatchRun | None) -> int | None:
    """After a run with --batch: notices, failed jobs, and for jobs left running (--no-wait,
    Ctrl-C) how to pick them up. The exit code when the command ends here, else None."""
    if batch is None:
        return None
    from promptlab.views.batch import (
        JobsProgress,
        print_failed_jobs,
        print_left_running,
        print_submitted,
    )

    if isinstance(batch.progress, JobsProgress):
        batch.progress.close()
    print_failed_jobs(err, outcome.batch_jobs)
    if outcome.interrupted and outcome.batch_pending:
        print_left_running(err, outcome.run_id)
        return 130
    if outcome.batch_pending:
        from promptlab.ci import step_output

        print_submitted(err, outcome.run_id, outcome.batch_jobs)
        step_output("run-id", outcome.run_id)  # a later CI job's `batch collect RUN`
        return 0
    return None


# ---------------------------------------------------------------- promptlab batch …

batch_app = typer.Typer(
    help="A run's Bedrock batch inference jobs: status, wait, collect, stop.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(batch_app, name="batch")

RunArg = typer.Argument(..., help="The run id (a unique prefix, or 'last').")
EPILOG = """Examples:

  promptlab test --batch --no-wait   # needs AWS: submits, prints the run id

  promptlab batch status last   # needs AWS

  promptlab batch collect last --junit junit.xml --json results.json   # needs AWS

  promptlab batch collect last --format json --cleanup   # needs AWS
"""


def _open(run: str) -> tuple[Config, BatchRun]:
    from promptlab.batch.service import BatchRun
    from promptlab.config import load_config

    config = load_config()
    from promptlab.batch.state import BatchState

    state = BatchState(config.store_path)
    try:
        run_id = state.find_run(run)
    finally:
        state.close()
    return config, BatchRun(config, run_id)


def _show_jobs(run: str, action: Callable[[BatchRun], list[Any]]) -> None:
    """Do `action` to the run's jobs (refresh or stop them) and show them as it leaves them."""
    from promptlab.views.batch import print_jobs
    from promptlab.views.console import stdout

    _, batch = _open(run)
    try:
        print_jobs(stdout(piped_width=140), action(batch))
    finally:
        batch.close()


@batch_app.command("status", epilog=EPILOG, cls=OptionalValues)
@handle_errors
def status(run: str = RunArg) -> None:
    """Each job of the run: model, job id, status, records processed, the service's message."""
    _show_jobs(run, lambda batch: batch.refresh())


@batch_app.command("wait", epilog=EPILOG, cls=OptionalValues)
@handle_errors
def wait(
    run: str = RunArg,
    poll: float | None = typer.Option(None, "--poll", min=0.0, help="Seconds between checks."),
) -> None:
    """Wait until every job of the run has ended, showing progress. Exit 1 if one failed, was
    stopped or expired; Ctrl-C stops waiting (the jobs go on)."""
    from promptlab.batch.jobs import FAILED
    from promptlab.views.batch import print_failed_jobs
    from promptlab.views.console import stderr

    err = stderr()
    config, batch = _open(run)
    if poll is not None:
        batch.config = replace(config, batch=replace(config.batch, poll_seconds=poll))
    rows = _wait(err, batch, close=True)
    print_failed_jobs(err, rows)
    raise typer.Exit(1 if any(r.status in FAILED for r in rows) else 0)


ReportOpts = {
    "json_file": typer.Option(None, "--json", help="A test run: write the full results here."),
    "junit": typer.Option(None, "--junit", help="A test run: write JUnit XML here."),
    "markdown": typer.Option(None, "--markdown", help="A test run: write a Markdown report."),
    "html": typer.Option(None, "--html", help="A test run: write the HTML report here."),
    "baseline": typer.Option(None, "--baseline", help="A test run: compare with a --json report."),
    "fail_under": typer.Option(None, "--fail-under", min=0.0, max=1.0,
                               help="A test run: exit 0 when this share of cases passes (0–1)."),
}  # fmt: skip


@batch_app.command("collect", epilog=EPILOG, cls=OptionalValues)
@handle_errors
def collect(
    run: str = RunArg,
    cleanup: bool = CleanupOpt,
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="A `run` run: also print its results (table, json, …)."
    ),
    poll: float | None = typer.Option(None, "--poll", min=0.0, help="Seconds between checks."),
    json_file: Path | None = ReportOpts["json_file"],
    junit: Path | None = ReportOpts["junit"],
    markdown: Path | None = ReportOpts["markdown"],
    html: Path | None = ReportOpts["html"],
    baseline: Path | None = ReportOpts["baseline"],
    fail_under: float | None = ReportOpts["fail_under"],
) -> None:
    """Wait for the run's jobs, then read their answers into the run's history: each record's
    answer at the batch price, or its error. A run of `promptlab test --batch`: then its
    verdict through `promptlab test` itself (the suite and options it was submitted with,
    --resume RUN): the same assertions, reports and exit codes. Nothing is submitted again."""
    from promptlab.views.formats import RESULTS, check

    reports = _option_values(("--json", json_file), ("--junit", junit),
                             ("--markdown", markdown), ("--html", html),
                             ("--baseline", baseline), ("--fail-under", fail_under))  # fmt: skip
    if fmt is not None:
        check(fmt, RESULTS)
    from promptlab.views.console import stderr

    err = stderr()
    config, batch = _open(run)
    if poll is not None:
        batch.config = replace(config, batch=replace(config.batch, poll_seconds=poll))
    batch.cleanup = cleanup
    command = batch.state.run_command(batch.run_id)
    try:
        args = _test_args(batch, command, fmt, reports)
    except BaseException:
        batch.close()
        raise
    if args is not None:
        _wait(err, batch, close=True)
        _test_verdict([*args, "--resume", batch.run_id, "--collect-only",
                       *(["--cleanup"] if cleanup else []), *reports])  # fmt: skip
    rows, results = _collect_run(err, config, batch, command)
    from promptlab.views.batch import print_failed_jobs

    print_failed_jobs(err, rows)
    _summary(err, batch.run_id, results)
    if fmt is not None:
        from promptlab.views.console import stdout

        RESULTS[fmt](stdout(piped_width=140), results)
    raise typer.Exit(0 if all(r.ok for r in results) else 1)


def _option_values(*options: tuple[str, Any]) -> list[str]:
    return [a for flag, value in options if value is not None for a in (flag, str(value))]


def _test_args(
    batch: BatchRun, command: str, fmt: str | None, reports: list[str]
) -> list[str] | None:
    """The `test` arguments a test run was submitted with; None for a `run` run. Options that
    do not go with the run's command: one usage error."""
    run_id = batch.run_id
    if command != "test":
        if reports:
            raise UsageError(f"{reports[0]} goes with a `promptlab test` run; run {run_id} was "
                             f"made by `promptlab {command}`",
                             "print its results with --format json (or table, jsonl, "
                             "markdown)")  # fmt: skip
        return None
    if fmt is not None:
        raise UsageError(f"--format goes with a `promptlab run` run; run {run_id} is a test run",
                         "write its reports: --json, --junit, --markdown or --html")  # fmt: skip
    args = batch.state.test_args(run_id)
    if args is None:
        raise UsageError(f"run {run_id} does not say which suite it was submitted with",
                         f"run the `promptlab test` command that submitted it, adding --batch "
                         f"--resume {run_id}")  # fmt: skip
    return args


def _wait(err: Console, batch: BatchRun, *, close: bool = False) -> list[Any]:
    """Wait for the run's jobs with progress; Ctrl-C leaves them running (exit 130)."""
    from promptlab.views.batch import JobsProgress, print_left_running

    progress = batch.progress = JobsProgress(err)
    try:
        return batch.wait()
    except KeyboardInterrupt:
        progress.close()
        print_left_running(err, batch.run_id)
        raise typer.Exit(130) from None
    finally:
        progress.close()
        if close:
            batch.close()


def _test_verdict(args: list[str]) -> NoReturn:
    """`promptlab test ARGS`, run in this process: its exit code ends this command."""
    import typer.core
    import typer.main

    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)  # (Typer's own click, not `click`)
    test = group.commands["test"]
    with test.make_context("promptlab test", args) as ctx:
        test.invoke(ctx)
    raise typer.Exit(0)


def _collect_run(
    err: Console, config: Config, batch: BatchRun, command: str
) -> tuple[list[Any], list[Any]]:
    """A `run` run: its jobs waited for and their answers read into the history."""
    from promptlab.batch.service import store_recorder
    from promptlab.store import open_store

    store = open_store(config, command, cache=False, resume=batch.run_id)
    try:
        rows = _wait(err, batch)
        batch.record = store_recorder(store)
        results = [result for _, result in batch.collect()]
    finally:
        if store is not None:
            store.close()
        batch.close()
    return rows, results


def _summary(err: Console, run_id: str, results: list[Any]) -> None:
    from promptlab.views.format import usd

    ok = sum(1 for r in results if r.ok)
    costs = [r.cost_usd for r in results if r.ok]
    cost = None if None in costs else sum(c or 0.0 for c in costs)
    err.print(f"collected run {run_id}: {ok} answered, {len(results) - ok} error(s), "
              f"{usd(cost)} at the batch price; in the history (promptlab log --run {run_id})",
              highlight=False, soft_wrap=True)  # fmt: skip


@batch_app.command("stop", epilog=EPILOG, cls=OptionalValues)
@handle_errors
def stop(run: str = RunArg) -> None:
    """Stop the run's jobs that are still running (records they finished stay collectable)."""
    _show_jobs(run, lambda batch: batch.stop())

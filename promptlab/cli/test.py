"""`promptlab test`: suites → assertions → reports."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from promptlab.cli.app import command
from promptlab.cli.batch import BatchOpt, CleanupOpt, NoWaitOpt, RoleOpt, S3Opt
from promptlab.cli.prompts import GuardrailOpt, LatencyOpt, TierOpt, checked_controls
from promptlab.cli.run import ConcurrencyOpt, apply_concurrency
from promptlab.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from promptlab.catalogue import ModelRef
    from promptlab.cli.batch import BatchChoice
    from promptlab.config import Config
    from promptlab.guardrails import Guardrail
    from promptlab.testing import Planned, TestRun

EPILOG = """Examples:

  promptlab test                                   # every suite under prompts/

  promptlab test prompts/examples --filter 'render-*'   # the offline cases (echo model)

  promptlab test support-reply -m claude-haiku,nova-lite --repeat 5

  promptlab test -k 'support-reply/*' --junit junit.xml --markdown report.md --json results.json

  promptlab test --baseline results.json --fail-under 0.95

  promptlab test --shard 1/2 --json shard-1.json   # one CI job of two

  promptlab test --shard 2/2 --json shard-2.json   # the other; then: promptlab report merge

  promptlab test support-reply -m nova-pro --tier flex   # evaluations at the flex price

  promptlab test support-reply -m nova-lite --guardrail gr1abc2def3:1

  promptlab test support-reply -m nova-micro --repeat 100 --batch --dry-run

  promptlab test --batch --json results.json   # needs AWS: batch inference, about half price

  promptlab test --batch --no-wait   # needs AWS; later: promptlab batch collect RUN

Exit codes: 0 all passed (or pass rate ≥ --fail-under), 1 assertion failures, 2 bad suite or
usage (nothing was called), 3 infrastructure errors (throttled, access denied) kept cases from
running, 130 interrupted (143 after SIGTERM: a cancelled CI job), reports written either way.
"""


@command(epilog=EPILOG)
def test(
    paths: list[str] = typer.Argument(
        None,
        help="Prompt files, suite files (*.tests.yaml), prompt names or directories "
        "(default: prompts/).",
    ),
    model: list[str] = typer.Option(
        [],
        "--model",
        "-m",
        help="Run the cases on these models instead (repeatable, a,b); "
        "cases with their own 'models:' keep them unless --override-pinned.",
    ),
    override_pinned: bool = typer.Option(
        False,
        "--override-pinned",
        help="-m also replaces the models a case pins with its own 'models:' (e.g. echo checks).",
    ),
    filter_: str | None = typer.Option(
        None, "--filter", "-k", help="Only cases whose name matches (glob or substring)."
    ),
    retrieve: list[str] = typer.Option(
        [],
        "--retrieve",
        metavar="NAME|KEY=VALUE",
        help="Run each case of a prompt that retrieves once per retrieval variant: a name from "
        "its retrieve:, or settings such as k=3 (repeatable; the case is named "
        "'case [retrieve k=3]').",
    ),
    repeat: int | None = typer.Option(
        None, "--repeat", "-n", min=1, help="Samples per case × model (overrides 'repeat')."
    ),
    concurrency: str | None = ConcurrencyOpt,
    junit: Path | None = typer.Option(None, "--junit", help="Write JUnit XML here."),
    json_file: Path | None = typer.Option(None, "--json", help="Write the full results here."),
    markdown: Path | None = typer.Option(None, "--markdown", help="Write a Markdown report."),
    html: Path | None = typer.Option(
        None, "--html", help="Write a self-contained HTML report (filters, charts) here."
    ),
    baseline: Path | None = typer.Option(
        None, "--baseline", help="Compare with an earlier --json report."
    ),
    update_baseline: Path | None = typer.Option(
        None, "--update-baseline", help="Write this run as the new baseline (JSON)."
    ),
    fail_under: float | None = typer.Option(
        None,
        "--fail-under",
        min=0.0,
        max=1.0,
        help="Exit 0 when the share of passing cases is at least this (0–1).",
    ),
    shard: str | None = typer.Option(
        None, "--shard", help="Run a deterministic slice I/N of the cases (e.g. 2/4)."
    ),
    cache: bool = typer.Option(
        True,
        "--cache/--no-cache",
        help="Answer temperature-0, single-sample calls from the local cache.",
    ),
    cache_ttl: float | None = typer.Option(None, "--cache-ttl", help="Max cache age, seconds."),
    no_log: bool = typer.Option(False, "--no-log", help="Don't record this run in history."),
    resume: str | None = typer.Option(
        None, "--resume", help="Re-use the successful calls of an earlier run (id or 'last')."
    ),
    region: str | None = typer.Option(None, "--region", help="AWS region for Bedrock calls."),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Validate and list the planned cases × models; call nothing."
    ),
    skip_unsupported: bool = typer.Option(
        False,
        "--skip-unsupported",
        help="Leave out case × model pairs whose model cannot take what the prompt sends "
        "(images, tools, …) instead of failing them.",
    ),
    verbose: bool = typer.Option(
        False,
        "--verbose",
        "-v",
        help="After the table: every assertion (score, reason) and the judged output of each "
        "case that did not pass.",
    ),
    latency: str | None = LatencyOpt,
    tier: str | None = TierOpt,
    guardrail: str | None = GuardrailOpt,
    batch: str | None = BatchOpt,
    no_wait: bool = NoWaitOpt,
    s3: str | None = S3Opt,
    role_arn: str | None = RoleOpt,
    cleanup: bool = CleanupOpt,
    collect_only: bool = typer.Option(
        False,
        "--collect-only",
        hidden=True,
        help="With --batch --resume RUN: collect the run's jobs and submit nothing (what "
        "`promptlab batch collect RUN` runs for a test run).",
    ),
) -> None:
    """Run prompt test suites: assertions on every case × model, reports for CI."""
    from promptlab.ci import github_actions
    from promptlab.cli.batch import batch_choice, with_batch_options
    from promptlab.config import load_config
    from promptlab.guardrails import from_option
    from promptlab.suite import MAX_REPEAT, REPEAT_HINT, load_cases, with_retrieval
    from promptlab.testing import compare, kept_pinned, load_run, parse_shard, prepare, select
    from promptlab.views.console import stdout
    from promptlab.views.reportfiles import publish

    if repeat is not None and repeat > MAX_REPEAT:
        raise UsageError(f"--repeat: at most {MAX_REPEAT:,}, got {repeat:,}", REPEAT_HINT)
    batching = batch_choice(batch, no_wait, s3, role_arn, cleanup)
    if collect_only and (batching is None or resume is None):
        raise UsageError("--collect-only goes with --batch --resume RUN",
                         "use `promptlab batch collect RUN`")  # fmt: skip
    submit_args = [*(paths or []), *_option_args(
        ("--model", model), ("--override-pinned", override_pinned), ("--filter", filter_),
        ("--retrieve", retrieve), ("--repeat", repeat), ("--concurrency", concurrency),
        ("--no-cache", not cache), ("--cache-ttl", cache_ttl), ("--region", region),
        ("--profile", profile), ("--shard", shard), ("--skip-unsupported", skip_unsupported),
        ("--latency", latency), ("--tier", tier), ("--guardrail", guardrail),
        ("--s3", s3), ("--role-arn", role_arn))]  # fmt: skip
    if batch is not None:
        submit_args.append("--batch" if batch == "on" else f"--batch={batch}")
    controls = checked_controls(latency, tier)
    config = apply_concurrency(load_config(), concurrency).with_overrides(
        region=region, guardrail_flag=from_option(guardrail), **controls
    )
    config = with_batch_options(config, s3, role_arn)
    shard_spec = parse_shard(shard) if shard else None
    base = load_run(baseline, what="baseline") if baseline else None
    from promptlab.retrieval import use_cache
    from promptlab.retrieval.kb import enable

    if not dry_run:  # a dry run searches no knowledge base and opens no store
        enable(config)  # knowledge bases are searched for every case at once, before any call
        if cache:
            use_cache(config, cache_ttl)  # retrieved passages kept and reused like answers
    cases = load_cases(list(paths or []), config)
    if not cases:
        raise UsageError("no test cases found",
                         "add 'tests:' to a prompt or a <name>.tests.yaml suite file")  # fmt: skip
    selected = with_retrieval(select(cases, filter_, shard_spec), retrieve, config.concurrency)
    planned, graders = prepare(selected, config, models=model, repeat=repeat,
                               override_pinned=override_pinned)  # fmt: skip
    out = stdout(piped_width=140)
    from promptlab.views.console import stderr

    err = stderr()
    if skip_unsupported:
        from promptlab.testing import supported

        planned, notes = supported(planned)
        for note in notes:
            err.print(f"note: {note}", highlight=False, soft_wrap=True)
        if not planned:
            raise UsageError("no case × model left: none of the models takes what the cases send",
                             "run with models that take it (see 'promptlab models')")  # fmt: skip
    kept = kept_pinned(planned, model)
    if kept:
        err.print(f"{len(kept)} case(s) keep the models of their own 'models:' "
                  f"(--override-pinned runs them on -m too): {', '.join(kept[:5])}"
                  + (" …" if len(kept) > 5 else ""), highlight=False, soft_wrap=True)  # fmt: skip
    if dry_run:
        from promptlab.views.testplan import print_plan

        print_plan(out, planned, len(cases), config)
        if batching is not None:
            _print_batch_plan(out, planned, batching.mode, config)
        return
    from promptlab.guardrails import verify
    from promptlab.testing import guardrails_used

    calls, applied = guardrails_used(planned)
    if applied:  # ApplyGuardrail runs whatever answered (echo too): check them all now
        verify([*applied, *calls], config, region, profile)
        calls = []
    if not planned:
        err.print(f"no cases in shard {shard} (of {len(cases)} case(s))")
    run, store, batch_exit = _execute(config, planned, graders, region, profile, err,
                             cache=cache, cache_ttl=cache_ttl, log=not no_log,
                             resume=resume, guardrails=calls, batching=batching,
                             submit_args=None if collect_only else submit_args)  # fmt: skip
    if batch_exit is not None:  # jobs left running (--no-wait, Ctrl-C): no report yet
        sys.stdout.flush()
        sys.stderr.flush()
        if batch_exit == 130:  # don't wait for in-flight calls (worker threads) to finish
            os._exit(130)
        raise typer.Exit(batch_exit)
    run.shard = shard
    recorded = store is not None and store.history and not store.broken  # --resume can use it
    if resume is not None:
        made = sum(p.repeat for p in planned) - run.reused - run.cached - run.collected
        err.print(f"resumed run {run.run_id}: reused {run.reused} finished call(s)"
                  + (f", {run.cached} from the cache" if run.cached else "")
                  + (f", {run.collected} collected from its batch jobs" if run.collected else "")
                  + f"; {max(made, 0)} call(s) made now", highlight=False)  # fmt: skip
    if base is not None and baseline is not None:
        run.baseline = compare(run, base, str(baseline))
    publish(run, out, err, report_files(json_file, junit, markdown, update_baseline, html))
    _router_comparison(out, run)
    if verbose:
        from promptlab.views.testreport import render_details

        render_details(out, run)
    if github_actions():
        from promptlab.views.testreport import github_annotations

        for line in github_annotations(run, config.root):
            typer.echo(line)
    from promptlab.views.notices import print_store_failure

    print_store_failure(err, store)  # after the reports, so it is the last word
    if run.interrupted and recorded:
        err.print(f"interrupted: finished calls are recorded; run the same command with "
                  f"--resume {run.run_id} to make only the missing ones",
                  highlight=False, soft_wrap=True)  # fmt: skip
    if run.interrupted:  # don't wait for in-flight calls (worker threads) to finish
        sys.stdout.flush()
        sys.stderr.flush()
        from promptlab.cli.interrupt import exit_code

        os._exit(exit_code())
    raise typer.Exit(run.exit_code(fail_under))


def _execute(
    config: Config,
    planned: list[Planned],
    graders: dict[str, ModelRef],
    region: str | None,
    profile: str | None,
    err: Console,
    *,
    cache: bool,
    cache_ttl: float | None,
    log: bool,
    resume: str | None,
    guardrails: list[Guardrail] | None = None,
    batching: BatchChoice | None = None,
    submit_args: list[str] | None = None,
) -> tuple[TestRun, Any, int | None]:
    """The run, the store its calls went into (None without history or cache), and the exit
    code when batch jobs were left running (--no-wait, Ctrl-C): no report then. With batching,
    `submit_args` are kept with the run (for `batch collect RUN`); None: collect only."""
    from promptlab.providers.base import ProviderPool
    from promptlab.store import open_store
    from promptlab.testing import TestEngine
    from promptlab.views.testreport import LiveProgress, PlainProgress

    store = open_store(config, "test", cache=cache, cache_ttl=cache_ttl, log=log, resume=resume)
    pool = ProviderPool(config, region=region, profile=profile)
    pool.verify_first(guardrails or [])  # checked before the first model call
    batch = None
    if batching is not None:
        from promptlab.cli.batch import batch_run

        try:
            batch = batch_run(config, store, batching, err, region=region, profile=profile)
            if submit_args is None:
                batch.may_submit = False
            else:
                batch.state.keep_test_args(batch.run_id, submit_args)
        except BaseException:
            if store is not None:
                store.close()
            raise
    progress = LiveProgress(err) if err.is_terminal and batch is None else PlainProgress()
    engine = TestEngine(config, pool, store=store,
                        run_id=store.run_id if store else None, progress=progress,
                        batch=batch)  # fmt: skip
    try:
        run = engine.run(planned, graders)
    finally:
        if store is not None:
            store.close()
        if batch is not None:
            batch.close()
    batch_exit = None
    if batch is not None:
        from promptlab.cli.batch import report_batch

        batch_exit = report_batch(err, engine.outcome, batch)
    from promptlab.views.notices import print_throttling

    print_throttling(err, engine.throttling)
    return run, store, batch_exit


def _option_args(*options: tuple[str, Any]) -> list[str]:
    """Command-line arguments that give these option values again (flags when True; a list
    repeats the option; None and False left out)."""
    args: list[str] = []
    for flag, value in options:
        if value is True:
            args.append(flag)
        elif isinstance(value, list):
            args.extend(a for v in value for a in (flag, str(v)))
        elif value is not None and value is not False:
            args.extend((flag, str(value)))
    return args


def _router_comparison(out: Console, run: TestRun) -> None:
    """A prompt router next to its members: per case whom it chose, what it saved against
    the most expensive member, and the difference in pass rate."""
    from promptlab.routers import compare, is_router, outcome_cells

    if any(is_router(o.model_id) for o in run.cases):
        from promptlab.views.routers import print_comparison

        print_comparison(out, compare(outcome_cells(run.cases)))


def report_files(
    json_file: Path | None,
    junit: Path | None,
    markdown: Path | None,
    update_baseline: Path | None = None,
    html: Path | None = None,
) -> list[tuple[str, Path | None]]:
    """(report kind, path) for each report option, in the order they are written."""
    return [("json", json_file), ("json", update_baseline), ("junit", junit),
            ("markdown", markdown), ("html", html)]  # fmt: skip


def _print_batch_plan(out: Console, planned: list[Planned], mode: str, config: Config) -> None:
    """`--dry-run --batch`: the cases' calls per model, batch or online, jobs and costs."""
    from promptlab.batch.plan import dry_run
    from promptlab.controls import Controls
    from promptlab.estimate import estimate
    from promptlab.testing import jobs_for
    from promptlab.views.batch import plan_table

    jobs, _ = jobs_for(planned, Controls.of(config))
    estimates, _ = estimate(jobs, config)
    out.print(plan_table(dry_run(estimates, mode, config)))

"""`promptlab run`: one prompt (or several versions) on several models at once, side by side."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from promptlab.cli.app import command
from promptlab.cli.batch import BatchOpt, CleanupOpt, NoWaitOpt, RoleOpt, S3Opt
from promptlab.cli.prompts import (
    ExamplesOpt,
    GuardrailOpt,
    LatencyOpt,
    TierOpt,
    VarsOpt,
    checked_controls,
)
from promptlab.errors import UsageError
from promptlab.views.formats import RESULTS, check, names

if TYPE_CHECKING:
    from rich.console import Console

    from promptlab.cli.batch import BatchChoice
    from promptlab.config import Config
    from promptlab.jobs import Job
    from promptlab.results import Result

FORMATS = tuple(RESULTS)

ConcurrencyOpt = typer.Option(
    None, "--concurrency", "-j", metavar="N|default=N,MODEL=N",
    help="Model calls at once: N overall; MODEL=N caps one model (alias or id), e.g. "
    "default=8,claude-sonnet=2 (default: config, 8).",
)  # fmt: skip


def apply_concurrency(config: Config, text: str | None) -> Config:
    """`--concurrency` over the config's; a bad value is a usage error naming the option."""
    if text is None:
        return config
    from promptlab.config import CONCURRENCY_FORM, parse_concurrency, unknown_model

    try:
        spec = parse_concurrency(text)
    except ValueError as exc:
        raise UsageError(f"--concurrency: {exc}", CONCURRENCY_FORM) from None
    for name in spec.models:
        unknown = unknown_model(name, config.aliases)
        if unknown is not None:
            raise UsageError(f"--concurrency: {unknown.message}", unknown.hint)
    return config.with_concurrency(spec)


EPILOG = """Examples:

  promptlab run prompts/examples/support-reply.yaml -m echo --examples

  promptlab run support-reply -m claude-haiku,nova-lite -m llama-70b --examples -v customer_name=Ana

  promptlab run support-reply --examples -m nova-pro --temperature 0 --format json | jq '.[].output'

  promptlab run support-reply --examples -m us.anthropic.claude-3-5-haiku-20241022-v1:0 --dry-run

  promptlab run support-reply@v1.0.0 support-reply --examples -m claude-haiku -m nova-lite

  promptlab run support-reply -m nova-micro --vars prompts/examples/_vars/customers.json -j 16

  promptlab run support-reply --examples -m claude-sonnet,nova-lite -j default=8,claude-sonnet=2

  promptlab run support-reply --examples -m nova-pro -m claude-3.5-haiku --latency optimized

  promptlab run support-reply --examples -m nova-pro --tier flex

  promptlab run bat-and-ball -m claude-sonnet-4.5,nova-2-lite,echo --examples --show-reasoning

  promptlab run support-reply --examples -m nova-lite --guardrail gr1abc2def3:1

  promptlab run product-shot -m echo --out shots

  promptlab run policy-rag -m echo --examples --retrieve k=1 --retrieve k=3
  promptlab run support-reply --examples -m nova-micro,claude-haiku --batch --dry-run

  promptlab run support-reply -m nova-micro --vars dataset.json --batch --no-wait   # needs AWS
"""


@command(epilog=EPILOG)
def run(
    prompts: list[str] = typer.Argument(
        ..., help="Prompt file(s) or names; PATH@REF for a git version. Several: compared."
    ),
    model: list[str] = typer.Option(
        [], "--model", "-m", help="Model alias, id, inference profile or ARN (repeatable, a,b)."
    ),
    var: list[str] = VarsOpt,
    vars_file: Path | None = typer.Option(
        None,
        "--vars",
        help="YAML/JSON file: a mapping of values, or a list of them (one run each).",
    ),
    examples: bool = ExamplesOpt,
    temperature: float | None = typer.Option(None, "--temperature", help="0–1."),
    top_p: float | None = typer.Option(None, "--top-p", help="0–1."),
    max_tokens: int | None = typer.Option(None, "--max-tokens", help="Output token limit."),
    stop: list[str] = typer.Option([], "--stop", help="Stop sequence (repeatable)."),
    region: str | None = typer.Option(None, "--region", help="AWS region for Bedrock calls."),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile."),
    stream: bool | None = typer.Option(
        None, "--stream/--no-stream", help="ConverseStream with a live view (default on a TTY)."
    ),
    fmt: str = typer.Option("table", "--format", "-f", help=f"{names(RESULTS)}."),
    concurrency: str | None = ConcurrencyOpt,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would be sent, with estimated input cost; call nothing."
    ),
    cache: bool = typer.Option(
        False, "--cache/--no-cache", help="Answer identical requests from the local store."
    ),
    cache_ttl: float | None = typer.Option(
        None, "--cache-ttl", min=0, help="Max cache age, seconds."
    ),
    no_log: bool = typer.Option(False, "--no-log", help="Don't record this run in history."),
    skip_unsupported: bool = typer.Option(
        False,
        "--skip-unsupported",
        help="Leave out models that cannot take what the prompt sends (images, tools, …) "
        "instead of showing the error in their cells.",
    ),
    html: Path | None = typer.Option(
        None, "--html", help="Also write the results as a self-contained HTML page here."
    ),
    latency: str | None = LatencyOpt,
    tier: str | None = TierOpt,
    show_reasoning: bool = typer.Option(
        False,
        "--show-reasoning",
        help="Table: each answer's reasoning in full, not its first lines (JSON, Markdown and "
        "HTML always have all of it).",
    ),
    guardrail: str | None = GuardrailOpt,
    out_dir: Path | None = typer.Option(
        None, "--out", help="Image prompts: write the images here (default .promptlab/images)."
    ),
    no_images: bool = typer.Option(
        False, "--no-images", help="Image prompts: no inline thumbnails, only the table."
    ),
    retrieve: list[str] = typer.Option(
        [],
        "--retrieve",
        metavar="NAME|KEY=VALUE",
        help="Retrieval variant(s) to compare, each its own column next to the models: a name "
        "from the prompt's retrieve:, or settings such as k=3 or k=8,chunk=400 (repeatable; "
        "default: the first variant).",
    ),
    batch: str | None = BatchOpt,
    no_wait: bool = NoWaitOpt,
    s3: str | None = S3Opt,
    role_arn: str | None = RoleOpt,
    cleanup: bool = CleanupOpt,
) -> None:
    """Run a prompt on several Bedrock models concurrently and compare the outputs."""
    from promptlab.cli.batch import batch_choice, with_batch_options
    from promptlab.config import load_config
    from promptlab.guardrails import from_option
    from promptlab.jobs import build_jobs, cli_params, load_var_file
    from promptlab.prompt import parse_assignments
    from promptlab.sources import open_prompt

    check(fmt, RESULTS)
    batching = batch_choice(batch, no_wait, s3, role_arn, cleanup)
    strings = parse_assignments(var)
    params = cli_params(temperature, top_p, max_tokens, stop)
    controls = checked_controls(latency, tier)
    config = load_config().with_overrides(region=region, profile=profile,
                                          guardrail_flag=from_option(guardrail),
                                          **controls)  # fmt: skip
    config = with_batch_options(apply_concurrency(config, concurrency), s3, role_arn)
    loaded = [open_prompt(p, config) for p in prompts]
    var_sets, origins = load_var_file(vars_file) if vars_file else ([{}], [])
    if any(p.retrieval for p in loaded) and not dry_run:
        from promptlab.retrieval import use_cache
        from promptlab.retrieval.kb import enable

        enable(config)  # knowledge bases are searched (once per query) before any model call
        if cache:
            use_cache(config, cache_ttl)  # passages kept and reused like answers
    jobs = build_jobs(loaded, var_sets, strings, model, params, config, use_examples=examples,
                      cacheable=cache, origins=origins, retrieve=retrieve)  # fmt: skip
    if skip_unsupported:
        jobs = _skip_unsupported(jobs)
    if dry_run:
        from promptlab.estimate import estimate
        from promptlab.views import dryrun

        estimates, warnings = estimate(jobs, config)
        dryrun.show(estimates, warnings, config, fmt)
        if batching is not None:
            from promptlab.batch.plan import dry_run as batch_plan
            from promptlab.views.batch import plan_table
            from promptlab.views.console import stderr, stdout

            where = stdout(piped_width=140) if fmt == "table" else stderr()
            where.print(plan_table(batch_plan(estimates, batching.mode, config)))
        return
    code = execute(jobs, config, fmt=fmt, stream=stream, cache=cache, cache_ttl=cache_ttl,
                   log=not no_log, html=html, show_reasoning=show_reasoning,
                   out_dir=out_dir, thumbnails=not no_images, batching=batching)  # fmt: skip
    raise typer.Exit(code)


def _skip_unsupported(jobs: list[Job]) -> list[Job]:
    """The jobs their models can take; a notice on stderr for each model left out."""
    from promptlab.jobs import skip_unsupported
    from promptlab.views.console import stderr

    kept, notes = skip_unsupported(jobs)
    for note in notes:
        stderr().print(f"note: {note}", highlight=False, soft_wrap=True)
    if not kept:
        raise UsageError("no model left to run: none takes what the prompt sends",
                         "run with models that take it (see 'promptlab models')")  # fmt: skip
    return kept


def execute(
    jobs: list[Job],
    config: Config,
    *,
    fmt: str,
    stream: bool | None,
    cache: bool,
    cache_ttl: float | None,
    log: bool,
    html: Path | None = None,
    show_reasoning: bool = False,
    out_dir: Path | None = None,
    thumbnails: bool = True,
    batching: BatchChoice | None = None,
) -> int:
    """Run the jobs with the right view; print results; return the exit code.

    Image prompts' images go to `out_dir` (checked writable before any call)."""
    from rich.console import Console

    from promptlab.jobs import guardrails_used
    from promptlab.providers.base import ProviderPool
    from promptlab.results import SETUP_ERROR_CODES
    from promptlab.runner import Runner
    from promptlab.views.notices import (
        print_notices,
        print_store_failure,
        print_throttling,
        print_unreachable,
    )

    out = Console(highlight=False, soft_wrap=False)
    from promptlab.views.console import stderr

    err = stderr()
    interactive = fmt == "table" and out.is_terminal
    files = _image_files(jobs, config, out_dir)
    if batching is not None:  # the jobs' progress is the view; online calls do not stream
        interactive, stream = False, False
    if stream is None:
        stream = interactive and files is None  # image models do not stream
    pool = ProviderPool(config)  # providers are made on first use: set-up errors end the run
    pool.verify_first(guardrails_used(jobs))  # then, before the first call
    store = _open_store(config, cache=cache, cache_ttl=cache_ttl, log=log)
    batch = None
    if batching is not None:
        from promptlab.cli.batch import batch_run

        try:
            batch = batch_run(config, store, batching, err)
        except BaseException:
            if store is not None:
                store.close()
            raise
    runner = Runner(pool, config, stream=stream, store=store,
                    run_id=store.run_id if store else None, images=files,
                    batch=batch)  # fmt: skip
    try:
        if interactive and stream:
            from promptlab.views.live import LiveView, job_labels

            with LiveView.for_jobs(out, job_labels(jobs)) as view:
                runner.on_event = view.on_event
                outcome = runner.run(jobs)
        elif interactive:
            with out.status(f"calling {len(jobs)} model(s)…"):
                outcome = runner.run(jobs)
        else:
            outcome = runner.run(jobs)
    finally:
        if store is not None:
            store.close()
        if batch is not None:
            batch.close()
    from promptlab.cli.batch import report_batch

    ended = report_batch(err, outcome, batch)
    if ended == 130:
        _exit_now(130)
    print_notices(err, outcome.results)
    print_throttling(err, runner.throttling())
    print_store_failure(err, store)
    if fmt == "table":
        from promptlab.views.table import render_results

        if outcome.results:
            render_results(out, outcome.results, full_reasoning=show_reasoning,
                           thumbnails=thumbnails)  # fmt: skip
            _router_comparison(out, outcome.results, config)
    else:
        RESULTS[fmt](out, outcome.results)
    if html is not None:
        from promptlab.views.html import run_page
        from promptlab.views.reportfiles import write

        write(html, run_page(outcome.results, source=f"run {outcome.run_id}"))
        err.print(f"wrote {html}", highlight=False)
    if ended is not None:
        return ended
    if outcome.interrupted:
        from promptlab.runner import INTERRUPTED

        cut = sum(1 for r in outcome.results if r.error and r.error.code == INTERRUPTED)
        line = f"interrupted: {len(outcome.results) - cut} of {len(jobs)} call(s) finished"
        err.print(line + (f"; {cut} cut short (the text so far is kept)" if cut else ""))
        from promptlab.cli.interrupt import exit_code

        _exit_now(exit_code())
    setup = [r.error for r in outcome.results if r.error and r.error.code in SETUP_ERROR_CODES]
    if setup:
        print_unreachable(err, setup[0])
        return 2
    return 0 if all(r.ok for r in outcome.results) else 1


def _image_files(jobs: list[Job], config: Config, out_dir: Path | None) -> Any:
    """Where the images of image prompts go, made and checked writable now (None: no images)."""
    if not any(job.prompt.kind == "image" for job in jobs):
        return None
    from promptlab.imagefiles import DEFAULT_DIR, ImageFiles

    files = ImageFiles(out_dir if out_dir is not None else config.root / DEFAULT_DIR)
    files.check()
    return files


def _router_comparison(out: Console, results: list[Result], config: Config) -> None:
    """A prompt router next to its members: whom it chose per case, what it saved, and how
    people rated each one's answers to the case where they have (`promptlab review`)."""
    from promptlab.routers import compare, is_router, run_cells

    if any(is_router(r.model_id) for r in results):
        from promptlab.store.verdicts import RatingsLookup
        from promptlab.views.routers import print_comparison

        print_comparison(out, compare(run_cells(results, RatingsLookup(config.store_path))))


def _exit_now(code: int) -> None:
    """After Ctrl-C, don't wait for in-flight calls (worker threads) to finish."""
    import os

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _open_store(config: Config, *, cache: bool, cache_ttl: float | None, log: bool) -> Any:
    from promptlab.store import open_store

    return open_store(config, "run", cache=cache, cache_ttl=cache_ttl, log=log)

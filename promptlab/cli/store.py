"""Commands over the run history and response cache: log, log show, log runs, stats, cache."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import closing
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from promptlab.cli.app import app, command, handle_errors
from promptlab.errors import ConfigError, UsageError
from promptlab.views.formats import CACHE, CALLS, RUNS, STATS, check, names

if TYPE_CHECKING:
    import sqlite3

    from promptlab.ratingstats import RatingSummary
    from promptlab.store.query import Filters

SinceOpt = typer.Option(
    None, "--since", metavar="WHEN", help="Only calls since: 30m, 1h, 2d, 1w or a date 2026-11-01."
)
PromptOpt = typer.Option(None, "--prompt", "-p", help="Only this prompt (its name).")
ModelOpt = typer.Option(None, "--model", "-m", help="Only this model (alias or model id).")

LOG_EPILOG = """Examples:

  promptlab log                                  # the 50 newest calls

  promptlab log --prompt support-reply --since 2d --errors

  promptlab log --run last --format jsonl > last-run.jsonl

  promptlab log --search "refund policy" --model claude-haiku

  promptlab log show 9412                        # one call in full

  promptlab log runs                             # run ids for --run, --resume
"""

log_app = typer.Typer(
    no_args_is_help=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
cache_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="The response cache: identical requests answered from the store.",
    epilog="Examples:\n\n  promptlab cache stats\n\n  promptlab cache clear --older-than 30d",
)
app.add_typer(log_app, name="log")
app.add_typer(cache_app, name="cache")


def _open(what: str) -> tuple[sqlite3.Connection | None, str]:
    """The store's connection (None: nothing recorded yet) and its path."""
    from promptlab.config import load_config
    from promptlab.store.query import open_reader

    config = load_config()
    con = open_reader(config.store_path)
    if con is None:
        typer.echo(f"no {what} recorded yet ({config.store_path})", err=True)
    return con, str(config.store_path)


F = TypeVar("F", bound=Callable[..., Any])


def _damaged_store(func: F) -> F:
    """A store SQLite cannot read (a corrupted page, a missing table) is one line naming the
    file and the fix, exit 2, as any other unusable store path is; `run` and `test` go on
    without history in that case, with a warning."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import sqlite3

        try:
            return func(*args, **kwargs)
        except sqlite3.DatabaseError as exc:
            from promptlab.config import load_config

            path = load_config().store_path
            raise ConfigError(
                f"the store {path} cannot be read: {exc}",
                f"move it aside (mv {path} {path}.broken); the next run starts a new one",
            ) from None

    return wrapper  # type: ignore[return-value]


def _check(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise UsageError(f"{option} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _filters(
    con: sqlite3.Connection,
    *,
    prompt: str | None = None,
    version: str | None = None,
    model: str | None = None,
    run: str | None = None,
    errors: bool = False,
    since: str | None = None,
    search: str | None = None,
) -> Filters:
    from promptlab.store.query import Filters, parse_since, resolve_run

    return Filters(
        prompt=prompt, version=version, model=model, model_id=_model_id(model),
        run=resolve_run(con, run) if run else None, errors=errors,
        since=parse_since(since) if since else None, search=search,
    )  # fmt: skip


def _model_id(model: str | None) -> str | None:
    """The id an alias given to --model resolves to (None when it names no known model)."""
    if not model:
        return None
    from promptlab.catalogue import resolve
    from promptlab.config import load_config
    from promptlab.errors import PromptlabError

    config = load_config()
    try:
        ref = resolve(model, config, config.region)
    except PromptlabError:  # an old alias, or a name only the history knows: matched as typed
        return None
    if ref.links:  # a fallback chain's calls are recorded under its links
        from promptlab.chains import spelled

        return spelled(ref.links)
    return ref.model_id


def _notices(filters: Filters) -> None:
    for note in dict.fromkeys(filters.notices):
        typer.echo(f"note: {note}", err=True)


# ---------------------------------------------------------------- log


@log_app.callback(invoke_without_command=True, epilog=LOG_EPILOG)
@handle_errors
@_damaged_store
def log(
    ctx: typer.Context,
    prompt: str | None = PromptOpt,
    version: str | None = typer.Option(None, "--version", help="Only this prompt version."),
    model: str | None = ModelOpt,
    run: str | None = typer.Option(
        None, "--run", "-r", metavar="RUN_ID|last", help="Only calls of this run."
    ),
    errors: bool = typer.Option(False, "--errors", help="Only failed calls."),
    since: str | None = SinceOpt,
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="At most this many calls."),
    search: str | None = typer.Option(
        None, "--search", "-s", help="Calls whose prompt or output contain these words."
    ),
    fmt: str = typer.Option("table", "--format", "-f", help=f"{names(CALLS)}."),
) -> None:
    """List recorded model calls, newest first (see also: log show ID, log runs)."""
    if ctx.invoked_subcommand is not None:
        return
    from promptlab.store.query import list_calls

    _check(fmt, tuple(CALLS), "--format")
    con, _ = _open("calls")
    rows: list[sqlite3.Row] = []
    if con is not None:
        with closing(con):
            filters = _filters(con, prompt=prompt, version=version, model=model, run=run,
                               errors=errors, since=since, search=search)  # fmt: skip
            rows = list_calls(con, filters, limit)
        _notices(filters)
    elif fmt == "table":  # nothing recorded yet, and _open said so
        return
    CALLS[fmt](rows)


@log_app.command(
    "show", epilog="Examples:\n\n  promptlab log show 1\n\n  promptlab log show 1 -f json"
)
@handle_errors
@_damaged_store
def log_show(
    call_id: int = typer.Argument(..., metavar="ID", help="Call id (first column of `log`)."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """Show one recorded call in full: request, output, usage, timing, cost, error."""
    from promptlab.store.query import get_call
    from promptlab.views.calls import call_detail, row_dict
    from promptlab.views.console import show, stdout
    from promptlab.views.sanitize import dumps

    _check(fmt, ("text", "json"), "--format")
    con, path = _open("calls")
    row = None
    if con is not None:
        with closing(con):
            row = get_call(con, call_id)
    if row is None:
        raise UsageError(f"no call {call_id} in {path}", "list calls with `promptlab log`")
    if fmt == "json":
        typer.echo(dumps(row_dict(row), indent=2))
        return
    show(stdout(), *call_detail(row))


@log_app.command(
    "runs", epilog="Examples:\n\n  promptlab log runs\n\n  promptlab log runs --since 1d -f json"
)
@handle_errors
@_damaged_store
def log_runs(
    since: str | None = SinceOpt,
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="At most this many runs."),
    fmt: str = typer.Option("table", "--format", "-f", help=f"{names(RUNS)}."),
) -> None:
    """List recent runs: id (for --run and --resume), command, git commit, calls, cost."""
    from promptlab.store.query import list_runs, parse_since

    check(fmt, RUNS)
    con, _ = _open("runs")
    rows = []
    if con is not None:
        with closing(con):
            rows = list_runs(con, parse_since(since) if since else None, limit)
    elif fmt == "table":  # nothing recorded yet, and _open said so
        return
    RUNS[fmt](rows)


# ---------------------------------------------------------------- stats


@command(
    epilog="Examples:\n\n"
    "  promptlab stats                                # per model, all time\n\n"
    "  promptlab stats --since 7d --chart latency\n\n"
    "  promptlab stats --prompt support-reply --by version\n\n"
    "  promptlab stats --since 1d --format json"
)
@_damaged_store
def stats(
    since: str | None = SinceOpt,
    prompt: str | None = PromptOpt,
    model: str | None = ModelOpt,
    by: str = typer.Option("model", "--by", help="Group by model, prompt or version."),
    chart: str = typer.Option("cost", "--chart", help="Bar chart of cost, latency, or none."),
    fmt: str = typer.Option("table", "--format", "-f", help=f"{names(STATS)}."),
) -> None:
    """Summarise recorded calls: calls, error rate, retries and throttling, p50/p95 latency,
    TTFT, tokens, cost.

    Calls are grouped by the model id they resolved to (`nova-lite` and `amazon.nova-lite-v1:0`
    are one row), with its alias beside it. Cache hits are counted but left out of latency
    percentiles, tokens and cost. Where calls used the prompt cache, its hit ratio and what
    its reads saved are shown too.
    """
    from promptlab.store.query import GROUPS
    from promptlab.store.query import stats as compute

    _check(by, tuple(GROUPS), "--by")
    _check(chart, ("cost", "latency", "none"), "--chart")
    check(fmt, STATS)
    from promptlab.config import load_config

    con, _ = _open("calls")
    groups = []
    ratings = None
    if con is not None:
        with closing(con):
            filters = _filters(con, prompt=prompt, model=model, since=since)
            groups = compute(con, filters, by, load_config())
            ratings = _ratings(con, filters, by)
    elif fmt == "table":  # nothing recorded yet, and _open said so
        return
    STATS[fmt](groups, by, since, chart, ratings)


def _ratings(con: sqlite3.Connection, filters: Filters, by: str) -> RatingSummary | None:
    """Human ratings of the matching calls, `--by model` or `version` (None otherwise)."""
    from promptlab.ratingstats import summarise
    from promptlab.store.ratings import has_ratings_table
    from promptlab.store.verdicts import GROUPINGS, judgements

    if by not in GROUPINGS or not has_ratings_table(con):
        return None
    where, args = filters.where(con)
    matching = {row[0] for row in con.execute(f"SELECT id FROM calls{where}", args)}
    judged, names = judgements(con, by, call_ids=matching)
    return summarise(by, judged, names)


# ---------------------------------------------------------------- cache


@cache_app.command(
    "stats", epilog="Examples:\n\n  promptlab cache stats\n\n  promptlab cache stats -f json"
)
@handle_errors
@_damaged_store
def cache_stats(
    fmt: str = typer.Option("table", "--format", "-f", help=f"{names(CACHE)}."),
) -> None:
    """Cache entries, hits, money saved, age range and entries per model."""
    from promptlab.store.query import cache_stats as compute

    check(fmt, CACHE)
    con, path = _open("cache entries")
    info: dict[str, Any] = {"entries": 0, "hits": 0, "saved_usd": 0.0, "answer_bytes": 0,
                            "oldest": None, "newest": None, "models": []}  # fmt: skip
    if con is not None:
        with closing(con):
            info = compute(con)
    CACHE[fmt](path, info)


@cache_app.command(
    "clear",
    epilog="Examples:\n\n  promptlab cache clear\n\n  promptlab cache clear --older-than 30d",
)
@handle_errors
@_damaged_store
def cache_clear(
    older_than: str | None = typer.Option(
        None, "--older-than", metavar="AGE", help="Only entries older than: 12h, 30d, 2026-11-01."
    ),
) -> None:
    """Delete cached answers (all, or the older ones). The run history is kept."""
    from promptlab.store.query import clear_cache, parse_duration

    age = parse_duration(older_than, option="--older-than") if older_than else None
    con, _ = _open("cache entries")
    if con is None:
        return
    with closing(con):
        removed = clear_cache(con, age)
    typer.echo(f"removed {removed:,} cache entr{'y' if removed == 1 else 'ies'}")

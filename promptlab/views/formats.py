"""Output formats: each `--format` name → the function that writes data in that format.

`RESULTS` writes the results of `promptlab run`; `CALLS` writes history rows for `promptlab
log`; `RUNS`, `STATS`, `CACHE`, `MODELS` and `VERSIONS` write `log runs`, `stats`, `cache
stats`, `models` and `history`. Each command takes the names it accepts, its --format help
and its validation from these tables. Writers import what they need when called, so that
importing this module stays cheap.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import typer

from promptlab.errors import UsageError

if TYPE_CHECKING:
    import sqlite3

    from rich.console import Console

    from promptlab.modellist import ModelRow
    from promptlab.ratingstats import RatingSummary
    from promptlab.results import Result
    from promptlab.routers import RouterRow
    from promptlab.store.query import GroupStats
    from promptlab.versions import HistoryRow

ResultWriter = Callable[["Console", Sequence["Result"]], None]
CallWriter = Callable[[Sequence["sqlite3.Row"]], None]


def names(formats: Mapping[str, Any]) -> str:
    """The format names for help text: "table, json, jsonl or markdown"."""
    *rest, last = formats
    return f"{', '.join(rest)} or {last}" if rest else last


def check(fmt: str, formats: Mapping[str, Any], option: str = "--format") -> str:
    """fmt, when it is one of the formats; else a usage error naming them all."""
    if fmt not in formats:
        raise UsageError(f"{option} must be one of {', '.join(formats)}, got {fmt!r}")
    return fmt


# ---------------------------------------------------------------- run results


def results_table(out: Console, results: Sequence[Result], *, full_reasoning: bool = False
                  ) -> None:  # fmt: skip
    """The run table; `full_reasoning` (`run --show-reasoning`): reasoning in full, not its
    first lines (the other formats always carry all of it)."""
    from promptlab.views.table import render_results

    if results:
        render_results(out, results, full_reasoning=full_reasoning)


def results_json(out: Console, results: Sequence[Result]) -> None:
    from promptlab.views.export import to_json

    sys.stdout.write(to_json(results) + "\n")


def results_jsonl(out: Console, results: Sequence[Result]) -> None:
    from promptlab.views.export import to_jsonl

    text = to_jsonl(results)
    sys.stdout.write(text + ("\n" if text else ""))


def results_markdown(out: Console, results: Sequence[Result]) -> None:
    from promptlab.views.export import to_markdown

    sys.stdout.write(to_markdown(results))


RESULTS: dict[str, ResultWriter] = {
    "table": results_table,
    "json": results_json,
    "jsonl": results_jsonl,
    "markdown": results_markdown,
}


# ---------------------------------------------------------------- history rows


def calls_table(rows: Sequence[sqlite3.Row]) -> None:
    from promptlab.views.calls import calls_table as table
    from promptlab.views.console import room, show, stdout

    if not rows:
        typer.echo("no matching calls", err=True)
        return
    console = stdout()
    show(console, table(list(rows), room(console)))


def calls_json(rows: Sequence[sqlite3.Row]) -> None:
    from promptlab.views.calls import row_dict
    from promptlab.views.sanitize import dumps

    typer.echo(dumps([row_dict(r) for r in rows], indent=2))


def calls_jsonl(rows: Sequence[sqlite3.Row]) -> None:
    from promptlab.views.calls import row_dict
    from promptlab.views.sanitize import dumps

    for r in rows:
        typer.echo(dumps(row_dict(r)))


def calls_csv(rows: Sequence[sqlite3.Row]) -> None:
    from promptlab.views.calls import to_csv

    sys.stdout.write(to_csv(rows))


CALLS: dict[str, CallWriter] = {
    "table": calls_table,
    "json": calls_json,
    "jsonl": calls_jsonl,
    "csv": calls_csv,
}


# ---------------------------------------------------------------- other listings
# Every listing command has a table for people and JSON and CSV for programs.


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """CSV on stdout; text cells made inert (they may come from the store or a service)."""
    import csv
    import io

    from promptlab.views.sanitize import inert

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([inert(v) if isinstance(v, str) else v for v in row])
    sys.stdout.write(buf.getvalue())


def _flat(value: Any) -> Any:
    """A JSON value as a CSV cell: lists (and mappings, key:value) joined with +, None blank,
    booleans as true/false."""
    if isinstance(value, (list, tuple)):
        return "+".join(str(v) for v in value)
    if isinstance(value, dict):  # e.g. a chain's served_by: nova-pro:7+nova-lite:3
        return "+".join(f"{k}:{v}" for k, v in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def _json(data: Any) -> None:
    from promptlab.views.sanitize import dumps

    typer.echo(dumps(data, indent=2))


# `log runs`: recorded runs
RunWriter = Callable[[Sequence["sqlite3.Row"]], None]


def runs_table(rows: Sequence[sqlite3.Row]) -> None:
    from promptlab.views.console import show, stdout
    from promptlab.views.runs import runs_table as table

    if not rows:
        typer.echo("no matching runs", err=True)
        return
    show(stdout(), table(list(rows)))


def runs_json(rows: Sequence[sqlite3.Row]) -> None:
    from promptlab.views.runs import run_dict

    _json([run_dict(r) for r in rows])


def runs_csv(rows: Sequence[sqlite3.Row]) -> None:
    from promptlab.views.runs import RUN_FIELDS, run_dict

    _csv(RUN_FIELDS, ([_flat(run_dict(r)[k]) for k in RUN_FIELDS] for r in rows))


RUNS: dict[str, RunWriter] = {"table": runs_table, "json": runs_json, "csv": runs_csv}


# `stats`: (groups, by, since, chart, human ratings or None)
StatsWriter = Callable[
    [Sequence["GroupStats"], str, "str | None", str, "RatingSummary | None"], None
]


def stats_table(
    groups: Sequence[GroupStats], by: str, since: str | None, chart: str,
    ratings: RatingSummary | None = None,
) -> None:  # fmt: skip
    from rich.text import Text

    from promptlab.views.console import show, stdout
    from promptlab.views.stats import stats_chart
    from promptlab.views.stats import stats_table as table

    if not groups:
        typer.echo("no matching calls", err=True)
        return
    parts: list[Any] = [table(list(groups), by)]
    if chart != "none":
        title = "cost (USD)" if chart == "cost" else "p50 latency (uncached calls)"
        parts += [Text(f"\n{title}"), stats_chart(list(groups), chart)]
    show(stdout(), *parts)
    if ratings is not None and ratings.judgements:
        from promptlab.views.ratings import show_summary

        show_summary(ratings)


def stats_json(
    groups: Sequence[GroupStats], by: str, since: str | None, chart: str,
    ratings: RatingSummary | None = None,
) -> None:  # fmt: skip
    data: dict[str, Any] = {"by": by, "since": since, "groups": [g.to_dict() for g in groups]}
    if ratings is not None:
        data["ratings"] = ratings.to_dict()
    _json(data)


def stats_csv(
    groups: Sequence[GroupStats], by: str, since: str | None, chart: str,
    ratings: RatingSummary | None = None,
) -> None:  # fmt: skip
    """The groups only (ratings are in the table and JSON)."""
    from promptlab.store.query import GroupStats

    header = list(GroupStats("").to_dict())
    _csv(header, ([_flat(g.to_dict()[k]) for k in header] for g in groups))


STATS: dict[str, StatsWriter] = {"table": stats_table, "json": stats_json, "csv": stats_csv}


# `cache stats`: (store path, what query.cache_stats found)
CacheWriter = Callable[[str, Mapping[str, Any]], None]


def cache_table(path: str, info: Mapping[str, Any]) -> None:
    from promptlab.views.cache import print_cache_stats

    print_cache_stats(path, info)


def cache_json(path: str, info: Mapping[str, Any]) -> None:
    _json({"store": path, **info})


def cache_csv(path: str, info: Mapping[str, Any]) -> None:
    """One row per model, labelled with its alias (the totals are their sums)."""
    from promptlab.modellist import alias_of

    _csv(("model_id", "alias", "entries", "hits"), (
        (m["model_id"], alias_of(m["model_id"]) or "", m["entries"], m["hits"] or 0)
        for m in info["models"]
    ))  # fmt: skip


CACHE: dict[str, CacheWriter] = {"table": cache_table, "json": cache_json, "csv": cache_csv}


# `models`: (rows, custom, region listed, catalogue region)
ModelWriter = Callable[[Sequence["ModelRow"], bool, "str | None", "str | None"], None]


def models_table(
    rows: Sequence[ModelRow], custom: bool, region: str | None, catalogue_region: str | None
) -> None:
    from promptlab.views.models import print_table

    print_table(list(rows), custom=custom, region=region, catalogue_region=catalogue_region)


def models_json(
    rows: Sequence[ModelRow], custom: bool, region: str | None, catalogue_region: str | None
) -> None:
    import json

    typer.echo(json.dumps([r.to_dict() for r in rows], indent=2, ensure_ascii=False))


def models_csv(
    rows: Sequence[ModelRow], custom: bool, region: str | None, catalogue_region: str | None
) -> None:
    from promptlab.modellist import ModelRow

    header = list(ModelRow("", "").to_dict())
    _csv(header, ([_flat(r.to_dict()[k]) for k in header] for r in rows))


MODELS: dict[str, ModelWriter] = {"table": models_table, "json": models_json, "csv": models_csv}


# `models --routers`: (routers, region listed); the same --format names as MODELS
RouterWriter = Callable[[Sequence["RouterRow"], "str | None"], None]


def routers_table(rows: Sequence[RouterRow], region: str | None) -> None:
    from promptlab.views.routers import print_routers

    print_routers(rows, region)


def routers_json(rows: Sequence[RouterRow], region: str | None) -> None:
    _json([r.to_dict() for r in rows])


def routers_csv(rows: Sequence[RouterRow], region: str | None) -> None:
    from promptlab.routers import RouterRow

    header = list(RouterRow("", "", "", "", (), None, None).to_dict())
    _csv(header, ([_flat(r.to_dict()[k]) for k in header] for r in rows))


ROUTERS: dict[str, RouterWriter] = {"table": routers_table, "json": routers_json,
                                    "csv": routers_csv}  # fmt: skip


# `history PROMPT`: (repo path, versions, shallow clone?, truncated?)
VersionWriter = Callable[[str, Sequence["HistoryRow"], bool, bool], None]


def versions_table(rel: str, rows: Sequence[HistoryRow], shallow: bool, truncated: bool) -> None:
    from promptlab.views.versions import print_history

    print_history(rel, list(rows))


def versions_json(rel: str, rows: Sequence[HistoryRow], shallow: bool, truncated: bool) -> None:
    from promptlab.views.versions import history_json

    typer.echo(history_json(rel, list(rows), shallow=shallow, truncated=truncated))


def versions_csv(rel: str, rows: Sequence[HistoryRow], shallow: bool, truncated: bool) -> None:
    from promptlab.views.versions import history_records

    records = history_records(list(rows))
    header = list(records[0]) if records else ["version", "commit", "short", "date"]
    _csv(header, ([_flat(r[k]) for k in header] for r in records))


VERSIONS: dict[str, VersionWriter] = {
    "table": versions_table,
    "json": versions_json,
    "csv": versions_csv,
}

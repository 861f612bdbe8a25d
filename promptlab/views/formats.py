"""Output formats: each `--format` name → the function that writes data in that format.

`RESULTS` writes the results of `promptlab run`; `CALLS` writes history rows for `promptlab
log`. Each command takes the names it accepts, its --format help and its validation from these
tables. Writers import what they need when called, so that importing this module stays cheap.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import typer

from promptlab.errors import UsageError

if TYPE_CHECKING:
    import sqlite3

    from rich.console import Console

    from promptlab.results import Result

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


def results_table(out: Console, results: Sequence[Result]) -> None:
    from promptlab.views.table import render_results

    if results:
        render_results(out, results)


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
    from promptlab.views.console import stdout

    if not rows:
        typer.echo("no matching calls", err=True)
        return
    console = stdout(piped_width=200)
    console.print(table(list(rows), console.width))


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

"""`promptlab review`: rate a run's answers by hand, share ratings as JSON; `export finetune`."""

from __future__ import annotations

import sys
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from promptlab.cli.app import command
from promptlab.errors import UsageError

if TYPE_CHECKING:
    import sqlite3

REVIEW_EPILOG = """Examples:

  promptlab review last                         # needs a terminal

  promptlab review last --no-blind --rater ana  # needs a terminal

  promptlab review last --export ratings.json  # share them

  promptlab review last --import ratings.json  # add someone's ratings

Keys: a/b/… the better answer · t tie · tab next answer · 1-5 score it · n note ·
j/→ next case · k/← previous · ↑↓ PgUp PgDn scroll · q quit (saved as you go).
"""


def open_history() -> sqlite3.Connection:
    """The store, writable (ratings are written); ConfigError/UsageError when there is none."""
    from promptlab.config import load_config
    from promptlab.store.db import StoreError, connect

    config = load_config()
    if not config.store_path.exists():
        raise UsageError(
            f"no run history yet ({config.store_path})",
            "run `promptlab run` or `promptlab test` first; reviews rate a recorded run",
        )
    try:
        return connect(config.store_path)
    except StoreError as exc:
        raise UsageError(str(exc), "check the store path (store.path, PROMPTLAB_STORE)") from None


@command(epilog=REVIEW_EPILOG)
def review(
    run: str = typer.Argument(
        ..., metavar="RUN", help="A run id (or unique part of one), or `last`."
    ),
    rater: str | None = typer.Option(
        None,
        "--rater",
        metavar="NAME",
        help="Who is rating [default: git config user.name, else $USER].",
    ),
    no_blind: bool = typer.Option(
        False, "--no-blind", help="Show model names (blind: letters only, order shuffled)."
    ),
    export_to: Path | None = typer.Option(
        None, "--export", metavar="FILE", help="Write the run's ratings to FILE (JSON)."
    ),
    import_from: Path | None = typer.Option(
        None, "--import", metavar="FILE", help="Add ratings from FILE (another rater's export)."
    ),
) -> None:
    """Rate a run's answers by hand: one case at a time, answers side by side.

    Blind by default: answers are labelled A, B, … and shuffled per case (the same way each
    time you come back). Pick the better answer or a tie, score each 1–5, add a note. Every
    key is saved at once; `review` again resumes at the first case you have not rated.
    Ratings show in `promptlab stats`, the `rated` assertion and `export finetune`.
    """
    from promptlab.store.core import find_run
    from promptlab.store.ratings import default_rater, run_cases

    if export_to is not None and import_from is not None:
        raise UsageError("--export and --import: one at a time")
    with closing(open_history()) as con:
        run_id = find_run(con, run)
        if import_from is not None:
            _import(con, run_id, import_from)
            return
        if export_to is not None:
            _export(con, run_id, export_to)
            return
        cases = run_cases(con, run_id)
        if not cases:
            raise UsageError(f"run {run_id} has no answers to review (every call failed)")
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise UsageError(
                "review needs a terminal (stdin and stdout are not both one)",
                "run it in a terminal, or share ratings with --export FILE / --import FILE",
            )
        from promptlab.reviewing import ReviewSession
        from promptlab.views.reviewapp import ReviewApp

        who = rater or default_rater()
        session = ReviewSession.open(con, run_id, cases, who, blind=not no_blind)
        ReviewApp(session).run()
        typer.echo(f"{session.rated} of {len(cases)} cases rated by {who} in run {run_id}")


def _export(con: sqlite3.Connection, run_id: str, path: Path) -> None:
    import json

    from promptlab.store.ratingfile import export

    data = export(con, run_id)
    try:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    except OSError as exc:
        raise UsageError(f"--export {path}: cannot write it ({exc.strerror})") from None
    raters = sorted({r["rater"] for r in data["ratings"]})
    typer.echo(f"wrote {len(data['ratings'])} ratings of run {run_id} to {path}"
               + (f" (raters: {', '.join(raters)})" if raters else ""))  # fmt: skip


def _import(con: sqlite3.Connection, run_id: str, path: Path) -> None:
    from promptlab.ratingstats import agreement
    from promptlab.store.ratingfile import import_into
    from promptlab.store.verdicts import judgements
    from promptlab.views.ratings import agreement_lines

    done = import_into(con, run_id, path)
    left = "".join(f"; left out {n}: {why}" for why, n in sorted(done.left_out.items()))
    typer.echo(f"imported {done.imported} ratings into run {run_id} from {path}{left}")
    judged, _ = judgements(con, "model")
    for line in agreement_lines(agreement([j for j in judged if j.case[0] == run_id])):
        typer.echo(line)

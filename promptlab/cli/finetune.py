"""`promptlab export finetune`: rated answers → a Bedrock model-customization training file."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import typer

from promptlab.cli.app import app, handle_errors
from promptlab.errors import UsageError

export_app = typer.Typer(
    help="Turn recorded runs into files for other tools: fine-tuning data.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(export_app, name="export")

FINETUNE_EPILOG = """Examples (offline: the echo model's answers and the shipped ratings of them):

  promptlab run support-reply -m echo --vars prompts/examples/_vars/customers.json

  promptlab review last --import prompts/examples/_ratings/support-reply-echo.json

  promptlab export finetune last --min-score 4 --base nova-lite -o train.jsonl

  promptlab export finetune last --min-score 3 --base titan-express -o titan.jsonl

  promptlab test prompts/examples -m echo -k 'render-*' --json report.json

  promptlab export finetune report.json --passing --base claude-haiku -o haiku.jsonl

Formats: nova, nova-pro (bedrock-conversation-2024), claude-3-haiku (system + messages),
titan-text and llama-3.1 (prompt/completion).
"""


@export_app.command("finetune", epilog=FINETUNE_EPILOG)
@handle_errors
def finetune(
    runs: list[str] = typer.Argument(
        ..., metavar="RUN...", help="Run ids (or unique parts), or `last`."
    ),
    base: str = typer.Option(
        ...,
        "--base",
        metavar="MODEL",
        help="The model to fine-tune (alias or id), or a format name: nova, ...",
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", metavar="FILE", help="The JSONL file to write."
    ),
    min_score: float | None = typer.Option(
        None,
        "--min-score",
        min=1,
        max=5,
        metavar="N",
        help="Answers whose mean score is at least this (1-5).",
    ),
    winners: bool = typer.Option(
        False, "--winners", help="Answers most raters picked as the better one."
    ),
    passing: bool = typer.Option(
        False, "--passing", help="Answers whose test case passed (RUN: a `test --json` report)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
) -> None:
    """Write the answers people rated best as a fine-tuning set for Bedrock model
    customization, in the format the base model's family takes, within its documented limits.

    An answer is included when it meets every criterion given (--min-score, --winners,
    --passing); one record per distinct prompt (the best-rated answer to it). A RUN may also be
    a `promptlab test --json` report, whose passing answers --passing takes. A summary says
    what was left out and why. Text-only: a prompt with images, documents or tool blocks is
    left out.
    """
    import json

    from promptlab.catalogue import resolve
    from promptlab.cli.review import open_history
    from promptlab.config import load_config
    from promptlab.finetune import FAMILIES, SHAPE_NAMES, family_for, report_candidates, select
    from promptlab.store.core import find_run
    from promptlab.store.verdicts import finetune_candidates
    from promptlab.testing import load_run

    if min_score is None and not winners and not passing:
        raise UsageError("choose what to include: --min-score N, --winners and/or --passing",
                         "e.g. --min-score 4 (rate answers with `promptlab review`)")  # fmt: skip
    if output.exists() and not force:
        raise UsageError(f"{output} exists", "pass --force to overwrite it")
    names = {f.name for f in FAMILIES}
    model_id = None if base in names else resolve(base, load_config()).base_id
    family = family_for(base, model_id)
    reports = [Path(r) for r in runs if r.endswith(".json") or Path(r).is_file()]
    candidates = [c for path in reports for c in report_candidates(load_run(path))]
    run_ids = [str(path) for path in reports]
    wanted = [r for r in runs if Path(r) not in reports]
    if wanted:
        with closing(open_history()) as con:
            ids = list(dict.fromkeys(find_run(con, r) for r in wanted))
            candidates += finetune_candidates(con, ids)
            run_ids += ids
    picked = select(family, candidates, min_score=min_score, winners=winners, passing=passing)
    why = "; ".join(f"{n} {reason}" for reason, n in picked.left_out.most_common())
    if not picked.records:
        raise UsageError(
            f"nothing to export from {', '.join(run_ids)}" + (f" (left out: {why})" if why else ""),
            "rate answers with `promptlab review RUN`, or lower --min-score",
        )
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in picked.records)
    try:
        output.write_text(lines, "utf-8")
    except OSError as exc:
        raise UsageError(f"-o {output}: cannot write it ({exc.strerror})") from None
    typer.echo(f"wrote {len(picked.records)} records to {output} for {family.name} "
               f"({SHAPE_NAMES[family.shape]})")  # fmt: skip
    if why:
        typer.echo(f"left out: {why}")
    if picked.estimated:
        typer.echo(f"note: {picked.estimated} records' token counts are estimates (characters/4)")
    for warning in picked.warnings:
        typer.echo(f"warning: {warning}", err=True)

"""Commands for prompts in git: `history` (versions of one prompt) and `diff` (two versions)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from promptlab.cli.app import command
from promptlab.cli.prompts import ExamplesOpt, VarsFileOpt, VarsOpt
from promptlab.errors import UsageError
from promptlab.views.formats import VERSIONS, check, names

if TYPE_CHECKING:
    from promptlab.prompt import Prompt


@command(
    epilog="Examples:\n\n"
    "  promptlab history prompts/examples/support-reply.yaml\n\n"
    "  promptlab history support-reply --format json"
)
def history(
    prompt: str = typer.Argument(..., help="Prompt file, or a prompt name under prompts/."),
    fmt: str = typer.Option("table", "--format", "-f", help=f"{names(VERSIONS)}."),
) -> None:
    """List a prompt's versions from git (renames followed), newest first.

    Shows version, commit, date, author, subject and content hash; marks (⚠) commits that
    changed the content without bumping `version`, and uncommitted changes as a first row.
    """
    from promptlab.config import load_config
    from promptlab.versions import history_rows

    check(fmt, VERSIONS)
    rel, rows, shallow, truncated = history_rows(prompt, load_config())
    VERSIONS[fmt](rel, rows, shallow, truncated)
    if truncated or shallow:
        from promptlab.gitrefs import FULL_HISTORY_HINT

        lead = "older versions are missing" if truncated else "history may be incomplete"
        typer.echo(f"note: {lead}: {FULL_HISTORY_HINT}", err=True)


# ---------------------------------------------------------------- diff


def _label(arg: str, prompt: Prompt) -> str:
    return f"{arg} ({prompt.ref[:7]})" if prompt.ref else f"{arg} (working tree)"


@command(
    epilog="Examples:\n\n"
    "  promptlab diff prompts/examples/support-reply.yaml@v1.0.0"
    " prompts/examples/support-reply.yaml --examples\n\n"
    "  promptlab diff support-reply@main support-reply --examples -v customer_name=Ana\n\n"
    "  promptlab diff support-reply@HEAD~3 support-reply@HEAD --examples --exit-code\n\n"
    "  promptlab diff extract-invoice bedrock-prompt:arn:aws:bedrock:us-east-1:123456789012"
    ":prompt/PROMPT1234:3  # needs AWS"
)
def diff(
    a: str = typer.Argument(
        ...,
        help="Old side: a prompt file, name, PATH@REF / PATH@vX.Y.Z, or a deployed "
        "version [bedrock-prompt:]ARN:VERSION.",
    ),
    b: str = typer.Argument(..., help="New side: same forms."),
    var: list[str] = VarsOpt,
    vars_file: Path | None = VarsFileOpt,
    examples: bool = ExamplesOpt,
    exit_code: bool = typer.Option(
        False, "--exit-code", help="Exit 1 when the two sides differ (like git diff --exit-code)."
    ),
    region: str | None = typer.Option(None, "--region", help="AWS region of a deployed side."),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile for a deployed side."),
) -> None:
    """Show what changed between two versions of a prompt.

    Metadata (version, hash, models, inference, variables), a unified diff of the YAML, and a
    diff of the rendered messages for the same variables, section by section. Exit code 0
    (with --exit-code: 1 when they differ). A side may be a Prompt Management version: then
    the template text per message, variables, model and inference settings are compared.
    """
    from promptlab.config import load_config
    from promptlab.deploy.shape import is_target

    if is_target(a) or is_target(b):
        from promptlab.cli.deploy import diff_deployed

        config = load_config().with_overrides(region=region, profile=profile)
        if diff_deployed(a, b, config) and exit_code:
            raise typer.Exit(1)
        return
    from promptlab.prompt import load_vars_file, parse_assignments
    from promptlab.sources import open_prompt, source_text
    from promptlab.versions import compare
    from promptlab.views.versions import print_diff

    strings = parse_assignments(var)
    typed = load_vars_file(vars_file) if vars_file else None
    config = load_config()
    pa, pb = open_prompt(a, config), open_prompt(b, config)
    declared = {*pa.variables, *pb.variables}
    unknown = sorted(k for k in {*strings, *(typed or {})} if k not in declared)
    if unknown:
        raise UsageError(
            f"unknown variable(s): {', '.join(unknown)} "
            f"(declared: {', '.join(sorted(declared)) or 'none'})",
            "pass variables that at least one side declares",
        )
    labels = _label(a, pa), _label(b, pb)
    changes = compare(pa, pb, labels, (source_text(pa), source_text(pb)), typed, strings, examples)
    print_diff(changes)
    if exit_code and changes.differs:
        raise typer.Exit(1)

"""Commands that work on prompt files only (no AWS): render, lint, init."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from promptlab.config import Config
    from promptlab.prompt import Prompt, Rendered

from promptlab.cli.app import command
from promptlab.errors import UsageError

VarsOpt = typer.Option(
    [], "--var", "-v", help="Set a variable: -v key=value (repeatable).", metavar="KEY=VALUE"
)
VarsFileOpt = typer.Option(None, "--vars", help="YAML or JSON file of variable values.")
ExamplesOpt = typer.Option(
    False, "--examples", help="Fill variables that have no value with their declared example."
)


def load_inputs(
    prompt_arg: str, var: list[str], vars_file: Path | None, examples: bool = False
) -> tuple[Config, Prompt, dict[str, Any], Rendered]:
    """Config, prompt, variable values and rendered messages for a prompt argument."""
    from promptlab.config import load_config
    from promptlab.prompt import load_vars_file, parse_assignments
    from promptlab.sources import open_prompt, prepare

    strings = parse_assignments(var)
    config = load_config()
    typed = load_vars_file(vars_file) if vars_file else None
    prompt = open_prompt(prompt_arg, config)
    values, rendered = prepare(prompt, typed, strings, use_examples=examples)
    return config, prompt, values, rendered


@command(
    epilog="Examples:\n\n"
    "  promptlab render prompts/examples/support-reply.yaml -v customer_name=Ana\n\n"
    "  promptlab render support-reply --vars vars.yaml --format json\n\n"
    "  promptlab render prompts/examples/migration-plan.yaml --examples -m titan-express"
)
def render(
    prompt: str = typer.Argument(..., help="Prompt file, or a prompt name under prompts/."),
    var: list[str] = VarsOpt,
    vars_file: Path | None = VarsFileOpt,
    examples: bool = ExamplesOpt,
    model: str | None = typer.Option(
        None, "--model", "-m", help="Apply this model's parameter overrides and quirks."
    ),
    fmt: str = typer.Option(
        "text", "--format", "-f", help="text: marked sections; json: the Converse request body."
    ),
) -> None:
    """Print the rendered system and user messages exactly as they would be sent."""
    if fmt not in ("text", "json"):
        raise UsageError(f"--format must be text or json, got {fmt!r}")
    config, p, _values, rendered = load_inputs(prompt, var, vars_file, examples)
    request = rendered.request(p.inference)
    notices: list[str] = []
    if model:
        from promptlab.catalogue import adapt, resolve

        ref = resolve(model, config, config.region)
        request, notices = adapt(rendered.request(p.params_for(ref.alias, ref.model_id)), ref)
    if fmt == "json":
        body = request.to_converse()
        if model:
            body = {"modelId": ref.model_id, **body}
        typer.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return
    typer.echo(f"# {p.name} v{p.version} ({p.short_hash})")
    for note in notices:
        typer.echo(f"# note: {note}")
    if request.system:
        typer.echo("\n━━━ system (instructions) ━━━")
        typer.echo(request.system)
    typer.echo("\n━━━ user ━━━")
    typer.echo(request.user)
    params = request.params.to_dict()
    if params:
        typer.echo("\n━━━ inference ━━━")
        typer.echo(json.dumps(params, ensure_ascii=False))


@command(
    epilog="Examples:\n\n  promptlab lint\n\n  promptlab lint prompts/examples prompts/other.yaml"
)
def lint(
    paths: list[Path] = typer.Argument(None, help="Files or directories (default: prompts/)."),
) -> None:
    """Validate prompt files; report every problem with file:line. Exit 1 if any."""
    from promptlab.config import load_config
    from promptlab.lint import lint_paths

    config = load_config()
    targets = list(paths) if paths else [config.prompts_dir]
    for t in targets:
        if not t.exists():
            raise UsageError(f"{t}: no such file or directory", "pass a prompt file or directory")
    problems, checked = lint_paths(targets, config)
    for problem in problems:
        typer.echo(str(problem))
    files = len({p.file for p in problems})
    if problems:
        typer.echo(f"\n{len(problems)} problem(s) in {files} of {checked} file(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"{checked} prompt file(s) OK", err=True)

"""Prompt Management commands: `publish`, `pull`, `deployed` (and `diff` against a deployed
version, which `promptlab diff` hands over to `diff_deployed`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from promptlab.cli.app import command

if TYPE_CHECKING:
    from promptlab.config import Config
    from promptlab.deploy.service import Agent
    from promptlab.deploy.shape import Content

RegionOpt = typer.Option(None, "--region", help="AWS region of the managed prompts.")
ProfileOpt = typer.Option(None, "--profile", help="AWS profile.")


def _agent(config: Config) -> Agent:
    from promptlab.deploy import service

    client, region = service.agent_client(config, config.region, config.profile)
    return service.Agent(client, region, config)


@command(
    epilog="Examples:\n\n"
    "  promptlab publish prompts/examples/extract-invoice.yaml      # needs AWS\n\n"
    "  promptlab publish extract-invoice@v1.0.0 -m nova-lite --region us-east-1  # needs AWS"
)
def publish(
    prompt: str = typer.Argument(..., help="Prompt file or name, optionally PATH@REF / @vX.Y.Z."),
    model: str | None = typer.Option(
        None, "--model", "-m", help="The model it runs on (default: the prompt's first model)."
    ),
    region: str | None = RegionOpt,
    profile: str | None = ProfileOpt,
) -> None:
    """Publish a prompt to Amazon Bedrock Prompt Management as a new version.

    Creates (or updates) the managed prompt named like the prompt, with one CHAT variant
    (system text, user message, variables, model, inference settings), then a version whose
    description names the promptlab version, content hash and git commit. Nothing is created
    when the latest version already holds the same content. Only {{ variable }} placeholders
    can be published: other Jinja constructs are reported at file:line (exit 2).
    """
    from promptlab.config import load_config
    from promptlab.deploy.publish import content_for, publish, source_commit
    from promptlab.deploy.template import placeholder_templates
    from promptlab.prompt import display_path
    from promptlab.sources import open_prompt
    from promptlab.store.deployments import Deployment, record
    from promptlab.views.deployed import published_lines

    config = load_config().with_overrides(region=region, profile=profile)
    p = open_prompt(prompt, config)
    placeholder_templates(p)  # unpublishable templates: exit 2 before any AWS set-up
    agent = _agent(config)
    content = content_for(p, model, config, agent.region)
    commit = source_commit(p)
    done = publish(agent, p, content, commit)
    path = display_path(Path(p.path)).as_posix()
    if done.created:
        record(config.store_path, Deployment(p.name, p.version, p.content_hash, path, commit,
                                             done.arn, done.version, agent.region))  # fmt: skip
    for line in published_lines(done, path):
        typer.echo(line)


@command(
    epilog="Examples:\n\n"
    "  promptlab pull arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT1234:3  # needs AWS\n\n"
    "  promptlab pull arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT1234 "
    "-o prompts/greet.yaml --force  # needs AWS"
)
def pull(
    target: str = typer.Argument(..., help="Managed prompt ARN[:VERSION] (no version: DRAFT)."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="File to write (default: prompts/NAME.yaml)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    region: str | None = RegionOpt,
    profile: str | None = ProfileOpt,
) -> None:
    """Write a prompt file from a Prompt Management prompt version.

    System text becomes `instructions`, the user message `input`, its variables string
    variables; model and inference settings are kept. The version is the promptlab version
    named in the description, else 1.0.0. Never overwrites a file without --force.
    """
    from promptlab.config import load_config
    from promptlab.deploy.pull import write_prompt
    from promptlab.deploy.shape import parse_target
    from promptlab.errors import UsageError
    from promptlab.prompt import display_path

    config = load_config().with_overrides(region=region, profile=profile)
    wanted = parse_target(target)
    if output is not None and output.exists() and not force:
        raise UsageError(f"{output} already exists", "pass --force to overwrite it")
    managed = _agent(config).get(wanted.identifier, wanted.version)
    path = output or config.prompts_dir / f"{managed.get('name') or 'managed-prompt'}.yaml"
    write_prompt(managed, path, force=force)
    typer.echo(f"wrote {display_path(path).as_posix()} from {wanted.label}")


@command(
    epilog="Examples:\n\n  promptlab deployed  # needs AWS\n\n"
    "  promptlab deployed --format json --exit-code  # needs AWS"
)
def deployed(
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
    exit_code: bool = typer.Option(False, "--exit-code", help="Exit 1 when a version drifted."),
    region: str | None = RegionOpt,
    profile: str | None = ProfileOpt,
) -> None:
    """List managed prompt versions with the git versions they came from; flag drift.

    A version has drifted (⚠) when its content hash (from its description or the local store)
    matches no committed version of the prompt file.
    """
    from promptlab.config import load_config
    from promptlab.deploy.listing import deployed_rows
    from promptlab.errors import UsageError
    from promptlab.store.deployments import read_all
    from promptlab.views.deployed import deployed_csv, deployed_json, print_deployed

    if fmt not in ("table", "json", "csv"):
        raise UsageError(f"--format must be one of table, json, csv, got {fmt!r}")
    config = load_config().with_overrides(region=region, profile=profile)
    agent = _agent(config)
    rows = deployed_rows(agent, config, read_all(config.store_path))
    if fmt == "json":
        typer.echo(deployed_json(rows))
    elif fmt == "csv":
        typer.echo(deployed_csv(rows), nl=False)
    else:
        print_deployed(rows, agent.region)
    if exit_code and any(r.drift for r in rows):
        raise typer.Exit(1)


def diff_deployed(a: str, b: str, config: Config) -> bool:
    """`promptlab diff` when a side is a deployed version; True when the sides differ."""
    from promptlab.deploy.compare import compare
    from promptlab.views.deployed import print_deployed_diff

    agent = _agent(config)
    (ca, la), (cb, lb) = _side(a, config, agent), _side(b, config, agent)
    changes = compare(ca, cb, (la, lb))
    print_deployed_diff(changes)
    return changes.differs


def _side(arg: str, config: Config, agent: Agent) -> tuple[Content, str]:
    from promptlab.deploy.publish import content_for
    from promptlab.deploy.shape import content_of, is_target, parse_target
    from promptlab.sources import open_prompt

    if is_target(arg):
        wanted = parse_target(arg)
        return content_of(agent.get(wanted.identifier, wanted.version)), wanted.label
    prompt = open_prompt(arg, config)
    label = f"{arg} ({prompt.ref[:7]})" if prompt.ref else f"{arg} (working tree)"
    return content_for(prompt, None, config, agent.region, required=False), label

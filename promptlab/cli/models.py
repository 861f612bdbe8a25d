"""`promptlab models`: the region's Bedrock models and profiles, your custom models, or the
shipped catalogue (offline)."""

from __future__ import annotations

import typer

from promptlab.cli.app import command
from promptlab.errors import UsageError
from promptlab.views.formats import MODELS, check, names

MODALITIES = ("text", "image", "embedding")

EPILOG = """Examples:

  promptlab models --offline            # shipped aliases, no AWS

  promptlab models --region us-west-2 --provider anthropic          # needs AWS

  promptlab models --modality embedding --format json | jq '.[].id'  # needs AWS

  promptlab models --custom             # fine-tuned, provisioned; needs AWS

  promptlab models --routers            # prompt routers and their models; needs AWS
"""


@command(epilog=EPILOG)
def models(
    provider: str | None = typer.Option(
        None, "--provider", help="Only this provider (e.g. anthropic, amazon, meta)."
    ),
    modality: str | None = typer.Option(
        None, "--modality", help="Only models producing text, image or embedding."
    ),
    fmt: str = typer.Option("table", "--format", "-f", help=f"{names(MODELS)}."),
    custom: bool = typer.Option(
        False, "--custom", help="Your fine-tuned models and provisioned throughputs (ARNs)."
    ),
    offline: bool = typer.Option(False, "--offline", help="The shipped catalogue; no AWS calls."),
    routers: bool = typer.Option(
        False, "--routers", help="The region's prompt routers (ARNs) with their member models."
    ),
    region: str | None = typer.Option(None, "--region", help="AWS region to list."),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile."),
) -> None:
    """List Bedrock models with their alias, streaming support, access and price."""
    from promptlab.config import load_config
    from promptlab.modellist import catalogue_rows, custom_rows, filter_rows, region_rows

    check(fmt, MODELS)
    if modality is not None and modality.lower() not in MODALITIES:
        raise UsageError(f"--modality must be text, image or embedding, got {modality!r}")
    if offline and (custom or routers):
        which = "--custom" if custom else "--routers"
        raise UsageError(f"{which} lists your account's models: it needs AWS, not --offline")
    if routers and (custom or provider or modality):
        raise UsageError("--routers lists prompt routers: it takes no --custom, --provider or "
                         "--modality", "run 'promptlab models --routers' on its own")  # fmt: skip
    config = load_config()
    shown_region: str | None
    catalogue_region = region or config.region
    if offline:
        rows, shown_region = catalogue_rows(config, catalogue_region), None
    else:
        from promptlab.aws import AwsClients

        clients = AwsClients(config, region, profile)
        shown_region = clients.region
        control = clients.control
        if routers:
            from promptlab.routers import list_routers
            from promptlab.views.formats import ROUTERS

            ROUTERS[fmt](list_routers(control), shown_region)
            return
        if custom:
            rows = custom_rows(
                control, config, warn=lambda m: typer.echo(f"warning: {m}", err=True)
            )
        else:
            rows = region_rows(control, config)
    rows = filter_rows(rows, provider, modality)
    MODELS[fmt](rows, custom, shown_region, catalogue_region)

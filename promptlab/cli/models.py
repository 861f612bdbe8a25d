"""`promptlab models`: the region's Bedrock models and profiles, your custom models, or the
shipped catalogue (offline)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

from promptlab.cli.app import command
from promptlab.errors import UsageError

if TYPE_CHECKING:
    from promptlab.modellist import ModelRow

MODALITIES = ("text", "image", "embedding")
FORMATS = ("table", "json")

EPILOG = """Examples:

  promptlab models --offline            # shipped aliases, no AWS

  promptlab models --region us-west-2 --provider anthropic

  promptlab models --modality embedding --format json | jq '.[].id'

  promptlab models --custom             # fine-tuned, provisioned
"""


@command(epilog=EPILOG)
def models(
    provider: str | None = typer.Option(
        None, "--provider", help="Only this provider (e.g. anthropic, amazon, meta)."
    ),
    modality: str | None = typer.Option(
        None, "--modality", help="Only models producing text, image or embedding."
    ),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
    custom: bool = typer.Option(
        False, "--custom", help="Your fine-tuned models and provisioned throughputs (ARNs)."
    ),
    offline: bool = typer.Option(False, "--offline", help="The shipped catalogue; no AWS calls."),
    region: str | None = typer.Option(None, "--region", help="AWS region to list."),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile."),
) -> None:
    """List Bedrock models with their alias, streaming support, access and price."""
    from promptlab.config import load_config
    from promptlab.modellist import catalogue_rows, custom_rows, filter_rows, region_rows

    if fmt not in FORMATS:
        raise UsageError(f"--format must be table or json, got {fmt!r}")
    if modality is not None and modality.lower() not in MODALITIES:
        raise UsageError(f"--modality must be text, image or embedding, got {modality!r}")
    if offline and custom:
        raise UsageError("--custom lists your account's models: it needs AWS, not --offline")
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
        if custom:
            rows = custom_rows(
                control, config, warn=lambda m: typer.echo(f"warning: {m}", err=True)
            )
        else:
            rows = region_rows(control, config)
    rows = filter_rows(rows, provider, modality)
    if fmt == "json":
        typer.echo(json.dumps([r.to_dict() for r in rows], indent=2, ensure_ascii=False))
        return
    print_table(rows, custom=custom, region=shown_region, catalogue_region=catalogue_region)


def print_table(
    rows: list[ModelRow], *, custom: bool, region: str | None, catalogue_region: str | None = None
) -> None:
    from rich.console import Console
    from rich.table import Table

    from promptlab.views.sanitize import plain

    console = Console(highlight=False)
    if not console.is_terminal:  # piped: full lines rather than an 80-column squeeze
        console = Console(highlight=False, width=max(console.width, 160))
    title = "custom models" if custom else "Bedrock models"
    if region:
        title += f" in {region}"
    else:  # profile-only aliases carry the region's geography prefix (us., eu., apac.)
        title += f" (shipped catalogue for {catalogue_region or 'us-* regions'}, offline)"
    table = Table(title=title, title_justify="left")
    stream = {True: "yes", False: "no", None: ""}
    # column → cell getter
    columns: list[tuple[str, Any]]
    if custom:
        columns = [
            ("ARN (pass to -m)", lambda r: r.id), ("kind", lambda r: r.kind),
            ("name", lambda r: r.name), ("base model", lambda r: r.base_model or ""),
            ("access", lambda r: r.access), ("status", lambda r: r.status),
        ]  # fmt: skip
    else:
        columns = [
            ("id (pass to -m)", lambda r: r.id), ("alias", lambda r: r.alias or ""),
            ("provider", lambda r: r.provider), ("in → out", _modalities),
            ("stream", lambda r: stream[r.streaming]), ("access", lambda r: r.access),
            ("lifecycle", lambda r: r.lifecycle),
            ("$/1K in", lambda r: _usd(r.price_input_per_1k)),
            ("$/1K out", lambda r: _usd(r.price_output_per_1k)),
        ]  # fmt: skip
        if region is None:  # the catalogue knows neither streaming nor lifecycle
            columns = [c for c in columns if c[0] not in ("stream", "lifecycle")]
    if console.width < 130:  # keep what -m needs readable: drop the descriptive columns
        columns = [c for c in columns if c[0] not in ("provider", "in → out", "lifecycle", "name")]
        table.box = None
    for name, _ in columns:
        wraps = name in ("access", "name", "status")
        table.add_column(name, overflow="fold", no_wrap=not wraps, min_width=12 if wraps else None)
    for r in rows:
        table.add_row(*(plain(get(r)) for _, get in columns))  # type: ignore[arg-type]
    console.print(table)
    if not rows:
        console.print("no models match", style="dim")
    elif not custom:
        console.print(
            "Prices: USD per 1,000 tokens (shipped table; override under prices: in "
            "promptlab.yaml). Unknown prices are left blank.",
            style="dim",
        )


def _modalities(r: ModelRow) -> str:
    ins = "+".join(m.lower() for m in r.input_modalities)
    outs = "+".join(m.lower() for m in r.output_modalities)
    return f"{ins} → {outs}" if ins else outs


def _usd(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}".rstrip("0").rstrip(".")

"""The `promptlab models` table: Bedrock models (or your custom models) with alias, streaming,
access, lifecycle and price."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from promptlab.views.format import usd
from promptlab.views.sanitize import plain

if TYPE_CHECKING:
    from promptlab.modellist import ModelRow


def print_table(
    rows: list[ModelRow], *, custom: bool, region: str | None, catalogue_region: str | None = None
) -> None:
    from rich.console import Console
    from rich.table import Table

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
            ("$/1K in", lambda r: _price(r.price_input_per_1k)),
            ("$/1K out", lambda r: _price(r.price_output_per_1k)),
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


def _price(value: float | None) -> str:
    return "" if value is None else usd(value)  # unknown prices are left blank

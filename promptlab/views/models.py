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
    from rich.table import Table
    from rich.text import Text

    from promptlab.views.console import room, show, stdout

    console = stdout()
    width = room(console)  # None: piped, every column at its full width
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
    if width is not None and width < 130:  # keep what -m needs readable: drop descriptive columns
        columns = [c for c in columns if c[0] not in ("provider", "in → out", "lifecycle", "name")]
        table.box, table.pad_edge = None, False
    for name, _ in columns:
        wraps = name in ("access", "name", "status")  # the columns that give way on a terminal
        roomy = width is None or width >= 130
        table.add_column(name, overflow="fold", no_wrap=not wraps,
                         min_width=12 if wraps and roomy else None)  # fmt: skip
    for r in rows:
        table.add_row(*(plain(get(r)) for _, get in columns))  # type: ignore[arg-type]
    parts: list[Any] = [table]
    if not rows:
        parts.append(Text("no models match", style="dim"))
    elif not custom:
        parts.append(Text(
            "Prices: USD per 1,000 tokens (shipped table; override under prices: in "
            "promptlab.yaml). Unknown prices are left blank.",
            style="dim",
        ))  # fmt: skip
    show(console, *parts)


def _modalities(r: ModelRow) -> str:
    ins = "+".join(m.lower() for m in r.input_modalities)
    outs = "+".join(m.lower() for m in r.output_modalities)
    return f"{ins} → {outs}" if ins else outs


def _price(value: float | None) -> str:
    return "" if value is None else usd(value)  # unknown prices are left blank

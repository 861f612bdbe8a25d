"""Listings of Bedrock models: the region's foundation models and inference profiles, the
account's custom models, or the shipped catalogue. Rows only; `promptlab models` prints them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from promptlab.config import Config
from promptlab.errors import ConfigError, UsageError


@dataclass
class ModelRow:
    """One line of the listing (also the JSON schema of --format json)."""

    id: str  # what to pass to -m
    kind: str  # foundation-model | inference-profile | custom-model | provisioned | catalogue
    provider: str = ""
    name: str = ""
    input_modalities: tuple[str, ...] = ()
    output_modalities: tuple[str, ...] = ()
    streaming: bool | None = None
    access: str = ""  # on-demand | profile-only | provisioned-only | needs provisioned throughput
    lifecycle: str = ""
    alias: str | None = None
    base_model: str | None = None
    price_input_per_1k: float | None = None
    price_output_per_1k: float | None = None
    status: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["input_modalities"] = list(self.input_modalities)
        d["output_modalities"] = list(self.output_modalities)
        return d


def catalogue_rows(config: Config, region: str | None) -> list[ModelRow]:
    """The shipped aliases (and user aliases from promptlab.yaml), with prices."""
    from promptlab.catalogue import CATALOGUE, price_for, resolve

    rows = []
    for entry in CATALOGUE:
        ref = resolve(entry.alias, None, region)
        price = price_for(ref, config)
        rows.append(
            ModelRow(
                id=ref.model_id,
                kind="catalogue",
                provider=entry.provider,
                input_modalities=("TEXT",),
                output_modalities=(entry.modality.upper(),),
                access="profile-only" if entry.profile_only else "on-demand",
                alias=entry.alias,
                base_model=entry.model_id,
                price_input_per_1k=price.input if price else None,
                price_output_per_1k=price.output if price else None,
            )
        )
    for name, target in config.aliases.items():
        try:
            ref = resolve(name, config, region)
        except UsageError:  # listed, so it can be found and fixed; `run -m` explains
            rows.append(ModelRow(id=target, kind="user-alias", name=f"alias of {target}",
                                 alias=name, access="unknown model"))  # fmt: skip
            continue
        price = price_for(ref, config)
        rows.append(
            ModelRow(
                id=ref.model_id,
                kind="user-alias",
                name=f"alias of {target}",
                alias=name,
                base_model=ref.base_id,
                price_input_per_1k=price.input if price else None,
                price_output_per_1k=price.output if price else None,
            )
        )
    return rows


def region_rows(client: Any, config: Config) -> list[ModelRow]:
    """ListFoundationModels + system-defined ListInferenceProfiles, with aliases and prices."""
    from promptlab.catalogue import base_id_of, resolve

    aliases = alias_index(config, client.meta.region_name)
    region = client.meta.region_name
    summaries = _aws_call(client.list_foundation_models, region)["modelSummaries"]
    by_id: dict[str, ModelRow] = {}
    rows: list[ModelRow] = []
    for m in summaries:
        row = ModelRow(
            id=m["modelId"],
            kind="foundation-model",
            provider=m.get("providerName", ""),
            name=m.get("modelName", ""),
            input_modalities=tuple(m.get("inputModalities") or ()),
            output_modalities=tuple(m.get("outputModalities") or ()),
            streaming=m.get("responseStreamingSupported"),
            access=_access(set(m.get("inferenceTypesSupported") or [])),
            lifecycle=(m.get("modelLifecycle") or {}).get("status", ""),
            alias=aliases.get(m["modelId"]),
            base_model=m["modelId"],
        )
        _price(row, resolve(row.id), config)
        by_id[row.id] = row
        rows.append(row)
    paginator = client.get_paginator("list_inference_profiles")
    pages = _aws_call(lambda: list(paginator.paginate(typeEquals="SYSTEM_DEFINED")), region)
    for page in pages:
        for p in page.get("inferenceProfileSummaries", []):
            pid = p["inferenceProfileId"]
            arns = [m.get("modelArn", "") for m in p.get("models", [])]
            base = base_id_of(pid) or next((b for b in map(base_id_of, arns) if b), None)
            found = by_id.get(base or "")
            row = ModelRow(
                id=pid,
                kind="inference-profile",
                provider=found.provider if found else "",
                name=p.get("inferenceProfileName", ""),
                input_modalities=found.input_modalities if found else (),
                output_modalities=found.output_modalities if found else ("TEXT",),
                streaming=found.streaming if found else None,
                access="on-demand",
                lifecycle=p.get("status", ""),
                alias=aliases.get(pid),
                base_model=base,
            )
            _price(row, resolve(pid), config)
            rows.append(row)
    return rows


def alias_index(config: Config, region: str | None) -> dict[str, str]:
    """model id → the alias that resolves to it in this region (user aliases win)."""
    from promptlab.catalogue import CATALOGUE, resolve

    index = {resolve(e.alias, None, region).model_id: e.alias for e in CATALOGUE}
    for name in config.aliases:
        try:
            index[resolve(name, config, region).model_id] = name
        except UsageError:  # a user alias pointing nowhere is reported by `run`
            continue
    return index


def alias_of(model_id: str) -> str | None:
    """The shipped alias of a model id, an inference-profile id or an ARN of a catalogue model
    (its base model's alias), for labelling full ids in the history views."""
    from promptlab.catalogue import alias_for, base_id_of

    return alias_for(base_id_of(model_id))


def custom_rows(
    client: Any, config: Config, warn: Callable[[str], None] | None = None
) -> list[ModelRow]:
    """Your models, with the ARN to pass to -m: custom (fine-tuned) models, provisioned
    throughputs, custom model deployments and application inference profiles.

    Each listing fails on its own (e.g. IAM allows one but not another): a warning, not an exit.
    """
    from promptlab.catalogue import base_id_of, resolve

    rows: list[ModelRow] = []

    def pages(op: str, key: str, **params: Any) -> list[dict[str, Any]]:
        try:
            found = _aws_call(
                lambda: list(client.get_paginator(op).paginate(**params)), client.meta.region_name
            )
        except ConfigError as exc:
            if warn is None:
                raise
            warn(f"{op.replace('_', ' ')}: {exc}")
            return []
        return [item for page in found for item in page.get(key, [])]

    for m in pages("list_custom_models", "modelSummaries"):
        rows.append(
            ModelRow(
                id=m["modelArn"],
                kind="custom-model",
                name=m.get("modelName", ""),
                base_model=base_id_of(m.get("baseModelArn", "")),
                access="needs provisioned throughput or a deployment",
                status=m.get("modelStatus", ""),
            )
        )
    for p in pages("list_provisioned_model_throughputs", "provisionedModelSummaries"):
        rows.append(
            ModelRow(
                id=p["provisionedModelArn"],
                kind="provisioned",
                name=p.get("provisionedModelName", ""),
                base_model=base_id_of(p.get("foundationModelArn", "")),
                access=f"provisioned, {p.get('modelUnits', '?')} model unit(s)",
                status=p.get("status", ""),
            )
        )
    for d in pages("list_custom_model_deployments", "modelDeploymentSummaries"):
        rows.append(
            ModelRow(
                id=d["customModelDeploymentArn"],
                kind="custom-model-deployment",
                name=d.get("customModelDeploymentName", ""),
                base_model=None,
                access="on-demand",
                status=d.get("status", ""),
            )
        )
    for p in pages(
        "list_inference_profiles", "inferenceProfileSummaries", typeEquals="APPLICATION"
    ):
        arns = [m.get("modelArn", "") for m in p.get("models", [])]
        rows.append(
            ModelRow(
                id=p["inferenceProfileArn"],
                kind="application-inference-profile",
                name=p.get("inferenceProfileName", ""),
                base_model=next((b for b in map(base_id_of, arns) if b), None),
                access="on-demand",
                status=p.get("status", ""),
            )
        )
    for row in rows:  # prices only when set in promptlab.yaml (by ARN) or known for the base
        _price(row, resolve(row.id), config)
    return rows


def _access(types: set[str]) -> str:
    if "ON_DEMAND" in types:
        return "on-demand"
    if "INFERENCE_PROFILE" in types:
        return "profile-only"
    if "PROVISIONED" in types:
        return "provisioned-only"
    return ", ".join(sorted(t.lower() for t in types))


def _price(row: ModelRow, ref: Any, config: Config) -> None:
    from promptlab.catalogue import price_for

    price = price_for(ref, config)
    if price is not None:
        row.price_input_per_1k, row.price_output_per_1k = price.input, price.output


LISTING_NEEDS = (
    "your IAM identity needs bedrock:ListFoundationModels, bedrock:ListInferenceProfiles (and "
    "ListCustomModels, ListProvisionedModelThroughputs for --custom); or use --offline"
)


def _aws_call(fn: Any, region: str | None = None, needs: str = LISTING_NEEDS) -> Any:
    """Run a control-plane call; failures become one clear error (exit 2). `needs`: the hint
    when access is denied (what the listing needs)."""
    from botocore.exceptions import ClientError

    from promptlab.catalogue import ModelRef
    from promptlab.providers.awserrors import map_error

    listing = ModelRef("bedrock", "bedrock", None)

    try:
        return fn()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "ClientError")
        if code == "AccessDeniedException":
            raise ConfigError(
                f"listing models failed: {code}: {exc.response['Error'].get('Message', '')}",
                needs,
            ) from None
        err = map_error(exc, listing, region, endpoint_env="AWS_ENDPOINT_URL_BEDROCK")
        raise ConfigError(f"listing models failed: {err.code}: {err.message}", err.hint) from None
    except Exception as exc:
        err = map_error(exc, listing, region, endpoint_env="AWS_ENDPOINT_URL_BEDROCK")
        raise ConfigError(f"listing models failed: {err.code}: {err.message}", err.hint) from None


def filter_rows(rows: list[ModelRow], provider: str | None, modality: str | None) -> list[ModelRow]:
    out = rows
    if provider:
        p = provider.lower()
        out = [
            r
            for r in out
            if p in r.provider.lower() or (r.base_model or r.id).lower().startswith(p + ".")
        ]
        known = sorted({r.provider.lower() for r in rows if r.provider}, key=str.lower)
        if rows and not out and known:
            raise UsageError(f"--provider {provider!r} matches no model",
                             f"providers: {', '.join(known)}")  # fmt: skip
    if modality:
        m = modality.upper()
        out = [r for r in out if m in r.output_modalities]
    return out


# ---------------------------------------------------------------- output

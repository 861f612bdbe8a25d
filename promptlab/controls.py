"""What a call asks of Bedrock besides the prompt: latency mode, service tier, request metadata.

`--latency optimized` becomes Converse `performanceConfig={"latency": "optimized"}`, `--tier
flex` becomes `serviceTier={"type": "flex"}` (promptlab.yaml: `latency:`, `service_tier:`);
`catalogue.adapt` then drops either where the model does not offer it, with a notice.

Every call carries `requestMetadata`, string pairs Bedrock writes into its model invocation
logs: the prompt's name and version (`promptlab-prompt`, `promptlab-version`), the run id
(`promptlab-run`, added by the runner: `render` has no run) and the user's own pairs
(promptlab.yaml `request_metadata:`). They label a call; they never change its answer, so the
response cache does not key on them (store/core.cache_key).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from promptlab.config import Config
    from promptlab.identity import PromptId
    from promptlab.request import Request

LATENCIES = ("standard", "optimized")  # botocore: PerformanceConfigLatency
TIERS = ("priority", "default", "flex", "reserved")  # botocore: ServiceTierType
STANDARD = {"latency": "standard", "tier": "default"}  # what runs when nothing is asked

# botocore's RequestMetadata: at most 16 pairs; keys 1–256 and values 0–256 characters of
# letters, digits, whitespace and : _ @ $ # = / + , - .
METADATA_MAX_PAIRS = 16
METADATA_MAX_LENGTH = 256
_METADATA_CHARS = r"a-zA-Z0-9\s:_@$#=/+,\-."
_METADATA_TEXT = re.compile(rf"^[{_METADATA_CHARS}]*$")
_NOT_METADATA = re.compile(rf"[^{_METADATA_CHARS}]")
PROMPT_KEY, VERSION_KEY, RUN_KEY = "promptlab-prompt", "promptlab-version", "promptlab-run"
RESERVED_PREFIX = "promptlab-"
USER_MAX_PAIRS = METADATA_MAX_PAIRS - 3  # room for promptlab's own three


def metadata_problem(key: Any, value: Any) -> str | None:
    """Why a user's `request_metadata` pair cannot be sent, or None."""
    if not isinstance(key, str) or not key or len(key) > METADATA_MAX_LENGTH:
        return f"request_metadata key {key!r} must be 1–{METADATA_MAX_LENGTH} characters"
    if not _METADATA_TEXT.match(key):
        return f"request_metadata key {key!r} has characters Bedrock does not take"
    if key.startswith(RESERVED_PREFIX):
        return f"request_metadata key {key!r}: keys starting '{RESERVED_PREFIX}' are promptlab's"
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return f"request_metadata value of {key!r} must be a string, got {value!r}"
    text = str(value)
    if len(text) > METADATA_MAX_LENGTH:
        return f"request_metadata value of {key!r} is longer than {METADATA_MAX_LENGTH} characters"
    if not _METADATA_TEXT.match(text):
        return f"request_metadata value of {key!r} has characters Bedrock does not take"
    return None


def metadata_value(text: str) -> str:
    """Any text as a metadata value Bedrock takes: other characters become '_', cut at 256."""
    return _NOT_METADATA.sub("_", text)[:METADATA_MAX_LENGTH]


@dataclass(frozen=True)
class Controls:
    """The latency mode, service tier and metadata every call of a run asks for."""

    latency: str | None = None  # standard | optimized; None: not sent
    tier: str | None = None  # priority | default | flex | reserved; None: not sent
    metadata: Mapping[str, str] = field(default_factory=dict)  # the user's own pairs

    @classmethod
    def of(cls, config: Config) -> Controls:
        return cls(config.latency, config.service_tier, dict(config.request_metadata))

    def apply(self, request: Request, prompt: PromptId | None = None) -> Request:
        """`request` with performanceConfig, serviceTier and requestMetadata set (the prompt's
        name and version, then the user's pairs). The model's capabilities are checked
        afterwards (catalogue.adapt)."""
        labels = dict(request.metadata or {})
        if prompt is not None:
            labels[PROMPT_KEY] = metadata_value(prompt.name)
            labels[VERSION_KEY] = metadata_value(prompt.version)
        labels.update(self.metadata)
        return replace(
            request,
            performance_config=(
                {"latency": self.latency} if self.latency else request.performance_config
            ),
            service_tier={"type": self.tier} if self.tier else request.service_tier,
            metadata=labels or None,
        )


NO_CONTROLS = Controls()


def with_run(request: Request, run_id: str | None) -> Request:
    """The request labelled with the run that sends it (`promptlab-run`)."""
    if not run_id:
        return request
    return replace(request, metadata={**(request.metadata or {}), RUN_KEY: metadata_value(run_id)})


def ran(
    response_meta: Mapping[str, Any] | None, request: Request | Mapping[str, Any] | None = None
) -> tuple[str, str]:
    """(service tier, latency mode) a call ran with: what the response says (Bedrock serves a
    request at standard latency or tier when the asked-for capacity is used up, and bills it
    so), else what the request asked for, else on-demand standard."""
    meta = response_meta or {}
    if request is None:
        asked: Mapping[str, Any] = {}
    elif isinstance(request, Mapping):
        asked = request
    else:
        asked = {"serviceTier": request.service_tier, "performanceConfig":
                 request.performance_config}  # fmt: skip
    tier = _field(meta, "serviceTier", "type") or _field(asked, "serviceTier", "type")
    latency = _field(meta, "performanceConfig", "latency") or _field(
        asked, "performanceConfig", "latency"
    )
    return tier or STANDARD["tier"], latency or STANDARD["latency"]


def _field(data: Mapping[str, Any], key: str, inner: str) -> str | None:
    value = data.get(key)
    found = value.get(inner) if isinstance(value, Mapping) else None
    return str(found) if found else None


def mode_label(tier: str, latency: str) -> str:
    """`priority tier`, `latency optimized`, both joined; '' for on-demand standard."""
    parts = [f"{tier} tier" if tier != STANDARD["tier"] else "",
             f"latency {latency}" if latency != STANDARD["latency"] else ""]  # fmt: skip
    return " · ".join(p for p in parts if p)


def option(name: str, value: str | None, choices: tuple[str, ...], example: str) -> str | None:
    """A command-line choice (`--latency`, `--tier`) checked before any call: UsageError."""
    if value is None or value in choices:
        return value
    from promptlab.errors import UsageError
    from promptlab.fields import did_you_mean

    close = did_you_mean(value, choices)
    raise UsageError(f"{name} must be {', '.join(choices[:-1])} or {choices[-1]}, got {value!r}",
                     close or f"e.g. {name} {example}")  # fmt: skip

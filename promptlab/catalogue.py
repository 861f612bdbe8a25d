"""Model catalogue: aliases, id resolution, per-family quirks and prices.

Everything model-specific lives in the tables here: a new model or quirk is one line.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any

from promptlab import chains
from promptlab.config import Config, Price
from promptlab.controls import mode_label, ran
from promptlab.errors import UsageError
from promptlab.guardrails import label_of as guardrail_label
from promptlab.imagegen import served_by_invoke
from promptlab.providers import registry
from promptlab.request import Document, Request, Text
from promptlab.results import Completion

IMAGE_KIND = "bedrock-image"  # the provider kind of image models (InvokeModel)
PROFILE_PREFIXES = ("us", "eu", "apac", "global", "us-gov", "jp", "au", "ca")
_PROFILE_RE = re.compile(rf"^({'|'.join(PROFILE_PREFIXES)})\.(.+)$")
_MODEL_ID_RE = re.compile(r"^[a-z0-9-]+\.[A-Za-z0-9][A-Za-z0-9.:_-]*$")
_ARN_RE = re.compile(r"^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:\d*:[a-z-]+/.+$")


@dataclass(frozen=True)
class CatalogueEntry:
    alias: str
    model_id: str  # base model id (prices are keyed by it)
    provider: str
    profile_only: bool = False  # on-demand needs a cross-region inference profile
    modality: str = "text"


# Friendly aliases shipped with promptlab. Profile-only models get the region's geo prefix.
CATALOGUE: tuple[CatalogueEntry, ...] = (
    CatalogueEntry("claude-haiku", "anthropic.claude-3-haiku-20240307-v1:0", "Anthropic"),
    CatalogueEntry("claude-3.5-haiku", "anthropic.claude-3-5-haiku-20241022-v1:0", "Anthropic", True),
    CatalogueEntry("claude-haiku-4.5", "anthropic.claude-haiku-4-5-20251001-v1:0", "Anthropic", True),
    CatalogueEntry("claude-sonnet", "anthropic.claude-3-5-sonnet-20240620-v1:0", "Anthropic"),
    CatalogueEntry("claude-3.7-sonnet", "anthropic.claude-3-7-sonnet-20250219-v1:0", "Anthropic", True),
    CatalogueEntry("claude-sonnet-4", "anthropic.claude-sonnet-4-20250514-v1:0", "Anthropic", True),
    CatalogueEntry("claude-sonnet-4.5", "anthropic.claude-sonnet-4-5-20250929-v1:0", "Anthropic", True),
    CatalogueEntry("claude-opus-4.1", "anthropic.claude-opus-4-1-20250805-v1:0", "Anthropic", True),
    CatalogueEntry("nova-micro", "amazon.nova-micro-v1:0", "Amazon"),
    CatalogueEntry("nova-lite", "amazon.nova-lite-v1:0", "Amazon"),
    CatalogueEntry("nova-pro", "amazon.nova-pro-v1:0", "Amazon"),
    CatalogueEntry("nova-premier", "amazon.nova-premier-v1:0", "Amazon", True),
    CatalogueEntry("nova-2-lite", "amazon.nova-2-lite-v1:0", "Amazon", True),
    CatalogueEntry("titan-express", "amazon.titan-text-express-v1", "Amazon"),
    CatalogueEntry("titan-lite", "amazon.titan-text-lite-v1", "Amazon"),
    CatalogueEntry("titan-embed", "amazon.titan-embed-text-v2:0", "Amazon", modality="embedding"),
    CatalogueEntry("llama-8b", "meta.llama3-8b-instruct-v1:0", "Meta"),
    CatalogueEntry("llama-70b", "meta.llama3-70b-instruct-v1:0", "Meta"),
    CatalogueEntry("llama3.1-8b", "meta.llama3-1-8b-instruct-v1:0", "Meta", True),
    CatalogueEntry("llama3.1-70b", "meta.llama3-1-70b-instruct-v1:0", "Meta", True),
    CatalogueEntry("mistral-7b", "mistral.mistral-7b-instruct-v0:2", "Mistral AI"),
    CatalogueEntry("mixtral-8x7b", "mistral.mixtral-8x7b-instruct-v0:1", "Mistral AI"),
    CatalogueEntry("mistral-large", "mistral.mistral-large-2402-v1:0", "Mistral AI"),
    CatalogueEntry("mistral-small", "mistral.mistral-small-2402-v1:0", "Mistral AI"),
    CatalogueEntry("claude-3.5-sonnet-v2", "anthropic.claude-3-5-sonnet-20241022-v2:0", "Anthropic", True),
    CatalogueEntry("claude-opus-4", "anthropic.claude-opus-4-20250514-v1:0", "Anthropic", True),
    CatalogueEntry("llama3.2-1b", "meta.llama3-2-1b-instruct-v1:0", "Meta", True),
    CatalogueEntry("llama3.2-3b", "meta.llama3-2-3b-instruct-v1:0", "Meta", True),
    CatalogueEntry("llama3.2-11b", "meta.llama3-2-11b-instruct-v1:0", "Meta", True),
    CatalogueEntry("llama3.2-90b", "meta.llama3-2-90b-instruct-v1:0", "Meta", True),
    CatalogueEntry("llama3.3-70b", "meta.llama3-3-70b-instruct-v1:0", "Meta", True),
    CatalogueEntry("llama4-scout", "meta.llama4-scout-17b-instruct-v1:0", "Meta", True),
    CatalogueEntry("llama4-maverick", "meta.llama4-maverick-17b-instruct-v1:0", "Meta", True),
    CatalogueEntry("mistral-large-2407", "mistral.mistral-large-2407-v1:0", "Mistral AI"),
    CatalogueEntry("deepseek-r1", "deepseek.r1-v1:0", "DeepSeek", True),
    CatalogueEntry("gpt-oss-120b", "openai.gpt-oss-120b-1:0", "OpenAI"),
    CatalogueEntry("gpt-oss-20b", "openai.gpt-oss-20b-1:0", "OpenAI"),
    CatalogueEntry("command-r", "cohere.command-r-v1:0", "Cohere"),
    CatalogueEntry("command-r-plus", "cohere.command-r-plus-v1:0", "Cohere"),
    CatalogueEntry("jamba-mini", "ai21.jamba-1-5-mini-v1:0", "AI21 Labs"),
    CatalogueEntry("jamba-large", "ai21.jamba-1-5-large-v1:0", "AI21 Labs"),
    CatalogueEntry("titan-embed-v1", "amazon.titan-embed-text-v1", "Amazon", modality="embedding"),
    CatalogueEntry("cohere-embed", "cohere.embed-english-v3", "Cohere", modality="embedding"),
    CatalogueEntry("cohere-embed-multilingual", "cohere.embed-multilingual-v3", "Cohere", modality="embedding"),
    # Image models (InvokeModel: the bedrock-image provider kind; see imagegen.py).
    CatalogueEntry("titan-image", "amazon.titan-image-generator-v2:0", "Amazon", modality="image"),
    CatalogueEntry("nova-canvas", "amazon.nova-canvas-v1:0", "Amazon", modality="image"),
    CatalogueEntry("sd3.5-large", "stability.sd3-5-large-v1:0", "Stability AI", modality="image"),
    CatalogueEntry("stable-image-core", "stability.stable-image-core-v1:1", "Stability AI", modality="image"),
    CatalogueEntry("stable-image-ultra", "stability.stable-image-ultra-v1:1", "Stability AI", modality="image"),
    CatalogueEntry("titan-embed-image", "amazon.titan-embed-image-v1", "Amazon", modality="embedding"),
)  # fmt: skip
BY_ALIAS = {e.alias: e for e in CATALOGUE}
BY_BASE_ID = {e.model_id: e for e in CATALOGUE}


@dataclass(frozen=True)
class Quirk:
    """What a model family takes and does not accept through Converse.

    Capabilities not known for a family (an opaque ARN, a model not listed) are assumed, so the
    service decides; structured output and citations are the exceptions: without them the
    schema goes into the format section and citations are not asked for, each with a notice.
    """

    system_prompt: bool = True
    drop_params: tuple[str, ...] = ()
    temperature_xor_top_p: bool = False  # rejects both set at once
    images: bool = True
    documents: bool = True
    video: bool = False
    tools: bool = True
    structured_output: bool = False  # outputConfig.textFormat (json_schema)
    citations: bool = False  # citations on documents
    latency_optimized: bool = False  # performanceConfig latency "optimized"
    tiers: tuple[str, ...] = ()  # serviceTier types besides "default" (priority, flex, …)
    reasoning: str = ""  # how it is asked to reason: a style of reasoning.STYLES ("": not sent)
    # Prompt caching: where the model takes cache points (tools, system, messages), the cache
    # lifetimes it offers, and the fewest tokens before a cache point that get cached.
    caching: tuple[str, ...] = ()
    cache_ttls: tuple[str, ...] = ("5m",)
    cache_min_tokens: int | None = None
    guardrails: bool = True  # applies a guardrailConfig (offline stand-ins do not)
    batch: bool = False  # Bedrock batch inference takes it (a model invocation job, Converse)
    note: str = ""


_TEXT_ONLY: dict[str, Any] = {"images": False, "documents": False, "video": False}
# Batch inference: the user guide's "Supported Regions and models for batch inference" (Claude
# 3 and later, Nova 1, Llama 3.1 and later, Mistral Small and Large 2407, gpt-oss).
_BATCH: dict[str, Any] = {"batch": True}
_CLAUDE: dict[str, Any] = {"video": False, **_BATCH}
_CLAUDE_CITES: dict[str, Any] = {**_CLAUDE, "citations": True}
_CLAUDE_THINKS: dict[str, Any] = {**_CLAUDE_CITES, "reasoning": "budget"}
_CLAUDE_45: dict[str, Any] = {
    **_CLAUDE_THINKS,
    "structured_output": True,
    "temperature_xor_top_p": True,
}
_NOVA_MEDIA: dict[str, Any] = {"images": True, "documents": True, "video": True}
_NO_TOOLS: dict[str, Any] = {"tools": False}
_TIERS: dict[str, Any] = {"tiers": ("priority", "flex")}
_FAST: dict[str, Any] = {"latency_optimized": True}
# Prompt caching through Converse (the Bedrock prompt-caching model table): Claude takes cache
# points in tools, system and messages; Nova in system and messages only. The 1-hour lifetime
# is offered on Claude Haiku 4.5, Sonnet 4.5 and Opus 4.5.
_CACHES = ("tools", "system", "messages")
_CLAUDE_CACHE: dict[str, Any] = {"caching": _CACHES, "cache_min_tokens": 1024}
_CLAUDE_CACHE_1H: dict[str, Any] = {**_CLAUDE_CACHE, "cache_ttls": ("5m", "1h")}
_NOVA_CACHE: dict[str, Any] = {"caching": ("system", "messages"), "cache_min_tokens": 1000}

# Matched against the base model id by prefix; first match wins. Sources: the Converse
# "supported models and model features" table (system prompts, images, documents, video,
# tools), the structured-output and citations model lists, and ValidationExceptions seen.
# Latency-optimized inference: the user guide's "Optimize model inference for latency" (Nova
# Pro, Claude 3.5 Haiku, Llama 3.1 70B and 405B). Priority and Flex tiers: the launch
# announcement (2025-11-18: gpt-oss, DeepSeek V3.1, Qwen3, Nova Pro and Premier) and Nova 2
# Lite's listed tier prices. A model not listed here is not offered them: not sent, a notice.
QUIRKS: tuple[tuple[str, Quirk], ...] = (
    ("amazon.titan-text", Quirk(system_prompt=False, **_TEXT_ONLY, **_NO_TOOLS, note="Titan Text has no system prompt")),
    ("amazon.nova-micro", Quirk(**_TEXT_ONLY, **_NOVA_CACHE, **_BATCH)),
    ("amazon.nova-pro", Quirk(**_NOVA_MEDIA, **_FAST, **_TIERS, **_NOVA_CACHE, **_BATCH)),
    ("amazon.nova-premier", Quirk(**_NOVA_MEDIA, **_TIERS, **_NOVA_CACHE, **_BATCH)),
    ("amazon.nova-2-", Quirk(**_NOVA_MEDIA, **_TIERS, reasoning="nova", **_NOVA_CACHE)),
    ("amazon.nova-", Quirk(**_NOVA_MEDIA, **_NOVA_CACHE, **_BATCH)),
    ("openai.gpt-oss", Quirk(images=False, reasoning="effort", **_TIERS, **_BATCH)),
    ("deepseek.v3", Quirk(**_TIERS)),
    ("qwen.qwen3", Quirk(**_TIERS)),
    ("mistral.mistral-7b-instruct", Quirk(system_prompt=False, images=False, **_NO_TOOLS, note="no system prompt")),
    ("mistral.mixtral-8x7b-instruct", Quirk(system_prompt=False, images=False, **_NO_TOOLS, note="no system prompt")),
    ("mistral.mistral-large-2407", Quirk(drop_params=("stop",), images=False, **_BATCH, note="rejects stopSequences")),
    ("mistral.pixtral", Quirk()),
    ("mistral.mistral-small", Quirk(images=False, **_BATCH)),
    ("mistral.", Quirk(images=False)),
    ("cohere.command-text", Quirk(system_prompt=False, **_TEXT_ONLY, **_NO_TOOLS, note="no system prompt")),
    ("cohere.command-light-text", Quirk(system_prompt=False, **_TEXT_ONLY, **_NO_TOOLS, note="no system prompt")),
    ("cohere.command-r", Quirk(images=False)),
    ("ai21.j2", Quirk(system_prompt=False, **_TEXT_ONLY, **_NO_TOOLS, note="no system prompt")),
    ("ai21.jamba", Quirk(images=False)),
    ("meta.llama3-2-11b", Quirk(**_BATCH)),
    ("meta.llama3-2-90b", Quirk(**_BATCH)),
    ("meta.llama4", Quirk(**_BATCH)),
    ("meta.llama3-1-70b", Quirk(images=False, **_FAST, **_BATCH)),
    ("meta.llama3-1-405b", Quirk(images=False, **_FAST, **_BATCH)),
    ("meta.llama3-1", Quirk(images=False, **_BATCH)),
    ("meta.llama3-3", Quirk(images=False, **_BATCH)),
    ("meta.llama3-2", Quirk(images=False, **_BATCH)),
    ("meta.llama3", Quirk(images=False, **_NO_TOOLS)),
    ("deepseek.r1", Quirk(images=False, **_NO_TOOLS, reasoning="always")),
    ("anthropic.claude-sonnet-4-5", Quirk(**_CLAUDE_45, **_CLAUDE_CACHE_1H)),
    ("anthropic.claude-haiku-4-5", Quirk(**_CLAUDE_45, **{**_CLAUDE_CACHE_1H, "cache_min_tokens": 4096})),
    ("anthropic.claude-opus-4-1", Quirk(**_CLAUDE_45, **_CLAUDE_CACHE)),
    ("anthropic.claude-opus-4-5", Quirk(**_CLAUDE_45, **{**_CLAUDE_CACHE_1H, "cache_min_tokens": 4096})),
    ("anthropic.claude-3-7-sonnet", Quirk(**_CLAUDE_THINKS, **_CLAUDE_CACHE)),
    ("anthropic.claude-sonnet-4-2", Quirk(**_CLAUDE_THINKS, **_CLAUDE_CACHE)),
    ("anthropic.claude-opus-4-2", Quirk(**_CLAUDE_THINKS, **_CLAUDE_CACHE)),
    ("anthropic.claude-3-haiku", Quirk(**_CLAUDE)),
    ("anthropic.claude-3-sonnet", Quirk(**_CLAUDE)),
    ("anthropic.claude-3-opus", Quirk(**_CLAUDE)),
    ("anthropic.claude-3-5-sonnet-20240620", Quirk(**_CLAUDE)),
    ("anthropic.claude-3-5-sonnet-20241022", Quirk(**_CLAUDE_CITES, note="prompt caching was a preview only")),
    ("anthropic.claude-3-5-haiku", Quirk(images=False, **_CLAUDE_CITES, **_FAST, **{**_CLAUDE_CACHE, "cache_min_tokens": 2048})),
    ("anthropic.claude-", Quirk(**_CLAUDE_CITES, **_CLAUDE_CACHE)),  # 3.7 Sonnet, Sonnet 4, Opus 4
)  # fmt: skip

# A model no row names (an opaque ARN, a new family): the service decides about caching.
UNKNOWN_QUIRK = Quirk(caching=_CACHES, cache_ttls=("5m", "1h"))

# Offline stand-ins take everything, so every feature can be tried without AWS.
KIND_QUIRKS: dict[str, Quirk] = {
    "echo": Quirk(
        video=True,
        structured_output=True,
        citations=True,
        latency_optimized=True,
        tiers=("priority", "flex", "reserved"),
        reasoning="echo",
        caching=_CACHES,
        cache_ttls=("5m", "1h"),
        guardrails=False,
    ),
}

# Context windows in tokens (input and output together), by base model id prefix, first match
# wins; from the model cards in the Bedrock user guide. A model not listed is not checked.
CONTEXT_WINDOWS: tuple[tuple[str, int], ...] = (
    ("anthropic.claude-", 200_000),
    ("amazon.nova-micro", 128_000),
    ("amazon.nova-lite", 300_000),
    ("amazon.nova-pro", 300_000),
    ("amazon.nova-premier", 1_000_000),
    ("amazon.titan-text-express", 8_192),
    ("amazon.titan-text-lite", 4_096),
    ("meta.llama3-8b", 8_192),
    ("meta.llama3-70b", 8_192),
    ("meta.llama3-1", 128_000),
    ("meta.llama3-2", 128_000),
    ("meta.llama3-3", 128_000),
    ("mistral.mistral-large-2407", 128_000),
    ("mistral.", 32_000),
    ("cohere.command-r", 128_000),
    ("ai21.jamba", 256_000),
    ("deepseek.r1", 128_000),
    ("openai.gpt-oss", 128_000),
)


def context_window(ref: ModelRef) -> int | None:
    """The model's context window in tokens, when the table knows its family."""
    if ref.base_id and ref.provider == registry.DEFAULT_KIND:
        for prefix, tokens in CONTEXT_WINDOWS:
            if ref.base_id.startswith(prefix):
                return tokens
    return None


# A knowledge base's RetrieveAndGenerate: text in, text out; no prompt cache, tiers or
# latency modes (a request asking for them is sent without, with a notice).
KIND_QUIRKS["kb"] = Quirk(images=False, documents=False, video=False, tools=False,
                          note="RetrieveAndGenerate: the question in, a cited answer out")  # fmt: skip

# What a request may carry that a model may not take: (Quirk attribute, the content block's key).
MEDIA_CAPABILITIES = (("images", "image"), ("documents", "document"), ("video", "video"))


@dataclass(frozen=True)
class ModelRef:
    """A model as the user named it and as Bedrock will be called."""

    alias: str  # what the user typed (or the catalogue alias)
    model_id: str  # what goes into modelId: id, profile id or ARN
    base_id: str | None  # foundation model id, for prices and quirks (None for opaque ARNs)
    provider: str = registry.DEFAULT_KIND  # the provider kind that serves it (registry)
    # A fallback chain's models, tried in order (chains.py); () for a single model. A chain's
    # own id, base id and kind are its first link's.
    links: tuple[ModelRef, ...] = ()

    @property
    def real(self) -> bool:
        """A real, billed model (False for offline stand-ins such as echo); a chain is real
        when any of its links is."""
        if self.links:
            return any(link.real for link in self.links)
        return registry.get_kind(self.provider).real

    @property
    def label(self) -> str:
        if self.links:
            spec = chains.spelled(self.links)
            return self.alias if spec == self.alias else f"{self.alias} ({spec})"
        if self.alias == self.model_id:
            return self.alias
        return f"{self.alias} ({self.model_id})"


def _resolve_alias(name: str, config: Config, region: str | None) -> ModelRef:
    """A user alias: its target is a shipped alias, an id, a profile, an ARN or another alias."""
    aliases = config.aliases
    chain = [name]
    while True:
        target = aliases[chain[-1]]
        try:
            return resolve(target, None, region)
        except UsageError:
            if target in aliases and target not in chain:
                chain.append(target)
                continue
        where = f"{config.file.name if config.file else 'promptlab.yaml'} aliases"
        path = " → ".join([*chain, target])
        if target in chain:
            raise UsageError(
                f"alias {name!r} ({where}) goes round in a circle: {path}",
                "point one of them at a model id, inference-profile id, ARN or shipped alias",
            )
        close = difflib.get_close_matches(target, [*aliases, *BY_ALIAS, *registry.served_names()],
                                          n=3)  # fmt: skip
        raise UsageError(
            f"alias {name!r} ({where}) points to {target!r}"
            + (f" (via {path})" if len(chain) > 1 else "")
            + ", which is not an alias, a model id (provider.model), an inference-profile id "
            "or an ARN",
            f"did you mean {', '.join(close)}?" if close else "see 'promptlab models --offline'",
        )


def geo_prefix(region: str | None) -> str:
    if not region:
        return "us"
    if region.startswith("us-gov"):
        return "us-gov"
    head = region.split("-")[0]
    return {"us": "us", "eu": "eu", "ap": "apac", "ca": "ca"}.get(head, "us")


def split_models(values: list[str] | tuple[str, ...]) -> list[str]:
    """`-m a,b -m c` → [a, b, c], order kept, duplicates dropped."""
    out: list[str] = []
    for v in values:
        for part in v.split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def resolve(name: str, config: Config | None = None, region: str | None = None) -> ModelRef:
    """Alias, model id, inference-profile id or ARN → ModelRef. Unknown names: UsageError.

    Image models and multimodal embeddings (imagegen's table) go to the `bedrock-image` kind.
    A fallback chain (`a>b`, or an alias standing for one) is a ModelRef with `links`."""
    if chains.is_chain(name, config.aliases if config else {}):
        return chains.resolve_chain(name, config, region, resolve)
    ref = _resolve(name, config, region)
    if ref.provider == registry.DEFAULT_KIND and served_by_invoke(ref.base_id):
        return replace(ref, provider=IMAGE_KIND)
    return ref


def _resolve(name: str, config: Config | None, region: str | None) -> ModelRef:
    kind = registry.kind_for_name(name)
    if kind is not None:
        kind.checked(name)
        return ModelRef(name, name, None, kind.name)
    user_aliases = config.aliases if config else {}
    if name in user_aliases and config is not None:
        return replace(_resolve_alias(name, config, region), alias=name)
    entry = BY_ALIAS.get(name)
    if entry is not None:
        mid = f"{geo_prefix(region)}.{entry.model_id}" if entry.profile_only else entry.model_id
        return ModelRef(name, mid, entry.model_id)
    if _ARN_RE.match(name):
        return ModelRef(name, name, base_from_arn(name))
    m = _PROFILE_RE.match(name)
    if m and _MODEL_ID_RE.match(m.group(2)):
        return ModelRef(name, name, m.group(2))
    if _MODEL_ID_RE.match(name):
        return ModelRef(name, name, name)
    known = [*user_aliases, *BY_ALIAS, *registry.served_names()]
    close = difflib.get_close_matches(name, known, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "run 'promptlab models --offline'"
    raise UsageError(
        f"unknown model {name!r}: not an alias, a model id (provider.model), "
        "an inference-profile id or an ARN",
        hint,
    )


def alias_for(base_id: str | None) -> str | None:
    """The shipped alias of a base model id, if any."""
    entry = BY_BASE_ID.get(base_id or "")
    return entry.alias if entry else None


def base_id_of(model_id: str) -> str | None:
    """Base model id of a model id, an inference-profile id or an ARN (None when opaque)."""
    if _ARN_RE.match(model_id):
        return base_from_arn(model_id)
    m = _PROFILE_RE.match(model_id)
    if m and _MODEL_ID_RE.match(m.group(2)):
        return m.group(2)
    return model_id if _MODEL_ID_RE.match(model_id) else None


def base_from_arn(arn: str) -> str | None:
    """foundation-model and system inference-profile ARNs name their base model."""
    kind, _, rest = arn.split(":", 5)[-1].partition("/")
    if kind == "foundation-model":
        return rest
    if kind == "inference-profile":
        m = _PROFILE_RE.match(rest)
        return m.group(2) if m else None
    return None  # provisioned, custom deployment, application profile: opaque


def quirk_for(ref: ModelRef) -> Quirk:
    if ref.provider in KIND_QUIRKS:
        return KIND_QUIRKS[ref.provider]
    if ref.base_id:
        for prefix, quirk in QUIRKS:
            if ref.base_id.startswith(prefix):
                return quirk
    return UNKNOWN_QUIRK


class Unsupported(UsageError):
    """The request carries something this model cannot take (an image, a tool, …)."""


class TooLarge(Unsupported):
    """The request is more than the model's context window: that cell's error, no call."""


def unsupported(request: Request, ref: ModelRef) -> Unsupported | None:
    """Why this model cannot take the request, or None: images, documents, video and tools
    that its family does not accept (the capability table), as one message with a hint."""
    quirk = quirk_for(ref)
    blocks = [b for m in request.messages for b in m.content]
    sent = {key for b in blocks if not isinstance(b, Text) for key in b.to_converse()}
    missing = [kind for attr, kind in MEDIA_CAPABILITIES
               if kind in sent and not getattr(quirk, attr)]  # fmt: skip
    if request.tool_config and not quirk.tools:
        missing.append("tools")
    if not missing:
        return None
    takes = [kind for attr, kind in MEDIA_CAPABILITIES if getattr(quirk, attr)]
    takes += ["tools"] if quirk.tools else []
    return Unsupported(
        f"{ref.alias} does not take {' or '.join(missing)} through Converse",
        f"it takes text{''.join(', ' + t for t in takes)}; compare on a model that does "
        "(see 'promptlab models'), or pass --skip-unsupported to leave it out",
    )


def adapt(request: Request, ref: ModelRef) -> tuple[Request, list[str]]:
    """Apply the model's quirks to a request; returns it with a notice for each change."""
    quirk = quirk_for(ref)
    notices: list[str] = []
    if not quirk.caching and request.cache_points():  # before folding the system prompt
        request = request.without_cache_points()
        notices.append(f"{ref.alias}: no prompt caching through Converse; sent without cache "
                       "points")  # fmt: skip
    if not quirk.system_prompt and request.system:
        request = request.fold_system()
        notices.append(f"{ref.alias}: no system prompt support; instructions sent in the user turn")
    if not quirk.citations and _asks_citations(request):
        request = request.without_citations()
        notices.append(f"{ref.alias}: citations are not supported; documents sent without them")
    request, cache_notes = _adapt_cache(request, ref, quirk)
    notices += cache_notes
    if not quirk.guardrails and request.guardrail_config:
        notices.append(f"{ref.alias}: guardrails are not applied offline; guardrail "
                       f"{guardrail_label(request.guardrail_config)} not sent")  # fmt: skip
        request = replace(request, guardrail_config=None)
    drop = list(quirk.drop_params)
    p = request.params
    if quirk.temperature_xor_top_p and p.temperature is not None and p.top_p is not None:
        drop.append("top_p")
    present = [d for d in drop if p.to_dict().get(d) is not None]
    if present:
        request = replace(request, params=p.without(*present))
        notices.append(f"{ref.alias}: dropped unsupported parameter(s): {', '.join(present)}")
    return _offered(request, ref, quirk, notices)


def _offered(
    request: Request, ref: ModelRef, quirk: Quirk, notices: list[str]
) -> tuple[Request, list[str]]:
    """The latency mode and service tier the model offers; the others are not sent (standard
    latency and the default tier silently: that is what runs anyway)."""
    latency = (request.performance_config or {}).get("latency")
    if latency and not quirk.latency_optimized:
        if latency != "standard":
            notices.append(f"{ref.alias}: latency-optimized inference is not offered for this "
                           "model; sent at standard latency")  # fmt: skip
        request = replace(request, performance_config=None)
    tier = (request.service_tier or {}).get("type")
    if tier and tier not in quirk.tiers and not (tier == "default" and quirk.tiers):
        if tier != "default":
            offered = f" (it offers {', '.join(quirk.tiers)})" if quirk.tiers else ""
            notices.append(f"{ref.alias}: the {tier} service tier is not offered for this model"
                           f"{offered}; sent on the default tier")  # fmt: skip
        request = replace(request, service_tier=None)
    return request, notices


def _adapt_cache(request: Request, ref: ModelRef, quirk: Quirk) -> tuple[Request, list[str]]:
    """Cache points where the model takes them, with a lifetime it offers; a notice each."""
    notices: list[str] = []
    points = request.cache_points()
    refused = list(dict.fromkeys(where for where, _ in points if where not in quirk.caching))
    if points and quirk.caching and refused:
        request = request.without_cache_points(*refused)
        notices.append(f"{ref.alias}: takes no cache point in {' or '.join(refused)}; sent "
                       "without it")  # fmt: skip
    if any(p.ttl and p.ttl not in quirk.cache_ttls for _, p in request.cache_points()):
        request = request.with_cache_ttl(None)
        notices.append(f"{ref.alias}: no 1-hour prompt cache; cache points sent with the "
                       "default 5-minute lifetime")  # fmt: skip
    return request, notices


def _asks_citations(request: Request) -> bool:
    return any(isinstance(b, Document) and b.citations for m in request.messages for b in m.content)


# ---------------------------------------------------------------- prices


@lru_cache(maxsize=1)
def shipped_prices() -> dict[str, Any]:
    text = resources.files("promptlab").joinpath("data/prices.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def price_for(ref: ModelRef, config: Config | None = None) -> Price | None:
    """User overrides (by alias, id or base id) win over the shipped table. None: unknown."""
    overrides = config.prices if config else {}
    for key in (ref.alias, ref.model_id, ref.base_id):
        if key and key in overrides:
            return overrides[key]
    if ref.base_id:
        row = shipped_prices()["models"].get(ref.base_id)
        if row:
            return Price(**row)
    return None


def cost_usd(
    ref: ModelRef,
    input_tokens: int | None,
    output_tokens: int | None,
    config: Config | None = None,
    *,
    cache_read: int | None = None,
    cache_write: int | None = None,
    tier: str | None = None,
    batch: bool = False,
    served_by: str | None = None,
    latency: str | None = None,
    cache_ttl: str | None = None,
    images: int | None = None,
    size: tuple[int, int] | None = None,
    quality: str | None = None,
) -> float | None:
    """What one call costs, in USD: ordinary input, cache writes, cache reads and output, each
    at its own price (the tier's, latency-optimized inference's or batch's where it has one).
    `served_by`: the base model that actually ran (an application inference profile's, a
    prompt router's pick). `cache_ttl` "1h": the cache was written to be kept an hour (its own
    write price).
    `images`: images made (or, for multimodal embeddings, read), each at the model's price
    for its `size` (pixels) and `quality`; tokens, when given too, are added at their prices.

    None when the token counts or a price they need are unknown: never guessed. Prompt-cache
    prices are on-demand ones: cached tokens on another tier or latency mode have no known
    price."""
    if not ref.real:
        return 0.0
    if served_by:
        ref = replace(ref, base_id=served_by)
    if images is not None:
        each: float | None = image_price(ref, size, quality) if images else 0.0
        if each is None:
            return None
        token_cost = 0.0
        if input_tokens:
            if price_for(ref, config) is None:
                return None
            token_cost = cost_usd(ref, input_tokens, output_tokens or 0, config) or 0.0
        return round(images * each + token_cost, 8)
    price = price_for(ref, config)
    if price is None or input_tokens is None or output_tokens is None:
        return None
    rates = _rates(price, tier, batch, latency)
    if rates is None:
        return None
    per_input, per_output = rates
    total = input_tokens / 1000 * per_input + output_tokens / 1000 * per_output
    on_demand = not batch and _plain(tier, latency)
    write = price.cache_write_1h if cache_ttl == "1h" else price.cache_write
    for tokens, rate in ((cache_read, price.cache_read), (cache_write, write)):
        if tokens:
            if rate is None or not on_demand:
                return None
            total += tokens / 1000 * rate
    return round(total, 8)


def image_price(ref: ModelRef, size: tuple[int, int] | None, quality: str | None) -> float | None:
    """USD per image: the shipped table's first tier for this quality and pixel count."""
    tiers = shipped_prices().get("images", {}).get("models", {}).get(ref.base_id or "")
    if not tiers:
        return None
    pixels = size[0] * size[1] if size else None
    for tier in tiers:
        if tier.get("quality", quality or "standard") != (quality or "standard"):
            continue
        limit = tier.get("max_pixels")
        if limit is None or (pixels is not None and pixels <= limit):
            return float(tier["usd"])
    return None


def completion_cost(
    ref: ModelRef, completion: Completion, request: Request, config: Config | None = None
) -> float | None:
    """The cost of an answered call: its usage at the prices of the tier and latency mode it
    ran with (the response's, else the request's), of the model that served it and of the
    lifetime its cache points asked for."""
    if completion.images:
        made = [i for i in completion.images if i.data is not None]
        width, height = getattr(request, "width", None), getattr(request, "height", None)
        size = (width, height) if width and height else None
        if size is None and made and made[0].width and made[0].height:
            size = (made[0].width, made[0].height)
        return cost_usd(ref, None, None, config, images=len(made), size=size,
                        quality=getattr(request, "quality", None))  # fmt: skip
    tier, latency = ran(completion.response_meta, request)
    return cost_usd(ref, completion.input_tokens, completion.output_tokens, config,
                    cache_read=completion.cache_read_tokens,
                    cache_write=completion.cache_write_tokens, tier=tier,
                    served_by=served_base(ref, completion), latency=latency,
                    cache_ttl=request.cache_write_ttl)  # fmt: skip


def cache_savings_usd(
    ref: ModelRef,
    cache_read: int,
    config: Config | None = None,
    *,
    tier: str | None = None,
    served_by: str | None = None,
) -> float | None:
    """What reading `cache_read` tokens from the prompt cache saved: their cost at the input
    price minus their cost at the cache-read price. None when a price is unknown."""
    full = cost_usd(ref, cache_read, 0, config, tier=tier, served_by=served_by)
    read = cost_usd(ref, 0, 0, config, cache_read=cache_read, tier=tier, served_by=served_by)
    return None if full is None or read is None else round(full - read, 8)


def served_base(ref: ModelRef, completion: Completion) -> str | None:
    """The base model id of the model that answered, when the response names one."""
    return base_id_of(completion.served_model_id) if completion.served_model_id else None


def unpriced_mode(
    ref: ModelRef, completion: Completion, request: Request, config: Config | None = None
) -> str | None:
    """Why an answered call has no cost although its model has an on-demand price: the tier
    or latency mode it ran with has none. None when that is not the reason."""
    tier, latency = ran(completion.response_meta, request)
    if _plain(tier, latency) or not ref.real:
        return None
    served = served_base(ref, completion)
    price = price_for(replace(ref, base_id=served) if served else ref, config)
    if price is None:
        return None
    if tier == "reserved":
        return (f"{ref.alias}: ran on the reserved tier, billed by reservation rather than per "
                "token: cost unknown")  # fmt: skip
    if _rates(price, tier, False, latency) is None:
        if latency == "optimized" and tier != "default":
            return (f"{ref.alias}: ran on the {tier} tier at optimized latency, a combination "
                    "with no published price: cost unknown")  # fmt: skip
        what, keys = (("latency-optimized", "optimized") if latency == "optimized"
                      else (f"on the {tier} tier", tier))  # fmt: skip
        return (f"{ref.alias}: ran {what}, which has no known price for this model: cost "
                f"unknown (set {keys}_input and {keys}_output under prices: in promptlab.yaml)")  # fmt: skip
    if completion.cache_read_tokens or completion.cache_write_tokens:
        return (f"{ref.alias}: prompt-cache tokens have no known price outside on-demand "
                f"standard ({mode_label(tier, latency)}): cost unknown")  # fmt: skip
    return None


def _plain(tier: str | None, latency: str | None) -> bool:
    """On-demand standard: the default tier (or none asked) at standard latency."""
    return tier in (None, "default") and latency in (None, "standard")


def _rates(
    price: Price, tier: str | None, batch: bool, latency: str | None = None
) -> tuple[float, float] | None:
    """(input, output) USD per 1K tokens for on-demand, batch, latency-optimized inference or
    a service tier; None when that price is unknown (or a combination has none)."""
    fast = latency == "optimized"
    special = tier not in (None, "default")
    if batch:
        if fast or special:
            return None
        pair = (price.batch_input, price.batch_output)
    elif fast and special:
        return None  # no price is published for a tier at optimized latency
    elif fast:
        pair = (price.optimized_input, price.optimized_output)
    elif tier in ("priority", "flex"):
        pair = (getattr(price, f"{tier}_input"), getattr(price, f"{tier}_output"))
    elif special:  # reserved: billed by reservation, not per token
        return None
    else:
        return price.input, price.output
    return None if pair[0] is None or pair[1] is None else (pair[0], pair[1])

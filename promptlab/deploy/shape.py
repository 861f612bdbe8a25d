"""The managed prompt's shape: content, the CHAT variant, the description line, prompt ARNs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from promptlab.errors import UsageError

VARIANT = "default"
SCHEME = "bedrock-prompt:"
DESCRIPTION_MAX = 200
_ARN = r"arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:prompt/[0-9A-Za-z]{10}"
_TARGET_RE = re.compile(rf"^({_ARN}|[0-9A-Za-z]{{10}})(?::(\d{{1,5}}|DRAFT))?$")
_ORIGIN_RE = re.compile(
    r"promptlab: (?P<name>\S+) (?P<version>\S+) sha256:(?P<hash>[0-9a-f]{6,64})"
    r"(?: commit (?P<commit>[0-9a-f]{6,40}))?"
)
# Prompt Management inference keys (the same as Converse's inferenceConfig)
INFERENCE_KEYS = ("temperature", "topP", "maxTokens", "stopSequences")


@dataclass(frozen=True)
class Content:
    """What a managed prompt version holds, as far as promptlab compares and publishes it."""

    system: str
    user: str
    variables: tuple[str, ...]
    model_id: str | None
    inference: Mapping[str, Any] = field(default_factory=dict)

    def key(self) -> tuple[Any, ...]:
        """The comparable form: variables as a set, inference values normalised."""
        inference = tuple(
            (k, tuple(v) if isinstance(v, list | tuple) else v)
            for k, v in sorted(self.inference.items())
            if v not in (None, [], ())
        )
        return self.system, self.user, tuple(sorted(self.variables)), self.model_id, inference

    def same_as(self, other: Content) -> bool:
        return self.key() == other.key()


@dataclass(frozen=True)
class Origin:
    """The promptlab version a managed version was published from (its description line)."""

    name: str
    version: str
    hash: str  # a prefix of the content hash
    commit: str | None


@dataclass(frozen=True)
class Target:
    """A managed prompt (ARN or id) and a version (None: the DRAFT)."""

    identifier: str
    version: str | None

    @property
    def label(self) -> str:
        return f"{self.identifier}:{self.version or 'DRAFT'}"


def variant(content: Content) -> dict[str, Any]:
    """The one CHAT variant promptlab publishes."""
    chat: dict[str, Any] = {
        "messages": [{"role": "user", "content": [{"text": content.user}]}],
        "inputVariables": [{"name": n} for n in content.variables],
    }
    if content.system:
        chat["system"] = [{"text": content.system}]
    out: dict[str, Any] = {
        "name": VARIANT,
        "templateType": "CHAT",
        "templateConfiguration": {"chat": chat},
    }
    if content.model_id:
        out["modelId"] = content.model_id
    inference = {k: v for k, v in content.inference.items() if v not in (None, [], ())}
    if inference:
        out["inferenceConfiguration"] = {"text": inference}
    return out


def content_of(prompt: Mapping[str, Any]) -> Content:
    """The content of a GetPrompt answer (its default variant; CHAT or TEXT)."""
    variants = list(prompt.get("variants") or [])
    chosen = next((v for v in variants if v.get("name") == prompt.get("defaultVariant")), None)
    v: Mapping[str, Any] = chosen or (variants[0] if variants else {})
    config = v.get("templateConfiguration") or {}
    if "chat" in config:
        chat = config["chat"]
        system = "".join(b.get("text", "") for b in chat.get("system") or [])
        user = "\n\n".join(
            b.get("text", "")
            for m in chat.get("messages") or []
            if m.get("role") == "user"
            for b in m.get("content") or []
            if "text" in b
        )
        names = chat.get("inputVariables") or []
    else:
        text = config.get("text") or {}
        system, user, names = "", str(text.get("text", "")), text.get("inputVariables") or []
    inference = (v.get("inferenceConfiguration") or {}).get("text") or {}
    return Content(
        system,
        user,
        tuple(str(n.get("name")) for n in names if n.get("name")),
        v.get("modelId"),
        {k: inference[k] for k in INFERENCE_KEYS if k in inference},
    )


def describe(name: str, version: str, content_hash: str, commit: str | None) -> str:
    """The machine-readable line stored as a managed version's description."""
    line = f"promptlab: {name} {version} sha256:{content_hash[:12]}"
    if commit:
        line += f" commit {commit[:12]}"
    return line[:DESCRIPTION_MAX]


def parse_description(text: str | None) -> Origin | None:
    m = _ORIGIN_RE.search(text or "")
    if m is None:
        return None
    return Origin(m["name"], m["version"], m["hash"], m["commit"])


def is_target(arg: str) -> bool:
    """Whether a command-line argument names a managed prompt version rather than a file."""
    return arg.startswith(SCHEME) or (arg.startswith("arn:") and ":prompt/" in arg)


def parse_target(arg: str) -> Target:
    """`[bedrock-prompt:]ARN[:VERSION]` (or a 10-character prompt id) → Target."""
    m = _TARGET_RE.match(arg.removeprefix(SCHEME))
    if m is None:
        raise UsageError(
            f"{arg!r} is not a managed prompt",
            "give a prompt ARN with its version, e.g. "
            "arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT1234:3 "
            "(promptlab deployed lists them)",
        )
    version = m[2] if m[2] and m[2] != "DRAFT" else None
    return Target(m[1], version)


def base_arn(arn: str) -> str:
    """A prompt ARN without its `:VERSION`."""
    m = _TARGET_RE.match(arn)
    return m[1] if m else arn

"""What is sent to a model: rendered messages plus inference parameters (the Converse shape)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

INFERENCE_KEYS = ("temperature", "top_p", "max_tokens", "stop")


@dataclass(frozen=True)
class InferenceParams:
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()

    def merged(self, other: InferenceParams) -> InferenceParams:
        """`other`'s set values win over ours."""
        return InferenceParams(
            temperature=other.temperature if other.temperature is not None else self.temperature,
            top_p=other.top_p if other.top_p is not None else self.top_p,
            max_tokens=other.max_tokens if other.max_tokens is not None else self.max_tokens,
            stop=other.stop or self.stop,
        )

    def without(self, *names: str) -> InferenceParams:
        cleared: dict[str, Any] = {n: (() if n == "stop" else None) for n in names}
        return replace(self, **cleared)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return {k: v for k, v in d.items() if v not in (None, [])}

    def to_converse(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {}
        if self.max_tokens is not None:
            cfg["maxTokens"] = self.max_tokens
        if self.temperature is not None:
            cfg["temperature"] = self.temperature
        if self.top_p is not None:
            cfg["topP"] = self.top_p
        if self.stop:
            cfg["stopSequences"] = list(self.stop)
        return cfg

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InferenceParams:
        stop = data.get("stop") or ()
        if isinstance(stop, str):
            stop = (stop,)
        return cls(
            temperature=data.get("temperature"),
            top_p=data.get("top_p"),
            max_tokens=data.get("max_tokens"),
            stop=tuple(stop),
        )


@dataclass(frozen=True)
class Request:
    """Exactly what a model receives: an optional system prompt and one user message."""

    system: str | None
    user: str
    params: InferenceParams = field(default_factory=InferenceParams)

    def to_converse(self) -> dict[str, Any]:
        """The Converse request body (without modelId)."""
        body: dict[str, Any] = {
            "messages": [{"role": "user", "content": [{"text": self.user}]}],
        }
        if self.system:
            body["system"] = [{"text": self.system}]
        cfg = self.params.to_converse()
        if cfg:
            body["inferenceConfig"] = cfg
        return body

    def fold_system(self) -> Request:
        """For models without system-prompt support: instructions go first in the user turn."""
        if not self.system:
            return self
        return replace(self, system=None, user=f"{self.system}\n\n{self.user}")

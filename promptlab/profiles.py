"""Application inference profiles: which foundation model an opaque profile ARN serves.

`arn:aws:bedrock:REGION:ACCOUNT:application-inference-profile/ID` names no model, so promptlab
asks Bedrock's control plane (GetInferenceProfile) once per process and profile, and prices and
adapts the calls as that model (its ModelRef gets the model's `base_id`). A lookup that fails
(access denied, not found) leaves the call as it was, opaque: it still runs, its cost is
unknown, and a notice says why.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from promptlab.catalogue import ModelRef

_APP_PROFILE_RE = re.compile(
    r"^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:\d*:application-inference-profile/.+$"
)


def is_application_profile(model_id: str) -> bool:
    return bool(_APP_PROFILE_RE.match(model_id))


class ProfileReader(Protocol):
    """A provider that can read an inference profile (the Bedrock one)."""

    def inference_profile_models(self, identifier: str) -> list[str]:
        """The ARNs of the models the profile routes to. Raises ModelCallError."""
        ...


@dataclass(frozen=True)
class Lookup:
    """What a profile serves: the base model id, or why it is not known."""

    base_id: str | None
    why: str | None = None


_lookups: dict[tuple[str, str], Lookup] = {}  # (endpoint or region, profile ARN) → lookup
_lock = threading.Lock()


def lookup(reader: ProfileReader, arn: str, where: str) -> Lookup:
    """The model behind `arn`, asked once per process (`where`: the endpoint or region)."""
    from promptlab.catalogue import base_id_of
    from promptlab.providers.base import ModelCallError

    key = (where, arn)
    with _lock:
        if key in _lookups:
            return _lookups[key]
    try:
        arns = reader.inference_profile_models(arn)
    except ModelCallError as exc:
        found = Lookup(None, f"{exc.code}: {exc.message}")
    else:
        bases = sorted({b for b in map(base_id_of, arns) if b})
        if len(bases) == 1:
            found = Lookup(bases[0])
        elif bases:
            found = Lookup(None, f"it routes to several models ({', '.join(bases)})")
        else:
            found = Lookup(None, "it names no foundation model")
    with _lock:
        return _lookups.setdefault(key, found)


def served_ref(ref: ModelRef, pool: Any) -> tuple[ModelRef, str | None]:
    """`ref` with the base model its application inference profile serves (looked up), and a
    notice when that could not be found. Other refs come back as they are.

    `pool` is the run's ProviderPool: its provider for `ref` reads the profile. A set-up error
    (no credentials, no region) is raised, as the call itself would raise it."""
    if ref.base_id or not ref.real or not is_application_profile(ref.model_id):
        return ref, None
    reader = pool.get(ref)
    if not hasattr(reader, "inference_profile_models"):
        return ref, None
    where = str(getattr(reader, "control_endpoint", "") or pool.region_for(ref) or "")
    found = lookup(reader, ref.model_id, where)
    if found.base_id is None:
        return ref, (
            f"{ref.alias}: the model behind this application inference profile is unknown "
            f"({found.why}); called as it is, cost unknown, no model quirks applied"
        )
    return replace(ref, base_id=found.base_id), None


def forget() -> None:
    """Drop every remembered lookup (tests)."""
    with _lock:
        _lookups.clear()

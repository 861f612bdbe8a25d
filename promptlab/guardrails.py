"""Amazon Bedrock Guardrails: which guardrail a call is sent with, and what the guardrail did.

A `Guardrail` is a reference (id or ARN, version, trace) from a prompt's `guardrail:`, from
`guardrail:` in promptlab.yaml (`PROMPTLAB_GUARDRAIL`), or from `--guardrail ID:VERSION` (which
wins); it is sent as Converse `guardrailConfig`. `outcome(result)` reads what the guardrail did
from what the service returned — the stop reason `guardrail_intervened`, the `trace.guardrail`
assessments, or an ApplyGuardrail response — into an `Outcome` that every view, the JSON
result and the assertions share. Nothing here is stored: the store keeps the raw trace
(`Result.response_meta`) and the outcome is derived from it.

Pure: no AWS here (the existence check imports boto3 inside `verify`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from promptlab.errors import ConfigError, UsageError
from promptlab.fields import Fields, one_of

if TYPE_CHECKING:
    from promptlab.aws import AwsClients
    from promptlab.config import Config
    from promptlab.request import Request
    from promptlab.results import Result

# The service model's patterns (botocore: GuardrailIdentifier, GuardrailVersion).
ID_PATTERN = (
    r"[a-z0-9]+|arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+"
)  # fmt: skip
VERSION_PATTERN = r"[1-9][0-9]{0,7}|DRAFT"
_ID = re.compile(ID_PATTERN)
_VERSION = re.compile(VERSION_PATTERN)
TRACES = ("enabled", "enabled_full", "disabled")
STREAM_MODES = ("sync", "async")
KEYS = ("id", "version", "trace", "stream_mode")
# ConverseStream's GuardrailStreamConfiguration has it; Converse's GuardrailConfiguration not.
STREAM_ONLY = ("streamProcessingMode",)
EXAMPLE = "gr1abc2def3:1"
REF_HINT = f"write ID:VERSION, e.g. {EXAMPLE} or {EXAMPLE.split(':')[0]}:DRAFT"
INTERVENED = "guardrail_intervened"
# Guardrail text units are billed per policy; no price for them is known here.
NOT_PRICED = "guardrail text units are billed apart and are not in the cost (no price known)"


class BadGuardrail(ValueError):
    """A malformed guardrail reference: the message and its fix."""

    def __init__(self, message: str, hint: str = REF_HINT) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Guardrail:
    """A guardrail to apply: its id (or ARN), version (a number or DRAFT) and trace setting.

    `origin` says where it was set (`prompts/x.yaml:7`, `--guardrail`), for error messages."""

    id: str
    version: str
    trace: str = "enabled"
    stream_mode: str | None = None  # ConverseStream only: sync (default) or async
    origin: str = field(default="", compare=False)

    @property
    def label(self) -> str:
        return f"{self.id}:{self.version}"

    def to_converse(self) -> dict[str, str]:
        """Converse `guardrailConfig` (ConverseStream's, when a stream mode is set)."""
        config = {"guardrailIdentifier": self.id, "guardrailVersion": self.version,
                  "trace": self.trace}  # fmt: skip
        if self.stream_mode:
            config["streamProcessingMode"] = self.stream_mode
        return config


def check_id(value: str) -> str:
    if not _ID.fullmatch(value) or len(value) > 2048:
        raise BadGuardrail(
            f"guardrail id {value!r} is not an id or a guardrail ARN",
            "the id is lowercase letters and digits, the last part of the guardrail's ARN "
            f"(e.g. {EXAMPLE.split(':')[0]}); 'aws bedrock list-guardrails' lists them",
        )
    return value


def check_version(value: Any) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _VERSION.fullmatch(text):
        raise BadGuardrail(
            f"guardrail version {value!r} is not a version number or DRAFT",
            "versions are 1, 2, … (published) or DRAFT (the working draft)",
        )
    return text


def parse_ref(text: str, origin: str = "") -> Guardrail:
    """`ID:VERSION` (the id may be a guardrail ARN). Raises BadGuardrail."""
    text = text.strip()
    head, sep, version = text.rpartition(":")
    if not sep or not head or not version or _ID.fullmatch(text):
        raise BadGuardrail(f"{text!r} has no version")
    return Guardrail(check_id(head), check_version(version), origin=origin)


def from_option(text: str | None, option: str = "--guardrail") -> Guardrail | None:
    """The guardrail of a command-line option; a malformed one is a UsageError naming it."""
    if text is None:
        return None
    try:
        return parse_ref(text, option)
    except BadGuardrail as exc:
        raise UsageError(f"{option} {text!r}: {exc.message}", exc.hint) from None


def from_env(name: str, text: str) -> Guardrail:
    try:
        return parse_ref(text, name)
    except BadGuardrail as exc:
        raise ConfigError(f"environment variable {name}={text!r}: {exc.message}",
                          exc.hint) from None  # fmt: skip


def read(fields: Fields, key: str = "guardrail") -> Guardrail | Literal[False] | None:
    """`guardrail:` of a YAML mapping: `ID:VERSION`, `{id, version, trace, stream_mode}`, or
    `false` (none). Each problem is recorded at its line; the result is then None."""
    if key not in fields.data or fields.data[key] is None:
        return None
    value = fields.data[key]
    origin = f"{_shown(fields.doc.file)}:{fields.doc.line((*fields.at, key))}"
    if value is False:
        return False
    if isinstance(value, str):
        try:
            return parse_ref(value, origin)
        except BadGuardrail as exc:
            fields.problem((key,), f"'{key}': {exc.message}", exc.hint)
            return None
    if not isinstance(value, dict):
        fields.problem((key,), f"'{key}' must be ID:VERSION or a mapping {{id, version, trace}}",
                       f"e.g. {key}: {{id: {EXAMPLE.split(':')[0]}, version: \"1\"}}")  # fmt: skip
        return None
    spec = fields.child(key, value)
    before = len(fields.problems)
    spec.unknown(KEYS, where=f"in '{key}'")
    parts: dict[str, str] = {}
    for name, check in (("id", check_id), ("version", check_version)):
        if name not in value:
            spec.problem(
                (),
                f"'{key}' needs '{name}'",
                f'e.g. {key}: {{id: {EXAMPLE.split(":")[0]}, version: "1"}}',
            )
            continue
        try:
            parts[name] = check(value[name]) if name == "version" else check(str(value[name]))
        except BadGuardrail as exc:
            spec.problem((name,), exc.message, exc.hint)
    trace = spec.get("trace", one_of(TRACES), "enabled", unset="missing",
                     hint="enabled (default) names the policy that intervened; enabled_full "
                     "also lists what did not")  # fmt: skip
    mode = spec.get("stream_mode", one_of(STREAM_MODES), unset="missing",
                    hint="sync (default) or async: how a streamed answer is checked")  # fmt: skip
    if len(fields.problems) > before:
        return None
    return Guardrail(parts["id"], parts["version"], trace, mode, origin)


def _shown(file: str | Path) -> str:
    """A file as the user would name it: relative to the working directory when inside it."""
    try:
        return Path(file).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return str(file)


def effective(setting: Guardrail | Literal[False] | None, config: Config) -> Guardrail | None:
    """The guardrail a prompt's calls use: `--guardrail`, else the prompt's (`false`: none),
    else promptlab.yaml's."""
    if config.guardrail_flag is not None:
        return config.guardrail_flag
    if setting is False:
        return None
    return setting or config.guardrail


def for_operation(body: dict[str, Any], *, stream: bool) -> dict[str, Any]:
    """A Converse body with only the guardrail fields the operation takes (the stream mode is
    ConverseStream's alone)."""
    config = body.get("guardrailConfig")
    if stream or not isinstance(config, dict) or not any(k in config for k in STREAM_ONLY):
        return body
    trimmed = {k: v for k, v in config.items() if k not in STREAM_ONLY}
    return {**body, "guardrailConfig": trimmed}


def for_calls(request: Request, *, stream: bool) -> Request:
    """The request as a Converse (`stream` False) or ConverseStream call takes it, so that the
    recorded request is the one sent."""
    config = request.guardrail_config
    if stream or not config or not any(k in config for k in STREAM_ONLY):
        return request
    trimmed = {k: v for k, v in config.items() if k not in STREAM_ONLY}
    return replace(request, guardrail_config=trimmed)


def label_of(config: Mapping[str, Any]) -> str:
    """`ID:VERSION` of a Converse guardrailConfig."""
    return f"{config.get('guardrailIdentifier')}:{config.get('guardrailVersion')}"


# ---------------------------------------------------------------- what the guardrail did

POLICIES = ("content", "topic", "word", "pii", "grounding", "reasoning")
WHERE = ("input", "output")
VERDICTS = ("intervened", "passed")
_SHOWN = 4  # findings named in one line; the rest are counted


@dataclass(frozen=True)
class Finding:
    """One thing a policy found: `policy` is one of POLICIES, `name` the category, topic,
    word, PII type or regex name, grounding filter or reasoning finding; `action` BLOCKED,
    ANONYMIZED, or NONE (detected, not acted on)."""

    policy: str
    name: str
    action: str
    where: str
    detail: str = ""

    @property
    def acted(self) -> bool:
        return self.action not in ("NONE", "")

    def describe(self) -> str:
        name = self.name
        if self.policy == "content":
            text = f"content filter {name}"
        elif self.policy == "topic":
            text = f'denied topic "{name}"'
        elif self.policy == "word":
            text = f'managed word "{name}"' if self.detail else f'word "{name}"'
        elif self.policy == "pii":
            text = f'sensitive information regex "{name}"' if self.detail == "regex" else (
                f"sensitive information {name}")  # fmt: skip
        elif self.policy == "grounding":
            text = f"contextual grounding {name.lower()}"
        else:
            text = f"automated reasoning: {name}"
        extra = [self.detail] if self.detail and self.policy in ("content", "grounding") else []
        if self.action == "ANONYMIZED":
            extra.append("masked")
        return text + (f" ({', '.join(extra)})" if extra else "")

    def to_dict(self) -> dict[str, Any]:
        d = {"policy": self.policy, "name": self.name, "action": self.action,
             "where": self.where}  # fmt: skip
        if self.detail:
            d["detail"] = self.detail
        return d


@dataclass(frozen=True)
class Outcome:
    """What a guardrail did to one call (or one ApplyGuardrail check)."""

    intervened: bool
    where: str | None  # input | output; None when the trace does not say
    findings: tuple[Finding, ...] = ()
    units: Mapping[str, int] = field(default_factory=dict)  # text units processed, by policy
    reason: str | None = None  # the service's actionReason

    @property
    def causes(self) -> tuple[Finding, ...]:
        """What explains the verdict: the findings acted on (or, when the guardrail intervened
        without any, what it detected)."""
        acted = tuple(f for f in self.findings if f.acted)
        if acted or not self.intervened:
            return acted
        return self.findings

    @property
    def detected(self) -> tuple[Finding, ...]:
        """Findings not acted on (a policy in detect mode)."""
        return tuple(f for f in self.findings if not f.acted)

    def named(self, findings: Iterable[Finding]) -> str:
        said = list(dict.fromkeys(f.describe() for f in findings))
        more = f"; +{len(said) - _SHOWN} more" if len(said) > _SHOWN else ""
        return "; ".join(said[:_SHOWN]) + more

    def line(self) -> str:
        """One line for a cell: `⛔ guardrail intervened (input): denied topic "Advice"`."""
        if not self.intervened:
            seen = self.named(self.detected)
            return "guardrail passed" + (f" (detected, not blocked: {seen})" if seen else "")
        where = f" ({self.where})" if self.where else ""
        causes = self.named(self.causes)
        return f"⛔ guardrail intervened{where}: " + (
            causes or "no policy named (trace disabled or empty)")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        policies = [f.to_dict() for f in self.findings]
        return {"intervened": self.intervened, "where": self.where, "policies": policies,
                "units": dict(self.units)}  # fmt: skip


def outcome(result: Result) -> Outcome | None:
    """What the guardrail did to `result`'s call; None when no guardrail was involved."""
    meta = result.response_meta or {}
    applied = meta.get("applyGuardrail")
    if isinstance(applied, dict):
        return from_apply(applied)
    trace = meta.get("trace")
    guard = trace.get("guardrail") if isinstance(trace, dict) else None
    guard = guard if isinstance(guard, dict) else None
    intervened = result.stop_reason == INTERVENED
    asked = isinstance(result.request, dict) and "guardrailConfig" in result.request
    if guard is None and not intervened and (not asked or result.error is not None):
        return None
    return from_trace(guard or {}, intervened)


def from_trace(guard: Mapping[str, Any], intervened: bool) -> Outcome:
    """A Converse `trace.guardrail` (inputAssessment: id → assessment; outputAssessments:
    id → [assessment]) and whether the stop reason says the guardrail intervened."""
    assessed: list[tuple[str, Any]] = []
    inputs = guard.get("inputAssessment")
    for a in inputs.values() if isinstance(inputs, dict) else ():
        assessed.append(("input", a))
    outputs = guard.get("outputAssessments")
    for many in outputs.values() if isinstance(outputs, dict) else ():
        assessed.extend(("output", a) for a in many if isinstance(many, list))
    return _outcome(assessed, intervened, guard.get("actionReason"))


def from_apply(response: Mapping[str, Any]) -> Outcome:
    """An ApplyGuardrail response (with the `source` it was asked about)."""
    where = "input" if str(response.get("source", "")).upper() == "INPUT" else "output"
    assessed = [(where, a) for a in response.get("assessments") or []]
    units = _units([response.get("usage")])
    found = _outcome(assessed, response.get("action") == "GUARDRAIL_INTERVENED",
                     response.get("actionReason"))  # fmt: skip
    return Outcome(found.intervened, where if found.intervened else None, found.findings,
                   units or found.units, found.reason)  # fmt: skip


def _outcome(assessed: list[tuple[str, Any]], intervened: bool, reason: Any) -> Outcome:
    findings: list[Finding] = []
    usages: list[Any] = []
    for side, a in assessed:
        if isinstance(a, dict):
            findings.extend(assessment_findings(a, side))
            usages.append((a.get("invocationMetrics") or {}).get("usage"))
    acted = [f for f in findings if f.acted] or (findings if intervened else [])
    where = next((w for w in WHERE if any(f.where == w for f in acted)), None)
    return Outcome(intervened, where if intervened else None, tuple(findings), _units(usages),
                   reason if isinstance(reason, str) else None)  # fmt: skip


def _units(usages: Iterable[Any]) -> dict[str, int]:
    total: dict[str, int] = {}
    for usage in usages:
        for key, n in (usage or {}).items() if isinstance(usage, dict) else ():
            if isinstance(n, int) and not isinstance(n, bool) and n:
                total[key] = total.get(key, 0) + n
    return total


def assessment_findings(a: Mapping[str, Any], where: str) -> list[Finding]:
    """The findings of one GuardrailAssessment: everything acted on or marked detected."""
    out: list[Finding] = []

    def add(policy: str, name: Any, item: Mapping[str, Any], detail: str = "") -> None:
        action = str(item.get("action") or "NONE")
        if action != "NONE" or item.get("detected") is True:
            out.append(Finding(policy, str(name), action, where, detail))

    for t in _items(a, "topicPolicy", "topics"):
        add("topic", t.get("name", "?"), t)
    for f in _items(a, "contentPolicy", "filters"):
        strength = f.get("filterStrength")
        detail = ", ".join(p for p in (f"{strength} strength" if strength else "",
                                       f"{f.get('confidence')} confidence"
                                       if f.get("confidence") else "") if p)  # fmt: skip
        add("content", f.get("type", "?"), f, detail)
    for w in _items(a, "wordPolicy", "customWords"):
        add("word", w.get("match", "?"), w)
    for w in _items(a, "wordPolicy", "managedWordLists"):
        add("word", w.get("match", "?"), w, str(w.get("type") or "managed"))
    for p in _items(a, "sensitiveInformationPolicy", "piiEntities"):
        add("pii", p.get("type", "?"), p)
    for r in _items(a, "sensitiveInformationPolicy", "regexes"):
        add("pii", r.get("name") or r.get("regex") or "?", r, "regex")
    for g in _items(a, "contextualGroundingPolicy", "filters"):
        score, threshold = g.get("score"), g.get("threshold")
        detail = ""
        if isinstance(score, int | float) and isinstance(threshold, int | float):
            below = "<" if score < threshold else "≥"
            detail = f"score {score:.2f} {below} threshold {threshold:.2f}"
        add("grounding", g.get("type", "?"), g, detail)
    for finding in _items(a, "automatedReasoningPolicy", "findings"):
        kind = next(iter(finding), "finding")
        if kind != "valid":
            out.append(Finding("reasoning", kind, "NONE", where))
    return out


def _items(a: Mapping[str, Any], policy: str, key: str) -> list[dict[str, Any]]:
    part = a.get(policy)
    items = part.get(key) if isinstance(part, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


# ---------------------------------------------------------------- checks before any call


def verify(
    guardrails: Iterable[Guardrail], config: Config, region: str | None, profile: str | None
) -> None:
    """`verify_with` new clients for (region, profile): for checks that cannot wait for a
    model's first call (apply-guardrail assertions on echo)."""
    unique = {(g.id, g.version): g for g in guardrails}
    if unique:
        from promptlab.aws import AwsClients

        verify_with(AwsClients(config, region, profile), unique.values())


def verify_with(clients: AwsClients, guardrails: Iterable[Guardrail]) -> None:
    """Each guardrail exists (bedrock GetGuardrail) and is READY.

    One UsageError (exit 2) for the first that does not, naming where it is set and the fix."""
    unique = {(g.id, g.version): g for g in guardrails}
    if not unique:
        return
    config, control = clients.config, clients.control
    for g in unique.values():
        try:
            found = control.get_guardrail(guardrailIdentifier=g.id, guardrailVersion=g.version)
        except Exception as exc:
            raise _not_usable(exc, g, clients.region, config) from None
        status = str(found.get("status") or "READY")
        if status != "READY":
            raise UsageError(
                f"{_where(g)}guardrail {g.label} is {status}, not READY",
                "wait until it is READY, or fix it in the Bedrock console",
            )


def _where(g: Guardrail) -> str:
    return f"{g.origin}: " if g.origin else ""


def _not_usable(exc: BaseException, g: Guardrail, region: str, config: Config) -> Exception:
    from botocore.exceptions import ClientError

    lists = f"aws bedrock list-guardrails --region {region}"
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code, message = str(err.get("Code") or ""), " ".join(str(err.get("Message", "")).split())
        if code == "ResourceNotFoundException":
            return UsageError(
                f"{_where(g)}guardrail {g.label} not found in {region}",
                f"check the id and version ({lists}; its versions: add --guardrail-identifier "
                f"{g.id}), or the region",
            )
        if code == "ValidationException":
            return UsageError(f"{_where(g)}guardrail {g.label} is not valid: {message}",
                              f"check the id and version ({lists})")  # fmt: skip
        if code == "AccessDeniedException":
            return UsageError(
                f"{_where(g)}not allowed to read guardrail {g.label}: {message}",
                "your IAM identity needs bedrock:GetGuardrail on it (and bedrock:ApplyGuardrail "
                "to apply it)",
            )
    from promptlab.catalogue import ModelRef
    from promptlab.providers.awserrors import map_error

    err = map_error(exc, ModelRef(g.label, g.label, None), region, config,
                    endpoint_env="AWS_ENDPOINT_URL_BEDROCK")  # fmt: skip
    return ConfigError(f"{_where(g)}cannot check guardrail {g.label}: {err.code}: {err.message}",
                       err.hint)  # fmt: skip


def call_hint(code: str, g: Guardrail) -> str | None:
    """The fix for an ApplyGuardrail failure that concerns the guardrail, not the model."""
    if code == "AccessDeniedException":
        return f"your IAM identity needs bedrock:ApplyGuardrail on guardrail {g.label}"
    if code in ("ResourceNotFoundException", "ValidationException"):
        return f"check guardrail {g.label} ({g.origin or 'its id and version'}) and the region"
    return None

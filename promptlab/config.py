"""Project configuration: promptlab.yaml, .env and environment variables.

Precedence for every setting: command-line flag > environment variable > promptlab.yaml > default.
The project root is the nearest directory (from the working directory up) holding promptlab.yaml;
without one, the working directory. `.env` is read from the working directory and the root.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlab.controls import LATENCIES, TIERS, USER_MAX_PAIRS, metadata_problem
from promptlab.errors import ConfigError, Problem, PromptFileError, PromptlabError
from promptlab.fields import BOOL, NON_BLANK, STRING, Fields, Kind, integer, number, one_of, strings
from promptlab.yamlfile import MAX_FILE_BYTES, load_mapping, parse_yaml, read_text

if TYPE_CHECKING:
    from promptlab.guardrails import Guardrail

CONFIG_FILE = "promptlab.yaml"

# botocore's own rule for a region name (utils.validate_region_name): letters, digits, dashes
REGION_SHAPE = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
REGION_HINT = "e.g. us-east-1: letters, digits and dashes"

CONFIG_KEYS = (
    "prompts_dir", "models", "aliases", "region", "profile", "concurrency", "prices",
    "retries", "timeouts", "store", "judge_model", "embedding_model", "grader_concurrency",
    "latency", "service_tier", "request_metadata", "guardrail", "batch",
)  # fmt: skip

# Environment variables (documented in .env.example). AWS_* ones are read by boto3 itself too.
ENV_VARS = {
    "PROMPTLAB_MODELS": "models",
    "PROMPTLAB_CONCURRENCY": "concurrency",
    "PROMPTLAB_GRADER_CONCURRENCY": "grader_concurrency",
    "PROMPTLAB_PROMPTS_DIR": "prompts_dir",
    "PROMPTLAB_MAX_ATTEMPTS": "max_attempts",
    "PROMPTLAB_RETRY_MODE": "retry_mode",
    "PROMPTLAB_READ_TIMEOUT": "read_timeout",
    "PROMPTLAB_CONNECT_TIMEOUT": "connect_timeout",
    "PROMPTLAB_STORE": "store_path",
    "PROMPTLAB_NO_LOG": "history",
    "PROMPTLAB_JUDGE_MODEL": "judge_model",
    "PROMPTLAB_EMBEDDING_MODEL": "embedding_model",
    "PROMPTLAB_GUARDRAIL": "guardrail",
}


@dataclass(frozen=True)
class Price:
    """USD per 1,000 tokens. A price left None is unknown: a cost that needs it is unknown."""

    input: float
    output: float
    batch_input: float | None = None
    batch_output: float | None = None
    cache_read: float | None = None
    cache_write: float | None = None  # a cache kept 5 minutes (the default lifetime)
    cache_write_1h: float | None = None  # a cache kept an hour (ttl: 1h)
    priority_input: float | None = None
    priority_output: float | None = None
    flex_input: float | None = None
    flex_output: float | None = None
    optimized_input: float | None = None  # latency-optimized inference
    optimized_output: float | None = None


@dataclass(frozen=True)
class BatchSettings:
    """`batch:` in promptlab.yaml (and --s3 / --role-arn): where batch inference stages its
    records and which role Bedrock assumes to read and write them."""

    s3: str | None = None  # s3://bucket/prefix
    role_arn: str | None = None
    kms_key: str | None = None  # SSE-KMS for uploads and the job's output; else SSE-S3 (AES256)
    poll_seconds: float = 30.0  # how often a waiting command asks for the jobs' status
    timeout_hours: int = 24  # the job's timeoutDurationInHours (24–168)


@dataclass(frozen=True)
class Config:
    root: Path
    file: Path | None = None
    prompts_dir: Path = Path("prompts")
    models: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    region: str | None = None
    profile: str | None = None
    concurrency: int = 8  # model calls at once, overall (the worker pool's size)
    # Caps for single models, by alias or model id (`concurrency: {default: 8, name: N}`).
    model_concurrency: dict[str, int] = field(default_factory=dict)
    grader_concurrency: int = 4  # judge and embedding calls at once, besides `concurrency`
    prices: dict[str, Price] = field(default_factory=dict)
    retry_mode: str = "standard"
    max_attempts: int = 4
    connect_timeout: float = 5.0
    read_timeout: float = 600.0
    store_path: Path = Path(".promptlab/promptlab.db")
    history: bool = True
    judge_model: str = "nova-micro"
    embedding_model: str = "amazon.titan-embed-text-v2:0"
    latency: str | None = None  # performanceConfig.latency for every call (--latency)
    service_tier: str | None = None  # serviceTier.type for every call (--tier)
    request_metadata: dict[str, str] = field(default_factory=dict)  # requestMetadata pairs
    guardrail: Guardrail | None = None  # every prompt's unless it sets its own (or false)
    guardrail_flag: Guardrail | None = None  # --guardrail: wins over the prompt's
    batch: BatchSettings = field(default_factory=BatchSettings)

    def with_overrides(self, **flags: Any) -> Config:
        """Apply command-line flags (None means 'not given')."""
        given = {k: v for k, v in flags.items() if v is not None}
        return replace(self, **given)

    def with_concurrency(self, spec: Concurrency | None) -> Config:
        """Apply `--concurrency`: its overall number, and its model caps over the config's."""
        if spec is None:
            return self
        caps = {**self.model_concurrency, **spec.models}
        return replace(self, concurrency=spec.total or self.concurrency, model_concurrency=caps)


@dataclass(frozen=True)
class Concurrency:
    """A `--concurrency` / PROMPTLAB_CONCURRENCY value: `8` or `default=8,claude-sonnet=2`."""

    total: int | None = None  # None: not given
    models: dict[str, int] = field(default_factory=dict)


CONCURRENCY_FORM = "give N, or default=N,MODEL=N,… (e.g. default=8,claude-sonnet=2)"


def parse_concurrency(text: str) -> Concurrency:
    """`8`, `default=8,claude-sonnet=2` or `claude-sonnet=2`. Raises ValueError saying what is
    wrong (the caller names the option or variable)."""
    total: int | None = None
    models: dict[str, int] = {}
    parts = [p.strip() for p in text.split(",")]
    if not any(parts):
        raise ValueError("expected a positive integer, got nothing")
    for part in parts:
        name, _, number = part.rpartition("=")
        name = name.strip()
        try:
            value = int(number)
        except ValueError:
            raise ValueError(f"{part!r}: expected a positive integer") from None
        if value < 1:
            raise ValueError(f"{part!r}: expected a positive integer")
        if value > MAX_CONCURRENCY:
            raise ValueError(f"{part!r}: at most {MAX_CONCURRENCY} calls at once")
        if not name and "=" in part:
            raise ValueError(f"{part!r}: a model alias or id goes before '='")
        if name in ("", "default"):
            total = value
        else:
            models[name] = value
    return Concurrency(total, models)


def find_root(start: Path | None = None) -> tuple[Path, Path | None]:
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / CONFIG_FILE).is_file():
            return d, d / CONFIG_FILE
    return here, None


def load_dotenv_file(cwd: Path | None = None, root: Path | None = None) -> None:
    """Load `.env` from the working directory, then from the project root (where promptlab.yaml
    is); real environment variables win, then the working directory's file."""
    here = (cwd or Path.cwd()).resolve()
    for env_file in dict.fromkeys(d / ".env" for d in (here, root or here)):
        _load_env_file(env_file)


def _load_env_file(env_file: Path) -> None:
    if env_file.is_file():
        from dotenv import load_dotenv

        try:
            with env_file.open("rb") as fh:
                head = fh.read(MAX_FILE_BYTES + 1)
            if b"\0" in head:  # os.environ cannot hold it
                line = head[: head.index(b"\0")].count(b"\n") + 1
                raise ConfigError("contains a NUL byte", "remove it (environment values cannot "
                                  "hold NUL bytes)", file=env_file, line=line)  # fmt: skip
            load_dotenv(env_file, override=False, encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"not valid UTF-8 (byte {exc.start})", "save the file as UTF-8", file=env_file
            ) from None
        except OSError as exc:
            raise ConfigError(
                f"cannot read: {exc.strerror or exc}", "check the file's permissions", file=env_file
            ) from None


def load_config(start: Path | None = None, env: dict[str, str] | None = None) -> Config:
    root, file = find_root(start)
    load_dotenv_file(start, root)
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {}
    if file is not None:
        values.update(_from_file(file))
    from_env = _from_env(env)
    if "model_concurrency" in from_env:
        _check_models(from_env["model_concurrency"], values.get("aliases") or {})
        from_env["model_concurrency"] = {**values.get("model_concurrency", {}),
                                         **from_env["model_concurrency"]}  # fmt: skip
    values.update(from_env)
    cfg = Config(root=root, file=file, **values)
    return replace(
        cfg,
        prompts_dir=_under(root, cfg.prompts_dir),
        store_path=_under(root, cfg.store_path),
    )


def _check_models(caps: dict[str, int], aliases: dict[str, str]) -> None:
    for name in caps:
        unknown = unknown_model(name, aliases)
        if unknown is not None:
            raise ConfigError(f"PROMPTLAB_CONCURRENCY: {unknown.message}", unknown.hint)


def _under(root: Path, p: Path) -> Path:
    return p if p.is_absolute() else root / p


RETRY_MODES = ("standard", "adaptive", "legacy")
RETRY_MODE = "retry mode must be standard, adaptive or legacy, got {value}"
EXPECTED_PATH = "'{key}': expected a path (a string), got {value}"
EXPECTED_COUNT = "'{key}': expected a positive integer, got {value}"
# More calls at once than this is a typo (10**7 threads take seconds to start, 10**30 never do)
MAX_CONCURRENCY = 256
EXPECTED_CALLS = f"'{{key}}': expected a positive integer up to {MAX_CONCURRENCY}, got {{value}}"
ALIASES: Kind[dict[Any, str]] = Kind(
    lambda v: isinstance(v, dict) and all(isinstance(m, str) for m in v.values()),
    "'{key}' must map alias → model id, profile id, ARN or fallback chain (a>b)",
)


def _from_file(path: Path) -> dict[str, Any]:
    """The settings in promptlab.yaml. Raises ConfigError for the first problem in it."""
    try:
        text = read_text(path, what="config file")
        if parse_yaml(text, str(path)).data is None:  # empty, or every setting commented out
            return {}
        doc = load_mapping(path, what="config file", text=text)
    except PromptFileError as exc:
        raise ConfigError(exc.message, exc.hint, file=exc.file, line=exc.line) from None
    problems: list[Problem] = []
    settings = _settings(Fields(doc, problems))
    if problems:
        first = problems[0]
        raise ConfigError(first.message, first.hint, file=path, line=first.line)
    return {key: value for key, value in settings.items() if value is not None}


def _settings(top: Fields) -> dict[str, Any]:
    """Config field → value, None for what the file leaves out (or gets wrong)."""
    top.unknown(CONFIG_KEYS)
    out: dict[str, Any] = {"prompts_dir": _path(top, "prompts_dir")}
    models = top.get(
        "models",
        strings(single=True),
        unset="missing",
        message="'{key}' must be a list of model aliases or ids",
    )
    out["models"] = tuple(models) if models is not None else None
    aliases = top.get("aliases", ALIASES, unset="missing")
    out["aliases"] = {str(k): v for k, v in aliases.items()} if aliases is not None else None
    for key in ("profile", "judge_model", "embedding_model"):
        out[key] = top.get(key, STRING, unset="missing")
    region = top.get("region", STRING, unset="missing")
    if region is not None and not REGION_SHAPE.match(region):
        top.problem(("region",), f"'region' must be an AWS region name, not {region!r}",
                    REGION_HINT)  # fmt: skip
        region = None
    out["region"] = region
    out["concurrency"], out["model_concurrency"] = _concurrency(top, out["aliases"] or {})
    out["grader_concurrency"] = top.get(
        "grader_concurrency", integer(1, MAX_CONCURRENCY), message=EXPECTED_CALLS, unset="missing"
    )
    if top.data.get("guardrail") is not None:  # read only when set: nothing to import else
        from promptlab.guardrails import read as read_guardrail

        out["guardrail"] = read_guardrail(top) or None
    if "prices" in top:
        out["prices"] = _prices(
            top.mapping(
                "prices",
                unset="missing",
                message="'prices' must map model id → {input, output} USD per 1K tokens",
            )
        )

    retries = top.mapping(
        "retries", message="'retries' must be a mapping: mode, max_attempts", unset="empty"
    )
    retries.unknown(("mode", "max_attempts"), where="in retries")
    out["retry_mode"] = retries.get(
        "mode", one_of(RETRY_MODES), message=RETRY_MODE, unset="missing"
    )
    out["max_attempts"] = retries.get(
        "max_attempts", integer(1), message=EXPECTED_COUNT, unset="missing"
    )

    timeouts = top.mapping(
        "timeouts", unset="empty", message="'timeouts' must be a mapping: connect, read (seconds)"
    )
    for key in timeouts:  # each key checked before its value, in the file's order
        if timeouts.known(key, ("connect", "read"), where="in timeouts"):
            seconds = timeouts.get(
                key,
                number(positive=True),
                unset="missing",
                message="timeout '{key}' must be a positive number of seconds",
            )
            out[f"{key}_timeout"] = float(seconds) if seconds is not None else None

    out["latency"] = top.get("latency", one_of(LATENCIES), unset="null")
    out["service_tier"] = top.get("service_tier", one_of(TIERS), unset="null")
    out["request_metadata"] = _request_metadata(top)
    out["batch"] = _batch(top) if "batch" in top else None

    store = top.mapping("store", message="'store' must be a mapping: path, history", unset="empty")
    for key in store:
        if store.known(key, ("path", "history"), where="in store"):
            if key == "path":
                out["store_path"] = _path(store, "path")
            else:
                out["history"] = store.get("history", BOOL, unset="missing")
    return out


def _concurrency(top: Fields, aliases: dict[str, str]) -> tuple[int | None, dict[str, int] | None]:
    """`concurrency: 8`, or `concurrency: {default: 8, claude-sonnet: 2}`: (overall, caps)."""
    if not isinstance(top.data.get("concurrency"), dict):
        total = top.get("concurrency", integer(1, MAX_CONCURRENCY), message=EXPECTED_CALLS,
                        unset="missing",
                        hint=f"or a mapping: {CONCURRENCY_EXAMPLE}")  # fmt: skip
        return total, None
    caps = top.mapping("concurrency")
    total, models = None, {}
    for key in caps:
        value = caps.get(key, integer(1, MAX_CONCURRENCY), unset="missing", message=EXPECTED_CAP)
        unknown = None if key == "default" else unknown_model(str(key), aliases)
        if unknown is not None:
            caps.problem((key,), f"concurrency: {unknown.message}", unknown.hint)
        elif value is not None and key == "default":
            total = value
        elif value is not None:
            models[str(key)] = value
    return total, models


CONCURRENCY_EXAMPLE = "{default: 8, claude-sonnet: 2}"
EXPECTED_CAP = (
    f"concurrency '{{key}}': expected a positive integer up to {MAX_CONCURRENCY}, got {{value}}"
)


def unknown_model(name: str, aliases: dict[str, str]) -> PromptlabError | None:
    """Why `name` names no model (an alias, model id, profile id or ARN), or None."""
    from promptlab.catalogue import resolve

    try:
        resolve(name, Config(root=Path("."), aliases=aliases))
    except PromptlabError as exc:
        return exc
    return None


def _request_metadata(top: Fields) -> dict[str, str] | None:
    """`request_metadata:` pairs, each checked against what Bedrock's requestMetadata takes."""
    if "request_metadata" not in top:
        return None
    pairs = top.mapping("request_metadata", unset="missing",
                        message="'request_metadata' must map key → value (strings)",
                        hint="e.g. request_metadata: {team: search}")  # fmt: skip
    out: dict[str, str] = {}
    for key, value in pairs.data.items():
        why = metadata_problem(key, value)
        if why is not None:
            pairs.problem((key,), why, "letters, digits, spaces and : _ @ $ # = / + , - . only")
            continue
        out[str(key)] = str(value)
    if len(out) > USER_MAX_PAIRS:
        top.problem(
            ("request_metadata",),
            f"request_metadata has {len(out)} pairs; Bedrock takes 16 a call, promptlab sends 3",
            f"keep at most {USER_MAX_PAIRS}",
        )
    return out


def _batch(top: Fields) -> BatchSettings:
    """`batch: {s3, role_arn, kms_key, poll_seconds, timeout_hours}`, each shape checked."""
    from promptlab.batch import shapes

    batch = top.mapping("batch", unset="missing",
                        message="'batch' must be a mapping: s3, role_arn, kms_key, poll_seconds, "
                        "timeout_hours")  # fmt: skip
    batch.unknown(("s3", "role_arn", "kms_key", "poll_seconds", "timeout_hours"), where="in batch")
    out: dict[str, Any] = {}
    checks = (("s3", shapes.s3_problem, shapes.S3_FORM),
              ("role_arn", shapes.role_problem, shapes.ROLE_FORM),
              ("kms_key", shapes.kms_problem, shapes.KMS_FORM))  # fmt: skip
    for key, problem, form in checks:
        value = batch.get(key, STRING, unset="missing")
        if value is None:
            continue
        why = problem(value)
        if why is not None:
            batch.problem((key,), f"batch {key}: {why}", f"expected {form}")
            continue
        out[key] = value
    poll = batch.get("poll_seconds", number(positive=True), unset="missing",
                     message="batch poll_seconds: expected seconds > 0, got {value}")  # fmt: skip
    if poll is not None:
        out["poll_seconds"] = float(poll)
    hours = batch.get("timeout_hours", integer(24), unset="missing",
                      message="batch timeout_hours: expected 24 to 168, got {value}")  # fmt: skip
    if hours is not None:
        if hours > 168:
            why = f"batch timeout_hours: expected 24 to 168, got {hours}"
            batch.problem(("timeout_hours",), why)
        else:
            out["timeout_hours"] = hours
    return BatchSettings(**out)


def _path(fields: Fields, key: str) -> Path | None:
    value = fields.get(key, NON_BLANK, message=EXPECTED_PATH, unset="missing")
    return Path(value) if value is not None else None


def _prices(prices: Fields) -> dict[str, Price]:
    out: dict[str, Price] = {}
    for model, spec in prices.data.items():
        if not isinstance(spec, dict) or "input" not in spec or "output" not in spec:
            prices.problem((model,), f"price for '{model}' needs 'input' and 'output' (USD per 1K)")
            continue
        try:
            out[str(model)] = Price(**{k: float(v) for k, v in spec.items()})
        except (TypeError, ValueError):
            prices.problem(
                (model,),
                f"price for '{model}': numbers for "
                + ", ".join(f.name for f in dataclasses.fields(Price)),
            )
    return out


def _from_env(env: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        out["region"] = region
    if env.get("AWS_PROFILE"):
        out["profile"] = env["AWS_PROFILE"]
    for var, key in ENV_VARS.items():
        raw = env.get(var)
        if not raw:
            continue
        try:
            if key == "models":
                out[key] = tuple(m.strip() for m in raw.split(",") if m.strip())
            elif key == "concurrency":
                spec = parse_concurrency(raw)
                if spec.total is not None:
                    out[key] = spec.total
                if spec.models:
                    out["model_concurrency"] = spec.models
            elif key in ("grader_concurrency", "max_attempts"):
                out[key] = int(raw)
                if out[key] < 1 or (key == "grader_concurrency" and out[key] > MAX_CONCURRENCY):
                    raise ValueError
            elif key in ("read_timeout", "connect_timeout"):
                out[key] = float(raw)
                if not 0 < out[key] < float("inf"):
                    raise ValueError
            elif key == "retry_mode":
                if raw not in RETRY_MODES:
                    raise ConfigError(f"{var}: " + RETRY_MODE.format(value=repr(raw)))
                out[key] = raw
            elif key in ("prompts_dir", "store_path"):
                out[key] = Path(raw)
            elif key == "history":
                out[key] = raw.strip().lower() not in ("1", "true", "yes")
            elif key == "guardrail":
                from promptlab.guardrails import from_env

                out[key] = from_env(var, raw)
            else:
                out[key] = raw
        except ValueError as exc:
            why = f": {exc}" if str(exc) and key == "concurrency" else ""
            raise ConfigError(f"environment variable {var}={raw!r} is not valid{why}",
                              "see .env.example for the expected values") from None  # fmt: skip
    return out

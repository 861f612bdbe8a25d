"""Project configuration: promptlab.yaml, .env and environment variables.

Precedence for every setting: command-line flag > environment variable > promptlab.yaml > default.
The project root is the nearest directory (from the working directory up) holding promptlab.yaml;
without one, the working directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from promptlab.errors import ConfigError, PromptFileError
from promptlab.yamlfile import load_mapping

CONFIG_FILE = "promptlab.yaml"

CONFIG_KEYS = (
    "prompts_dir", "models", "aliases", "region", "profile", "concurrency", "prices",
    "retries", "timeouts", "store", "judge_model", "embedding_model",
)  # fmt: skip

# Environment variables (documented in .env.example). AWS_* ones are read by boto3 itself too.
ENV_VARS = {
    "PROMPTLAB_MODELS": "models",
    "PROMPTLAB_CONCURRENCY": "concurrency",
    "PROMPTLAB_PROMPTS_DIR": "prompts_dir",
    "PROMPTLAB_MAX_ATTEMPTS": "max_attempts",
    "PROMPTLAB_RETRY_MODE": "retry_mode",
    "PROMPTLAB_READ_TIMEOUT": "read_timeout",
    "PROMPTLAB_CONNECT_TIMEOUT": "connect_timeout",
    "PROMPTLAB_STORE": "store_path",
    "PROMPTLAB_NO_LOG": "history",
    "PROMPTLAB_JUDGE_MODEL": "judge_model",
    "PROMPTLAB_EMBEDDING_MODEL": "embedding_model",
}


@dataclass(frozen=True)
class Price:
    """USD per 1,000 tokens."""

    input: float
    output: float
    batch_input: float | None = None
    batch_output: float | None = None
    cache_read: float | None = None


@dataclass(frozen=True)
class Config:
    root: Path
    file: Path | None = None
    prompts_dir: Path = Path("prompts")
    models: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    region: str | None = None
    profile: str | None = None
    concurrency: int = 8
    prices: dict[str, Price] = field(default_factory=dict)
    retry_mode: str = "standard"
    max_attempts: int = 4
    connect_timeout: float = 5.0
    read_timeout: float = 600.0
    store_path: Path = Path(".promptlab/promptlab.db")
    history: bool = True
    judge_model: str = "nova-micro"
    embedding_model: str = "amazon.titan-embed-text-v2:0"

    def with_overrides(self, **flags: Any) -> Config:
        """Apply command-line flags (None means 'not given')."""
        given = {k: v for k, v in flags.items() if v is not None}
        return replace(self, **given)


def find_root(start: Path | None = None) -> tuple[Path, Path | None]:
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / CONFIG_FILE).is_file():
            return d, d / CONFIG_FILE
    return here, None


def load_dotenv_file(cwd: Path | None = None) -> None:
    """Load `.env` from the working directory; real environment variables win."""
    env_file = (cwd or Path.cwd()) / ".env"
    if env_file.is_file():
        from dotenv import load_dotenv

        try:
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
    load_dotenv_file(start)
    env = dict(os.environ if env is None else env)
    root, file = find_root(start)
    values: dict[str, Any] = {}
    if file is not None:
        values.update(_from_file(file))
    values.update(_from_env(env))
    cfg = Config(root=root, file=file, **values)
    return replace(
        cfg,
        prompts_dir=_under(root, cfg.prompts_dir),
        store_path=_under(root, cfg.store_path),
    )


def _under(root: Path, p: Path) -> Path:
    return p if p.is_absolute() else root / p


def _from_file(path: Path) -> dict[str, Any]:
    try:
        doc = load_mapping(path, what="config file")
    except PromptFileError as exc:
        raise ConfigError(exc.message, exc.hint, file=exc.file, line=exc.line) from None
    data: dict[str, Any] = doc.data
    out: dict[str, Any] = {}

    def fail(key: tuple[Any, ...], msg: str, hint: str | None = None) -> ConfigError:
        return ConfigError(msg, hint, file=path, line=doc.line(key))

    for key in data:
        if key not in CONFIG_KEYS:
            raise fail((key,), f"unknown key '{key}'", _suggest(str(key), CONFIG_KEYS))
    if "prompts_dir" in data:
        out["prompts_dir"] = _path(
            data["prompts_dir"], lambda m: fail(("prompts_dir",), f"'prompts_dir': {m}")
        )
    if "models" in data:
        models = data["models"]
        if isinstance(models, str):
            models = [models]
        if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
            raise fail(("models",), "'models' must be a list of model aliases or ids")
        out["models"] = tuple(models)
    if "aliases" in data:
        aliases = data["aliases"]
        if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
            raise fail(("aliases",), "'aliases' must map alias → model id, profile id or ARN")
        out["aliases"] = {str(k): v for k, v in aliases.items()}
    for key in ("region", "profile", "judge_model", "embedding_model"):
        if key in data:
            if not isinstance(data[key], str):
                raise fail((key,), f"'{key}' must be a string")
            out[key] = data[key]
    if "concurrency" in data:
        out["concurrency"] = _positive_int(
            data["concurrency"], lambda m: fail(("concurrency",), f"'concurrency': {m}")
        )
    if "prices" in data:
        out["prices"] = _prices(data["prices"], lambda k, m: fail(("prices", *k), m))
    retries = data.get("retries") or {}
    if not isinstance(retries, dict):
        raise fail(("retries",), "'retries' must be a mapping: mode, max_attempts")
    for key in retries:
        if key not in ("mode", "max_attempts"):
            raise fail(("retries", key), f"unknown key '{key}' in retries")
    if "mode" in retries:
        out["retry_mode"] = _retry_mode(retries["mode"], lambda m: fail(("retries", "mode"), m))
    if "max_attempts" in retries:
        out["max_attempts"] = _positive_int(
            retries["max_attempts"],
            lambda m: fail(("retries", "max_attempts"), f"'max_attempts': {m}"),
        )
    timeouts = data.get("timeouts") or {}
    if not isinstance(timeouts, dict):
        raise fail(("timeouts",), "'timeouts' must be a mapping: connect, read (seconds)")
    for key, value in timeouts.items():
        if key not in ("connect", "read"):
            raise fail(("timeouts", key), f"unknown key '{key}' in timeouts")
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise fail(("timeouts", key), f"timeout '{key}' must be a positive number of seconds")
        out[f"{key}_timeout"] = float(value)
    store = data.get("store") or {}
    if not isinstance(store, dict):
        raise fail(("store",), "'store' must be a mapping: path, history")
    for key, value in store.items():
        if key == "path":
            out["store_path"] = _path(value, lambda m: fail(("store", "path"), f"'path': {m}"))
        elif key == "history":
            if not isinstance(value, bool):
                raise fail(("store", "history"), "'history' must be true or false")
            out["history"] = value
        else:
            raise fail(("store", key), f"unknown key '{key}' in store")
    return out


def _suggest(key: str, options: tuple[str, ...]) -> str:
    import difflib

    close = difflib.get_close_matches(key, options, n=1)
    return f"did you mean '{close[0]}'?" if close else "allowed keys: " + ", ".join(options)


def _positive_int(value: Any, fail: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise fail(f"expected a positive integer, got {value!r}")
    return value


def _path(value: Any, fail: Any) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise fail(f"expected a path (a string), got {value!r}")
    return Path(value)


def _retry_mode(value: Any, fail: Any) -> str:
    if value not in ("standard", "adaptive", "legacy"):
        raise fail(f"retry mode must be standard, adaptive or legacy, got {value!r}")
    return str(value)


def _prices(raw: Any, fail: Any) -> dict[str, Price]:
    if not isinstance(raw, dict):
        raise fail((), "'prices' must map model id → {input, output} USD per 1K tokens")
    out: dict[str, Price] = {}
    for model, spec in raw.items():
        if not isinstance(spec, dict) or "input" not in spec or "output" not in spec:
            raise fail((model,), f"price for '{model}' needs 'input' and 'output' (USD per 1K)")
        try:
            out[str(model)] = Price(**{k: float(v) for k, v in spec.items()})
        except (TypeError, ValueError):
            raise fail((model,), f"price for '{model}': numbers for input, output, "
                       "batch_input, batch_output, cache_read") from None  # fmt: skip
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
            elif key in ("concurrency", "max_attempts"):
                out[key] = int(raw)
                if out[key] < 1:
                    raise ValueError
            elif key in ("read_timeout", "connect_timeout"):
                out[key] = float(raw)
                if not 0 < out[key] < float("inf"):
                    raise ValueError
            elif key == "retry_mode":
                out[key] = _retry_mode(raw, lambda m, v=var: ConfigError(f"{v}: {m}"))
            elif key in ("prompts_dir", "store_path"):
                out[key] = Path(raw)
            elif key == "history":
                out[key] = raw.strip().lower() not in ("1", "true", "yes")
            else:
                out[key] = raw
        except ValueError:
            raise ConfigError(f"environment variable {var}={raw!r} is not valid",
                              "see .env.example for the expected values") from None  # fmt: skip
    return out

"""The one place boto3 sessions and clients are made.

Clients are created the normal boto3 way, so profiles, SSO, `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`,
`AWS_ENDPOINT_URL_BEDROCK`, `AWS_ENDPOINT_URL` and `AWS_BEARER_TOKEN_BEDROCK` all work untouched.

Region: `--region` > promptlab config / `AWS_REGION` / `AWS_DEFAULT_REGION` (folded into
Config.region) > the profile's region. `preflight()` checks region and credentials locally,
before any model is called, and raises one ConfigError (exit 2) naming the fix.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from promptlab.config import REGION_HINT, REGION_SHAPE, Config
from promptlab.errors import ConfigError

BEARER_ENV = "AWS_BEARER_TOKEN_BEDROCK"
# Bedrock generation calls that must not be re-sent after a read timeout (each send is billed).
NO_RESEND_OPERATIONS = ("Converse", "ConverseStream")
_NO_CREDENTIALS_HINT = (
    "run 'aws configure', 'aws sso login --profile NAME' or set AWS_PROFILE "
    "(or AWS_BEARER_TOKEN_BEDROCK for a Bedrock API key)"
)
# Methods whose credentials are read from local files, variables or a local process.
_LOCAL_METHODS = ("env", "shared-credentials-file", "config-file", "custom-process", "explicit")


@dataclass(frozen=True)
class AwsTarget:
    """The outcome of preflight: where calls go and how they authenticate."""

    region: str
    profile: str | None
    auth: str  # credential method ('env', 'sso', 'shared-credentials-file', ...) or 'bearer'


def make_session(profile: str | None) -> Any:
    """A boto3 Session; an unknown profile or an unreadable AWS config file is a ConfigError."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        with broken_setup():
            return boto3.Session(profile_name=profile) if profile else boto3.Session()
    except ProfileNotFound:
        raise _profile_missing(profile or os.environ.get("AWS_PROFILE", "")) from None


@contextmanager
def broken_setup() -> Iterator[None]:
    """botocore's complaints about the local AWS setup as one ConfigError each: an AWS config
    file it cannot parse, a region name it refuses, an endpoint URL that is not a URL."""
    from botocore.exceptions import ConfigParseError, InvalidRegionError

    try:
        yield
    except ConfigParseError as exc:
        raise ConfigError(f"the AWS config file cannot be read: {exc}",
                          "fix its syntax ([profile NAME] sections of key = value lines), "
                          "or point AWS_CONFIG_FILE at a good one") from None  # fmt: skip
    except InvalidRegionError as exc:
        raise _bad_region(str(exc.kwargs.get("region_name", ""))) from None
    except ValueError as exc:
        if not str(exc).startswith("Invalid endpoint"):
            raise
        url = str(exc).removeprefix("Invalid endpoint: ")
        raise ConfigError(f"the endpoint {url!r} is not a URL",
                          "set AWS_ENDPOINT_URL_BEDROCK_RUNTIME, AWS_ENDPOINT_URL_BEDROCK or "
                          "AWS_ENDPOINT_URL (or endpoint_url in the AWS config file) to a URL "
                          "like https://host:port, or unset it") from None  # fmt: skip


def _bad_region(region: str) -> ConfigError:
    hint = f"{REGION_HINT}; set --region, AWS_REGION or region: in promptlab.yaml"
    return ConfigError(f"{region!r} is not an AWS region name", hint)


class UnknownProfile(ConfigError):
    """A named AWS profile that does not exist: a typo, never a reason to fall back."""


def _profile_missing(profile: str) -> ConfigError:
    return UnknownProfile(
        f"AWS profile {profile!r} does not exist",
        "check the name in ~/.aws/config (aws configure list-profiles), or set --profile",
    )


def resolve_region(config: Config, session: Any, region: str | None = None) -> str | None:
    """--region > config/env (AWS_REGION, AWS_DEFAULT_REGION) > the profile's region."""
    return region or config.region or session.region_name or None


def preflight(
    config: Config, region: str | None = None, profile: str | None = None
) -> tuple[AwsTarget, Any]:
    """Check region and credentials without a network call. Returns the target and session."""
    from botocore.exceptions import BotoCoreError, ProfileNotFound

    profile = profile or config.profile
    session = make_session(profile)
    try:
        with broken_setup():
            resolved = resolve_region(config, session, region)
    except ProfileNotFound:
        raise _profile_missing(profile or "") from None
    if resolved and not REGION_SHAPE.match(resolved):
        raise _bad_region(resolved)
    if not resolved:
        raise ConfigError(
            "no AWS region set",
            "set --region, AWS_REGION or region: in promptlab.yaml (or a region in the profile)",
        )
    if os.environ.get(BEARER_ENV):
        return AwsTarget(resolved, profile, "bearer"), session
    try:
        creds = session.get_credentials()
    except ProfileNotFound:
        raise _profile_missing(profile or "") from None
    except (BotoCoreError, RuntimeError) as exc:
        raise ConfigError(
            f"AWS credentials could not be loaded: {exc}", _NO_CREDENTIALS_HINT
        ) from None
    if creds is None:
        where = f" for profile {profile!r}" if profile else ""
        raise ConfigError(f"no AWS credentials found{where}", _NO_CREDENTIALS_HINT)
    method = getattr(creds, "method", "") or ""
    if method == "sso":
        _check_sso_token(session, profile)
    elif method in _LOCAL_METHODS:
        _check_not_expired(creds)
        _remember(creds)  # local: reading them makes no call (SSO and roles are not read here)
    return AwsTarget(resolved, profile, method or "unknown"), session


def _remember(creds: Any) -> None:
    """The resolved keys and token, masked in any error text from now on (masking.py)."""
    from promptlab.masking import remember

    try:
        frozen = creds.get_frozen_credentials()
    except Exception:  # a credential source that fails here fails the first call, with its error
        return
    remember(frozen.access_key, frozen.secret_key, frozen.token)


def _check_not_expired(creds: Any) -> None:
    """Static or env credentials with a known expiry: refreshing them is local."""
    try:
        frozen = creds.get_frozen_credentials()
    except RuntimeError:  # "refreshed credentials are still expired"
        raise ConfigError(
            "your AWS credentials have expired",
            "get fresh credentials (aws sso login / aws configure export-credentials) "
            "and try again",
        ) from None
    except Exception as exc:  # a failing credential_process and the like
        raise ConfigError(
            f"AWS credentials could not be loaded: {exc}", _NO_CREDENTIALS_HINT
        ) from None
    if not frozen.access_key or not frozen.secret_key:
        raise ConfigError("AWS credentials are incomplete", _NO_CREDENTIALS_HINT)


def _check_sso_token(session: Any, profile: str | None) -> None:
    """An SSO profile needs a cached login token that has not expired (or can be refreshed)."""
    conf: dict[str, Any] = session._session.get_scoped_config()  # the active profile's settings
    name = conf.get("sso_session")
    start_url = conf.get("sso_start_url")
    if name:
        start_url = (
            session._session.full_config.get("sso_sessions", {})
            .get(name, {})
            .get("sso_start_url", start_url)
        )
    key_source = name or start_url
    login = f"aws sso login --profile {profile}" if profile else "aws sso login"
    if not key_source:
        return
    cache = Path(os.path.expanduser(os.path.join("~", ".aws", "sso", "cache")))
    token_file = cache / (hashlib.sha1(key_source.encode("utf-8")).hexdigest() + ".json")
    try:
        token = json.loads(token_file.read_text("utf-8"))
    except (OSError, ValueError):
        raise ConfigError("not logged in to AWS SSO", f"run '{login}'") from None
    expires = _parse_time(str(token.get("expiresAt", "")))
    refreshable = bool(name and token.get("refreshToken"))
    if expires is not None and expires <= datetime.now(timezone.utc) and not refreshable:
        raise ConfigError("your AWS SSO session has expired", f"run '{login}'")


def _parse_time(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("UTC", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def client_config(config: Config, pool_size: int | None = None) -> Any:
    """botocore Config with retries, timeouts and a pool of at least `pool_size` connections."""
    from botocore.config import Config as BotoConfig

    pool = max(10, config.concurrency, pool_size or 0)
    return BotoConfig(
        retries={"mode": config.retry_mode, "total_max_attempts": max(1, config.max_attempts)},
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        max_pool_connections=pool,
        user_agent_extra="promptlab",
    )


def no_resend_after_read_timeout(client: Any) -> None:
    """A generation that hit the read timeout is not re-sent (and re-billed) by botocore.

    botocore's retry handlers (standard, adaptive and legacy) treat ReadTimeoutError as a
    transient error. The emitter calls handlers for `needs-retry.<service>.<Operation>`
    before the service-wide retry handler, so raising here ends the call after one request,
    before any retry is scheduled or retry quota is spent. Throttling and 5xx responses are
    untouched and still retried with backoff.
    """
    from botocore.exceptions import ReadTimeoutError

    service = client.meta.service_model.service_id.hyphenize()

    def stop_on_read_timeout(caught_exception: BaseException | None = None, **_: Any) -> None:
        if isinstance(caught_exception, ReadTimeoutError):
            raise caught_exception

    for op in NO_RESEND_OPERATIONS:
        client.meta.events.register(
            f"needs-retry.{service}.{op}",
            stop_on_read_timeout,
            unique_id=f"promptlab-no-resend-{service}-{op}",
        )


class AwsClients:
    """Clients for one (region, profile), created once under a lock and shared by threads.

    boto3 sessions are not thread-safe, clients are: create clients up front (`client()` from
    the main thread, or any thread — the lock serialises use of the session).
    """

    def __init__(
        self,
        config: Config,
        region: str | None = None,
        profile: str | None = None,
        *,
        pool_size: int | None = None,
    ) -> None:
        self.config = config
        self.target, self._session = preflight(config, region, profile)
        self.region = self.target.region
        self.profile = self.target.profile
        self._boto_config = client_config(config, pool_size)
        self.pool_size: int = self._boto_config.max_pool_connections
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        """The shared client for 'bedrock-runtime' or 'bedrock' (control plane)."""
        with self._lock:
            if service not in self._clients:
                with broken_setup():
                    client = self._session.client(
                        service, region_name=self.region, config=self._boto_config
                    )
                if service == "bedrock-runtime":
                    no_resend_after_read_timeout(client)
                self._clients[service] = client
            return self._clients[service]

    def remember_credentials(self) -> None:
        """The session's keys and token (SSO and assumed roles included, once a call resolved
        them) are masked in error text from now on. Never refreshes: no network call."""
        if self.target.auth == "bearer":
            return
        with self._lock:
            try:
                creds = self._session.get_credentials()
            except Exception:  # the call's own error says what went wrong
                return
        refresh_needed = getattr(creds, "refresh_needed", None)
        if creds is None or (refresh_needed is not None and refresh_needed()):
            return
        _remember(creds)

    @property
    def runtime(self) -> Any:
        return self.client("bedrock-runtime")

    @property
    def control(self) -> Any:
        return self.client("bedrock")

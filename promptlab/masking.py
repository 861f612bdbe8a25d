"""Credentials masked out of any text promptlab keeps or prints (errors, hints, notices).

A proxy, a wrong endpoint or botocore itself may echo a secret in an error message; that text is
stored in the history and written to reports. `mask` removes every credential the process knows
of: the AWS keys and session token in the environment or resolved by the session (`remember`),
the Bedrock API key, access key ids, `Authorization` header values, SigV4 query values and the
`user:password@` part of URLs.
"""

from __future__ import annotations

import os
import re
import threading

MASK = "[masked]"
# Environment variables whose values are secrets (the Bedrock API key among them).
SECRET_ENV = (
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_BEARER_TOKEN_BEDROCK", "AWS_ACCESS_KEY_ID",
)  # fmt: skip
MIN_SECRET = 8  # shorter values are not looked for (they would mask ordinary words)

_ACCESS_KEY = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")
# `Authorization: AWS4-HMAC-SHA256 Credential=…, Signature=…` (to the end of the line or quote)
_AUTHORIZATION = re.compile(r"""(?i)(\bauthorization["']?\s*[:=]\s*["']?)[^\r\n"']+""")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
# X-Amz-Signature=…, X-Amz-Credential=…, X-Amz-Security-Token=… (query) or `: …` (header)
_SIGV4 = re.compile(
    r"""(?i)\b(x-amz-(?:security-token|signature|credential)["']?\s*[:=]\s*["']?)[^\s&"',;]+"""
)
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@?#]+@")

_known: set[str] = set()
_lock = threading.Lock()


def remember(*secrets: str | None) -> None:
    """Credentials resolved at run time (a boto3 session's keys and token): masked from now on."""
    with _lock:
        _known.update(s for s in secrets if s and len(s) >= MIN_SECRET)


def _secrets() -> list[str]:
    values = {os.environ.get(name) or "" for name in SECRET_ENV}
    with _lock:
        values |= _known
    # longest first, so a token containing a shorter secret is masked whole
    return sorted((v for v in values if len(v) >= MIN_SECRET), key=len, reverse=True)


def mask(text: str) -> str:
    """`text` with every credential the process knows of replaced by [masked]."""
    if not text:
        return text
    lower = text.lower()  # each pattern runs only where its marker occurs: errors stay cheap
    if "akia" in lower or "asia" in lower:
        text = _ACCESS_KEY.sub("[access key]", text)
    for secret in _secrets():
        if secret in text:
            text = text.replace(secret, MASK)
    if "authorization" in lower:
        text = _AUTHORIZATION.sub(lambda m: m.group(1) + MASK, text)
    if "bearer" in lower:
        text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    if "x-amz-" in lower:
        text = _SIGV4.sub(lambda m: m.group(1) + MASK, text)
    if "://" in text and "@" in text:
        text = _USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    return text


def mask_optional(text: str | None) -> str | None:
    return mask(text) if text else text

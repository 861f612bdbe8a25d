"""AWS failures as ModelCallErrors with a hint the user can act on.

Shared by every provider that calls AWS (Bedrock runtime, control plane, agent runtime): botocore
and urllib3 exceptions and service error codes become one-line errors naming the fix.
"""

from __future__ import annotations

import os
import re
from typing import Any

from promptlab.aws import BEARER_ENV
from promptlab.catalogue import ModelRef, geo_prefix
from promptlab.config import Config
from promptlab.masking import mask
from promptlab.providers.base import ModelCallError

_HTML_RE = re.compile(r"<(!doctype html|html)\b", re.IGNORECASE)
_TITLE_RE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
CREDENTIAL_CODES = {
    "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException",
    "ExpiredToken", "IncompleteSignature", "MissingAuthenticationTokenException",
}  # fmt: skip
# Mid-stream exception events (lower camel) that are worth another attempt by the runner.
_STREAM_RETRYABLE = {
    "throttlingException", "internalServerException", "serviceUnavailableException",
    "modelStreamErrorException",
}  # fmt: skip


def map_error(
    exc: BaseException,
    ref: ModelRef,
    region: str | None,
    config: Config | None = None,
    *,
    endpoint_env: str = "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
) -> ModelCallError:
    """Any exception from a Bedrock call → ModelCallError with an actionable hint."""
    from botocore import exceptions as bx

    try:
        from urllib3.exceptions import ProtocolError
        from urllib3.exceptions import ReadTimeoutError as Urllib3ReadTimeout
    except ImportError:  # pragma: no cover
        ProtocolError = Urllib3ReadTimeout = ()  # type: ignore[assignment,misc]

    where = region or "this region"
    if isinstance(exc, bx.EventStreamError):
        return _stream_error(exc, ref, where)
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code") or "ClientError")
        message = _redact(str(err.get("Message") or exc))
        meta = exc.response.get("ResponseMetadata", {})
        attempts = int(meta.get("RetryAttempts", 0)) + 1
        status = int(meta.get("HTTPStatusCode", 0) or 0)
        if _HTML_RE.search(message):  # a proxy or a wrong endpoint answered, not Bedrock
            title = _TITLE_RE.search(message)
            return ModelCallError(
                code,
                f"HTTP {status or code}: the endpoint answered with a web page, not Bedrock"
                + (f" ({' '.join(title.group(1).split())})" if title else ""),
                f"check the proxy settings (HTTPS_PROXY) and {endpoint_env}",
                infrastructure=True,
            )
        message = " ".join(message.split())
        if len(message) > 500:
            message = message[:499] + "…"
        err = _client_error(code, message, ref, region, attempts, status)
        err.attempts = attempts
        return err
    read_timeout = config.read_timeout if config else None
    if isinstance(exc, bx.ReadTimeoutError | Urllib3ReadTimeout):
        secs = f" of {read_timeout:g}s" if read_timeout else ""
        return ModelCallError(
            "ReadTimeout",
            f"no answer from {ref.model_id} within the read timeout{secs}; "
            "not re-sent, so it is not billed twice",
            "stream the answer (--stream), lower max_tokens, or raise timeouts.read in "
            "promptlab.yaml (PROMPTLAB_READ_TIMEOUT)",
            infrastructure=True,
        )
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError):
        return ModelCallError(
            "EndpointUnreachable",
            _redact(str(exc)),
            f"check the network, VPN or proxy and the region ({where}); "
            f"{endpoint_env} overrides the endpoint",
            infrastructure=True,
        )
    if isinstance(exc, bx.ConnectionClosedError | ProtocolError):
        return ModelCallError(
            "ConnectionClosed",
            _redact(str(exc)),
            "the connection dropped; try again",
            retryable=isinstance(exc, ProtocolError),  # mid-stream: botocore did not retry
            infrastructure=True,
        )
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return ModelCallError(
            "NoCredentials",
            "no usable AWS credentials",
            "run 'aws configure' or 'aws sso login', or set AWS_PROFILE",
            infrastructure=True,
        )
    if isinstance(
        exc, bx.TokenRetrievalError | bx.SSOTokenLoadError | bx.UnauthorizedSSOTokenError
    ):
        return ModelCallError(
            "ExpiredToken",
            "the AWS SSO session has expired or is missing",
            "run 'aws sso login' (with --profile NAME if you use one)",
            infrastructure=True,
        )
    if isinstance(exc, bx.ParamValidationError):
        return ModelCallError("InvalidRequest", _redact(str(exc)), "check the prompt parameters")
    return ModelCallError(type(exc).__name__, _redact(str(exc) or repr(exc)))


def _client_error(
    code: str, message: str, ref: ModelRef, region: str | None, attempts: int, status: int = 0
) -> ModelCallError:
    mid = ref.model_id
    where = region or "this region"
    low = message.lower()
    if code == "AccessDeniedException":
        if "not authorized to perform" in low:
            hint = "your IAM identity needs bedrock:InvokeModel (and InvokeModelWithResponseStream)"
        else:
            hint = (
                f"model access is not enabled — enable it in the Bedrock console for {where} "
                "(Model access), or check --region"
            )
        return ModelCallError(code, message, hint, infrastructure=True)
    if code == "ValidationException":
        if "on-demand throughput" in low and "inference profile" in low:
            base = ref.base_id or mid
            suggestion = f"{geo_prefix(region)}.{base}"
            return ModelCallError(code, message, f"use the inference profile {suggestion}")
        if "model identifier is invalid" in low or "invalid model identifier" in low:
            return ModelCallError(
                code, message, f"unknown model id {mid!r} in {where}: see 'promptlab models'",
                infrastructure=True,  # configuration, not the prompt: no case can run on it
            )  # fmt: skip
        return ModelCallError(code, message, "the model rejected the request parameters")
    if code == "ResourceNotFoundException":
        if "use case details" in low:
            hint = "submit the Anthropic use case form in the Bedrock console (Model access)"
        else:
            hint = (
                f"{mid!r} was not found in {where}: check the id or ARN with "
                "'promptlab models' (or 'promptlab models --custom')"
            )
        return ModelCallError(code, message, hint, infrastructure=True)  # configuration
    if code == "ThrottlingException":
        if "per day" in low:
            hint = "the daily token quota is used up: try tomorrow or request a quota increase"
        else:
            hint = (
                f"throttled after {attempts} attempt(s): cap this model (--concurrency "
                f"{ref.alias}=N), raise retries.max_attempts, or request a Bedrock quota increase"
            )
        return ModelCallError(code, message, hint, infrastructure=True)
    if code == "ModelTimeoutException":
        return ModelCallError(
            code, message, "the model took too long: lower max_tokens or try again",
            infrastructure=True,
        )  # fmt: skip
    if code == "ModelNotReadyException":
        return ModelCallError(
            code, message, "the model is still loading (imported/custom model): retry shortly",
            infrastructure=True,
        )  # fmt: skip
    if code in ("InternalServerException", "ServiceUnavailableException"):
        return ModelCallError(
            code, message, f"Bedrock failed {attempts} time(s); try again later",
            infrastructure=True,
        )  # fmt: skip
    if code == "ServiceQuotaExceededException":
        return ModelCallError(
            code, message, "a Bedrock service quota is exhausted: request an increase",
            infrastructure=True,
        )  # fmt: skip
    if code == "ModelErrorException":
        return ModelCallError(code, message, "the model failed to answer this input")
    if code.isdigit() or code == "ClientError":  # no error code in the answer: not Bedrock
        said = f": {message}" if message and not message.startswith("An error occurred") else ""
        return ModelCallError(
            code, f"HTTP {status or code} with no Bedrock error in the answer{said}",
            "the endpoint is not Bedrock: check AWS_ENDPOINT_URL_BEDROCK_RUNTIME (or "
            "AWS_ENDPOINT_URL), the proxy settings (HTTPS_PROXY) and the region",
            infrastructure=True,
        )  # fmt: skip
    if code in CREDENTIAL_CODES:
        hint = "refresh your AWS credentials ('aws sso login' or 'aws configure')"
        if os.environ.get(BEARER_ENV):
            hint = f"check the Bedrock API key in {BEARER_ENV}"
        return ModelCallError(code, message, hint, infrastructure=True)
    return ModelCallError(code, message, None, infrastructure=status >= 500 or status == 429)


def _stream_error(exc: Any, ref: ModelRef, where: str) -> ModelCallError:
    """An exception event in the middle of a stream (botocore never retries these)."""
    err = exc.response.get("Error", {})
    code = str(err.get("Code") or "StreamError")
    message = _redact(str(err.get("Message") or exc))
    retryable = code in _STREAM_RETRYABLE
    upper = code[:1].upper() + code[1:]
    if code == "validationException":
        return ModelCallError(upper, message, "the model rejected the request mid-stream")
    hint = "failed mid-stream" + ("; retried by promptlab" if retryable else "")
    if code == "throttlingException":
        hint = (f"throttled mid-stream: cap this model (--concurrency {ref.alias}=N) or "
                "request a quota increase")  # fmt: skip
    return ModelCallError(upper, message, hint, retryable=retryable, infrastructure=retryable)


def _redact(text: str) -> str:
    """Never echo credentials (masking.mask: keys, tokens, signatures, URL passwords)."""
    return mask(text)

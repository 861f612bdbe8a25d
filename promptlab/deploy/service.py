"""bedrock-agent calls for Prompt Management, each failure one line (ManagedPromptError, exit 2)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from promptlab.config import Config
from promptlab.errors import ConfigError

ENDPOINT_ENV = "AWS_ENDPOINT_URL_BEDROCK_AGENT"
LIST_HINT = "list them with promptlab deployed"


class ManagedPromptError(ConfigError):
    """A Prompt Management call failed (not found, denied, unreachable, rejected)."""

    def __init__(self, message: str, hint: str | None = None, *, code: str = "") -> None:
        super().__init__(message, hint)
        self.code = code


def agent_client(config: Config, region: str | None, profile: str | None) -> tuple[Any, str]:
    """The bedrock-agent client (region and credentials checked locally first) and its region."""
    from promptlab.aws import AwsClients

    aws = AwsClients(config, region, profile)
    return aws.client("bedrock-agent"), aws.region


class Agent:
    """The Prompt Management operations promptlab uses, on one bedrock-agent client."""

    def __init__(self, client: Any, region: str, config: Config | None = None) -> None:
        self.client = client
        self.region = region
        self.config = config

    def call(self, op: str, what: str, **kwargs: Any) -> dict[str, Any]:
        """`client.<op>(**kwargs)`; a failure about `what` becomes a ManagedPromptError."""
        try:
            answer: dict[str, Any] = getattr(self.client, op)(**kwargs)
        except Exception as exc:
            raise self.error(exc, op, what) from None
        return answer

    def error(self, exc: BaseException, op: str, what: str) -> ManagedPromptError:
        from promptlab.catalogue import ModelRef
        from promptlab.providers.awserrors import map_error

        err = map_error(exc, ModelRef(what, what, None), self.region, self.config,
                        endpoint_env=ENDPOINT_ENV)  # fmt: skip
        action = "bedrock:" + "".join(p.title() for p in op.split("_"))
        if err.code == "ResourceNotFoundException":
            return ManagedPromptError(f"no managed prompt {what} in {self.region}", LIST_HINT,
                                      code=err.code)  # fmt: skip
        if err.code == "AccessDeniedException":
            return ManagedPromptError(
                f"access denied: {action} on {what} in {self.region}",
                f"your IAM identity needs {action} (see the README's IAM permissions for "
                "Prompt Management)",
                code=err.code,
            )
        if err.code == "ValidationException":
            return ManagedPromptError(f"Prompt Management rejected {action}: {err.message}",
                                      "check the prompt's name, model and settings",
                                      code=err.code)  # fmt: skip
        return ManagedPromptError(f"{action} failed: {err.code}: {err.message}", err.hint,
                                  code=err.code)  # fmt: skip

    # ------------------------------------------------------------ reads

    def _pages(self, what: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            more = {"nextToken": token} if token else {}
            page = self.call("list_prompts", what, **kwargs, **more)
            yield from page.get("promptSummaries") or []
            token = page.get("nextToken")
            if not token:
                return

    def prompts(self) -> list[dict[str, Any]]:
        """Every managed prompt (its DRAFT summary) in the region."""
        return list(self._pages("prompts"))

    def find(self, name: str) -> dict[str, Any] | None:
        """The managed prompt called `name`, if any."""
        return next((p for p in self._pages(name) if p.get("name") == name), None)

    def versions(self, identifier: str) -> list[dict[str, Any]]:
        """The numbered versions of a managed prompt, oldest first (summaries)."""
        rows = [v for v in self._pages(identifier, promptIdentifier=identifier)
                if str(v.get("version", "DRAFT")).isdigit()]  # fmt: skip
        return sorted(rows, key=lambda v: int(v["version"]))

    def get(self, identifier: str, version: str | None = None) -> dict[str, Any]:
        what = f"{identifier}:{version}" if version else identifier
        extra = {"promptVersion": version} if version else {}
        return self.call("get_prompt", what, promptIdentifier=identifier, **extra)

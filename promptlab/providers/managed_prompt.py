"""A deployed Prompt Management version as a model: `bedrock-prompt:ARN:VERSION`.

Converse is called with `modelId=<prompt version ARN>` and the job's values as
`promptVariables`; the managed prompt brings its own template, model and inference settings
(the request shape comes from the kind's `sends="variables"`, see `jobs.REQUEST_SHAPES`).
Calls, streaming and error mapping are BedrockProvider's; only the model id and the hints for a
missing or unusable prompt version differ.
"""

from __future__ import annotations

from dataclasses import replace

from promptlab.catalogue import ModelRef
from promptlab.providers.base import ModelCallError, OnText
from promptlab.providers.bedrock import BedrockProvider
from promptlab.request import Request
from promptlab.results import Completion

SCHEME = "bedrock-prompt:"


def version_arn(model: str) -> str:
    """`bedrock-prompt:ARN:VERSION` → the prompt version ARN that Converse takes as modelId."""
    return model.removeprefix(SCHEME)


class ManagedPromptProvider(BedrockProvider):
    """BedrockProvider with the prompt version ARN as the model id."""

    def complete(
        self,
        ref: ModelRef,
        request: Request,
        *,
        stream: bool,
        on_text: OnText | None = None,
        on_reasoning: OnText | None = None,
    ) -> Completion:
        target = replace(ref, model_id=version_arn(ref.model_id))
        return super().complete(target, request, stream=stream, on_text=on_text,
                                on_reasoning=on_reasoning)  # fmt: skip

    def embed(self, ref: ModelRef, text: str) -> tuple[list[float], int]:
        raise ModelCallError(
            "NotAnEmbeddingModel",
            f"{ref.alias} is a managed prompt, not an embedding model",
            "use an embedding model, e.g. embedding_model: amazon.titan-embed-text-v2:0",
        )

    def count_tokens(self, ref: ModelRef, request: Request) -> int | None:
        return None  # the template lives in Bedrock: only Bedrock knows the input

    def map_error(self, exc: BaseException, ref: ModelRef) -> ModelCallError:
        err = super().map_error(exc, ref)
        arn = version_arn(ref.model_id)
        if err.code == "ResourceNotFoundException":
            err.hint = f"no managed prompt version {arn}; list them with promptlab deployed"
        elif err.code == "AccessDeniedException":
            err.hint = (
                "your IAM identity needs bedrock:RenderPrompt and bedrock:InvokeModel "
                f"(on the prompt and its model) to run {arn}"
            )
        elif err.code == "ValidationException":
            err.hint = (
                f"check that {arn} is a prompt version ARN (…:prompt/ID:VERSION) and that every "
                "variable it declares has a value"
            )
        return err

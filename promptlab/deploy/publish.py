"""`promptlab publish`: a prompt from git → a new Prompt Management version (or none if equal)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from promptlab.config import Config
from promptlab.deploy.service import Agent, ManagedPromptError
from promptlab.deploy.shape import (
    DESCRIPTION_MAX,
    VARIANT,
    Content,
    base_arn,
    content_of,
    describe,
    variant,
)
from promptlab.deploy.template import placeholder_templates
from promptlab.errors import UsageError
from promptlab.prompt import Prompt

RETRY_HINT = (
    "run the same 'promptlab publish' again: it compares with the latest version and creates "
    "only the missing one"
)


@dataclass(frozen=True)
class Published:
    name: str
    arn: str  # the managed prompt, without a version
    version: str  # the managed version holding the content
    created: bool  # a new version was created (False: the latest already held it)
    new_prompt: bool  # the managed prompt itself was created
    description: str

    @property
    def version_arn(self) -> str:
        return f"{self.arn}:{self.version}"


def content_for(
    prompt: Prompt, model: str | None, config: Config, region: str | None, *, required: bool = True
) -> Content:
    """What publishing `prompt` would store. Raises PromptFileError for unpublishable templates
    and UsageError for a missing (when `required`) or non-Bedrock model, before anything is sent."""
    from promptlab.catalogue import resolve

    if prompt.kind == "image":
        raise UsageError(f"{prompt.path} is an image prompt: Prompt Management holds text "
                         "prompts for Converse", "keep image prompts in git; run them with "
                         "promptlab run")  # fmt: skip
    templates = placeholder_templates(prompt)
    name = model or next(iter(prompt.models), None) or next(iter(config.models), None)
    if name is None and not required:
        variables = tuple(dict.fromkeys([*prompt.variables, *templates.names]))
        return Content(templates.system, templates.user, variables, None,
                       prompt.inference.to_converse())  # fmt: skip
    if name is None:
        raise UsageError(
            f"{prompt.path}: no model to publish with",
            "pass -m MODEL (e.g. -m nova-lite) or set 'models:' in the prompt",
        )
    ref = resolve(name, config, region)
    if ref.provider != "bedrock":
        raise UsageError(
            f"{name!r} is not a Bedrock model; a managed prompt needs one",
            "pass -m with a Bedrock model, e.g. -m nova-lite",
        )
    params = prompt.params_for(ref.alias, ref.model_id)
    variables = tuple(dict.fromkeys([*prompt.variables, *templates.names]))
    return Content(templates.system, templates.user, variables, ref.model_id,
                   params.to_converse())  # fmt: skip


def publish(agent: Agent, prompt: Prompt, content: Content, commit: str | None) -> Published:
    """Create or update the managed prompt named like `prompt`, then version it.

    Nothing is created when the latest version already holds `content`.
    """
    line = describe(prompt.name, prompt.version, prompt.content_hash, commit)
    about = {"description": prompt.description[:DESCRIPTION_MAX]} if prompt.description else {}
    body = {"name": prompt.name, "defaultVariant": VARIANT, "variants": [variant(content)], **about}
    found = agent.find(prompt.name)
    if found is None:
        made = agent.call("create_prompt", prompt.name, **body)
        pid, arn, new_prompt = made["id"], base_arn(made["arn"]), True
    else:
        pid, arn, new_prompt = found["id"], base_arn(found["arn"]), False
        versions = agent.versions(pid)
        if versions:
            latest = str(versions[-1]["version"])
            current = agent.get(pid, latest)
            if content_of(current).same_as(content):
                return Published(prompt.name, arn, latest, False, False,
                                 str(current.get("description") or ""))  # fmt: skip
        agent.call("update_prompt", prompt.name, promptIdentifier=pid, **body)
    try:
        made = agent.call("create_prompt_version", prompt.name, promptIdentifier=pid,
                          description=line)  # fmt: skip
    except ManagedPromptError as exc:
        step = "was created" if new_prompt else "DRAFT was updated"
        hint = f"{exc.hint}; then {RETRY_HINT}" if exc.hint else RETRY_HINT
        raise ManagedPromptError(
            f"managed prompt {prompt.name} ({arn}) {step}, but no version was created: "
            f"{exc.message}",
            hint,
            code=exc.code,
        ) from None
    return Published(prompt.name, arn, str(made["version"]), True, new_prompt, line)


def source_commit(prompt: Prompt) -> str | None:
    """The commit the prompt's content is from: its @REF, else HEAD when the file is committed
    unchanged there; None outside git or for uncommitted changes."""
    if prompt.ref:
        return prompt.ref
    from promptlab import gitrefs
    from promptlab.errors import PromptlabError

    try:
        root = gitrefs.repo_root(Path(prompt.path).resolve().parent)
        rel = gitrefs.repo_path(root, prompt.path)
        if gitrefs.is_dirty(root, rel):  # modified or untracked
            return None
        return gitrefs.resolve_commit(root, "HEAD")
    except PromptlabError:
        return None

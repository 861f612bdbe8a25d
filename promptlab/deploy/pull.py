"""`promptlab pull`: a managed prompt version → a promptlab prompt file (YAML)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from promptlab.catalogue import alias_for
from promptlab.deploy.shape import content_of, parse_description
from promptlab.errors import UsageError

# Prompt Management inference key → promptlab's
INFERENCE_NAMES = {"temperature": "temperature", "topP": "top_p", "maxTokens": "max_tokens",
                   "stopSequences": "stop"}  # fmt: skip


def prompt_data(managed: Mapping[str, Any]) -> dict[str, Any]:
    """The prompt file's fields for a GetPrompt answer, in the order they are written."""
    content = content_of(managed)
    origin = parse_description(str(managed.get("description") or ""))
    data: dict[str, Any] = {
        "name": str(managed.get("name") or "managed-prompt"),
        "version": origin.version if origin else "1.0.0",
    }
    if content.model_id:
        data["models"] = [alias_for(content.model_id) or content.model_id]
    inference = {INFERENCE_NAMES[k]: v for k, v in content.inference.items() if v not in (None, [])}
    if inference:
        data["inference"] = inference
    if content.variables:
        data["variables"] = {n: {"type": "string"} for n in content.variables}
    if content.system:
        data["instructions"] = content.system
    data["input"] = content.user
    return data


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def to_yaml(data: Mapping[str, Any]) -> str:
    text: str = yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                          width=100)  # fmt: skip
    return _quote_version(text)


def _quote_version(text: str) -> str:
    """`version:` quoted, as the prompt format asks (an unquoted 1.0 reads as a number)."""
    out = []
    for line in text.splitlines(keepends=True):
        if line.startswith("version: ") and not line.startswith(("version: '", 'version: "')):
            line = f'version: "{line[9:].strip()}"\n'
        out.append(line)
    return "".join(out)


def write_prompt(managed: Mapping[str, Any], path: Path, *, force: bool) -> str:
    """Write the prompt file; refuses to overwrite without `force`. Returns the text written."""
    from promptlab.prompt import load_prompt

    if path.exists() and not force:
        raise UsageError(f"{path} already exists", "pass --force to overwrite it")
    text = to_yaml(prompt_data(managed))
    load_prompt(path, text=text)  # what we write must load (and lint)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text

"""`promptlab deployed`: managed prompt versions, the git versions they came from, and drift.

A version's origin is its description line (`promptlab: NAME VERSION sha256:HASH commit SHA`)
or the local store's `deployments` row. It has drifted when that content hash matches no
committed version of the prompt file (or when nothing says where it came from).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from promptlab.config import Config
from promptlab.deploy.service import Agent
from promptlab.deploy.shape import Origin, base_arn, parse_description
from promptlab.errors import PromptlabError
from promptlab.store.deployments import Deployment


@dataclass(frozen=True)
class Committed:
    version: str | None
    hash: str
    commit: str


@dataclass
class DeployedRow:
    name: str  # the managed prompt's name
    arn: str  # without the version
    version: str
    created: str
    origin: Origin | None
    file: str | None
    match: Committed | None
    drift: bool
    note: str = ""

    @property
    def version_arn(self) -> str:
        return f"{self.arn}:{self.version}"


def deployed_rows(agent: Agent, config: Config, records: list[Deployment]) -> list[DeployedRow]:
    """Every numbered version of every managed prompt in the region, oldest first per prompt."""
    stored = {(d.arn, d.managed_version): d for d in records}
    committed: dict[str, list[Committed] | str] = {}
    rows: list[DeployedRow] = []
    for summary in agent.prompts():
        arn = base_arn(str(summary["arn"]))
        for v in agent.versions(str(summary["id"])):
            version = str(v["version"])
            origin = parse_description(v.get("description"))
            record = stored.get((arn, version))
            row = DeployedRow(str(summary.get("name", "")), arn, version,
                              _when(v.get("createdAt")), origin, None, None, True)  # fmt: skip
            digest = record.prompt_hash if record else origin.hash if origin else None
            if digest is None:
                row.note = "not published by promptlab (no origin in its description)"
                rows.append(row)
                continue
            name = record.prompt_name if record else origin.name if origin else row.name
            path = _prompt_path(name, record, config)
            row.file = str(path)
            found = committed.setdefault(row.file, _committed(row.file, config))
            if isinstance(found, str):
                row.note = found
            else:
                row.match = next((c for c in found if c.hash.startswith(digest)), None)
                row.drift = row.match is None
                if row.drift:
                    row.note = f"sha256:{digest[:12]} matches no committed version of {path}"
            rows.append(row)
    return rows


def _prompt_path(name: str, record: Deployment | None, config: Config) -> Path:
    from promptlab.prompt import locate

    if record and record.prompt_path and Path(record.prompt_path).exists():
        return Path(record.prompt_path)
    return locate(name, config.prompts_dir)


def _committed(path: str, config: Config) -> list[Committed] | str:
    """The committed versions of a prompt file, or why they cannot be listed."""
    from promptlab.versions import history_rows

    try:
        _, history, _, _ = history_rows(path, config)
    except PromptlabError as exc:
        return f"cannot list the versions of {path}: {exc.message}"
    return [Committed(r.version, r.hash, r.commit) for r in history if r.commit and r.hash]


def _when(value: object) -> str:
    iso = getattr(value, "isoformat", None)
    return str(iso(timespec="seconds") if iso else value or "")

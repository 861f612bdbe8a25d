"""`lint --base REF`: version bumps and breaking variable changes since a git ref.

Rules, for every prompt file whose content hash changed since REF:
- its `version` must be higher than at REF (semantic-version precedence, pre-releases included);
- a variable removed since REF that a test case still sets is an error;
- a breaking change (a new required variable without a default, or a removed variable) needs a
  major bump once the prompt is at 1.0.0 or later (an error otherwise); below 1.0.0, and after
  a major bump, it is reported as a warning.
A prompt that did not exist at REF is fine. Renames since REF are followed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptlab.config import Config
from promptlab.errors import Problem, PromptFileError, UsageError
from promptlab.prompt import content_hash
from promptlab.sources import blob_data, prompt_files
from promptlab.yamlfile import YamlDoc, load_mapping, parse_yaml, read_text

_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)


@dataclass(frozen=True)
class SemVer:
    major: int
    minor: int
    patch: int
    pre: tuple[str, ...] = ()

    def __str__(self) -> str:
        core = f"{self.major}.{self.minor}.{self.patch}"
        return f"{core}-{'.'.join(self.pre)}" if self.pre else core


def parse_semver(text: Any) -> SemVer | None:
    """A semantic version (build metadata dropped), or None when `text` is not one."""
    m = _SEMVER.match(str(text)) if isinstance(text, str) else None
    if not m:
        return None
    pre = tuple(m.group(4).split(".")) if m.group(4) else ()
    return SemVer(int(m.group(1)), int(m.group(2)), int(m.group(3)), pre)


def compare(a: SemVer, b: SemVer) -> int:
    """-1, 0 or 1 by semver precedence: 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-beta < 1.0.0."""
    core_a, core_b = (a.major, a.minor, a.patch), (b.major, b.minor, b.patch)
    if core_a != core_b:
        return -1 if core_a < core_b else 1
    if a.pre == b.pre:
        return 0
    if not a.pre or not b.pre:  # a release outranks its pre-releases
        return 1 if not a.pre else -1
    for x, y in zip(a.pre, b.pre):  # noqa: B905 - lengths differ on purpose
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return -1 if int(x) < int(y) else 1
        if x.isdigit() != y.isdigit():  # numeric identifiers sort first
            return -1 if x.isdigit() else 1
        return -1 if x < y else 1
    return -1 if len(a.pre) < len(b.pre) else 1


def check_base(paths: list[Path], config: Config, base: str) -> list[Problem]:
    """Problems in the prompt files under `paths` compared with git ref `base`."""
    from promptlab import gitrefs

    first = paths[0] if paths else Path.cwd()
    try:  # the repository of the linted files, wherever the command runs
        root = gitrefs.repo_root(first if first.is_dir() else first.resolve().parent)
        sha = gitrefs.require_commit(root, base)
    except UsageError as exc:
        raise UsageError(f"--base {base}: {exc.message}", exc.hint) from None
    files = prompt_files(paths)
    rels = [gitrefs.repo_path(root, f) for f in files]
    renames = gitrefs.renames_since(root, sha)
    olds = gitrefs.read_blobs(root, [(sha, renames.get(r, r)) for r in rels])
    problems: list[Problem] = []
    for rel, old in zip(rels, olds, strict=True):
        shown = Path(gitrefs.cwd_path(root, rel))  # name files as the user sees them
        problems.extend(check_file(shown, blob_data(old), base))
    return problems


def check_file(path: Path, old: dict[str, Any] | None, base: str) -> list[Problem]:
    """Compare one working prompt file with its content at `base` (None: new since base)."""
    try:
        doc = load_mapping(path, what="prompt file")
    except PromptFileError:
        return []  # plain `lint` reports why the file does not load
    new: dict[str, Any] = doc.data
    if old is None or content_hash(old) == content_hash(new):
        return []
    file = str(path)
    out: list[Problem] = []
    old_v, new_v = parse_semver(old.get("version")), parse_semver(new.get("version"))
    where = doc.line(("version",))
    if old_v and new_v and compare(new_v, old_v) <= 0:
        same = compare(new_v, old_v) == 0
        msg = (
            f"content changed since {base} but 'version' is still {new.get('version')}"
            if same
            else f"'version' went down from {old.get('version')} at {base} to {new.get('version')}"
        )
        out.append(Problem(file, msg, where, f'bump it, e.g. version: "{_next_patch(old_v)}"'))

    old_vars, new_vars = _variables(old), _variables(new)
    breaking: list[tuple[str, int | None, str]] = []
    for name in old_vars:
        if name in new_vars:
            continue
        for use_file, line, case in cases_setting(path, doc, name):
            out.append(
                Problem(use_file, f"variable '{name}' was removed since {base} but test case "
                        f"{case} still sets it", line,
                        f"remove '{name}' from that test's vars, or keep the variable")
            )  # fmt: skip
        breaking.append((name, doc.line(("variables",)) or where, f"variable '{name}' was removed"))
    for name, required in new_vars.items():
        if required and not old_vars.get(name, False):
            what = "new required variable" if name not in old_vars else "variable now required"
            breaking.append(
                (name, doc.line(("variables", name)), f"{what} '{name}' has no default")
            )
    major_needed = bool(old_v and old_v.major >= 1 and new_v and new_v.major <= old_v.major)
    for name, line, text in breaking:
        if major_needed and old_v:
            out.append(
                Problem(file, f"breaking change since {base}: {text}; this needs a major "
                        f"version bump", line,
                        f'use version: "{old_v.major + 1}.0.0", or give \'{name}\' a default')
            )  # fmt: skip
        else:
            out.append(
                Problem(file, f"breaking change since {base}: {text}", line,
                        "callers and test cases must change accordingly", severity="warning")
            )  # fmt: skip
    return out


def _next_patch(v: SemVer) -> str:
    return f"{v.major}.{v.minor}.{v.patch + (0 if v.pre else 1)}"


def _variables(data: dict[str, Any]) -> dict[str, bool]:
    """name → True when the variable is required and has no default (same rules as loading)."""
    raw = data.get("variables")
    if not isinstance(raw, dict):
        return {}
    out: dict[str, bool] = {}
    for name, spec in raw.items():
        if isinstance(spec, str) or spec is None:
            spec = {}
        if not isinstance(spec, dict):
            continue
        required = spec.get("required", "default" not in spec)
        out[str(name)] = bool(required) and spec.get("default") is None
    return out


def cases_setting(path: Path, doc: YamlDoc, name: str) -> list[tuple[str, int | None, str]]:
    """(file, line, case label) of every test case that sets variable `name`.

    Cases come from the prompt's `tests:` list and from `<stem>.tests.yaml` / `<name>.tests.yaml`
    next to it (suite `defaults.vars` included), read as raw YAML.
    """
    found = _cases_using(str(path), doc, name, ("tests",))
    stems = {path.name.removesuffix(".yaml").removesuffix(".yml")}
    if isinstance(doc.data.get("name"), str):
        stems.add(doc.data["name"])
    for stem in sorted(stems):
        for ext in (".tests.yaml", ".tests.yml"):
            suite = path.with_name(stem + ext)
            if not suite.is_file():
                continue
            try:
                sdoc = parse_yaml(read_text(suite, what="test suite"), str(suite))
            except PromptFileError:
                continue
            if isinstance(sdoc.data, list):
                found += _cases_using(str(suite), sdoc, name, ())
            elif isinstance(sdoc.data, dict):
                defaults = sdoc.data.get("defaults")
                if isinstance(defaults, dict) and _sets(defaults, name):
                    found.append((str(suite), sdoc.line(("defaults", "vars", name)), "defaults"))
                found += _cases_using(str(suite), sdoc, name, ("tests",))
    return found


def _cases_using(file: str, doc: YamlDoc, name: str, key: tuple[str, ...]) -> list[
    tuple[str, int | None, str]
]:  # fmt: skip
    cases = doc.data.get(key[0]) if key else doc.data
    if not isinstance(cases, list):
        return []
    out = []
    for i, case in enumerate(cases):
        if isinstance(case, dict) and _sets(case, name):
            label = f"'{case['name']}'" if isinstance(case.get("name"), str) else f"#{i + 1}"
            out.append((file, doc.line((*key, i, "vars", name)), label))
    return out


def _sets(case: dict[str, Any], name: str) -> bool:
    return isinstance(case.get("vars"), dict) and name in case["vars"]

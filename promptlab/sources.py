"""Where prompt files come from: a path, a prompt name under prompts/, or a git ref.

`PATH@REF` reads the file as it was at a git commit, tag or branch (`HEAD~2`, `main`, a sha).
`PATH@vX.Y.Z` reads it from the newest commit in which its `version` field was X.Y.Z; the
version field always wins over a git tag of the same name (write `PATH@refs/tags/vX.Y.Z` for
the tag). Includes are read at the same commit, confined to the prompts root.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlab.config import Config
from promptlab.errors import Problem, PromptFileError, UsageError
from promptlab.prompt import (
    Prompt,
    Rendered,
    display_path,
    find_root,
    load_prompt,
    locate,
    render,
    resolve_vars,
)
from promptlab.yamlfile import decode, read_text

if TYPE_CHECKING:
    from promptlab.retrieval.spec import Source

VERSION_REF = re.compile(
    r"^v((0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$"
)


def split_ref(arg: str) -> tuple[str, str | None]:
    """`PATH@REF` → (PATH, REF); an existing path (even one containing '@') → (arg, None).

    The split is at the last '@' with text on both sides; an '@{' (reflog syntax, as in
    `main@{1}`) is not a split point when an earlier '@' exists.
    """
    if "@" not in arg or Path(arg).exists():
        return arg, None
    i = len(arg)
    while (i := arg.rfind("@", 0, i)) > 0:
        left, right = arg[:i], arg[i + 1 :]
        if right and not (right.startswith("{") and "@" in left):
            return left, right
    return arg, None


def open_prompt(arg: str, config: Config) -> Prompt:
    """Load the prompt named by a command-line argument: a path or name, optionally @REF."""
    path_arg, ref = split_ref(arg)
    if path_arg.endswith((".tests.yaml", ".tests.yml")):
        raise UsageError(
            f"{path_arg} is a test suite, not a prompt",
            f"run its cases with: promptlab test {path_arg}",
        )
    if ref is None:
        path = locate(arg, config.prompts_dir)
        if not path.exists() and path.suffix not in (".yaml", ".yml") and "/" not in arg:
            where = display_path(config.prompts_dir)
            raise PromptFileError(
                [Problem(arg, "prompt file not found", None,
                         f"no file '{arg}' and no prompt named '{arg}' under {where}/; "
                         "pass a prompt file's path or a prompt name"
                         + _closest_names(arg, config.prompts_dir))]
            )  # fmt: skip
        return load_prompt(path, prompts_dir=config.prompts_dir)
    return _open_at_ref(arg, path_arg, ref, config)


def prompt_names(prompts_dir: Path) -> list[str]:
    """The names a prompt can be called by under the prompts dir: file stems, without test
    suites and files in `_`/`.` directories (partials, data)."""
    if not prompts_dir.is_dir():
        return []
    names = set()
    for path in prompts_dir.rglob("*.y*ml"):
        parts = path.relative_to(prompts_dir).parts
        if path.suffix in (".yaml", ".yml") and ".tests" not in path.name and \
                not any(p.startswith(("_", ".")) for p in parts[:-1]):  # fmt: skip
            names.add(path.stem)
    return sorted(names)


def _closest_names(arg: str, prompts_dir: Path, shown: int = 8) -> str:
    """`; did you mean 'a' or 'b'?` from the prompts found, else the names that exist."""
    import difflib

    names = prompt_names(prompts_dir)
    close = difflib.get_close_matches(arg, names, n=3, cutoff=0.5)
    if close:
        return "; did you mean " + " or ".join(f"'{n}'" for n in close) + "?"
    if names:
        more = f" (and {len(names) - shown} more)" if len(names) > shown else ""
        return f"; prompts there: {', '.join(names[:shown])}{more}"
    return ""


def _open_at_ref(arg: str, path_arg: str, ref: str, config: Config) -> Prompt:
    from promptlab import gitrefs

    path = locate(path_arg, config.prompts_dir)
    try:
        root = gitrefs.repo_root(_existing_dir(path))
        rel = gitrefs.repo_path(root, path)
        version = VERSION_REF.match(ref)
        if version:
            sha, rel = _find_version(root, rel, version.group(1), path, ref)
        else:
            sha = gitrefs.require_commit(root, ref)
    except UsageError as exc:
        hints = [exc.hint] if exc.hint else []
        if ref.endswith((".yaml", ".yml")):
            hints.append(f"no file named {arg!r} exists either")
        raise UsageError(f"{arg}: {exc.message}", "; ".join(hints) or None) from None
    raw = gitrefs.read_blob(root, sha, rel)
    if raw is None:
        raise UsageError(
            f"{arg}: {path} is not present at {ref} ({sha[:7]})",
            f"list the files there with: git ls-tree -r --name-only {sha[:7]}",
        )
    shown = gitrefs.cwd_path(root, rel)
    label = f"{shown}@{ref}"
    prompts_root = find_root(Path(shown), config.prompts_dir)
    try:
        root_rel = gitrefs.repo_path(root, prompts_root)
    except UsageError:  # prompts root outside the repository: includes only inside the file's dir
        prompts_root, root_rel = (root / rel).parent, str(Path(rel).parent.as_posix())
    loader = gitrefs.GitLoader(root, sha, root_rel)
    try:
        text = decode(raw, label)
        return load_prompt(shown, text=text, loader=loader, root=prompts_root, ref=sha)
    except PromptFileError as exc:  # name the ref in every problem
        raise PromptFileError([replace(p, file=label) for p in exc.problems]) from None


def _existing_dir(path: Path) -> Path:
    """The nearest existing directory at or above `path` (git runs there)."""
    full = (Path.cwd() / path).resolve()
    for d in (full, *full.parents):
        if d.is_dir():
            return d
    return Path.cwd()


def _find_version(root: Path, rel: str, version: str, path: Path, ref: str) -> tuple[str, str]:
    """(commit, path at that commit) of the newest commit whose `version` field is `version`."""
    from promptlab import gitrefs

    commits = gitrefs.file_log(root, rel)
    blobs = gitrefs.read_blobs(root, [(c.sha, c.path) for c in commits])
    seen: list[str] = []
    for commit, raw in zip(commits, blobs, strict=True):
        found = blob_version(raw)
        if found == version:
            return commit.sha, commit.path
        if found and found not in seen:
            seen.append(found)
    if not commits:
        raise UsageError(
            f"{path} has no git history", "commit it first, or load the working file without @"
        )
    hints = [f"versions in its history: {', '.join(seen)}" if seen else "no valid version found"]
    if gitrefs.resolve_commit(root, ref) is not None:
        hints.append(f"for the git tag {ref} write {path}@refs/tags/{ref}")
    if commits[-1].sha in gitrefs.shallow_boundaries(root):
        hints.append(gitrefs.FULL_HISTORY_HINT)
    raise UsageError(f"no commit has version {version!r}", "; ".join(hints))


def blob_data(raw: bytes | None) -> dict[str, Any] | None:
    """A prompt file's parsed mapping from raw bytes, or None when absent or unreadable."""
    if raw is None:
        return None
    import yaml

    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def blob_version(raw: bytes | None) -> str | None:
    data = blob_data(raw)
    version = data.get("version") if data else None
    return str(version) if version is not None else None


def source_text(prompt: Prompt) -> str:
    """The prompt file's text: from its commit when loaded at a ref, else from disk."""
    if prompt.ref is None:
        return read_text(Path(prompt.path))
    from promptlab import gitrefs

    root = gitrefs.repo_root()
    raw = gitrefs.read_blob(root, prompt.ref, gitrefs.repo_path(root, prompt.path))
    if raw is None:
        raise PromptFileError([Problem(prompt.path, f"not present at {prompt.ref[:7]}")])
    return decode(raw, prompt.path)


def prompt_files(paths: list[Path]) -> list[Path]:
    """Prompt files under the given paths: *.yaml/*.yml, skipping suites and _private dirs."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            for f in sorted([*p.rglob("*.yaml"), *p.rglob("*.yml")]):
                rel = f.relative_to(p).parts
                if any(part.startswith((".", "_")) for part in rel[:-1]):
                    continue
                if f.name.endswith((".tests.yaml", ".tests.yml")):
                    continue
                out.append(f)
        else:
            out.append(p)
    return out


def prepare(
    prompt: Prompt,
    typed: dict[str, Any] | None,
    strings: dict[str, str] | None,
    *,
    use_examples: bool = False,
    source: Source | None = None,
) -> tuple[dict[str, Any], Rendered]:
    """Resolve variables and render: what `render`, `run --dry-run` and `run` share.
    `source`: the retrieval variant (default: the prompt's first)."""
    values = resolve_vars(prompt, typed, strings, use_examples=use_examples)
    return values, render(prompt, values, source=source)

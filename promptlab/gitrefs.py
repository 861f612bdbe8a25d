"""Git access for versioned prompts: every call is a `git` subprocess with a timeout."""

from __future__ import annotations

import os
import posixpath
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from promptlab.errors import ConfigError, UsageError

TIMEOUT = 30.0  # seconds for one git call
FULL_HISTORY_HINT = (
    "this is a shallow clone: fetch the full history (GitHub Actions: actions/checkout "
    "with fetch-depth: 0; locally: git fetch --unshallow)"
)


@dataclass(frozen=True)
class Commit:
    """One commit that touched a file (`git log --follow`), with the file's path in it."""

    sha: str
    author: str
    date: str  # ISO 8601, author date
    subject: str
    path: str  # repo-relative path of the file at this commit (renames followed)

    @property
    def short(self) -> str:
        return self.sha[:7]


def run_git(
    args: list[str], cwd: Path, *, input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run `git ARGS` in `cwd`. Raises ConfigError when git is missing or hangs."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C"}
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, input=input, capture_output=True, timeout=TIMEOUT,
            env=env, check=False,
        )  # fmt: skip
    except FileNotFoundError:
        raise ConfigError(
            "git is not installed (or not on PATH)",
            "install git to use PATH@REF, history, diff and lint --base",
        ) from None
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"git {' '.join(args[:2])} took longer than {TIMEOUT:.0f}s", "check the repository"
        ) from None


def _out(proc: subprocess.CompletedProcess[bytes]) -> str:
    return proc.stdout.decode("utf-8", "replace").strip()


def repo_root(start: Path | None = None) -> Path:
    """The top directory of the git work tree containing `start` (default: the cwd)."""
    cwd = start or Path.cwd()
    proc = run_git(["rev-parse", "--show-toplevel"], cwd)
    if proc.returncode != 0:
        raise UsageError(
            f"not inside a git repository ({cwd})",
            "PATH@REF, history, diff of refs and lint --base need the prompts in a git repository",
        )
    return Path(_out(proc)).resolve()


def is_shallow(root: Path) -> bool:
    return _out(run_git(["rev-parse", "--is-shallow-repository"], root)) == "true"


def shallow_boundaries(root: Path) -> set[str]:
    """Commits whose parents a shallow clone does not have."""
    path = _out(run_git(["rev-parse", "--git-path", "shallow"], root))
    f = Path(path) if Path(path).is_absolute() else root / path
    if not f.is_file():
        return set()
    return {line.strip() for line in f.read_text().splitlines() if line.strip()}


def resolve_commit(root: Path, ref: str) -> str | None:
    """The full sha a ref names (commit, tag, branch, HEAD~2), or None."""
    if not ref or ref.startswith("-") or "\0" in ref:
        return None
    proc = run_git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root)
    return _out(proc) if proc.returncode == 0 else None


def require_commit(root: Path, ref: str) -> str:
    """Like resolve_commit, but an unknown ref is a UsageError (mentioning shallow clones)."""
    sha = resolve_commit(root, ref)
    if sha is None:
        hint = "use a commit, tag, branch or HEAD~N that exists (git log --oneline)"
        if is_shallow(root):
            hint = f"it may be missing from history: {FULL_HISTORY_HINT}"
        raise UsageError(f"unknown git ref {ref!r}", hint)
    return sha


def repo_path(root: Path, path: str | Path) -> str:
    """A working-directory path as a repo-relative POSIX path. UsageError if outside the repo."""
    full = (Path.cwd() / path).resolve()
    try:
        return full.relative_to(root).as_posix()
    except ValueError:
        raise UsageError(f"{path}: is outside the git repository {root}") from None


def cwd_path(root: Path, rel: str) -> str:
    """A repo-relative path as a path relative to the working directory (when below it)."""
    full = root / rel
    try:
        return full.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return os.path.relpath(full, Path.cwd().resolve())


def read_blobs(root: Path, specs: list[tuple[str, str]]) -> list[bytes | None]:
    """Contents of `commit:path` for each spec in one `git cat-file --batch`; None if absent."""
    if not specs:
        return []
    lines = "".join(f"{sha}:{path}\n" for sha, path in specs).encode("utf-8")
    proc = run_git(["cat-file", "--batch"], root, input=lines)
    data, pos, out = proc.stdout, 0, []
    for _ in specs:
        end = data.index(b"\n", pos)
        header = data[pos:end].split(b" ")
        pos = end + 1
        if len(header) == 3 and header[1] in (b"blob", b"tree", b"commit", b"tag"):
            size = int(header[2])
            body = data[pos : pos + size]
            pos += size + 1
            out.append(body if header[1] == b"blob" else None)
        else:  # "<spec> missing" / "ambiguous"
            out.append(None)
    return out


def read_blob(root: Path, sha: str, path: str) -> bytes | None:
    return read_blobs(root, [(sha, path)])[0]


def file_mode(root: Path, sha: str, path: str) -> str | None:
    """The tree entry mode of `path` at `sha` (100644, 120000 for a symlink, ...), or None."""
    proc = run_git(["ls-tree", "-z", sha, "--", path], root)
    entry = proc.stdout.split(b"\0", 1)[0]
    if proc.returncode != 0 or not entry:
        return None
    return entry.split(b" ", 1)[0].decode()


def file_log(root: Path, path: str, rev: str = "HEAD") -> list[Commit]:
    """Commits that touched `path` (renames followed), newest first."""
    if resolve_commit(root, rev) is None:  # a fresh repository without commits
        return []
    fmt = "%x1e%H%x1f%an%x1f%aI%x1f%s"
    proc = run_git(
        ["log", "--follow", "-z", "--name-only", f"--format={fmt}", rev, "--", path], root
    )
    if proc.returncode != 0:
        return []
    commits: list[Commit] = []
    for chunk in proc.stdout.decode("utf-8", "replace").split("\x1e")[1:]:
        header, _, rest = chunk.partition("\0")
        names = [n.strip("\n") for n in rest.split("\0") if n.strip("\n")]
        sha, author, date, subject = [*header.split("\x1f"), "", "", ""][:4]
        commits.append(Commit(sha, author, date, subject, names[0] if names else path))
    return commits


def is_dirty(root: Path, path: str) -> bool:
    """True when the working file differs from HEAD (modified, added, untracked, deleted)."""
    proc = run_git(["status", "--porcelain", "--untracked-files=all", "--", path], root)
    return bool(proc.stdout.strip())


def renames_since(root: Path, base: str, under: str = ".") -> dict[str, str]:
    """new path → old path for files renamed between `base` and the working tree."""
    proc = run_git(["diff", "-M", "--name-status", "-z", base, "--", under], root)
    fields = proc.stdout.decode("utf-8", "replace").split("\0")
    out: dict[str, str] = {}
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i]
        if status.startswith(("R", "C")):
            if status.startswith("R"):
                out[fields[i + 2]] = fields[i + 1]
            i += 3
        else:
            i += 2
    return out


class GitLoader(jinja2.BaseLoader):
    """Jinja includes read from a commit, confined to the prompts root as it was there."""

    def __init__(self, root: Path, sha: str, prompts_root: str) -> None:
        self.root = root
        self.sha = sha
        self.prompts_root = prompts_root.strip("/") or "."

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        rel = self._confined(template)
        source = _blob_text(self.root, self.sha, rel) if rel is not None else None
        if rel is None or source is None:
            raise jinja2.TemplateNotFound(template)
        return source, f"{cwd_path(self.root, rel)}@{self.sha[:7]}", lambda: True

    def _confined(self, template: str) -> str | None:
        if template.startswith(("/", "\\")) or "\\" in template or "\0" in template:
            return None
        inner = posixpath.normpath(template)
        if inner == ".." or inner.startswith("../"):
            return None
        rel = posixpath.normpath(posixpath.join(self.prompts_root, inner))
        # Symlinks are stored as blobs holding the target: never follow or render them.
        if file_mode(self.root, self.sha, rel) not in ("100644", "100755"):
            return None
        return rel


@lru_cache(maxsize=256)
def _blob_text(root: Path, sha: str, rel: str) -> str | None:
    raw = read_blob(root, sha, rel)
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None

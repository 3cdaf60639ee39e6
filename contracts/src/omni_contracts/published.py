"""What was published: every version each committed schema file has had on main, read with git.

The rule (see contracts/README.md):
- a published schema is one committed on `main`. The baseline is `git merge-base HEAD main`: on a branch,
  where the branch left main (the branch's own commits are drafts, free to change until merged); on main
  itself (or a commit main contains) it is HEAD.
- every version a schema file had in the first-parent history of the baseline counts, not only the
  baseline's own: an edit that slipped into main two commits ago is still caught, and so is one in the
  latest commit on main (its parent's version is in the history).
- `OMNI_SCHEMAS_PUBLISHED=<rev>` replaces the baseline (e.g. a release tag, or `origin/main` in a CI that
  checks out a detached branch). Without `main` (or `origin/main`) HEAD's history is used; a shallow clone
  only knows its own history; a tree that is not a git checkout has nothing published. Each of these cases
  is reported in `notes`.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAIN_REFS = ("main", "origin/main")
ENV_BASELINE = "OMNI_SCHEMAS_PUBLISHED"
_NULL_SHA = "0" * 40


@dataclass
class PublishedVersion:
    commit: str  # the (first-parent) commit that wrote this version of the file
    schema: dict[str, Any]


@dataclass
class Published:
    """Every distinct published version of each schema file (file name -> versions, newest first)."""

    baseline: str  # how the baseline was chosen, for messages
    schemas: dict[str, list[PublishedVersion]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # why the guard may see less than everything


class GitError(RuntimeError):
    pass


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git {' '.join(args)}: {exc}") from None
    if out.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {out.stderr.decode(errors='replace').strip()}")
    return out.stdout


def _rev(cwd: Path, rev: str) -> str | None:
    try:
        return _git(cwd, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip() or None
    except GitError:
        return None


def baseline(root: Path) -> tuple[str | None, str, list[str]]:
    """(commit, description, notes): the commit whose history is the published contract."""
    notes: list[str] = []
    wanted = os.environ.get(ENV_BASELINE)
    if wanted:
        commit = _rev(root, wanted)
        if commit is None:
            raise GitError(f"{ENV_BASELINE}={wanted!r} is not a commit of this repository")
        return commit, f"{wanted} ({commit[:12]}, from {ENV_BASELINE}) and its history", notes
    head = _rev(root, "HEAD")
    if head is None:
        return None, "nothing (no commit yet)", ["no commit yet: nothing is published"]
    if _git(root, "rev-parse", "--is-shallow-repository").decode().strip() == "true":
        notes.append(
            "shallow clone: versions older than the clone's history are not checked "
            "(`git fetch --unshallow` for the whole guard)"
        )
    for ref in MAIN_REFS:
        main = _rev(root, ref)
        if main is None:
            continue
        try:
            base = _git(root, "merge-base", "HEAD", main).decode().strip()
        except GitError:
            notes.append(f"HEAD shares no history with {ref}: HEAD's own history is taken as published")
            return head, f"HEAD ({head[:12]}) and its history", notes
        if base == head:
            return head, f"HEAD ({head[:12]}, on {ref}) and its history", notes
        return base, f"the merge base {base[:12]} of HEAD and {ref}, and its history", notes
    notes.append(f"no {' or '.join(MAIN_REFS)} branch: HEAD's own history is taken as published")
    return head, f"HEAD ({head[:12]}) and its history", notes


def published(directory: Path) -> Published:
    """Read every version of `directory`/*.json that the baseline's first-parent history has committed."""
    directory = directory.resolve()
    try:
        root = Path(_git(directory, "rev-parse", "--show-toplevel").decode().strip())
    except (GitError, FileNotFoundError):
        return Published("nothing", notes=[f"{directory} is not in a git checkout: nothing is published"])
    base, described, notes = baseline(root)
    result = Published(described, notes=notes)
    if base is None:
        return result
    prefix = directory.relative_to(root.resolve()).as_posix()
    log = _git(
        root,
        "log",
        "--first-parent",
        "--diff-merges=first-parent",
        "--raw",
        "--no-abbrev",
        "--no-renames",
        "--format=commit %H",
        base,
        "--",
        f"{prefix}/*.json",
    ).decode()
    wanted: list[tuple[str, str, str]] = []  # (file name, blob, commit)
    seen: set[tuple[str, str]] = set()
    commit = ""
    for line in log.splitlines():
        if line.startswith("commit "):
            commit = line.split()[1]
        elif line.startswith(":"):
            meta, path = line.split("\t", 1)
            blob = meta.split()[3]
            name = path.rsplit("/", 1)[-1]
            if "/" in path[len(prefix) + 1 :] or blob == _NULL_SHA or (name, blob) in seen:
                continue  # a subfolder, a deletion (the older versions are in the log), or a repeat
            seen.add((name, blob))
            wanted.append((name, blob, commit))
    if not wanted:
        return result
    blobs = _read_blobs(root, [b for _, b, _ in wanted])
    for name, blob, commit in wanted:
        try:
            schema = json.loads(blobs[blob])
        except (KeyError, json.JSONDecodeError) as exc:
            result.notes.append(f"{name} at {commit[:12]} is not readable JSON ({exc}); not checked")
            continue
        result.schemas.setdefault(name, []).append(PublishedVersion(commit, schema))
    return result


def _read_blobs(root: Path, shas: list[str]) -> dict[str, bytes]:
    out = _git(root, "cat-file", "--batch", stdin="".join(f"{s}\n" for s in shas).encode())
    blobs: dict[str, bytes] = {}
    pos = 0
    while pos < len(out):
        end = out.index(b"\n", pos)
        header = out[pos:end].decode().split()
        pos = end + 1
        if len(header) < 3 or header[1] != "blob":  # "<sha> missing"
            continue
        size = int(header[2])
        blobs[header[0]] = out[pos : pos + size]
        pos += size + 1
    return blobs

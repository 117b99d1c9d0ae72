"""Which files an evidence entry names, found in bounded time: a file, a folder (every file under
it) or a glob (`*`, `?`, `[...]` within a name; `**` any number of folders), relative to the spec.

Bounds, so that no entry can make a run hang or exhaust memory: symlinked folders are never entered
(a symlink loop or a link to a parent folder cannot multiply the walk; a symlinked *file* is read),
hidden files and folders (`.name`) under a folder entry are skipped, and a walk that meets more than
`MAX_ENTRIES` directory entries or matches more than `MAX_FILES` files stops with EvidenceError
naming the entry.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
from pathlib import Path

from provider.rules.evidence._refs import EvidenceError

MAX_FILES = 200_000
MAX_ENTRIES = 2_000_000


def _segment_re(segment: str) -> "re.Pattern[str]":
    return re.compile(fnmatch.translate(segment))


def _matches(parts: list[str], pattern: list[str]) -> bool:
    """Whether the path's parts match the glob's segments (`**` = zero or more parts)."""
    memo: dict[tuple[int, int], bool] = {}
    compiled = [None if s == "**" else _segment_re(s) for s in pattern]

    def go(i: int, j: int) -> bool:
        key = (i, j)
        if key in memo:
            return memo[key]
        if j == len(pattern):
            ok = i == len(parts)
        elif compiled[j] is None:
            ok = go(i, j + 1) or (i < len(parts) and go(i + 1, j))
        else:
            rx = compiled[j]
            ok = i < len(parts) and rx is not None and bool(rx.match(parts[i])) and go(i + 1, j + 1)
        memo[key] = ok
        return ok
    return go(0, 0)


def _walk(root: Path, display: str, hidden: bool) -> list[Path]:
    """Every file under ``root`` (symlinked folders not entered), bounded."""
    out: list[Path] = []
    seen = 0
    for folder, dirs, names in os.walk(root, followlinks=False):
        seen += len(dirs) + len(names)
        if seen > MAX_ENTRIES:
            raise EvidenceError(display, f"the walk met more than {MAX_ENTRIES} directory entries; name a narrower "
                                         f"folder or glob")
        if not hidden:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
        dirs.sort()
        for n in sorted(names):
            if not hidden and n.startswith("."):
                continue
            p = Path(folder) / n
            if p.is_file():
                out.append(p)
                if len(out) > MAX_FILES:
                    raise EvidenceError(display, f"names more than {MAX_FILES} files; name a narrower folder or glob")
    return out


def files_of(spec_dir: Path, entry: str) -> list[Path]:
    """The files ``entry`` names (sorted). Raises EvidenceError when a bound is exceeded; returns
    an empty list when it names nothing (the caller says why that is an error)."""
    if not glob.has_magic(entry):
        target = spec_dir / entry
        if target.is_dir():
            return _walk(target, entry, hidden=False)
        return [target] if target.is_file() else []
    parts = Path(entry).parts
    fixed: list[str] = []
    for p in parts:
        if glob.has_magic(p):
            break
        fixed.append(p)
    root = spec_dir.joinpath(*fixed) if fixed else spec_dir
    pattern = list(parts[len(fixed):])
    if not root.is_dir():
        return []
    hits = []
    for f in _walk(root, entry, hidden=False):
        rel = list(f.relative_to(root).parts)
        if _matches(rel, pattern):
            hits.append(f)
    return hits

"""Package listings shared by the processes of one `pulumi` command.

During `pulumi preview --refresh` / `pulumi up` (refresh first), the provider process reads every
package to refresh, then the stack program lists the same packages for rule expansion. They are
different processes, so without sharing every package would be listed twice. This cache lets the
program reuse the refresh's listing, and nothing else:

- It is scoped to one `pulumi` command: the key includes the pid and start time of the nearest
  `pulumi` ancestor process, so a listing never outlives the command that made it (a manual change
  made before the next command is always seen). Outside a `pulumi` command it is not used.
- Entries also expire after `codeartifact:cacheTtlSeconds`, and a write to a package drops its entry.
- It holds versions, statuses, revisions, origins and published times only (no credentials), in a
  per-user 0700 directory. Published times never change, so sharing them is always exact.

Staleness can never weaken a write: every write carries its own revision and status locks.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional


def _proc_stat(pid: int) -> Optional[tuple[str, int, str]]:
    """(command name, parent pid, start time) of a process, from /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    return name, int(fields[1]), fields[19]


@lru_cache(maxsize=1)
def command_scope() -> Optional[str]:
    """'<pid>-<start time>' of the `pulumi` CLI process this process runs under, or None."""
    pid = os.getppid()
    for _ in range(8):
        st = _proc_stat(pid)
        if st is None:
            return None
        name, ppid, start = st
        if name == "pulumi":
            return f"{pid}-{start}"
        if ppid <= 1:
            return None
        pid = ppid
    return None


def _dir() -> Path:
    return _made(os.environ.get("CODEARTIFACT_STATUS_CACHE_DIR") or os.path.join(
        tempfile.gettempdir(), f"codeartifact-status-{os.getuid()}"))


@lru_cache(maxsize=8)
def _made(base: str) -> Path:
    """The folder, created once per process (not once per listing: thousands of mkdir calls)."""
    path = Path(base)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _file(key: Any) -> Optional[Path]:
    scope = command_scope()
    if scope is None:
        return None
    digest = hashlib.sha256(json.dumps([scope, key], sort_keys=True, default=str).encode()).hexdigest()[:32]
    return _dir() / f"{digest}.json"


def get(key: Any, ttl: float) -> Optional[dict[str, Any]]:
    """What ``put`` stored under ``key`` (a listing: {version: [status, revision, origin]}; or a
    published-times map) if it was stored by this command less than ``ttl`` seconds ago, else None."""
    path = _file(key)
    if path is None or ttl <= 0:
        return None
    try:
        if time.time() - path.stat().st_mtime > ttl:
            return None
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def put(key: Any, listing: dict[str, Any]) -> None:
    path = _file(key)
    if path is None:
        return
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(listing))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)  # atomic: readers see the old or the new listing, never half
    except OSError:
        pass


def drop(key: Any) -> None:
    path = _file(key)
    if path is not None:
        try:
            path.unlink()
        except OSError:
            pass

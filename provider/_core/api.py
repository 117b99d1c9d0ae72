"""The resources' one door to CodeArtifact: finders (provider/_core/reads.py), the applier
(provider/_core/writes.py) and coalesced single-version writes (provider/_core/coalesce.py).

Every call here is read-only except `apply` and `apply_one`, which carry each version's revision
and last observed status as locks (see writes.py for what holds when they fail).
"""

from __future__ import annotations

from provider._core.coalesce import apply_one
from provider._core.reads import ListedPackage, find_version, list_packages, observe, published_times
from provider._core.writes import WRITE_WORKERS, apply, apply_collect

__all__ = ["WRITE_WORKERS", "ListedPackage", "apply", "apply_collect", "apply_one", "find_version", "list_packages",
           "observe", "published_times"]

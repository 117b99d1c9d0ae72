"""Pure planning: which versions change, grouped so that writes are at the physical minimum.

UpdatePackageVersionsStatus / DisposePackageVersions take one expectedStatus and at most 100
versions per call, so the minimum number of writes for a package is the sum over
(current status, target status) groups of ceil(k / 100). `group` produces exactly that.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from provider._core.model import Change, Observed

__all__ = ["MAX_VERSIONS_PER_CALL", "Change", "Observed", "changes_for", "group"]

MAX_VERSIONS_PER_CALL = 100


def changes_for(desired: Mapping[str, str], observed: Mapping[str, Observed]) -> tuple[list[Change], list[str]]:
    """(changes needed, versions that do not exist). Versions already at their target need no call."""
    changes: list[Change] = []
    missing: list[str] = []
    for version, target in desired.items():
        obs = observed.get(version)
        if obs is None:
            missing.append(version)
        elif obs.status != target:
            changes.append(Change(version, obs.status, obs.revision, target))
    return changes, missing


def group(changes: Iterable[Change]) -> list[list[Change]]:
    """Chunks of at most 100 changes sharing (current, target), in a deterministic order."""
    buckets: dict[tuple[str, str], list[Change]] = {}
    for c in changes:
        buckets.setdefault((c.current, c.target), []).append(c)
    out: list[list[Change]] = []
    for key in sorted(buckets):
        items = buckets[key]
        out.extend(items[i:i + MAX_VERSIONS_PER_CALL] for i in range(0, len(items), MAX_VERSIONS_PER_CALL))
    return out

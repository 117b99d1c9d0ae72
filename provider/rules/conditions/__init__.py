"""The `match` conditions of a rule, one module each, registered here in schema order.

`Match` (provider/rules/spec.py), the expansion's predicate and bulk step (expand.py), the
snapshot check (`plan --live`), the IAM policy and the docs iterate `REGISTRY`: adding a
condition is one module here, its tests and its docs line.
"""

from __future__ import annotations

from provider.rules.conditions import age, downloads, glob, in_status, origin, prerelease, range as range_, status, versions
from provider.rules.conditions._base import Condition, Prepare, Reader

REGISTRY: dict[str, Condition] = {c.field: c for c in (
    versions.CONDITION, glob.CONDITION, range_.CONDITION, range_.INCLUDE_PRERELEASE, prerelease.CONDITION,
    age.CONDITION, downloads.CONDITION, in_status.CONDITION, status.CONDITION, origin.CONDITION)}


def static() -> list[Condition]:
    """The conditions that do not depend on current statuses (all but `status`)."""
    return [c for c in REGISTRY.values() if c.static]


def used_by(rules: list[object]) -> list[Condition]:
    """The conditions the given rules set."""
    return [c for c in REGISTRY.values() if any(c.active(getattr(getattr(r, "match"), c.field)) for r in rules)]


__all__ = ["REGISTRY", "Condition", "Prepare", "Reader", "static", "used_by"]

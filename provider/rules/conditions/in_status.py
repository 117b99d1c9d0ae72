"""`in_status_for_days: N`: the version has been in its current status for more than N days.

CodeArtifact stores no time of a status change, so the time comes from, in order: the stack's
ledger (the time of its own write), the spec's `downloads:` CloudTrail evidence (the last
`UpdatePackageVersionsStatus` / `DisposePackageVersions` record for the version, by anyone), else
the time this stack first saw the version in that status (kept in the ledger). In that last case
the version does not match until N days after it was first seen, and the PR summary says so. The
program fills `LiveVersion.status_since` (provider/stack/program.py)."""

from __future__ import annotations

from typing import Any, Optional

from provider.rules.conditions._base import Condition
from provider.rules.live import DAY, LiveVersion


def _matches(_fmt: str, value: Any, _m: Any, v: LiveVersion, now: float) -> bool:
    return v.status_since is not None and now - v.status_since > float(value) * DAY


CONDITION = Condition("in_status_for_days", Optional[float],
                      "in its current status for more than N days (our ledger's write time, CloudTrail, or since "
                      "first seen)", _matches, constraints={"ge": 0},
                      # Our write starts the clock at the run that makes it: the next step waits N days.
                      delays=lambda value: value is not None and float(value) > 0)

"""`not_downloaded_for_days: N`: published more than N days ago, and no counted download in the
last N days according to the spec's `downloads:` evidence (CloudTrail log files or an exported
table; provider/rules/evidence/downloads.py).

Safety: the evidence must cover the whole window, from now-N to within a day of now, without a gap
of more than a day (the run refuses otherwise, naming the first day missing: provider/rules/spec.py,
`evidence_problems`); a version without evidence never matches; and a rule using it can only
Unlist or Archive, never Dispose: "nobody downloaded it" is a reason to hide a version, and a wrong
reading of the logs must stay reversible. Its bulk step is the age condition's (published times at
the fewest reads)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable, Optional

from provider.rules.conditions import age
from provider.rules.conditions._base import Condition, Reader
from provider.rules.live import DAY, LiveVersion


def published_before(value: float, v: LiveVersion, now: float) -> bool:
    if v.published is not None:
        return now - v.published > float(value) * DAY
    return float(value) in v.older_than


def _matches(_fmt: str, value: Any, _m: Any, v: LiveVersion, now: float) -> bool:
    if v.evidence_from is None:
        return False  # no evidence read for this version: never "not downloaded"
    recent = v.downloaded is not None and now - v.downloaded <= float(value) * DAY
    return not recent and published_before(value, v, now)


@dataclass(frozen=True)
class _AsAge:
    """A rule seen by the age condition's bulk step: its download window as an age threshold."""
    rule: Any
    match: Any


def prepare(fmt: str, rules: list[Any], live: dict[str, LiveVersion], now: float, describe: Reader,
            others: Callable[[Any, LiveVersion], bool]) -> dict[str, LiveVersion]:
    proxies = [_AsAge(r, SimpleNamespace(older_than_days=float(r.match.not_downloaded_for_days))) for r in rules]
    # Only versions the evidence does not show downloaded within the window need a published time.
    def candidate(p: Any, lv: LiveVersion) -> bool:
        n = float(p.rule.match.not_downloaded_for_days)
        recent = lv.downloaded is not None and now - lv.downloaded <= n * DAY
        return lv.evidence_from is not None and not recent and others(p.rule, lv)
    return age.prepare(fmt, proxies, live, now, describe, candidate)


CONDITION = Condition(
    "not_downloaded_for_days", Optional[float],
    "no counted download in the last N days (the spec's `downloads:` evidence) and published more than N days ago",
    _matches, constraints={"ge": 1}, prepare=prepare, needs=frozenset({"published_time"}),
    actions=("codeartifact:DescribePackageVersion",),
    targets=frozenset({"Unlisted", "Archived"}),
    targets_why="download evidence can hide a version, never destroy it (a misread log must stay reversible)",
    evidence="downloads")

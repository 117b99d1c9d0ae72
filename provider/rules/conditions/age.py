"""`older_than_days: N`: published more than N days ago. Its bulk step makes every threshold
decidable at the fewest DescribePackageVersion reads (binary search over the publish-ordered
listing); a version without a published time is never "older than"."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Optional

from provider.rules.conditions._base import Condition, Reader
from provider.rules.live import DAY, LiveVersion


def _matches(_fmt: str, value: Any, _m: Any, v: LiveVersion, now: float) -> bool:
    if v.published is not None:
        return now - v.published > float(value) * DAY
    return float(value) in v.older_than  # inferred by the bulk step; unknown: never "older than"


def prepare(_fmt: str, rules: list[Any], live: dict[str, LiveVersion], now: float, describe: Reader,
            others: Callable[[Any, LiveVersion], bool]) -> dict[str, LiveVersion]:
    """For each distinct threshold, the versions it could matter for are those matching the other
    conditions of a rule using it (``others``). If that is at most ⌈log2 n⌉ versions, each is
    described; otherwise the boundary is found by binary search over the listing (newest first by
    publish time, so "older than T" holds for a suffix): ⌈log2 n⌉ describes, and every version past
    the boundary is known older than T without its own read. Ties (equal times) fall on the same
    side. Unfinished versions (never completely published, so possibly without a published time)
    are read one by one; a probe without a published time makes the order unusable, and the
    candidates are then read one by one.
    Returns the listing with `published` filled where read and `older_than` where inferred."""
    if not rules or not live:
        return live
    order = sorted(live, key=lambda v: r if (r := live[v].rank) is not None else -1)
    known: dict[str, Optional[float]] = {v: lv.published for v, lv in live.items() if lv.published is not None}
    inferred: dict[str, set[float]] = {}
    budget = max(1, math.ceil(math.log2(len(order) + 1)))
    for days in sorted({float(r.match.older_than_days) for r in rules}):
        candidates = {v for r in rules if float(r.match.older_than_days) == days for v in live if others(r, live[v])}
        unknown = sorted(v for v in candidates if v not in known)
        if not unknown:
            continue
        # Only a version that was never completely published lacks a published time (so has no
        # place in the sorted listing to infer from): those are read one by one.
        unplaced = [v for v in unknown if live[v].rank is None or live[v].status == "Unfinished"]
        if unplaced:
            known.update(describe(unplaced))
            unknown = [v for v in unknown if v not in known]
            if not unknown:
                continue
        if len(unknown) <= budget:
            known.update(describe(unknown))
            continue
        cutoff = now - days * DAY
        placed = [v for v in order if live[v].status != "Unfinished"]  # (Unfinished ones are read above)
        position = {v: i for i, v in enumerate(placed)}
        lo, hi = 0, len(placed)  # the first index whose version is older than `days`
        usable = True
        while lo < hi:
            mid = (lo + hi) // 2
            v = placed[mid]
            if v not in known:
                known.update(describe([v]))
            when = known.get(v)
            if when is None:
                usable = False
                break
            if when < cutoff:
                hi = mid
            else:
                lo = mid + 1
        if not usable:
            known.update(describe([v for v in unknown if v not in known]))
            continue
        for v in candidates:
            if v not in known and position.get(v, -1) >= lo:
                inferred.setdefault(v, set()).add(days)
    return {v: dataclasses.replace(lv, published=known.get(v, lv.published),
                                   older_than=lv.older_than | frozenset(inferred.get(v, ())))
            for v, lv in live.items()}


CONDITION = Condition("older_than_days", Optional[float], "published more than N days ago", _matches,
                      constraints={"ge": 0}, prepare=prepare, needs=frozenset({"published_time"}),
                      actions=("codeartifact:DescribePackageVersion",))

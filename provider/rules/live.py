"""What the service says about one version, as the spec language sees it (read-only data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

DAY = 86400.0


@dataclass(frozen=True)
class LiveVersion:
    version: str
    status: str
    revision: str
    published: Optional[float] = None  # epoch seconds; read only where an age rule needs it
    origin: Optional[str] = None  # INTERNAL | EXTERNAL | UNKNOWN, where the listing says
    rank: Optional[int] = None  # position in the listing, newest first by publish time (0 = newest)
    older_than: frozenset[float] = frozenset()  # age thresholds (days) known to hold without `published`
    # Download evidence (the spec's `downloads:`), when the spec has some: the last counted download
    # (None: none in the evidence) and how many; `evidence_from` is where the evidence starts.
    downloaded: Optional[float] = None
    downloads: int = 0
    evidence_from: Optional[float] = None
    # Since when the version is in its current status, and how that is known ("our write", "CloudTrail",
    # "first seen": counted from when this stack first saw it so); None: not known.
    status_since: Optional[float] = None
    status_since_how: Optional[str] = None

"""`origin: [INTERNAL]`: only versions of these origins (ListPackageVersions' originType), e.g.
leave versions cached from upstream alone."""

from __future__ import annotations

from typing import Any, Literal, Optional

from provider.rules.conditions._base import Condition
from provider.rules.live import LiveVersion


def _matches(_fmt: str, value: Any, _m: Any, v: LiveVersion, _now: float) -> bool:
    return v.origin in value


CONDITION = Condition("origin", Optional[list[Literal["INTERNAL", "EXTERNAL", "UNKNOWN"]]],
                      "only versions of these origins (ListPackageVersions' originType), e.g. [INTERNAL] leaves "
                      "versions cached from upstream alone", _matches, needs=frozenset({"origin"}))

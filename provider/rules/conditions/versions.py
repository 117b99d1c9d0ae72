"""`versions: [..]`: exact versions."""

from __future__ import annotations

from typing import Any, Optional

from provider.rules.conditions._base import Condition
from provider.rules.live import LiveVersion


def _matches(_fmt: str, value: Any, _m: Any, v: LiveVersion, _now: float) -> bool:
    return v.version in value


CONDITION = Condition("versions", Optional[list[str]], "exact versions", _matches)

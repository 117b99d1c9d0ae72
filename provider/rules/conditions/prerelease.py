"""`prerelease: true|false`: only prereleases, or only releases, as the ecosystem defines them (a
version the ecosystem cannot parse is neither)."""

from __future__ import annotations

from typing import Any, Optional

from provider.rules import ecosystems
from provider.rules.conditions._base import Condition
from provider.rules.live import LiveVersion


def _matches(fmt: str, value: Any, _m: Any, v: LiveVersion, _now: float) -> bool:
    return ecosystems.is_prerelease(fmt, v.version) is value


CONDITION = Condition("prerelease", Optional[bool], "true: only prereleases; false: only releases", _matches)

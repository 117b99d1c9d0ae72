"""`range: '>=1.0 <2'`: the ecosystem's native range syntax, selecting exactly what the ecosystem's
own tool selects; `include_prerelease: true` lets it match prereleases (npm and pypi)."""

from __future__ import annotations

from typing import Any, Optional

from provider.rules import ecosystems
from provider.rules.conditions._base import Condition
from provider.rules.live import LiveVersion


def _matches(fmt: str, value: Any, m: Any, v: LiveVersion, _now: float) -> bool:
    return v.version in ecosystems.parse_range(fmt, value, bool(getattr(m, "include_prerelease", False)))


def _check(fmt: str, value: Any, m: Any) -> Optional[str]:
    try:
        ecosystems.parse_range(fmt, value, bool(getattr(m, "include_prerelease", False)))
    except ecosystems.RangeError as e:
        return f"{value!r}: {e}"
    return None


def _check_modifier(_fmt: str, value: Any, m: Any) -> Optional[str]:
    return "only meaningful with `range`" if value and getattr(m, "range", None) is None else None


CONDITION = Condition("range", Optional[str], "the ecosystem's native range syntax, e.g. '>=1.0 <2' (npm), "
                                              "'[1.0,2.0)' (maven), '>=1.0,<2' (pypi), '>=1.2, <2' (cargo)",
                      _matches, check=_check)
# A modifier of `range`: it selects nothing on its own (the range reads it).
INCLUDE_PRERELEASE = Condition("include_prerelease", bool, "let `range` match prereleases, as npm's "
                                                           "includePrerelease and packaging's prereleases=True do "
                                                           "(npm and pypi only)",
                               lambda *_: True, default=False, check=_check_modifier, active=lambda value: bool(value))

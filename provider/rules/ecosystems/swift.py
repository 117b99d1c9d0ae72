"""Swift: SemVer 2.0 versions, as SwiftPM's `Version` (strict `MAJOR.MINOR.PATCH[-pre][+build]`).

Order: SemVer precedence (build metadata ignored). Ranges use SwiftPM's requirement forms:
`"1.2.0"..<"2.0.0"`, `"1.2.0"..."1.4.0"`, `from: "1.2.0"` (up to the next major),
`upToNextMinor(from: "1.2.0")`, `exact: "1.2.0"`; quotes are optional. Prereleases follow
SwiftPM's `Range.contains`: a prerelease is inside only when a bound has a prerelease tag, and
never when it is a prerelease of a release upper bound (`2.0.0-beta` is not in `..<"2.0.0"`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from provider.rules.ecosystems import _semver
from provider.rules.ecosystems._base import Ecosystem, RangeError, blank_check
from provider.rules.ecosystems._semver import SemVer, SemVerFamily

_V = r'"?([^"\s.]+\.[^"\s.]+\.[^"\s]+?)"?'


@dataclass(frozen=True)
class SwiftRange:
    lower: SemVer
    upper: SemVer
    closed: bool  # `...` includes the upper bound


class Swift(SemVerFamily, Ecosystem[SemVer, SwiftRange]):
    name = "swift"
    reference = "SemVer 2.0 precedence (as SwiftPM's Version), checked against npm semver"
    range_syntax = 'SwiftPM requirements: `"1.2.0"..<"2.0.0"`, `"1.2.0"..."1.4.0"`, `from: "1.2.0"`, ' \
                   '`upToNextMinor(from: "1.2.0")`, `exact: "1.2.0"`'

    def parse(self, version: str) -> Optional[SemVer]:
        return _semver.parse_strict(version)

    def _version(self, text: str, spec: str) -> SemVer:
        v = self.parse(text)
        if v is None:
            raise RangeError(f"{text!r} in {spec!r} is not a SemVer version (MAJOR.MINOR.PATCH)")
        return v

    def parse_range(self, expression: str) -> SwiftRange:
        blank_check(expression, "nothing (SwiftPM has no empty requirement)")
        spec = expression.strip()
        m = re.fullmatch(rf"{_V}\s*(\.\.<|\.\.\.)\s*{_V}", spec)
        if m:
            lo, hi = self._version(m.group(1), spec), self._version(m.group(3), spec)
            closed = m.group(2) == "..."
            if _semver.compare(lo, hi) > 0 or (not closed and _semver.compare(lo, hi) == 0):
                raise RangeError(f"{spec!r} is empty: its lower bound is not below its upper bound")
            return SwiftRange(lo, hi, closed)
        m = re.fullmatch(rf"(from|exact|upToNextMajor\(from|upToNextMinor\(from):\s*{_V}(\)?)", spec)
        if m and (m.group(1).startswith("upTo") == (m.group(3) == ")")):
            v = self._version(m.group(2), spec)
            if m.group(1) == "exact":
                return SwiftRange(v, v, True)
            if m.group(1) == "upToNextMinor(from":
                return SwiftRange(v, SemVer(v.major, v.minor + 1, 0), False)
            return SwiftRange(v, SemVer(v.major + 1, 0, 0), False)
        raise RangeError(f"{spec!r} is not a SwiftPM version requirement; use {self.range_syntax}")

    def contains(self, rng: SwiftRange, v: SemVer, include_prerelease: bool) -> bool:
        if v.pre and not include_prerelease:
            if not rng.lower.pre and not rng.upper.pre:
                return False
            if not rng.closed and not rng.upper.pre and rng.upper.release == v.release:
                return False
        lo = _semver.compare(v, rng.lower) >= 0
        hi = _semver.compare(v, rng.upper)
        return lo and (hi <= 0 if rng.closed else hi < 0)

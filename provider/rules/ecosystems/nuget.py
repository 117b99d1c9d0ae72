"""NuGet: versions and ranges by NuGet's documented rules (NuGet.Versioning; no .NET runtime or
NuGet feed is reachable here, so the conformance fixture is built from the documentation's
examples, see tests/fixtures/versions/nuget.json).

A version is 1 to 4 numeric parts (`1`, `1.0`, `1.0.0`, `1.0.0.0` are equal; leading zeros are
dropped), an optional `-prerelease` and optional `+metadata`. Metadata is ignored for ordering
and does not make a prerelease (`1.0.0+git-abc` is a release). Prerelease labels compare as in
SemVer 2.0 but case-insensitively. Ranges use interval notation: `1.0` (= `[1.0,)`, the minimum
version), `[1.0]`, `(1.0,)`, `(,1.0]`, `[1.0,2.0)`...; prereleases inside the bounds are included.
Floating versions (`1.*`) are refused: NuGet uses them to pick the newest version at restore
time, not to select a set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Union

from provider.rules.ecosystems._base import Ecosystem, RangeError, blank_check

_ID = r"[0-9A-Za-z-]+"
_VERSION = re.compile(rf"^(\d+(?:\.\d+){{0,3}})(?:-({_ID}(?:\.{_ID})*))?(?:\+({_ID}(?:\.{_ID})*))?$")


@dataclass(frozen=True)
class NugetVersion:
    numbers: tuple[int, int, int, int]
    pre: tuple[Union[int, str], ...]


def _pre_compare(a: tuple[Union[int, str], ...], b: tuple[Union[int, str], ...]) -> int:
    if not a or not b:
        return (not a) - (not b)
    for x, y in zip(a, b):
        if isinstance(x, int) and isinstance(y, int):
            if x != y:
                return -1 if x < y else 1
        elif isinstance(x, int) or isinstance(y, int):
            return -1 if isinstance(x, int) else 1
        else:
            xl, yl = x.lower(), y.lower()
            if xl != yl:
                return -1 if xl < yl else 1
    return (len(a) > len(b)) - (len(a) < len(b))


@dataclass(frozen=True)
class Bound:
    version: Optional[NugetVersion]
    inclusive: bool


class Nuget(Ecosystem[NugetVersion, tuple[Bound, Bound]]):
    name = "nuget"
    reference = "NuGet documentation (package versioning, version ranges)"
    range_syntax = "NuGet intervals: `1.0` (minimum), `[1.0,2.0)`, `(,1.0]`, `[1.0]`"

    def parse(self, version: str) -> Optional[NugetVersion]:
        m = _VERSION.match(version)
        if not m:
            return None
        nums = [int(n) for n in m.group(1).split(".")]
        nums += [0] * (4 - len(nums))
        pre = tuple(int(p) if p.isdigit() else p for p in m.group(2).split(".")) if m.group(2) else ()
        return NugetVersion((nums[0], nums[1], nums[2], nums[3]), pre)

    def compare(self, a: NugetVersion, b: NugetVersion) -> int:
        if a.numbers != b.numbers:
            return -1 if a.numbers < b.numbers else 1
        return _pre_compare(a.pre, b.pre)

    def is_prerelease(self, v: NugetVersion) -> bool:
        return bool(v.pre)

    def release(self, v: NugetVersion) -> tuple[int, ...]:
        return v.numbers

    def _bound(self, text: str, spec: str) -> Optional[NugetVersion]:
        text = text.strip()
        if not text:
            return None
        if "*" in text:
            raise RangeError(f"floating versions are refused in {spec!r}: NuGet uses them to pick the newest "
                             f"version at restore time, not to select versions; write an interval such as [1.0,2.0)")
        v = self.parse(text)
        if v is None:
            raise RangeError(f"{text!r} is not a NuGet version in {spec!r}")
        return v

    def parse_range(self, expression: str) -> tuple[Bound, Bound]:
        blank_check(expression, "the latest version only (NuGet)")
        spec = expression.strip()
        if spec[0] not in "[(":
            v = self._bound(spec, spec)
            return Bound(v, True), Bound(None, False)
        if spec[-1] not in ")]" or len(spec) < 3:
            raise RangeError(f"{spec!r} is not a NuGet version range: an interval is [a,b], (a,b), [a,b) or (a,b]")
        lo_inc, hi_inc = spec[0] == "[", spec[-1] == "]"
        body = spec[1:-1]
        if "," not in body:
            if not (lo_inc and hi_inc):
                raise RangeError(f"{spec!r}: a single version must be written [1.0]")
            v = self._bound(body, spec)
            if v is None:
                raise RangeError(f"{spec!r} names no version")
            return Bound(v, True), Bound(v, True)
        if body.count(",") > 1:
            raise RangeError(f"{spec!r} is not a NuGet version range: one comma between the two bounds")
        lo_text, hi_text = body.split(",")
        lo, hi = self._bound(lo_text, spec), self._bound(hi_text, spec)
        if lo is None and hi is None:
            raise RangeError(f"{spec!r} has no bound")
        if lo is not None and hi is not None:
            c = self.compare(lo, hi)
            if c > 0 or (c == 0 and not (lo_inc and hi_inc)):
                raise RangeError(f"{spec!r} is empty: its lower bound is not below its upper bound")
        return Bound(lo, lo_inc and lo is not None), Bound(hi, hi_inc and hi is not None)

    def contains(self, rng: tuple[Bound, Bound], v: NugetVersion, include_prerelease: bool) -> bool:
        lo, hi = rng
        if lo.version is not None:
            c = self.compare(v, lo.version)
            if c < 0 or (c == 0 and not lo.inclusive):
                return False
        if hi.version is not None:
            c = self.compare(v, hi.version)
            if c > 0 or (c == 0 and not hi.inclusive):
                return False
        return True

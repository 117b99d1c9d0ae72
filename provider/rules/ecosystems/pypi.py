"""PyPI: PEP 440 through `packaging`, the PyPA reference implementation itself.

Ranges are specifier sets (`>=1.0,<2`, `~=1.4`, `==1.0.*`, `!=1.1`, `===x`), comma meaning AND.
A version is matched on its own with `SpecifierSet.contains` (never pip's "only prereleases
exist, so take them" fallback, which would make a rule depend on which other versions exist):
prereleases are excluded unless a specifier names one, or the rule opts in with
`include_prerelease` (packaging's `prereleases=True`).
"""

from __future__ import annotations

from typing import Optional

import packaging
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from provider.rules.ecosystems._base import Ecosystem, RangeError, blank_check


class Pypi(Ecosystem[Version, SpecifierSet]):
    name = "pypi"
    reference = f"packaging {packaging.__version__}"
    include_prerelease_mode = True
    range_syntax = "PEP 440 specifiers: `>=1.0,<2`, `~=1.4`, `==1.0.*`, `!=1.1`"

    def parse(self, version: str) -> Optional[Version]:
        try:
            return Version(version)
        except InvalidVersion:
            return None

    def compare(self, a: Version, b: Version) -> int:
        return -1 if a < b else 1 if a > b else 0

    def is_prerelease(self, v: Version) -> bool:
        return v.is_prerelease

    def release(self, v: Version) -> tuple[int, ...]:
        return v.release

    def parse_range(self, expression: str) -> SpecifierSet:
        blank_check(expression, "every final release (an empty specifier set)")
        if not any(part.strip() for part in expression.split(",")):
            raise RangeError("a range made only of commas is refused: it would select every version")
        try:
            return SpecifierSet(expression)
        except InvalidSpecifier as e:
            raise RangeError(f"not a valid PEP 440 specifier set ({e})") from None

    def contains(self, rng: SpecifierSet, v: Version, include_prerelease: bool) -> bool:
        return rng.contains(v, prereleases=True if include_prerelease else None)

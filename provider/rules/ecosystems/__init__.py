"""Per-ecosystem version semantics: ordering, prerelease detection and native ranges.

Each format has one small module that follows its ecosystem's reference implementation (see
docs/specs.md, "Ecosystems"); tests/test_version_conformance.py compares every module with
fixtures produced by the references themselves (scripts/refresh-version-fixtures).

The order used for keep_latest and for listing decisions is a strict total order: the
reference's comparison first; versions the reference holds equal (Maven `1.0` and `1.0.0`) are
then ordered by their text; versions the ecosystem cannot parse sort before every valid version
(by text), and never match a `range` or a `prerelease` condition.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional

from provider.rules.ecosystems._base import Ecosystem, RangeError
from provider.rules.ecosystems.cargo import Cargo
from provider.rules.ecosystems.generic import Generic
from provider.rules.ecosystems.maven import Maven
from provider.rules.ecosystems.npm import Npm
from provider.rules.ecosystems.nuget import Nuget
from provider.rules.ecosystems.pypi import Pypi
from provider.rules.ecosystems.ruby import Ruby
from provider.rules.ecosystems.swift import Swift

ECOSYSTEMS: dict[str, Ecosystem[Any, Any]] = {
    e.name: e for e in (Npm(), Pypi(), Maven(), Nuget(), Cargo(), Ruby(), Swift(), Generic())}

__all__ = ["ECOSYSTEMS", "Ecosystem", "RangeError", "Range", "compare", "is_prerelease", "parse",
           "parse_range", "release_group", "sort_key", "sort_versions"]


@functools.lru_cache(maxsize=65536)
def parse(fmt: str, version: str) -> Any:
    """The ecosystem's parsed version, or None if it does not accept the string."""
    return ECOSYSTEMS[fmt].parse(version)


def compare(fmt: str, a: str, b: str) -> int:
    """The total order: -1, 0 (only for the same text) or 1."""
    pa, pb = parse(fmt, a), parse(fmt, b)
    if pa is not None and pb is not None:
        c = ECOSYSTEMS[fmt].compare(pa, pb)
        if c:
            return 1 if c > 0 else -1
    elif (pa is None) != (pb is None):
        return -1 if pa is None else 1
    return (a > b) - (a < b)


def sort_key(fmt: str) -> Callable[[str], Any]:
    return functools.cmp_to_key(lambda a, b: compare(fmt, a, b))


def sort_versions(fmt: str, versions: list[str]) -> list[str]:
    """Oldest first, in the ecosystem's order (total; see the module docstring)."""
    return sorted(versions, key=sort_key(fmt))


def is_prerelease(fmt: str, version: str) -> Optional[bool]:
    """True or False by the ecosystem's rule; None for a version it cannot parse."""
    p = parse(fmt, version)
    return None if p is None else ECOSYSTEMS[fmt].is_prerelease(p)


class Range:
    """A parsed range of one ecosystem (construction raises RangeError with the reason)."""

    __slots__ = ("fmt", "expression", "include_prerelease", "_parsed")

    def __init__(self, fmt: str, expression: str, include_prerelease: bool = False) -> None:
        eco = ECOSYSTEMS[fmt]
        if include_prerelease and not eco.include_prerelease_mode:
            raise RangeError(f"{fmt} ranges have no include-prerelease mode in their reference ({eco.reference}); "
                             f"name the prerelease in the range instead")
        self.fmt, self.expression, self.include_prerelease = fmt, expression, include_prerelease
        self._parsed = eco.parse_range(expression)

    def __contains__(self, version: str) -> bool:
        p = parse(self.fmt, version)
        return p is not None and ECOSYSTEMS[self.fmt].contains(self._parsed, p, self.include_prerelease)


@functools.lru_cache(maxsize=4096)
def parse_range(fmt: str, expression: str, include_prerelease: bool = False) -> Range:
    """A Range; raises RangeError naming the reason (cached: specs repeat their ranges)."""
    return Range(fmt, expression, include_prerelease)


def release_group(fmt: str, version: str, per: str) -> tuple[Any, ...]:
    """The keep_latest group: () overall, (major,) or (major, minor); versions the ecosystem cannot
    parse form one group of their own."""
    if per == "all":
        return ()
    p = parse(fmt, version)
    if p is None:
        return ("unparseable",)
    parts = tuple(ECOSYSTEMS[fmt].release(p)) + (0, 0)
    return parts[:1] if per == "major" else parts[:2]

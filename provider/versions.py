"""Ecosystem-aware version ordering, prerelease detection, ranges and major/minor grouping.

Built on `univers` (no hand-written comparators): npm, Cargo, Swift and generic use semver
(Cargo and npm with their native range syntaxes; Swift and generic with npm's comparator syntax),
PyPI uses PEP 440, Maven uses Maven's ordering and ranges, NuGet uses NuGet's, RubyGems uses
Gem's. A version string its ecosystem cannot parse still has a place in the order: after every
parseable version, by plain string comparison, so the order stays total.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering
from typing import Any, Callable

from univers import version_range as R
from univers import versions as V

_MAVEN_PRE = re.compile(r"(alpha|beta|milestone|preview|snapshot|rc|cr|ea|dev|(?<![a-z])m\d+|(?<![a-z])[ab]\d+)",
                        re.IGNORECASE)


@dataclass(frozen=True)
class Ecosystem:
    version_class: type[Any]
    range_class: type[Any]
    prerelease: Callable[[Any], bool]


def _semver_pre(v: Any) -> bool:
    return bool(v.value.prerelease)


ECOSYSTEMS: dict[str, Ecosystem] = {
    "npm": Ecosystem(V.SemverVersion, R.NpmVersionRange, _semver_pre),
    "cargo": Ecosystem(V.SemverVersion, R.CargoVersionRange, _semver_pre),
    "swift": Ecosystem(V.SemverVersion, R.NpmVersionRange, _semver_pre),
    "generic": Ecosystem(V.SemverVersion, R.NpmVersionRange, _semver_pre),
    "pypi": Ecosystem(V.PypiVersion, R.PypiVersionRange, lambda v: bool(v.value.is_prerelease)),
    "maven": Ecosystem(V.MavenVersion, R.MavenVersionRange, lambda v: bool(_MAVEN_PRE.search(str(v)))),
    "nuget": Ecosystem(V.NugetVersion, R.NugetVersionRange, lambda v: "-" in str(v.value)),
    "ruby": Ecosystem(V.RubygemsVersion, R.GemVersionRange, lambda v: bool(v.value.prerelease())),
}


def parse(fmt: str, version: str) -> Any:
    """The univers version object, or None if the ecosystem cannot parse it."""
    try:
        return ECOSYSTEMS[fmt].version_class(version)
    except Exception:  # univers raises a mix of InvalidVersion, ValueError, TypeError
        return None


@total_ordering
class SortKey:
    """A total order over one ecosystem's version strings."""

    __slots__ = ("parsed", "raw")

    def __init__(self, fmt: str, raw: str) -> None:
        self.parsed = parse(fmt, raw)
        self.raw = raw

    def _tuple(self) -> tuple[int, str]:
        return (0 if self.parsed is not None else 1, self.raw)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SortKey):
            return NotImplemented
        if self.parsed is not None and other.parsed is not None:
            return bool(self.parsed == other.parsed) and self.raw == other.raw
        return self._tuple() == other._tuple()

    def __lt__(self, other: "SortKey") -> bool:
        if self.parsed is not None and other.parsed is not None:
            if self.parsed == other.parsed:  # e.g. "1.0" and "1.0.0": tie-break on the text
                return self.raw < other.raw
            return bool(self.parsed < other.parsed)
        return self._tuple() < other._tuple()

    def __hash__(self) -> int:
        return hash(self.raw)


def sort_versions(fmt: str, versions: list[str]) -> list[str]:
    """Oldest first, in the ecosystem's order."""
    return sorted(versions, key=lambda v: SortKey(fmt, v))


def is_prerelease(fmt: str, version: str) -> bool:
    parsed = parse(fmt, version)
    if parsed is None:
        return bool(re.search(r"[-+]|[a-zA-Z]", version))
    return ECOSYSTEMS[fmt].prerelease(parsed)


def parse_range(fmt: str, expression: str) -> Any:
    """A univers range from the ecosystem's native syntax; ValueError with the reason if invalid."""
    try:
        return ECOSYSTEMS[fmt].range_class.from_native(expression)
    except Exception as e:
        raise ValueError(f"{expression!r} is not a valid {fmt} version range: {e}") from None


def in_range(fmt: str, version: str, rng: Any) -> bool:
    parsed = parse(fmt, version)
    if parsed is None:
        return False
    try:
        return bool(parsed in rng)
    except Exception:
        return False


def release_group(fmt: str, version: str, per: str) -> tuple[str, ...]:
    """The group a version belongs to for keep-latest: ('',) overall, (major,) or (major, minor)."""
    if per == "all":
        return ("",)
    parsed = parse(fmt, version)
    parts: list[str]
    if parsed is None:
        parts = re.split(r"[.\-+]", version)
    elif fmt == "pypi":
        parts = [str(p) for p in parsed.value.release]
    elif hasattr(parsed, "major") and isinstance(getattr(parsed, "major"), int):
        parts = [str(parsed.major), str(parsed.minor)]
    else:
        parts = re.split(r"[.\-+]", str(parsed))
    parts = (parts + ["0", "0"])[:2]
    return (parts[0],) if per == "major" else (parts[0], parts[1])

"""SemVer 2.0.0 versions and precedence, shared by npm, Cargo and Swift (each adds its own
parsing rules and ranges)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Union

Ident = Union[int, str]

NUM = r"0|[1-9]\d*"
PRE_ID = r"(?:\d*[A-Za-z-][0-9A-Za-z-]*|0|[1-9]\d*)"
BUILD_ID = r"[0-9A-Za-z-]+"
PRE = rf"(?:-({PRE_ID}(?:\.{PRE_ID})*))"
BUILD = rf"(?:\+({BUILD_ID}(?:\.{BUILD_ID})*))"
STRICT = re.compile(rf"({NUM})\.({NUM})\.({NUM}){PRE}?{BUILD}?")
MAX_SAFE_INTEGER = 2**53 - 1


@dataclass(frozen=True)
class SemVer:
    major: int
    minor: int
    patch: int
    pre: tuple[Ident, ...] = ()
    build: tuple[str, ...] = ()

    @property
    def release(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)


def _ident(s: str) -> Ident:
    return int(s) if s.isdigit() else s


def from_match(m: "re.Match[str]", offset: int = 1) -> SemVer:
    major, minor, patch, pre, build = m.group(offset, offset + 1, offset + 2, offset + 3, offset + 4)
    return SemVer(int(major), int(minor), int(patch),
                  tuple(_ident(p) for p in pre.split(".")) if pre else (),
                  tuple(build.split(".")) if build else ())


def parse_strict(text: str) -> Optional[SemVer]:
    m = STRICT.fullmatch(text)
    return from_match(m) if m else None


def compare_pre(a: tuple[Ident, ...], b: tuple[Ident, ...]) -> int:
    """SemVer 2.0 precedence of prerelease tuples: none beats any; numeric < alphanumeric;
    numbers by value, text by ASCII; a shorter prefix is lower."""
    if not a or not b:
        return (not a) - (not b)
    for x, y in zip(a, b):
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int):
            return -1 if x < y else 1
        if isinstance(x, int):
            return -1
        if isinstance(y, int):
            return 1
        return -1 if x < y else 1
    return (len(a) > len(b)) - (len(a) < len(b))


def compare(a: SemVer, b: SemVer) -> int:
    """Precedence (build metadata ignored)."""
    if a.release != b.release:
        return -1 if a.release < b.release else 1
    return compare_pre(a.pre, b.pre)


class SemVerFamily:
    """Precedence, prerelease flag and release parts shared by the SemVer ecosystems (npm, Cargo,
    Swift); each adds its own parsing and ranges (Cargo also orders build metadata)."""

    def compare(self, a: SemVer, b: SemVer) -> int:
        return compare(a, b)

    def is_prerelease(self, v: SemVer) -> bool:
        return bool(v.pre)

    def release(self, v: SemVer) -> tuple[int, ...]:
        return v.release

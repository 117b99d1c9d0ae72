"""Cargo: versions and requirements as the Rust `semver` crate (1.0, what Cargo uses) reads them.

A requirement is comma-separated comparators that must all hold: `=`, `>`, `>=`, `<`, `<=`, `~`,
`^` (the default when no operator is given) and wildcards (`*`, `1.*`, `1.2.*`). Prereleases: a
version with a prerelease tag matches only when some comparator has the same major.minor.patch
and a prerelease tag itself (the crate has no include-prerelease switch, so neither do we).
Order: SemVer precedence, then build metadata, as the crate's `Ord` for `Version`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from provider.rules.ecosystems import _semver
from provider.rules.ecosystems._base import Ecosystem, RangeError, blank_check
from provider.rules.ecosystems._semver import SemVer, SemVerFamily

_OPS = ("<=", ">=", "=", "<", ">", "~", "^")
_NUM = re.compile(r"0|[1-9]\d*")
_WILD = ("*", "x", "X")
_IDENT = re.compile(r"[0-9A-Za-z-]+")


@dataclass(frozen=True)
class Comparator:
    op: str  # one of _OPS, or "wild"
    major: int
    minor: Optional[int]
    patch: Optional[int]
    pre: tuple[_semver.Ident, ...]


def _cmp_pre(a: tuple[_semver.Ident, ...], b: tuple[_semver.Ident, ...]) -> int:
    return _semver.compare_pre(a, b)


def _exact(c: Comparator, v: SemVer) -> bool:
    return (v.major == c.major and (c.minor is None or v.minor == c.minor)
            and (c.patch is None or v.patch == c.patch) and v.pre == c.pre)


def _greater(c: Comparator, v: SemVer) -> bool:
    if v.major != c.major:
        return v.major > c.major
    if c.minor is None:
        return False
    if v.minor != c.minor:
        return v.minor > c.minor
    if c.patch is None:
        return False
    if v.patch != c.patch:
        return v.patch > c.patch
    return _cmp_pre(v.pre, c.pre) > 0


def _less(c: Comparator, v: SemVer) -> bool:
    if v.major != c.major:
        return v.major < c.major
    if c.minor is None:
        return False
    if v.minor != c.minor:
        return v.minor < c.minor
    if c.patch is None:
        return False
    if v.patch != c.patch:
        return v.patch < c.patch
    return _cmp_pre(v.pre, c.pre) < 0


def _tilde(c: Comparator, v: SemVer) -> bool:
    if v.major != c.major or (c.minor is not None and v.minor != c.minor):
        return False
    if c.patch is not None and v.patch != c.patch:
        return v.patch > c.patch
    return _cmp_pre(v.pre, c.pre) >= 0


def _caret(c: Comparator, v: SemVer) -> bool:
    if v.major != c.major:
        return False
    if c.minor is None:
        return True
    if c.patch is None:
        return v.minor >= c.minor if c.major > 0 else v.minor == c.minor
    if c.major > 0:
        if v.minor != c.minor:
            return v.minor > c.minor
        if v.patch != c.patch:
            return v.patch > c.patch
    elif c.minor > 0:
        if v.minor != c.minor:
            return False
        if v.patch != c.patch:
            return v.patch > c.patch
    elif v.minor != c.minor or v.patch != c.patch:
        return False
    return _cmp_pre(v.pre, c.pre) >= 0


def _matches(c: Comparator, v: SemVer) -> bool:
    if c.op == "wild":
        return v.major == c.major and (c.minor is None or v.minor == c.minor)
    if c.op == ">=":
        return _exact(c, v) or _greater(c, v)
    if c.op == "<=":
        return _exact(c, v) or _less(c, v)
    return {"=": _exact, ">": _greater, "<": _less, "~": _tilde, "^": _caret}[c.op](c, v)


def _parse_comparator(text: str) -> Comparator:
    s = text.strip()
    op = next((o for o in _OPS if s.startswith(o)), "")
    s = s[len(op):].lstrip()
    if not s:
        raise RangeError("unexpected end of input while parsing major version number")
    parts: list[Optional[int]] = []
    wild = False
    rest = s
    for position in ("major", "minor", "patch"):
        if rest[:1] in _WILD:
            wild = True
            parts.append(None)
            rest = rest[1:]
        else:
            m = _NUM.match(rest)
            digits = re.match(r"\d+", rest)
            if not m or (digits and digits.group() != m.group()):
                what = f"invalid leading zero in {position} version number" if digits else \
                    (f"unexpected character {rest[:1]!r} while parsing {position} version number" if rest else
                     f"unexpected end of input while parsing {position} version number")
                raise RangeError(what)
            if wild:
                raise RangeError(f"unexpected character after wildcard in {position} version number")
            parts.append(int(m.group()))
            rest = rest[m.end():]
        if not rest.startswith(".") or position == "patch":
            break
        rest = rest[1:]
    pre: tuple[_semver.Ident, ...] = ()
    if rest.startswith("-"):
        if len(parts) < 3 or wild:
            raise RangeError("unexpected character '-' after a partial version")
        ids = rest[1:].split("+", 1)[0].split(".")
        if not all(_IDENT.fullmatch(i) and not (i.isdigit() and len(i) > 1 and i[0] == "0") for i in ids):
            raise RangeError(f"invalid prerelease {rest[1:]!r}")
        pre = tuple(int(i) if i.isdigit() else i for i in ids)
        rest = rest[1 + len(".".join(ids)):]
    if rest.startswith("+"):
        if len(parts) < 3 or not all(_IDENT.fullmatch(i) for i in rest[1:].split(".")):
            raise RangeError(f"invalid build metadata {rest!r}")
        rest = ""
    if rest:
        raise RangeError(f"unexpected character {rest[:1]!r} after patch version number"
                         if rest[:1] != " " else f"expected comma after patch version number, found {rest.strip()[:1]!r}")
    if parts[0] is None:
        if op:
            raise RangeError("unexpected operator before a wildcard")
        return Comparator("wild", -1, None, None, ())
    major = parts[0]
    minor = parts[1] if len(parts) > 1 else None
    patch = parts[2] if len(parts) > 2 else None
    if wild:
        if op not in ("", "="):
            raise RangeError("unexpected operator before a wildcard")
        return Comparator("wild", major, minor, None, ())
    return Comparator(op or "^", major, minor, patch, pre)


@dataclass(frozen=True)
class CargoReq:
    comparators: tuple[Comparator, ...]


class Cargo(SemVerFamily, Ecosystem[SemVer, CargoReq]):
    name = "cargo"
    reference = "Rust semver crate 1.0 (Version, VersionReq)"
    range_syntax = "Cargo requirements: `>=1.2, <2`, `^1.2`, `~1.2.3`, `1.*`"

    def parse(self, version: str) -> Optional[SemVer]:
        return _semver.parse_strict(version)

    def compare(self, a: SemVer, b: SemVer) -> int:
        c = _semver.compare(a, b)
        if c:
            return c
        return _cmp_build(a.build, b.build)

    def parse_range(self, expression: str) -> CargoReq:
        blank_check(expression, "nothing (Cargo refuses it)")
        pieces = expression.split(",")
        comps = tuple(_parse_comparator(p) for p in pieces)
        if len(comps) > 1 and any(c.op == "wild" and c.major < 0 for c in comps):
            raise RangeError("wildcard req (*) must be the only comparator in the version req")
        return CargoReq(comps)

    def contains(self, rng: CargoReq, v: SemVer, include_prerelease: bool) -> bool:
        if not all(c.major < 0 or _matches(c, v) for c in rng.comparators):
            return False
        if not v.pre:
            return True
        return any(c.op != "wild" and c.major == v.major and c.minor == v.minor and c.patch == v.patch and c.pre
                   for c in rng.comparators)


def _cmp_build(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """The semver crate's BuildMetadata order: none first; identifiers numeric (by value, then by
    length) before alphanumeric (by text); a shorter prefix first."""
    if not a or not b:
        return (len(a) > 0) - (len(b) > 0)
    for x, y in zip(a, b):
        if x == y:
            continue
        xd, yd = x.isdigit(), y.isdigit()
        if xd and yd:
            xs, ys = x.lstrip("0"), y.lstrip("0")
            key_x, key_y = (len(xs), xs, len(x)), (len(ys), ys, len(y))
            return -1 if key_x < key_y else 1
        if xd != yd:
            return -1 if xd else 1
        return -1 if x < y else 1
    return (len(a) > len(b)) - (len(a) < len(b))

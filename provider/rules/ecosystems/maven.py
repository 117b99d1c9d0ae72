"""Maven: maven-artifact 3.9's `ComparableVersion` order and `VersionRange` ranges.

Order: the version is split into items at `.`, `-` and digit/letter transitions; numbers compare
as numbers; qualifiers alpha < beta < milestone < rc (= cr) < snapshot < "" (= ga, final,
release) < sp < any other qualifier (alphabetically); `a1`/`b1`/`m1` mean alpha/beta/milestone;
trailing zero items and release qualifiers are dropped, so `1.0.RELEASE` == `1.0` == `1`.
Prerelease (Maven has no such flag; ours, computed with Maven's order): a version that sorts
before its leading numeric part, e.g. `1.0-rc1` < `1.0`; `1.0-sp1`, `1.0-jre`, `5.3.0.RELEASE`
are releases. Ranges: `[1.0,2.0)`, `(,1.0]`, `[1.0]`, unions `[1,2),[3,)`; prereleases inside the
bounds are included, as Maven does. Refused besides what Maven refuses: a bare version such as
`1.0`, which Maven reads as a soft requirement that every version satisfies (write `[1.0]`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Union

from provider.rules.ecosystems._base import Ecosystem, RangeError, blank_check

_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_RELEASE_INDEX = "5"


class _Str:
    __slots__ = ("value",)

    def __init__(self, value: str, followed_by_digit: bool) -> None:
        if followed_by_digit and len(value) == 1:
            value = {"a": "alpha", "b": "beta", "m": "milestone"}.get(value, value)
        self.value = _ALIASES.get(value, value)

    @property
    def comparable(self) -> str:
        return str(_QUALIFIERS.index(self.value)) if self.value in _QUALIFIERS else f"{len(_QUALIFIERS)}-{self.value}"

    def is_null(self) -> bool:
        return self.comparable == _RELEASE_INDEX


class _List(list["Item"]):
    def is_null(self) -> bool:
        return not self

    def normalize(self) -> None:
        for i in range(len(self) - 1, -1, -1):
            item = self[i]
            if _is_null(item):
                del self[i]
            elif not isinstance(item, _List):
                break


Item = Union[int, _Str, _List]


def _is_null(item: Item) -> bool:
    return item == 0 if isinstance(item, int) else item.is_null()


def _cmp_str(a: str, b: str) -> int:
    return (a > b) - (a < b)


def _compare(a: Optional[Item], b: Optional[Item]) -> int:
    """ComparableVersion's item comparison; None stands for a missing item (padding)."""
    if a is None:
        return 0 if b is None else -_compare(b, None)
    if isinstance(a, int):
        if b is None:
            return 1 if a else 0
        if isinstance(b, int):
            return (a > b) - (a < b)
        return 1  # a number beats a qualifier and a sub-list
    if isinstance(a, _Str):
        if b is None:
            return _cmp_str(a.comparable, _RELEASE_INDEX)
        if isinstance(b, _Str):
            return _cmp_str(a.comparable, b.comparable)
        return -1
    if b is None:
        for item in a:
            r = _compare(item, None)
            if r:
                return r
        return 0
    if isinstance(b, int):
        return -1
    if isinstance(b, _Str):
        return 1
    for i in range(max(len(a), len(b))):
        left = a[i] if i < len(a) else None
        right = b[i] if i < len(b) else None
        r = (0 if right is None else -_compare(right, left)) if left is None else _compare(left, right)
        if r:
            return r
    return 0


def _item(is_digit: bool, buf: str) -> Item:
    return int(buf) if is_digit else _Str(buf, False)


def parse_items(version: str) -> _List:
    text = version.lower()
    items = _List()
    lst = items
    stack = [lst]
    is_digit = False
    start = 0

    def push() -> _List:
        nonlocal lst
        new = _List()
        lst.append(new)
        lst = new
        stack.append(new)
        return new

    for i, c in enumerate(text):
        if c == ".":
            lst.append(0 if i == start else _item(is_digit, text[start:i]))
            start = i + 1
        elif c == "-":
            lst.append(0 if i == start else _item(is_digit, text[start:i]))
            start = i + 1
            push()
        elif "0" <= c <= "9":
            if not is_digit and i > start:
                if lst:
                    push()
                lst.append(_Str(text[start:i], True))
                start = i
                push()
            is_digit = True
        else:
            if is_digit and i > start:
                lst.append(_item(True, text[start:i]))
                start = i
                push()
            is_digit = False
    if len(text) > start:
        if not is_digit and lst:
            push()
        lst.append(_item(is_digit, text[start:]))
    while stack:
        stack.pop().normalize()
    return items


@dataclass(frozen=True)
class MavenVersion:
    raw: str
    items: _List


@dataclass(frozen=True)
class Restriction:
    lower: Optional[MavenVersion]
    lower_inclusive: bool
    upper: Optional[MavenVersion]
    upper_inclusive: bool


_NUMERIC_PREFIX = re.compile(r"^[0-9]+(\.[0-9]+)*")


class Maven(Ecosystem[MavenVersion, tuple[Restriction, ...]]):
    name = "maven"
    reference = "maven-artifact 3.9 (ComparableVersion, VersionRange)"
    range_syntax = "Maven ranges: `[1.0,2.0)`, `(,1.0]`, `[1.0]`, `[1,2),[3,)`"

    def parse(self, version: str) -> Optional[MavenVersion]:
        return MavenVersion(version, parse_items(version))  # Maven orders every string

    def compare(self, a: MavenVersion, b: MavenVersion) -> int:
        return _compare(a.items, b.items)

    def is_prerelease(self, v: MavenVersion) -> bool:
        m = _NUMERIC_PREFIX.match(v.raw)
        return _compare(v.items, parse_items(m.group() if m else "")) < 0

    def release(self, v: MavenVersion) -> tuple[int, ...]:
        out: list[int] = []
        for item in v.items:
            if not isinstance(item, int):
                break
            out.append(item)
        return tuple(out)

    def _restriction(self, spec: str) -> Restriction:
        lower_inc, upper_inc = spec.startswith("["), spec.endswith("]")
        body = spec[1:-1].strip()
        if "," not in body:
            if not (lower_inc and upper_inc):
                raise RangeError(f"Single version must be surrounded by []: {spec}")
            v = self.parse(body)
            return Restriction(v, True, v, True)
        lo_text, hi_text = (s.strip() for s in body.split(",", 1))
        lo = self.parse(lo_text) if lo_text else None
        hi = self.parse(hi_text) if hi_text else None
        if lo is not None and hi is not None:
            r = self.compare(hi, lo)
            if r < 0 or (r == 0 and not (lower_inc and upper_inc)):
                raise RangeError(f"Range defies version ordering: {spec}")
        return Restriction(lo, lower_inc, hi, upper_inc)

    def parse_range(self, expression: str) -> tuple[Restriction, ...]:
        blank_check(expression, "no version at all (Maven)")
        spec = expression
        rest = spec
        out: list[Restriction] = []
        upper: Optional[MavenVersion] = None
        while rest.startswith(("[", "(")):
            close = [i for i in (rest.find(")"), rest.find("]")) if i >= 0]
            if not close:
                raise RangeError(f"Unbounded range: {spec}")
            index = min(close)
            r = self._restriction(rest[:index + 1])
            if out and upper is not None and (r.lower is None or self.compare(r.lower, upper) < 0):
                raise RangeError(f"Ranges overlap: {spec}")
            out.append(r)
            upper = r.upper
            rest = rest[index + 1:].strip()
            if rest.startswith(","):
                rest = rest[1:].strip()
        if rest:
            if out:
                raise RangeError(f"Only fully-qualified sets allowed in multiple set scenario: {spec}")
            hint = f"[{rest}] or [{rest}) for a range" if "," in rest else \
                f"[{rest}] for exactly that version or [{rest},) for it and newer"
            raise RangeError(f"{spec!r} is a soft requirement in Maven, which every version satisfies; write {hint}")
        return tuple(out)

    def contains(self, rng: tuple[Restriction, ...], v: MavenVersion, include_prerelease: bool) -> bool:
        for r in rng:
            if r.lower is not None:
                c = self.compare(r.lower, v)
                if c > 0 or (c == 0 and not r.lower_inclusive):
                    continue
            if r.upper is not None:
                c = self.compare(r.upper, v)
                if c < 0 or (c == 0 and not r.upper_inclusive):
                    continue
            return True
        return False

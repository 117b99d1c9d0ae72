"""generic: any text is a version, ordered naturally as GNU `sort -V` orders it.

Runs of digits compare as numbers (`1.2.3.10` > `1.2.3.9`, `build-100` > `build-99`, calver and
dates work), other characters compare letters before non-letters, `~` sorts before everything
(even the end: `1.0~rc1` < `1.0`), and a trailing file-name-like suffix (`.tar`, `.rc1`) is
compared last, as `sort -V` does; ties are broken by the bytes. Prerelease (our documented
convention; generic packages have no standard): a `~`, or a `-`/`.` followed by a letter-led
part, e.g. `2.0-rc1`, `2024.01-beta`, `1.0.alpha`. Ranges: whitespace-separated comparators that
must all hold (`>=1.2 <2`, `=1.0`, `!=1.0`), `||` between alternatives, in this order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from provider.rules.ecosystems._base import Ecosystem, RangeError, blank_check


def _order(s: str, pos: int) -> int:
    if pos == len(s):
        return 0
    c = s[pos]
    if c.isascii() and c.isdigit():
        return 0
    if c.isascii() and c.isalpha():
        return ord(c)
    if c == "~":
        return -1
    return ord(c) + 256


def _verrevcmp(a: str, b: str) -> int:
    """Debian's version comparison as gnulib's filevercmp uses it."""
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac, bc = _order(a, i), _order(b, j)
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and j < len(b) and a[i].isdigit() and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def _prefix_len(s: str) -> int:
    """Length without the trailing suffix of `.X...` parts (X a letter or `~`), as filevercmp."""
    prefix = 0
    i = 0
    n = len(s)
    while True:
        if i == n:
            return prefix
        i += 1
        prefix = i
        while i + 1 < n and s[i] == "." and (s[i + 1].isascii() and (s[i + 1].isalpha() or s[i + 1] == "~")):
            i += 2
            while i < n and (s[i].isascii() and (s[i].isalnum() or s[i] == "~")):
                i += 1


def filevercmp(a: str, b: str) -> int:
    if not a or not b:
        return (len(a) > 0) - (len(b) > 0)
    if a[0] == "." or b[0] == ".":
        if a[0] != b[0]:
            return -1 if a[0] == "." else 1
    pa, pb = _prefix_len(a), _prefix_len(b)
    one_pass = pa == len(a) and pb == len(b)
    r = _verrevcmp(a[:pa], b[:pb])
    if r or one_pass:
        return r
    return _verrevcmp(a, b)


_PRE = re.compile(r"~|[-.][A-Za-z]")
_COMPARATOR = re.compile(r"(>=|<=|!=|>|<|=)?(\S+)")


@dataclass(frozen=True)
class GenericRange:
    alternatives: tuple[tuple[tuple[str, str], ...], ...]


class Generic(Ecosystem[str, GenericRange]):
    name = "generic"
    reference = "GNU sort -V (coreutils filevercmp)"
    range_syntax = "comparators in natural order: `>=1.2 <2`, `=1.0`, `!=1.0`, `||`"

    def parse(self, version: str) -> Optional[str]:
        return version

    def compare(self, a: str, b: str) -> int:
        r = filevercmp(a, b)
        return (r > 0) - (r < 0)

    def is_prerelease(self, v: str) -> bool:
        return bool(_PRE.search(v))

    def release(self, v: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", v)[:3])

    def parse_range(self, expression: str) -> GenericRange:
        blank_check(expression, "nothing")
        alternatives = []
        for alt in expression.split("||"):
            comps = []
            for token in alt.replace(">= ", ">=").replace("<= ", "<=").replace("> ", ">").replace(
                    "< ", "<").replace("!= ", "!=").replace("= ", "=").split():
                m = _COMPARATOR.fullmatch(token)
                if not m or m.group(2)[0] in "<>=!":
                    raise RangeError(f"{token!r} is not a comparator (>=, <=, >, <, =, != then a version)")
                comps.append((m.group(1) or "=", m.group(2)))
            if not comps:
                raise RangeError(f"{expression!r} has an empty alternative")
            alternatives.append(tuple(comps))
        return GenericRange(tuple(alternatives))

    def contains(self, rng: GenericRange, v: str, include_prerelease: bool) -> bool:
        def ok(op: str, bound: str) -> bool:
            c = self.compare(v, bound)
            return {"=": c == 0, "!=": c != 0, ">": c > 0, "<": c < 0, ">=": c >= 0, "<=": c <= 0}[op]
        return any(all(ok(op, b) for op, b in alt) for alt in rng.alternatives)

"""npm: versions and ranges as npm's own `semver` package (7.x) reads them, strict mode.

Ranges: `||` of comparator sets; each set is desugared (hyphen, caret, tilde, X-ranges, stars)
into primitive comparators that must all hold. Prereleases: a version with a prerelease tag
satisfies a set only when some comparator of that set names the same major.minor.patch with a
prerelease, unless the rule opts in with `include_prerelease` (semver's `includePrerelease`).
Refused: what semver refuses, and blank ranges (semver reads them as `*`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from provider.rules.ecosystems import _semver
from provider.rules.ecosystems._base import Ecosystem, RangeError, blank_check
from provider.rules.ecosystems._semver import BUILD, NUM, PRE, SemVer, SemVerFamily

XID = rf"{NUM}|x|X|\*"
XPLAIN = rf"[v=\s]*({XID})(?:\.({XID})(?:\.({XID}){PRE}?{BUILD}?)?)?"
FULLPLAIN = rf"v?({NUM})\.({NUM})\.({NUM}){PRE}?{BUILD}?"
_HYPHEN = re.compile(rf"^\s*({XPLAIN})\s+-\s+({XPLAIN})\s*$")
_BUILD = re.compile(BUILD)
_OP_SPACE = re.compile(r"(\s*)((?:<|>)?=?)\s*(?=[v=\s]*(?:\d|[xX*]))")
_TILDE_TRIM = re.compile(r"(\s*)~>?\s+")
_CARET_TRIM = re.compile(r"(\s*)\^\s+")
_CARET = re.compile(rf"^\^{XPLAIN}$")
_TILDE = re.compile(rf"^~>?{XPLAIN}$")
_XRANGE = re.compile(rf"^((?:<|>)?=?)\s*{XPLAIN}$")
_STAR = re.compile(r"(<|>)?=?\s*\*")
_COMPARATOR = re.compile(rf"^((?:<|>)?=?)\s*({FULLPLAIN})$|^$")
NULL_SET = "<0.0.0-0"


def _is_x(part: Optional[str]) -> bool:
    return not part or part.lower() == "x" or part == "*"


def _any_minor(M: str, mi: Optional[str], z: str) -> Optional[str]:
    """`~`/`^` with a wildcard major (anything) or minor (that major), else None."""
    if _is_x(M):
        return ""
    if _is_x(mi):
        return f">={M}.0.0{z} <{int(M) + 1}.0.0-0"
    return None


def _tilde(comp: str, z: str) -> str:
    m = _TILDE.match(comp)
    if not m:
        return comp
    M, mi, p, pr = m.group(1, 2, 3, 4)
    if (wide := _any_minor(M, mi, z)) is not None:
        return wide
    if _is_x(p):
        return f">={M}.{mi}.0{z} <{M}.{int(mi) + 1}.0-0"
    lo = f"{M}.{mi}.{p}-{pr}" if pr else f"{M}.{mi}.{p}"
    return f">={lo} <{M}.{int(mi) + 1}.0-0"


def _caret(comp: str, z: str) -> str:
    m = _CARET.match(comp)
    if not m:
        return comp
    M, mi, p, pr = m.group(1, 2, 3, 4)
    if (wide := _any_minor(M, mi, z)) is not None:
        return wide
    if _is_x(p):
        upper = f"{M}.{int(mi) + 1}.0-0" if M == "0" else f"{int(M) + 1}.0.0-0"
        return f">={M}.{mi}.0{z} <{upper}"
    lo = f"{M}.{mi}.{p}-{pr}" if pr else f"{M}.{mi}.{p}"
    if M != "0":
        upper = f"{int(M) + 1}.0.0-0"
    elif mi != "0":
        upper = f"{M}.{int(mi) + 1}.0-0"
    else:
        upper = f"{M}.{mi}.{int(p) + 1}-0"
    return f">={lo} <{upper}"


def _xrange(comp: str, include_pre: bool) -> str:
    comp = comp.strip()
    m = _XRANGE.match(comp)
    if not m:
        return comp
    op, M, mi, p = m.group(1, 2, 3, 4)
    if (_is_x(M) and not _is_x(mi)) or (_is_x(mi) and p and not _is_x(p)):
        return comp
    xM = _is_x(M)
    xm = xM or _is_x(mi)
    xp = xm or _is_x(p)
    if op == "=" and xp:
        op = ""
    pr = "-0" if include_pre else ""
    if xM:
        return NULL_SET if op in (">", "<") else "*"
    if op and xp:
        major, minor, patch = int(M), 0 if xm else int(mi), 0
        if op == ">":
            op = ">="
            if xm:
                major, minor = major + 1, 0
            else:
                minor += 1
        elif op == "<=":
            op = "<"
            if xm:
                major += 1
            else:
                minor += 1
        if op == "<":
            pr = "-0"
        return f"{op}{major}.{minor}.{patch}{pr}"
    if xm:
        return f">={M}.0.0{pr} <{int(M) + 1}.0.0-0"
    if xp:
        return f">={M}.{mi}.0{pr} <{M}.{int(mi) + 1}.0-0"
    return comp


def _hyphen(m: "re.Match[str]", include_pre: bool) -> str:
    # Groups: 1 whole from, 2-4 from M.m.p, 5 from pre, 6 build; 7 whole to, 8-10 to M.m.p, 11 pre.
    frm, fM, fm, fp, fpr = m.group(1, 2, 3, 4, 5)
    to, tM, tm, tp, tpr = m.group(7, 8, 9, 10, 11)
    z = "-0" if include_pre else ""
    if _is_x(fM):
        lo = ""
    elif _is_x(fm):
        lo = f">={fM}.0.0{z}"
    elif _is_x(fp):
        lo = f">={fM}.{fm}.0{z}"
    elif fpr:
        lo = f">={frm}"
    else:
        lo = f">={frm}{z}"
    if _is_x(tM):
        hi = ""
    elif _is_x(tm):
        hi = f"<{int(tM) + 1}.0.0-0"
    elif _is_x(tp):
        hi = f"<{tM}.{int(tm) + 1}.0-0"
    elif tpr:
        hi = f"<={tM}.{tm}.{tp}-{tpr}"
    elif include_pre:
        hi = f"<{tM}.{tm}.{int(tp) + 1}-0"
    else:
        hi = f"<={to}"
    return f"{lo} {hi}".strip()


@dataclass(frozen=True)
class Comparator:
    op: str  # "", "<", ">", "<=", ">="; "" with version None is "any"
    version: Optional[SemVer]

    @property
    def key(self) -> str:
        v = self.version
        if v is None:
            return ""
        pre = "-" + ".".join(str(p) for p in v.pre) if v.pre else ""
        return f"{self.op}{v.major}.{v.minor}.{v.patch}{pre}"

    def test(self, v: SemVer) -> bool:
        if self.version is None:
            return True
        c = _semver.compare(v, self.version)
        return {"": c == 0, "<": c < 0, ">": c > 0, "<=": c <= 0, ">=": c >= 0}[self.op]


def _comparator(text: str) -> Comparator:
    m = _COMPARATOR.match(text)
    if not m:
        raise RangeError(f"invalid comparator {text!r}")
    if not m.group(0):
        return Comparator("", None)
    op = m.group(1)
    v = SemVer(int(m.group(3)), int(m.group(4)), int(m.group(5)),
               tuple(int(p) if p.isdigit() else p for p in m.group(6).split(".")) if m.group(6) else ())
    if max(v.release) > _semver.MAX_SAFE_INTEGER:
        raise RangeError(f"invalid comparator {text!r}: number too large")
    return Comparator("" if op == "=" else op, v)


def _parse_set(text: str, include_pre: bool) -> list[Comparator]:
    text = _BUILD.sub("", text)
    h = _HYPHEN.match(text)
    if h:
        text = _hyphen(h, include_pre)
    text = _OP_SPACE.sub(lambda m: m.group(1) + m.group(2), text)
    text = _TILDE_TRIM.sub(lambda m: m.group(1) + "~", text)
    text = _CARET_TRIM.sub(lambda m: m.group(1) + "^", text)
    z = "-0" if include_pre else ""
    pieces: list[str] = []
    for comp in text.split(" "):
        comp = _BUILD.sub("", comp)
        comp = " ".join(_caret(c, z) for c in comp.strip().split())
        comp = " ".join(_tilde(c, z) for c in comp.strip().split())
        comp = " ".join(_xrange(c, include_pre) for c in comp.split())
        comp = _STAR.sub("", comp.strip(), count=1)
        pieces.append(comp)
    gte0 = ">=0.0.0-0" if include_pre else ">=0.0.0"
    items = ["" if c.strip() == gte0 else c.strip() for c in re.split(r"\s+", " ".join(pieces))]
    comparators: dict[str, Comparator] = {}
    for item in items:
        c = _comparator(item)
        if c.key == NULL_SET:
            return [c]
        comparators[c.key] = c
    if len(comparators) > 1:
        comparators.pop("", None)
    return list(comparators.values())


@dataclass(frozen=True)
class NpmRange:
    expression: str
    sets: tuple[tuple[Comparator, ...], ...]
    sets_pre: tuple[tuple[Comparator, ...], ...]


def _parse_sets(raw: str, include_pre: bool) -> tuple[tuple[Comparator, ...], ...]:
    sets = [s for s in (_parse_set(part.strip(), include_pre) for part in raw.split("||")) if s]
    if not sets:
        raise RangeError("no comparator set")
    if len(sets) > 1:
        first = sets[0]
        sets = [s for s in sets if s[0].key != NULL_SET] or [first]
        for s in sets:
            if len(s) == 1 and s[0].version is None:
                sets = [s]
                break
    return tuple(tuple(s) for s in sets)


def _test_set(comparators: tuple[Comparator, ...], v: SemVer, include_pre: bool) -> bool:
    if not all(c.test(v) for c in comparators):
        return False
    if v.pre and not include_pre:
        return any(c.version is not None and c.version.pre and c.version.release == v.release
                   for c in comparators)
    return True


class Npm(SemVerFamily, Ecosystem[SemVer, NpmRange]):
    name = "npm"
    reference = "npm semver 7.x (strict)"
    include_prerelease_mode = True
    range_syntax = "npm ranges: `>=1.2.0 <2`, `^1.2`, `~1.2.3`, `1.x`, `1.0.0 - 2.0.0`, `||`"
    _full = re.compile(rf"^{FULLPLAIN}$")

    def parse(self, version: str) -> Optional[SemVer]:
        text = version.strip()
        if len(text) > 256:
            return None
        m = self._full.match(text)
        if not m:
            return None
        v = _semver.from_match(m)
        if max(v.release) > _semver.MAX_SAFE_INTEGER:
            return None
        return v

    def parse_range(self, expression: str) -> NpmRange:
        blank_check(expression, "every version (npm reads a blank range as `*`)")
        raw = re.sub(r"\s+", " ", expression.strip())
        if not raw.replace("|", "").strip():
            raise RangeError("a range made only of `||` is refused: npm reads it as `*` (every version)")
        try:
            return NpmRange(expression, _parse_sets(raw, False), _parse_sets(raw, True))
        except RangeError as e:
            raise RangeError(f"not a valid npm range ({e})") from None

    def contains(self, rng: NpmRange, v: SemVer, include_prerelease: bool) -> bool:
        sets = rng.sets_pre if include_prerelease else rng.sets
        return any(_test_set(s, v, include_prerelease) for s in sets)

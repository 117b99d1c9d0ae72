"""RubyGems: `Gem::Version` order and `Gem::Requirement` as RubyGems 3 reads them.

A version is digits then `.`-separated alphanumeric parts (a `-` means `.pre.`); it is a
prerelease when it contains a letter. Order: numeric and text segments, trailing zeros dropped,
text before numbers (`1.0.a` < `1.0`). A range is a comma-separated list of requirements, as in a
gemspec (`>= 1.0, < 2`): `=`, `!=`, `>`, `<`, `>=`, `<=`, `~>` (pessimistic: `~> 1.2` means
`>= 1.2` and a release below 2). Requirements match prereleases like any version, as RubyGems'
`satisfied_by?` does. A blank range is refused (RubyGems reads it as `>= 0`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Union

from provider.rules.ecosystems._base import Ecosystem, RangeError, blank_check

_VERSION = r"[0-9]+(?>\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?"
_ANCHORED = re.compile(rf"\A\s*({_VERSION})?\s*\Z")
_REQUIREMENT = re.compile(rf"\A\s*(=|!=|>|<|>=|<=|~>)?\s*({_VERSION})\s*\Z")
Segment = Union[int, str]


@dataclass(frozen=True)
class GemVersion:
    text: str  # normalized as RubyGems does: stripped, '-' -> '.pre.'

    @property
    def segments(self) -> list[Segment]:
        return [int(s) if s.isdigit() else s for s in re.findall(r"[0-9]+|[a-z]+", self.text, re.IGNORECASE)]

    @property
    def canonical(self) -> list[Segment]:
        segs = self.segments
        split = next((i for i, s in enumerate(segs) if isinstance(s, str)), len(segs))
        out: list[Segment] = []
        for part in (segs[:split], segs[split:]):
            while part and part[-1] == 0:
                part = part[:-1]
            out.extend(part)
        return out

    def release(self) -> "GemVersion":
        segs = self.segments
        while any(isinstance(s, str) for s in segs):
            segs.pop()
        return GemVersion(".".join(str(s) for s in segs))

    def bump(self) -> "GemVersion":
        segs = self.segments
        while any(isinstance(s, str) for s in segs):
            segs.pop()
        if len(segs) > 1:
            segs.pop()
        last = segs[-1]
        assert isinstance(last, int)
        segs[-1] = last + 1
        return GemVersion(".".join(str(s) for s in segs))


def gem_compare(a: GemVersion, b: GemVersion) -> int:
    if a.text == b.text:
        return 0
    left, right = a.canonical, b.canonical
    if left == right:
        return 0
    for i in range(max(len(left), len(right))):
        x: Segment = left[i] if i < len(left) else 0
        y: Segment = right[i] if i < len(right) else 0
        if x == y:
            continue
        if isinstance(x, str) and isinstance(y, int):
            return -1
        if isinstance(x, int) and isinstance(y, str):
            return 1
        return -1 if x < y else 1  # type: ignore[operator]
    return 0


@dataclass(frozen=True)
class Requirement:
    op: str
    version: GemVersion

    def satisfied_by(self, v: GemVersion) -> bool:
        c = gem_compare(v, self.version)
        if self.op == "~>":
            return c >= 0 and gem_compare(v.release(), self.version.bump()) < 0
        return {"=": c == 0, "!=": c != 0, ">": c > 0, "<": c < 0, ">=": c >= 0, "<=": c <= 0}[self.op]


def _ruby_split(text: str) -> list[str]:
    """Ruby's String#split(","): trailing empty fields dropped."""
    parts = text.split(",")
    while parts and parts[-1] == "":
        parts.pop()
    return parts


class Ruby(Ecosystem[GemVersion, tuple[Requirement, ...]]):
    name = "ruby"
    reference = "RubyGems 3 (Gem::Version, Gem::Requirement)"
    range_syntax = "RubyGems requirements: `~> 1.2`, `>= 1.0, < 2`, `!= 1.1`"

    def parse(self, version: str) -> Optional[GemVersion]:
        if not version.strip() or not _ANCHORED.match(version):
            return None  # RubyGems reads "" as "0"; a CodeArtifact version is never blank
        return GemVersion(version.strip().replace("-", ".pre."))

    def compare(self, a: GemVersion, b: GemVersion) -> int:
        return gem_compare(a, b)

    def is_prerelease(self, v: GemVersion) -> bool:
        return bool(re.search(r"[a-zA-Z]", v.text))

    def release(self, v: GemVersion) -> tuple[int, ...]:
        return tuple(s for s in v.release().segments if isinstance(s, int))

    def parse_range(self, expression: str) -> tuple[Requirement, ...]:
        blank_check(expression, "every version (RubyGems reads it as `>= 0`)")
        out = []
        for part in dict.fromkeys(_ruby_split(expression)):
            m = _REQUIREMENT.match(part)
            if not m:
                raise RangeError(f"Illformed requirement [{part!r}]")
            out.append(Requirement(m.group(1) or "=", GemVersion(m.group(2).strip().replace("-", ".pre."))))
        if not out:
            raise RangeError("a range made only of commas is refused: RubyGems reads it as `>= 0`")
        return tuple(out)

    def contains(self, rng: tuple[Requirement, ...], v: GemVersion, include_prerelease: bool) -> bool:
        return all(r.satisfied_by(v) for r in rng)

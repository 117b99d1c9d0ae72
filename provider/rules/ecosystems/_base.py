"""What every ecosystem module provides, and the total order built on top of it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Generic, Optional, TypeVar

P = TypeVar("P")  # a parsed version
R = TypeVar("R")  # a parsed range


class RangeError(ValueError):
    """A range the ecosystem refuses (or that we refuse because it would mislead); the message
    is the reason, phrased for the spec author."""


class Ecosystem(ABC, Generic[P, R]):
    """One ecosystem's version semantics: parsing, precedence, prerelease and ranges.

    `compare` returns <0, 0, >0 like the reference's own comparator; 0 means the reference holds
    the two versions equal (e.g. Maven `1.0` and `1.0.0`), which the total order in
    `provider.rules.ecosystems.compare` then breaks by text."""

    name: str = ""
    reference: str = ""
    #: True when the reference has an include-prerelease switch for ranges (npm, packaging).
    include_prerelease_mode: bool = False
    range_syntax: str = ""

    @abstractmethod
    def parse(self, version: str) -> Optional[P]:
        """The parsed version, or None when the ecosystem does not accept the string."""

    @abstractmethod
    def compare(self, a: P, b: P) -> int: ...

    @abstractmethod
    def is_prerelease(self, v: P) -> bool: ...

    @abstractmethod
    def release(self, v: P) -> tuple[int, ...]:
        """The numeric release components (major, minor, ...) used for keep_latest groups."""

    @abstractmethod
    def parse_range(self, expression: str) -> R:
        """Raises RangeError with the reason when the range is refused."""

    @abstractmethod
    def contains(self, rng: R, v: P, include_prerelease: bool) -> bool: ...


def blank_check(expression: str, every: str) -> None:
    """Blank ranges are refused everywhere: in most ecosystems they silently select every version
    (npm, RubyGems) or none (Maven), which is never what a status rule means."""
    if not expression.strip():
        raise RangeError(f"an empty range is refused: in this ecosystem it would select {every}; "
                         f"write the versions you mean, or leave `range` out to match every version")


def sign(n: int) -> int:
    return (n > 0) - (n < 0)

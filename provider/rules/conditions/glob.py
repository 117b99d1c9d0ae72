"""`glob: '4.*'` (or a list): shell-style patterns on the version text."""

from __future__ import annotations

import fnmatch
from typing import Any, Optional, Union

from provider.rules.conditions._base import Condition
from provider.rules.live import LiveVersion


def patterns(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _matches(_fmt: str, value: Any, _m: Any, v: LiveVersion, _now: float) -> bool:
    return any(fnmatch.fnmatchcase(v.version, g) for g in patterns(value))


CONDITION = Condition("glob", Optional[Union[str, list[str]]], "shell-style patterns, e.g. '4.*'", _matches,
                      active=lambda value: bool(patterns(value)))

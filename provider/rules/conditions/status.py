"""`status: [..]`: only versions currently in one of these statuses. Evaluated after keep_latest
ranks the versions (so which versions a rule keeps does not depend on what rules did); the rule's
own target status is always admitted too (`Rule.considers`)."""

from __future__ import annotations

from typing import Any, Optional

from provider._core.model import SelectableStatus
from provider.rules.conditions._base import Condition
from provider.rules.live import LiveVersion


def _matches(_fmt: str, value: Any, _m: Any, v: LiveVersion, _now: float) -> bool:
    return v.status in value


CONDITION = Condition("status", Optional[list[SelectableStatus]],
                      "only versions currently in one of these statuses (the rule's own target status is always "
                      "admitted too, so what the rule moved stays selected)", _matches, static=False)

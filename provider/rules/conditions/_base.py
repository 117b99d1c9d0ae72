"""What a `match` condition is: one registered unit carrying everything about it.

A condition is the `match` field it is written as, its type and doc line (the spec schema and
docs/specs.md come from them), its predicate, an optional check of its value against the format,
an optional bulk step that fetches the data it needs through a reader (e.g. published times, at
the fewest reads), the snapshot fields it needs (`plan --live` refuses a snapshot without them),
and the API actions it needs beyond the listing (`iam-policy` grants them only where it is used).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Callable, Mapping, Optional

from provider.rules.live import LiveVersion

# Published times (epoch seconds; None when the service gives none) for the given versions.
Reader = Callable[[list[str]], dict[str, Optional[float]]]
# (format, rules using the condition, live listing, now, reader, "the rule's other conditions hold")
Prepare = Callable[[str, list[Any], dict[str, LiveVersion], float, Reader, Callable[[Any, LiveVersion], bool]],
                   dict[str, LiveVersion]]


def _is_set(value: Any) -> bool:
    return value is not None


@dataclass(frozen=True)
class Condition:
    field: str  # the `match` field, e.g. "range"
    annotation: Any  # its type in the spec (pydantic)
    doc: str  # one line: the schema description and the docs' table
    # Whether ``version`` satisfies the condition set to ``value``: (format, value, the whole match,
    # version, now). Called only when ``active(value)``.
    matches: Callable[[str, Any, Any, LiveVersion, float], bool]
    default: Any = None
    constraints: Mapping[str, Any] = dc_field(default_factory=dict)  # pydantic Field() keywords (ge=0, ...)
    # A problem with the value for this format (or with the match as a whole), or None.
    check: Optional[Callable[[str, Any, Any], Optional[str]]] = None
    prepare: Optional[Prepare] = None  # the bulk step, run once per package for the rules using it
    needs: frozenset[str] = frozenset()  # snapshot version fields it reads (e.g. "published_time")
    actions: tuple[str, ...] = ()  # IAM actions it needs beyond ListPackageVersions
    static: bool = True  # False: evaluated after keep_latest ranks the versions (`status`)
    active: Callable[[Any], bool] = _is_set  # whether a value sets the condition
    # The statuses a rule using it may decide (None: any), and why not others (the spec error).
    targets: Optional[frozenset[str]] = None
    targets_why: str = ""
    evidence: Optional[str] = None  # the spec-level evidence it reads ("downloads"), checked at plan time
    # Whether a rule with this value never selects a version that has just entered its status (a
    # time in status): a chain into such a rule waits, so the spec's chain check allows it.
    delays: Callable[[Any], bool] = lambda _value: False

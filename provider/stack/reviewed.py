"""Apply what was reviewed: the strict GitOps mode.

With `CODEARTIFACT_STATUS_REVIEWED=plan.json` (the plan file a pull request's preview wrote with
`CODEARTIFACT_STATUS_PLAN`, the same file its summary was made from), `pulumi up` makes only the
status changes listed in it (same version, same from and to status). Every other change the rules
would make now (a version published after the review, a change of someone else's that the rules
would undo) is not made: it is reported as "awaiting review", and the next preview and the daily
drift check show it. A package fails closed (nothing applied for it) when a reviewed change can no
longer be made as reviewed (the version moved since, or the rules now decide otherwise), or when a
version the review listed as kept in use would now be changed (the `in_use` evidence changed
between the review and the apply).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Protocol

from provider.rules.expand import Decision, LiveVersion

ENV = "CODEARTIFACT_STATUS_REVIEWED"
AWAITING = "awaiting review"


class ReviewError(Exception):
    """The reviewed plan file cannot be used; nothing is applied."""


@dataclass(frozen=True)
class Reviewed:
    changes: frozenset[tuple[str, str, str, str]]  # (package label, version, from, to)
    kept: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)  # label -> version -> files


def load(path: str) -> Reviewed:
    """Reads a plan file; raises ReviewError naming the file and what is wrong."""
    try:
        doc = json.loads(Path(path).read_text())
    except OSError as e:
        raise ReviewError(f"{ENV}={path}: cannot be read: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise ReviewError(f"{ENV}={path}: not a plan file (invalid JSON at line {e.lineno})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("changes"), dict):
        raise ReviewError(f"{ENV}={path}: not a plan file (no `changes` map); write it with "
                          f"CODEARTIFACT_STATUS_PLAN=plan.json pulumi preview")
    changes = set()
    for label, versions in doc["changes"].items():
        for v, c in (versions or {}).items():
            if not isinstance(c, dict) or not {"from", "to"} <= set(c):
                raise ReviewError(f"{ENV}={path}: changes.{label}.{v}: needs `from` and `to`")
            changes.add((str(label), str(v), str(c["from"]), str(c["to"])))
    kept = {str(label): {str(v): tuple(files or ()) for v, files in (vs or {}).items()}
            for label, vs in (doc.get("kept_in_use") or {}).items()}
    return Reviewed(frozenset(changes), kept)


class Planned(Protocol):
    label: str
    live: dict[str, LiveVersion]
    decisions: dict[str, Decision]
    problems: list[str]


@dataclass
class Restricted:
    awaiting: dict[str, dict[str, str]] = field(default_factory=dict)  # label -> version -> "from -> to (rule)"
    failed: dict[str, list[str]] = field(default_factory=dict)  # label -> why it fails closed this run


def restrict(plans: list[Any], reviewed: Reviewed) -> Restricted:
    """Keeps only reviewed changes in ``plans`` (in place) and returns the changes held back. A
    package whose reviewed change cannot be made as reviewed, or that would change a version the
    review kept in use, gets those problems instead (``failed``; it is then registered as failing,
    and nothing is applied for it)."""
    out = Restricted()
    awaiting = out.awaiting
    by_label: dict[str, list[tuple[str, str, str]]] = {}
    for label, v, frm, to in reviewed.changes:
        by_label.setdefault(label, []).append((v, frm, to))
    for p in plans:
        if p.problems:
            continue
        problems = []
        for v, frm, to in sorted(by_label.get(p.label, [])):
            live, d = p.live.get(v), p.decisions.get(v)
            if live is None or live.status != frm or d is None or d.status != to:
                now = "gone" if live is None else f"now {live.status}" + (
                    f", decided {d.status}" if d is not None else ", no longer managed")
                problems.append(f"{p.label}@{v}: the reviewed change {frm} -> {to} can no longer be made as "
                                f"reviewed ({now}); nothing is applied for this package: review it again")
        kept = reviewed.kept.get(p.label, {})
        for v, d in p.decisions.items():
            live = p.live.get(v)
            if live is None or live.status == d.status or v not in kept:
                continue
            problems.append(f"{p.label}@{v}: the review kept it in use (by {', '.join(kept[v][:3])}), but it would "
                            f"now become {d.status}: the `in_use` evidence changed since the review; nothing is "
                            f"applied for this package: review it again")
        if problems:
            p.problems.extend(problems)
            p.decisions.clear()
            out.failed[p.label] = problems
            continue
        mine = {(v, frm, to) for v, frm, to in by_label.get(p.label, [])}
        for v, d in list(p.decisions.items()):
            live = p.live.get(v)
            if live is None or live.status == d.status or (v, live.status, d.status) in mine:
                continue
            awaiting.setdefault(p.label, {})[v] = f"{live.status} -> {d.status} ({d.rule})"
            p.decisions[v] = Decision(live.status, AWAITING, "awaiting-review")
    return out

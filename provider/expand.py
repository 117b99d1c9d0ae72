"""Rule expansion: spec + a read-only listing of live versions -> desired status per version.

Pure and deterministic: the same spec and live data always give the same decisions, in the
ecosystem's version order. Precedence (documented in docs/specs.md):

1. ``protected`` versions are never changed: no rule touches them, and an explicit status for one
   is an error.
2. Explicit ``versions:`` entries beat every rule.
3. Rules: among the rules that decide a version, the highest ``priority`` wins. Two rules at the
   same priority deciding different statuses for one version is an error naming both; deciding
   the same status is fine (the first in file order is recorded as the decider).
4. ``keep_latest`` leaves the newest N matching versions (overall, per major or per minor, in the
   ecosystem's order) out of its rule.
5. Rules only consider versions currently Published, Unlisted or Archived (or those listed in
   ``match.status``); Disposed versions are final and never candidates.
6. Versions no rule or entry decides are not managed: they are left as they are.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Callable, Optional

from .rules import ecosystems as eco
from .spec import Match, PackageSpec, Rule

SETTABLE = frozenset({"Published", "Unlisted", "Archived"})
DAY = 86400.0


@dataclass(frozen=True)
class LiveVersion:
    version: str
    status: str
    revision: str
    published: Optional[float] = None  # epoch seconds; fetched only when a rule needs it
    origin: Optional[str] = None  # INTERNAL | EXTERNAL | UNKNOWN, where the listing says


@dataclass(frozen=True)
class Decision:
    status: str
    rule: str  # "explicit", "rule:<name>"


class ExpansionError(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def matches_protected(version: str, patterns: list[str]) -> bool:
    return any(version == p or fnmatch.fnmatchcase(version, p) for p in patterns)


def allowed_statuses(rule: Rule) -> frozenset[str]:
    """The current statuses a rule considers: its `match.status` (default Published, Unlisted,
    Archived) plus its own target status, so that a version the rule moved stays selected by it
    (and managed) while the rule still wants it: applying a plan and planning again changes nothing."""
    return frozenset(rule.match.status or SETTABLE) | {rule.status}


def matches_static(fmt: str, m: Match, v: LiveVersion, now: float) -> bool:
    """Every condition but `status`: what does not change when statuses change."""
    if m.versions is not None and v.version not in m.versions:
        return False
    globs = m.globs()
    if globs and not any(fnmatch.fnmatchcase(v.version, g) for g in globs):
        return False
    if m.prerelease is not None and eco.is_prerelease(fmt, v.version) is not m.prerelease:
        return False  # a version the ecosystem cannot parse is neither a prerelease nor a release
    if m.range is not None and v.version not in eco.parse_range(fmt, m.range, m.include_prerelease):
        return False
    if m.older_than_days is not None:
        if v.published is None or now - v.published <= m.older_than_days * DAY:
            return False
    if m.origin is not None and v.origin not in m.origin:
        return False
    return True


def unmatched_patterns(pkg: PackageSpec, live: dict[str, LiveVersion]) -> list[tuple[tuple[object, ...], str]]:
    """Version patterns that select no live version: a `protected` entry (which then protects
    nothing), and `match.versions` / `match.glob` entries of a rule. (location, message) each."""
    out: list[tuple[tuple[object, ...], str]] = []
    for i, p in enumerate(pkg.protected):
        if not any(v == p or fnmatch.fnmatchcase(v, p) for v in live):
            out.append((("protected", i), f"protected[{i}]: {p!r} matches no version of the package, so it protects "
                                          f"nothing (protected takes exact versions or shell globs such as '4.*', "
                                          f"not ranges)"))
    for i, r in enumerate(pkg.rules):
        for j, v in enumerate(r.match.versions or []):
            if v not in live:
                out.append((("rules", i, "match", "versions", j),
                            f"rules[{i}].match.versions[{j}]: version {v!r} does not exist in the repository"))
        for j, g in enumerate(r.match.globs()):
            if not any(fnmatch.fnmatchcase(v, g) for v in live):
                out.append((("rules", i, "match", "glob"), f"rules[{i}].match.glob: {g!r} matches no version"))
    return out


def needs_published_time(pkg: PackageSpec) -> bool:
    return any(r.match.older_than_days is not None for r in pkg.rules)


def rule_targets(fmt: str, rule: Rule, live: dict[str, LiveVersion], now: float) -> list[str]:
    """The versions a rule decides, before precedence. keep_latest ranks the versions that match
    every condition but `status` (whatever their current status), so which versions a rule keeps
    never changes because of what the rule itself, or any other, did; then the status filter."""
    static = [v for v in eco.sort_versions(fmt, list(live)) if matches_static(fmt, rule.match, live[v], now)]
    kept: set[str] = set()
    keep = rule.keep()
    if keep is not None and keep.count:
        groups: dict[tuple[object, ...], list[str]] = {}
        for v in static:  # oldest first
            groups.setdefault(eco.release_group(fmt, v, keep.per), []).append(v)
        kept = {v for members in groups.values() for v in members[-keep.count:]}
    allowed = allowed_statuses(rule)
    return [v for v in static if v not in kept and live[v].status in allowed]


def expand(pkg: PackageSpec, live: dict[str, LiveVersion], now: float,
           where: Callable[[tuple[object, ...]], str] = lambda loc: "") -> dict[str, Decision]:
    """Desired status per managed version. Raises ExpansionError listing every problem, each
    prefixed by ``where(loc)`` (the spec file and line)."""
    fmt = pkg.format
    problems: list[str] = []
    protected = {v for v in live if matches_protected(v, pkg.protected)}
    decisions: dict[str, Decision] = {}
    for v, status in pkg.versions.items():
        if v in protected:
            problems.append(f"{where(('versions', v))}versions.{v}: {v} is protected; it cannot also have an "
                            f"explicit status")
        elif v not in live:
            problems.append(f"{where(('versions', v))}versions.{v}: version {v} does not exist in the repository")
        elif live[v].status == "Disposed" and status != "Disposed":
            problems.append(f"{where(('versions', v))}versions.{v}: {v} is Disposed (irreversible); it cannot "
                            f"become {status}")
        else:
            decisions[v] = Decision(status, "explicit")
    by_rule: dict[str, list[tuple[int, int, Rule]]] = {}
    for idx, rule in enumerate(pkg.rules):
        for v in rule_targets(fmt, rule, live, now):
            if v in protected or v in decisions:
                continue
            by_rule.setdefault(v, []).append((rule.priority, idx, rule))
    for v, claims in by_rule.items():
        top = max(p for p, _, _ in claims)
        winners = [(i, r) for p, i, r in claims if p == top]
        statuses = {r.status for _, r in winners}
        if len(statuses) > 1:
            (i1, r1) = min(winners, key=lambda t: t[0])
            (i2, r2) = min((w for w in winners if w[1].status != r1.status), key=lambda t: t[0])
            problems.append(
                f"{where(('rules', i1))}rules[{i1}]: version {v}: rule '{r1.name}' decides {r1.status} but rule "
                f"'{r2.name}' (rules[{i2}]) decides {r2.status} at the same priority {top}; give one of them a "
                f"higher priority")
            continue
        winner = min(winners, key=lambda t: t[0])[1]
        decisions[v] = Decision(winner.status, f"rule:{winner.name}")
    if problems:
        raise ExpansionError(problems)
    return {v: decisions[v] for v in eco.sort_versions(fmt, list(decisions))}

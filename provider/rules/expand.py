"""Rule expansion: spec + a read-only listing of live versions -> desired status per version.

Pure and deterministic: the same spec and live data always give the same decisions, in the
ecosystem's version order. Precedence (documented in docs/specs.md):

1. ``protected`` versions are never changed: no rule touches them, and an explicit status for one
   is an error. Versions in use (referenced by the package's ``in_use`` SBOMs and lockfiles) are
   protected the same way, except that an explicit status that does not retire them (Published)
   is allowed.
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

import dataclasses
import fnmatch
import math
from dataclasses import dataclass
from typing import Callable, Mapping, Optional

from provider._core.model import RETIRING_STATUSES, DecisionKind
from provider.rules import ecosystems as eco
from provider.rules import conditions
from provider.rules.live import DAY, LiveVersion
from provider.rules.spec import Match, PackageSpec, Rule

__all__ = ["DAY", "Decision", "Describe", "ExpansionError", "LiveVersion", "by_publish_time", "consumers_text",
           "expand", "kept_in_use", "matches_protected", "matches_static", "prepare", "resolve_ages",
           "rule_targets", "unmatched_patterns"]


@dataclass(frozen=True)
class Decision:
    """One version's decided status. ``kind`` is what decided it (data the program and the
    resources act on); ``rule`` says it for people: "explicit", "rule:<name>", "restore (removed
    from specs)", "restore (no longer selected)" or "awaiting review"."""

    status: str
    rule: str
    kind: DecisionKind = "explicit"


class ExpansionError(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def matches_protected(version: str, patterns: list[str]) -> bool:
    return any(version == p or fnmatch.fnmatchcase(version, p) for p in patterns)


def matches_static(fmt: str, m: Match, v: LiveVersion, now: float) -> bool:
    """Every condition but `status` (what does not change when statuses change): each registered
    condition that the rule sets must hold."""
    return all(c.matches(fmt, getattr(m, c.field), m, v, now) for c in conditions.static()
               if c.active(getattr(m, c.field)))


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


def by_publish_time(live: dict[str, LiveVersion], versions: list[str]) -> list[str]:
    """Oldest first by publish time: the listing's order (newest first) reversed, which is also
    what a snapshot records (`publish_rank`), so equal published times are ordered as the service
    lists them, live and offline alike; versions with a published time but no rank (a hand-written
    snapshot) by that time, equal times in the order given (``versions`` is in version order, so
    the higher version counts as newer); unknown ones count as oldest."""
    def key(v: str) -> tuple[float, float]:
        lv = live[v]
        if lv.rank is not None:
            return (0.0, -float(lv.rank))
        return (1.0 if lv.published is not None else 0.0, lv.published or 0.0)
    return sorted(versions, key=key)


Describe = conditions.Reader


def prepare(pkg: PackageSpec, live: dict[str, LiveVersion], now: float, describe: Describe) -> \
        dict[str, LiveVersion]:
    """Runs each condition's bulk step (e.g. the age condition's published-time reads) for the
    package's rules: the listing with what the conditions need filled in, at the fewest reads."""
    for c in conditions.REGISTRY.values():
        if c.prepare is not None:
            rules = [r for r in pkg.rules if c.active(getattr(r.match, c.field))]
            if rules:
                def others(r: Rule, lv: LiveVersion, _c: conditions.Condition = c) -> bool:
                    return lv.status in r.considers() and matches_static(
                        pkg.format, r.match.model_copy(update={_c.field: _c.default}), lv, now)
                live = c.prepare(pkg.format, rules, live, now, describe, others)
    return live


resolve_ages = prepare  # the name the program and tests used before conditions were registered


def rule_targets(fmt: str, rule: Rule, live: dict[str, LiveVersion], now: float) -> list[str]:
    """The versions a rule decides, before precedence. keep_latest ranks the versions that match
    every condition but `status` (whatever their current status), so which versions a rule keeps
    never changes because of what the rule itself, or any other, did; then the status filter."""
    static = [v for v in eco.sort_versions(fmt, list(live)) if matches_static(fmt, rule.match, live[v], now)]
    kept: set[str] = set()
    keep = rule.keep()
    if keep is not None and keep.count:
        ranked = static if keep.by == "version" else by_publish_time(live, static)
        groups: dict[tuple[object, ...], list[str]] = {}
        for v in ranked:  # oldest first
            groups.setdefault(eco.release_group(fmt, v, keep.per), []).append(v)
        kept = {v for members in groups.values() for v in members[-keep.count:]}
    allowed = rule.considers()
    return [v for v in static if v not in kept and live[v].status in allowed]


def consumers_text(files: tuple[str, ...], shown: int = 3) -> str:
    return ", ".join(files[:shown]) + (f" and {len(files) - shown} more" if len(files) > shown else "")


def kept_in_use(pkg: PackageSpec, live: dict[str, LiveVersion], now: float,
                in_use: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The versions in use that a rule would otherwise change (and nothing else protects or
    decides): version -> consumer files. What the preview and the PR summary report as kept."""
    if not in_use:
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for rule in pkg.rules:
        for v in rule_targets(pkg.format, rule, live, now):
            if v in in_use and live[v].status != rule.status and v not in pkg.versions \
                    and not matches_protected(v, pkg.protected):
                out[v] = in_use[v]
    return {v: out[v] for v in eco.sort_versions(pkg.format, list(out))}


def expand(pkg: PackageSpec, live: dict[str, LiveVersion], now: float,
           where: Callable[[tuple[object, ...]], str] = lambda loc: "",
           in_use: Mapping[str, tuple[str, ...]] = {}) -> dict[str, Decision]:
    """Desired status per managed version. ``in_use``: live versions the package's consumers use
    (version -> consumer files). Raises ExpansionError listing every problem, each prefixed by
    ``where(loc)`` (the spec file and line)."""
    fmt = pkg.format
    problems: list[str] = []
    protected = {v for v in live if matches_protected(v, pkg.protected)}
    decisions: dict[str, Decision] = {}
    for v, status in pkg.versions.items():
        if v in protected:
            problems.append(f"{where(('versions', v))}versions.{v}: {v} is protected; it cannot also have an "
                            f"explicit status")
        elif v in in_use and status in RETIRING_STATUSES and not (v in live and live[v].status == status):
            problems.append(f"{where(('versions', v))}versions.{v}: {v} is in use by {consumers_text(in_use[v])} "
                            f"(`in_use`); it cannot become {status}. Remove the entry, or retire it once no "
                            f"consumer references it")
        elif v not in live:
            problems.append(f"{where(('versions', v))}versions.{v}: version {v} does not exist in the repository")
        elif live[v].status == "Disposed" and status != "Disposed":
            problems.append(f"{where(('versions', v))}versions.{v}: {v} is Disposed (irreversible); it cannot "
                            f"become {status}")
        else:
            decisions[v] = Decision(status, "explicit", "explicit")
    by_rule: dict[str, list[tuple[int, int, Rule]]] = {}
    for idx, rule in enumerate(pkg.rules):
        for v in rule_targets(fmt, rule, live, now):
            if v in protected or v in decisions or v in in_use:
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
        decisions[v] = Decision(winner.status, f"rule:{winner.name}", "rule")
    if problems:
        raise ExpansionError(problems)
    return {v: decisions[v] for v in eco.sort_versions(fmt, list(decisions))}

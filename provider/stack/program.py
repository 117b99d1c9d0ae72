"""The stack program: specs/ -> resources.

1. Load and validate every spec file (all errors at once, each with file:line: field). On any
   error, no resource is registered, so nothing is applied.
2. List live versions read-only (and published times where an age rule needs them).
3. Expand rules deterministically into a desired status per version, with the rule that decided it.
4. Safety: Disposed needs the spec's `allow_dispose` and stack config `codeartifact:allowDispose`;
   the number of status changes must not exceed `codeartifact:maxChanges` (default 1000).
5. Register one batched `PackageVersionsStatus` per package (or one `PackageVersionStatus` per
   version where the spec says `resource: per-version`), and export a summary of planned changes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional

import pulumi
from pydantic import ValidationError

from provider._core import config
from provider._core.errors import ProviderError
from provider._core.model import (
    CONNECTION_FIELDS,
    DISPOSE_SPEC_OPT_IN,
    DISPOSE_STACK_OPT_IN,
    IDENTITY_FIELDS,
    PackageArgs,
    RepositoryArgs,
    dispose_missing,
    package_entry_key,
    package_key,
    validation_problems,
)
from provider._core.api import ListedPackage
from provider.package_version_status import PackageVersionStatus
from provider.package_versions_status import PackageVersionsStatus
from provider.repository_versions_status import RepositoryVersionsStatus
from provider.rules import conditions, spec
from provider.rules.evidence import downloads as evidence_downloads
from provider.rules.expand import (
    DAY,
    Decision,
    Describe,
    ExpansionError,
    LiveVersion,
    consumers_text,
    expand,
    kept_in_use,
    matches_protected,
    matches_static,
    rule_targets,
    prepare,
    unmatched_patterns,
)
from provider.stack.live import describe as live_describe
from provider.stack.live import list_packages, list_versions
from provider.stack.previous import PreviousState, StateUnavailable
from provider.stack.previous import read as read_previous
from provider.stack import reviewed
from provider.stack.restores import PACKAGE_FIELDS, Current, Orphan, package_record, plan_restores
from provider.status_ledger import LEDGER_NAME, StatusLedger, decoded

DEFAULT_MAX_CHANGES = 1000
LIST_WORKERS = 16  # concurrent listings: the 200/s ListPackageVersions budget at ~80 ms a call


@dataclass
class PackagePlan:
    file: Optional[spec.LoadedSpec]  # None for a package no longer in the specs (restores only)
    index: int
    pkg: spec.PackageSpec
    args: PackageArgs
    live: dict[str, LiveVersion]
    decisions: dict[str, Decision]
    problems: list[str] = field(default_factory=list)  # this package only: it is not planned
    warnings: list[str] = field(default_factory=list)
    in_use: dict[str, tuple[str, ...]] = field(default_factory=dict)  # live version -> consumer files
    kept: dict[str, tuple[str, ...]] = field(default_factory=dict)  # in use, so not changed by a rule
    policy: Optional[str] = None  # the repository policy that selected the package, if one did
    loc: tuple[Any, ...] = ()  # where in its file: ("packages", i) or ("policies", j)
    # Per changed version decided by a rule reading evidence: what the evidence said (its last
    # download and window, or since when it is in its status). Reported by preview, plan file, summary.
    evidence: dict[str, str] = field(default_factory=dict)
    # Versions an `in_status_for_days` rule would take but whose status time is only "first seen":
    # version -> why they wait (the clock started when this stack first saw them so).
    waiting: dict[str, str] = field(default_factory=dict)
    # Versions a `not_downloaded_for_days` rule would otherwise take, kept because the evidence shows
    # a counted download within its window: version -> that download.
    recent: dict[str, str] = field(default_factory=dict)

    @property
    def shape(self) -> str:
        """How its versions are registered: "batched", "per-version" or "repository"."""
        return self.pkg.resource

    def spec_line(self) -> str:
        """`file:line` of its entry or policy, for reports."""
        return f"{self.file.name}:{self.file.line(self.loc or ('packages', self.index))}" if self.file else ""

    @property
    def label(self) -> str:
        return self.args.package_label()

    def registered(self) -> dict[str, Decision]:
        """The decisions a resource carries: a version that is Disposed and declared Disposed is
        settled for good (nothing can ever change it), so it needs no resource and no opt-in."""
        return {v: d for v, d in self.decisions.items()
                if not (d.status == "Disposed" and self.live[v].status == "Disposed")}

    def changes(self) -> dict[str, dict[str, str]]:
        return {v: {"from": self.live[v].status, "to": d.status, "rule": d.rule}
                for v, d in self.decisions.items() if self.live[v].status != d.status}


def stack_config_from_pulumi() -> config.StackConfig:
    cfg = pulumi.Config("codeartifact")
    raw = {f"codeartifact:{k}": cfg.get(k) for k in config.CONFIG_KEYS}
    return config.StackConfig.from_pulumi(raw)


Listing = Callable[[PackageArgs], dict[str, LiveVersion]]


def no_describe(_args: PackageArgs) -> Describe:
    """For a snapshot: published times are in it or unknown; nothing is read."""
    return lambda versions: {}


Discovery = Callable[[RepositoryArgs], list[ListedPackage]]


@dataclass
class _Item:
    """One package to plan: from a `packages:` entry, or selected by a policy (``policy`` is then
    its index in the file), with where each part of its spec was written."""

    ls: spec.LoadedSpec
    loc: tuple[Any, ...]  # ("packages", i) or ("policies", j)
    pkg: spec.PackageSpec
    args: PackageArgs
    origins: spec.Origins = field(default_factory=dict)
    policy: Optional[str] = None
    entry: Optional[int] = None  # the package's own `packages:` entry, when a policy selects it
    problem: Optional[str] = None

    def where_loc(self, loc: tuple[Any, ...]) -> tuple[Any, ...]:
        """The spec-file location of ``loc`` (a path inside this package's effective spec)."""
        for n in (2, 1):
            if tuple(loc[:n]) in self.origins:
                return (*self.origins[tuple(loc[:n])], *loc[n:])
        return (*self.loc, *loc)


def _repository_key(domain: str, owner: Optional[str], repository: str) -> tuple[str, str, str]:
    return (domain, owner or "", repository)


def _items(loaded: list[spec.LoadedSpec], owner: Optional[str], discovery: Discovery,
           names: Mapping[tuple[Any, ...], str]) -> list[_Item]:
    """Every package to plan: each `packages:` entry, and each package a policy selects among
    those ListPackages reports (one listing per repository). A package two policies select, or
    whose effective spec is invalid for it, is an item with a problem (it alone is not planned).
    ``names``: (domain, repository, *package_key) -> the spelling this stack's state uses, so a
    package keeps its label (and its resources and originals) whichever spelling the specs use.
    Raises spec.SpecError when a repository with policies cannot be listed (nothing is then
    registered: which packages it holds is unknown)."""
    items: list[_Item] = []
    entries: dict[tuple[Any, ...], tuple[spec.LoadedSpec, int, spec.PackageSpec]] = {}
    policies: dict[tuple[str, str, str], list[tuple[spec.LoadedSpec, int, spec.PolicySpec]]] = {}
    for ls in loaded:
        repo_owner = ls.spec.domain_owner or owner or None
        rk = _repository_key(ls.spec.domain, repo_owner, ls.spec.repository)
        for i, pkg in enumerate(ls.spec.packages):
            entries[(*rk, *package_key(pkg.format, pkg.namespace, pkg.package))] = (ls, i, pkg)
        for j, pol in enumerate(ls.spec.policies):
            policies.setdefault(rk, []).append((ls, j, pol))
    taken: set[tuple[Any, ...]] = set()
    problems: list[str] = []
    for rk, pols in policies.items():
        ls0 = pols[0][0]
        repo = RepositoryArgs(domain=rk[0], domain_owner=rk[1] or None, repository=rk[2])
        try:
            listed = discovery(repo)
        except ProviderError as e:
            problems += [f"{ls.name}:{ls.line(('policies', j))}: policies[{j}] ({pol.name}): cannot list the packages "
                         f"of {rk[0]}/{rk[2]}: {e.failures[0].code}: {e.failures[0].detail}; nothing was registered "
                         f"or applied (which packages the policy covers is unknown)" for ls, j, pol in pols]
            continue
        for lp in listed:
            origin = {"publish": lp.publish, "upstream": lp.upstream}
            chosen = [(ls, j, pol) for ls, j, pol in pols if pol.select.selects(lp.format, lp.namespace, lp.package,
                                                                                 origin)]
            if not chosen:
                continue
            key = (*rk, *package_key(lp.format, lp.namespace, lp.package))
            entry = entries.get(key)
            name = names.get((rk[0], rk[2], *key[3:])) or (entry[2].package if entry else lp.package)
            namespace = (entry[2].namespace if entry else None) or lp.namespace
            ls, j, pol = chosen[0]
            args = PackageArgs(domain=rk[0], domain_owner=rk[1] or None, repository=rk[2], format=lp.format,
                               namespace=namespace, package=name, allow_dispose=False)
            item = _Item(ls, ("policies", j), spec.PackageSpec(format=lp.format, namespace=namespace, package=name),
                         args, policy=pol.name, entry=entry[1] if entry and entry[0] is ls else None)
            if entry is not None:
                taken.add(key)
            if len(chosen) > 1:
                item.problem = (f"{ls.name}:{ls.line(('policies', j))}: {args.package_label()}: selected by more than "
                                f"one policy: " + ", ".join(f"'{p.name}' ({l.name}:{l.line(('policies', k))})"
                                                            for l, k, p in chosen)
                                + "; make their `select` disjoint (e.g. with `exclude`)")
                items.append(item)
                continue
            try:
                item.pkg, item.origins = spec.effective_package(
                    pol, ("policies", j), lp.format, namespace, name,
                    entry[2] if entry else None, ("packages", entry[1]) if entry else ())
            except (ValidationError, ValueError) as e:
                detail = "; ".join(f"{'.'.join(str(x) for x in loc)}: {msg}" for loc, msg in validation_problems(e)) \
                    if isinstance(e, ValidationError) else str(e)
                item.problem = (f"{ls.name}:{ls.line(('policies', j))}: policies[{j}] ({pol.name}) for "
                                f"{args.package_label()}: {detail}")
            if entry is not None and entry[0] is not ls:
                item.problem = (f"{entry[0].name}:{entry[0].line(('packages', entry[1]))}: {args.package_label()}: "
                                f"its entry extends policy '{pol.name}' of another file ({ls.name}); declare the "
                                f"entry in the policy's file")
            item.args = item.args.model_copy(update={"allow_dispose": item.pkg.allow_dispose,
                                                     "restore_on_delete": item.pkg.restore_on_delete})
            items.append(item)
    if problems:
        raise spec.SpecError(problems)
    for key, (ls, i, pkg) in entries.items():
        if key in taken:
            continue
        items.append(_Item(ls, ("packages", i), pkg, PackageArgs(
            domain=key[0], domain_owner=key[1] or None, repository=key[2], format=pkg.format,
            namespace=pkg.namespace, package=pkg.package, allow_dispose=pkg.allow_dispose,
            restore_on_delete=pkg.restore_on_delete)))
    return items


def no_discovery(_repo: RepositoryArgs) -> list[ListedPackage]:
    return []


def plan(specs_dir: Path, now: Optional[float] = None, listing: Listing = list_versions,
         allow_dispose: Optional[bool] = None, default_owner: Optional[str] = None,
         isolate: bool = False, describing: Callable[[PackageArgs], Describe] = live_describe,
         loaded_out: Optional[list[spec.LoadedSpec]] = None, discovery: Discovery = list_packages,
         names: Mapping[tuple[Any, ...], str] = {},
         since: Mapping[str, Mapping[str, list[Any]]] = {}) -> list[PackagePlan]:
    """Loads specs and expands them against live data from ``listing`` (the service, or a saved
    snapshot for `python -m provider plan --live`); never writes. Policies select among the
    packages ``discovery`` lists (ListPackages). ``allow_dispose`` and ``default_owner`` default to
    the stack configuration.

    Spec-wide problems (YAML, schema, duplicate packages, a repository with policies that cannot
    be listed) raise spec.SpecError. A problem that concerns one package (a missing version or
    package, a rule conflict, a listing error, a missing dispose opt-in, two policies selecting
    it) raises too, with every problem found, unless ``isolate``: then that package's plan
    carries the problem (``PackagePlan.problems``) and the others are planned. Download evidence
    that does not cover a rule's window raises spec.SpecError before anything is listed.
    ``since``: the ledger's status times (label -> version -> [status, time, how])."""
    loaded = spec.load_dir(specs_dir)
    if loaded_out is not None:
        loaded_out.extend(loaded)  # every spec file, also those that declare no package
    now = time.time() if now is None else now
    uncovered = spec.evidence_problems(loaded, now)
    if uncovered:
        raise spec.SpecError(uncovered)
    plans: list[PackagePlan] = []
    stack = config.stack_config()
    owner = stack.domain_owner if default_owner is None else default_owner
    dispose_ok = stack.allow_dispose if allow_dispose is None else allow_dispose
    todo = _items(loaded, owner, discovery, names)

    def fetch(item: _Item) -> Any:
        if item.problem:
            return None
        try:
            # Each condition's bulk step (published times only where an age rule needs them, at ⌈log2 n⌉ reads per threshold).
            live = with_evidence(item.ls, item.pkg, item.args.package_label(), listing(item.args), since, now)
            return prepare(item.pkg, live, now, describing(item.args))
        except ProviderError as e:
            return e

    # Packages are listed concurrently (read-only, paced under the quotas: provider/_core/pacing.py);
    # results are used in spec order, so the outcome does not depend on which finished first.
    with ThreadPoolExecutor(max_workers=LIST_WORKERS) as pool:
        listings = list(pool.map(fetch, todo))
    for item, live in zip(todo, listings):
        ls, pkg, args = item.ls, item.pkg, item.args
        label = args.package_label()
        if item.policy is not None:
            where_pkg = f"{ls.name}:{ls.line(item.loc)}: {label}"
        else:
            where_pkg = f"{ls.name}:{ls.line(item.loc)}: {item.loc[0]}[{item.loc[1]}]"

        def new(live: dict[str, LiveVersion], decisions: dict[str, Decision], problems: list[str],
                warnings: Optional[list[str]] = None, in_use: Optional[dict[str, tuple[str, ...]]] = None,
                kept: Optional[dict[str, tuple[str, ...]]] = None, _item: _Item = item) -> PackagePlan:
            return PackagePlan(_item.ls, _item.loc[1], _item.pkg, _item.args, live, decisions, problems,
                               warnings or [], dict(in_use or {}), dict(kept or {}), policy=_item.policy,
                               loc=_item.loc)
        if item.problem:
            plans.append(new({}, {}, [item.problem]))
            continue
        if isinstance(live, ProviderError):
            plans.append(new({}, {}, [f"{where_pkg}: {live.failures[0].code}: {live.failures[0].detail}"]))
            continue

        def where(loc: tuple[object, ...], _ls: spec.LoadedSpec = ls, _item: _Item = item,
                  _label: str = label) -> str:
            at = _item.where_loc(tuple(loc))
            if _item.policy is not None:
                return f"{_ls.name}:{_ls.line(at)}: {_label}: "
            return f"{_ls.name}:{_ls.line(at)}: {_item.loc[0]}[{_item.loc[1]}]."

        unmatched = unmatched_patterns(pkg, live)
        if item.policy is not None:
            # A policy's patterns are written for many packages: one that selects nothing in one of
            # them is normal. Only the package's own entry's patterns are checked.
            unmatched = [(loc, msg) for loc, msg in unmatched if item.where_loc(tuple(loc))[0] == "packages"]
        warnings = [f"{where(loc)}{msg}" for loc, msg in unmatched]
        problems: list[str] = []
        if pkg.unmatched_patterns == "error":
            problems, warnings = warnings, []
        if item.policy is not None:
            usage = ls.policy_usage(item.loc[1], pkg.format, pkg.namespace, pkg.package,
                                    ls.usage_of(item.entry) if item.entry is not None else None)
        else:
            usage = ls.usage_of(item.loc[1])
        in_use = usage.in_use(pkg.format, list(live))
        try:
            decisions = expand(pkg, live, now, where, in_use)
        except ExpansionError as e:
            plans.append(new(live, {}, problems + e.problems, warnings, in_use))
            continue
        disposing = [v for v, d in decisions.items() if d.status == "Disposed" and live[v].status != "Disposed"]
        if disposing and not (pkg.allow_dispose and dispose_ok):
            problems.append(
                f"{where_pkg}: {len(disposing)} version(s) would be Disposed "
                f"({', '.join(disposing[:5])}{', ...' if len(disposing) > 5 else ''}); disposing is irreversible "
                f"and needs {DISPOSE_SPEC_OPT_IN} and {DISPOSE_STACK_OPT_IN}; missing: "
                f"{dispose_missing(pkg.allow_dispose, dispose_ok)}")
        done = new(live, {} if problems else decisions, problems, warnings, in_use, kept_in_use(pkg, live, now, in_use))
        done.evidence, done.waiting, done.recent = evidence_report(pkg, live, done.decisions, ls.downloads, now)
        plans.append(done)
    broken = [msg for p in plans for msg in p.problems]
    if broken and not isolate:
        raise spec.SpecError(broken)
    return plans


def _uses(pkg: spec.PackageSpec, field_name: str) -> list[spec.Rule]:
    c = conditions.REGISTRY[field_name]
    return [r for r in pkg.rules if c.active(getattr(r.match, field_name))]


def with_evidence(ls: spec.LoadedSpec, pkg: spec.PackageSpec, label: str, live: dict[str, LiveVersion],
                  since: Mapping[str, Mapping[str, list[Any]]], now: float) -> dict[str, LiveVersion]:
    """The listing with what the evidence says of each version: its downloads (when the spec has
    `downloads:`) and since when it is in its status (when a rule uses `in_status_for_days`): the
    most recent of the ledger's record of our write and the trail's last status write, else the
    ledger's "first seen", else now (first seen this run)."""
    ev = ls.downloads
    timed = bool(_uses(pkg, "in_status_for_days"))
    if ev is None and not timed:
        return live
    got, writes = ev.of(pkg.format, pkg.namespace, pkg.package) if ev is not None else ({}, {})
    start = ev.spans[-1][0] if ev is not None and ev.spans else None
    known = since.get(label, {})
    out = {}
    for v, lv in live.items():
        extra: dict[str, Any] = {}
        if ev is not None:
            d = got.get(v)
            extra.update(downloaded=d.last if d else None, downloads=d.count if d else 0, evidence_from=start)
        if timed and lv.status != "Disposed":
            rec, w = known.get(v), writes.get(v)
            found: list[tuple[float, str]] = []
            if rec and rec[0] == lv.status and rec[2] != "first seen":
                found.append((float(rec[1]), str(rec[2])))
            if w is not None and w.status == lv.status:
                found.append((w.time, "CloudTrail"))
            if found:
                when, how = max(found)
            elif rec and rec[0] == lv.status:
                when, how = float(rec[1]), "first seen"
            else:
                when, how = now, "first seen"
            extra.update(status_since=when, status_since_how=how)
        out[v] = dataclasses.replace(lv, **extra) if extra else lv
    return out


def evidence_report(pkg: spec.PackageSpec, live: dict[str, LiveVersion], decisions: Mapping[str, Decision],
                    ev: Optional[evidence_downloads.Downloads], now: float) -> \
        tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(what the evidence said of each changed version a rule reading it decided, the versions an
    `in_status_for_days` rule waits for because their status time is only "first seen", the
    versions a `not_downloaded_for_days` rule keeps because they were downloaded within its window)."""
    by_name = {f"rule:{r.name}": r for r in pkg.rules}
    said: dict[str, str] = {}
    for v, d in decisions.items():
        rule, lv = by_name.get(d.rule), live.get(v)
        if rule is None or lv is None or lv.status == d.status:
            continue
        parts = []
        if rule.match.not_downloaded_for_days is not None and ev is not None:
            if lv.downloaded is not None:
                parts.append(f"last downloaded {evidence_downloads.stamp(lv.downloaded)} ({lv.downloads} counted)")
            else:
                parts.append(f"no download since {evidence_downloads.stamp(lv.evidence_from or now)} (evidence start)")
            parts.append(f"evidence {ev.window()}")
        if rule.match.in_status_for_days is not None and lv.status_since is not None:
            parts.append(f"{lv.status} since {evidence_downloads.stamp(lv.status_since)} ({lv.status_since_how})")
        if parts:
            said[v] = "; ".join(parts)
    waiting: dict[str, str] = {}
    for rule in _uses(pkg, "in_status_for_days"):
        days = float(rule.match.in_status_for_days)
        others = rule.match.model_copy(update={"in_status_for_days": None})
        for v, lv in live.items():
            if v in decisions or lv.status_since_how != "first seen" or lv.status not in rule.considers() \
                    or lv.status == rule.status or not matches_static(pkg.format, others, lv, now):
                continue
            waiting[v] = (f"rule '{rule.name}': {lv.status} since first seen {evidence_downloads.stamp(lv.status_since or now)}"
                          f" (no record of when it changed); counts {days:g} days from then")
    recent: dict[str, str] = {}
    for rule in _uses(pkg, "not_downloaded_for_days"):
        days = float(rule.match.not_downloaded_for_days)
        unfiltered = rule.model_copy(update={"match": rule.match.model_copy(update={"not_downloaded_for_days": None})})
        for v in rule_targets(pkg.format, unfiltered, live, now):
            lv = live[v]
            if v in decisions or lv.downloaded is None or now - lv.downloaded > days * DAY or lv.status == rule.status:
                continue
            recent[v] = (f"rule '{rule.name}': downloaded {evidence_downloads.stamp(lv.downloaded)} ({lv.downloads} "
                         f"counted), within its {days:g} days")
    return said, waiting, recent


def since_record(plans: list[PackagePlan], previous: PreviousState, now: float) -> dict[str, dict[str, list[Any]]]:
    """The ledger's `since` after this run: for each planned package, each version's entry while
    it stays in that status, "our write" (now) for each version this run changes, and the times
    `in_status_for_days` packages were given (CloudTrail, first seen). Packages not planned this
    run keep their entries as they were."""
    out = {label: dict(vs) for label, vs in previous.since.items()}
    for p in plans:
        if p.file is None or p.problems:
            continue
        prev = previous.since.get(p.label, {})
        entries: dict[str, list[Any]] = {}
        for v, lv in p.live.items():
            d = p.decisions.get(v)
            if d is not None and d.status != lv.status:
                entries[v] = [d.status, now, "our write"]
            elif lv.status_since is not None and lv.status_since_how is not None:
                entries[v] = [lv.status, lv.status_since, lv.status_since_how]
            elif v in prev and prev[v][0] == lv.status:
                entries[v] = list(prev[v])
        if entries:
            out[p.label] = entries
        else:
            out.pop(p.label, None)
    return out


def vanished(plans: list[PackagePlan], previous: PreviousState, loaded: list[spec.LoadedSpec],
             discovery: Discovery = list_packages) -> dict[str, int]:
    """Packages a policy managed in the last run that their repository no longer lists (deleted
    since): label -> how many of its versions the stack managed. Reported, never an error."""
    planned = {p.label for p in plans}
    with_policies = {_repository_key(ls.spec.domain, ls.spec.domain_owner or config.stack_config().domain_owner,
                                     ls.spec.repository) for ls in loaded if ls.spec.policies}
    listed: dict[tuple[str, str, str], set[tuple[str, str, str]]] = {}
    out: dict[str, int] = {}
    for r in previous.resources:
        if r.kind != "repository" or r.label in planned or r.label in out:
            continue
        rk = _repository_key(str(r.inputs.get("domain")), r.inputs.get("domain_owner"), str(r.inputs.get("repository")))
        if rk not in with_policies:
            continue
        if rk not in listed:
            try:
                listed[rk] = {package_key(x.format, x.namespace, x.package) for x in
                              discovery(RepositoryArgs(domain=rk[0], domain_owner=rk[1] or None, repository=rk[2]))}
            except ProviderError:
                listed[rk] = set()
                continue
        key = package_key(str(r.inputs.get("format")), r.inputs.get("namespace"), str(r.inputs.get("package")))
        if listed[rk] and key not in listed[rk]:
            out[r.label] = len(r.owned)
    return out


def known_names(previous: PreviousState) -> dict[tuple[Any, ...], str]:
    """(domain, repository, *package_key) -> the package name as this stack's state spells it."""
    out: dict[tuple[Any, ...], str] = {}
    records = [r.inputs for r in previous.resources] + list(previous.packages.values())
    for rec in records:
        try:
            key = package_key(str(rec["format"]), rec.get("namespace") or None, str(rec["package"]))
            out.setdefault((str(rec["domain"]), str(rec["repository"]), *key), str(rec["package"]))
        except (KeyError, TypeError):
            continue
    return out


def _orphan_plan(o: Orphan) -> PackagePlan:
    pkg = spec.PackageSpec(format=o.args.format, namespace=o.args.namespace, package=o.args.package,
                           resource=o.kind if o.kind in ("per-version", "repository") else "batched",
                           allow_dispose=o.allow_dispose, restore_on_delete=True)
    return PackagePlan(None, -1, pkg, o.args, o.live, o.decisions)


def _protected_by(patterns: list[str]) -> Callable[[str], bool]:
    return lambda version: matches_protected(version, patterns)


def _file_evidence(loaded: list[spec.LoadedSpec]) -> Callable[[PackageArgs, list[str]], dict[str, tuple[str, ...]]]:
    """Consumers of a package that left the specs: every spec file of its repository's own
    `in_use` evidence (a package's own entry left with it)."""
    def of(args: PackageArgs, versions: list[str]) -> dict[str, tuple[str, ...]]:
        out: dict[str, set[str]] = {}
        for ls in loaded:
            if (ls.spec.domain, ls.spec.repository) != (args.domain, args.repository):
                continue
            for v, files in ls.file_usage(args.format, args.namespace, args.package).in_use(args.format,
                                                                                              versions).items():
                out.setdefault(v, set()).update(files)
        return {v: tuple(sorted(fs)) for v, fs in out.items()}
    return of


def with_restores(plans: list[PackagePlan], previous: PreviousState,
                  listing: Listing = list_versions,
                  loaded: Optional[list[spec.LoadedSpec]] = None) -> tuple[list[PackagePlan], dict[str, dict[str, str]]]:
    """Adds this run's restores (see provider/stack/restores.py) to the plans: restores of versions
    leaving a package that stays in the specs join that package's decisions; packages gone from the
    specs that still have restores to make come back as plans of their own, for this run only.
    Returns the plans and the versions left alone, with the reason. ``previous.pending`` is set to
    the ledger entries that stay because their restore has not resolved."""
    current = [Current(p.label, p.pkg.restore_on_delete, _protected_by(p.pkg.protected), p.live, p.decisions,
                       p.in_use, p.shape)
               for p in plans if not p.problems]
    broken = {p.label for p in plans if p.problems}  # not planned this run: their record is kept as it is
    rest = PreviousState([r for r in previous.resources if r.label not in broken],
                         {k: v for k, v in previous.originals.items() if k not in broken}, previous.has_ledger,
                         {k: v for k, v in previous.left.items() if k not in broken},
                         {k: v for k, v in previous.packages.items() if k not in broken})
    released = config.stack_config().release_originals
    result = plan_restores(current, rest, listing,
                           _file_evidence(loaded if loaded is not None else [p.file for p in plans if p.file]),
                           lambda label, v: config.released(released, label, v))
    for p in plans:
        p.decisions.update(result.restores.get(p.label, {}))
    previous.pending = result.pending
    previous.pending_packages = result.packages
    return plans + [_orphan_plan(o) for o in result.orphans], result.skipped


def _left_now(previous: PreviousState, label: str, version: str, live: LiveVersion, target: str) -> list[list[str]]:
    """The write-ahead record for a version managed this run: the states our writes or adoption
    may leave it in, in order. A run that writes it records how it is now (if that is how we
    left it, or we adopt it now), then how the write leaves it; a run that does not write it keeps
    the record as it was while the version is as we left it (so the ledger does not change in a
    run that changes nothing), and empties it once someone else has changed the version."""
    now = (live.status, live.revision)
    recorded = previous.left.get(label, {}).get(version, ())
    ours = previous.ours(label, version, now) or (not previous.left_of(label, version)
                                                  and previous.original(label, version) is None)
    if target == live.status:
        out = list(recorded) if ours and now in recorded else [now] if ours else []
    else:
        out = ([now] if ours else []) + [(target, live.revision)]
    return [[s, r] for s, r in out]


def ledger_record(plans: list[PackagePlan], previous: PreviousState) -> tuple[
        dict[str, dict[str, str]], dict[str, dict[str, list[list[str]]]], dict[str, dict[str, Any]]]:
    """(originals, left, packages) for the StatusLedger of this run, written before any status
    write: every version managed this run (its original as first recorded, else as listed now),
    every pending restore (kept until it resolves), and an unplanned package's record as it was."""
    originals: dict[str, dict[str, str]] = {}
    left: dict[str, dict[str, list[list[str]]]] = {}
    packages: dict[str, dict[str, Any]] = {}
    for p in plans:
        if p.problems:  # not planned this run: its record is kept exactly as it was
            if p.label in previous.originals:
                originals[p.label] = dict(previous.originals[p.label])
            if p.label in previous.left:
                left[p.label] = {v: [[s, r] for s, r in states] for v, states in previous.left[p.label].items()}
            if p.label in previous.packages:
                packages[p.label] = dict(previous.packages[p.label])
            continue
        for v, d in p.registered().items():
            if d.kind == "restore":
                continue  # a pending restore: recorded below
            originals.setdefault(p.label, {})[v] = previous.original(p.label, v) or p.live[v].status
            left.setdefault(p.label, {})[v] = _left_now(previous, p.label, v, p.live[v], d.status)
        if p.label in originals:
            packages[p.label] = package_record(p.args, p.shape)
    for label, versions in previous.pending.items():
        for v, pend in versions.items():
            originals.setdefault(label, {})[v] = pend.original
            left.setdefault(label, {})[v] = [[s, r] for s, r in pend.left]
        if label not in packages and label in previous.pending_packages:
            packages[label] = {k: val for k, val in previous.pending_packages[label].items()
                               if k in (*PACKAGE_FIELDS, "kind")}
    return originals, left, packages


def ledger_originals(plans: list[PackagePlan], previous: PreviousState) -> dict[str, dict[str, str]]:
    """The originals part of `ledger_record`."""
    return ledger_record(plans, previous)[0]


SHARDS = 16  # repository resources per repository: fixed, so a package never moves between them


def shard_of(args: PackageArgs) -> int:
    """Which of its repository's resources holds a package: a hash of its name as CodeArtifact
    compares names, so it is the same in every run and for every spelling."""
    key = "/".join(package_key(args.format, args.namespace, args.package))
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % SHARDS


@dataclass
class _Shard:
    """One RepositoryVersionsStatus being assembled: its packages by entry key."""

    args: PackageArgs  # the first package's (coordinates of the repository and connection)
    index: int
    packages: dict[str, dict[str, str]] = field(default_factory=dict)
    decided_by: dict[str, dict[str, str]] = field(default_factory=dict)
    restoring: dict[str, list[str]] = field(default_factory=dict)
    allow_dispose: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # entry key -> package label
    stats: list[int] = field(default_factory=lambda: [0, 0, 0])  # versions managed, to change, restores

    @property
    def name(self) -> str:
        a = self.args
        return f"{a.domain_owner + ':' if a.domain_owner else ''}{a.domain}/{a.repository}#{self.index:02d}"


Shards = dict[tuple[Any, ...], _Shard]


def _shard_for(shards: Shards, a: PackageArgs) -> _Shard:
    n = shard_of(a)
    key = (a.domain, a.domain_owner, a.repository, n)
    if key not in shards:
        shards[key] = _Shard(a, n)
    return shards[key]


def register_broken(p: PackagePlan, previous: PreviousState, shards: Optional[Shards] = None) -> None:
    """Registers a package that cannot be planned this run so that it fails alone, visibly: its
    resources (as the last run left them, or one new one) carry the problem, which the resource
    reports as its error in create/update, so the engine keeps their state and applies every other
    package. A package held by a repository resource stays in it (as the last run left it) with its
    problem, and only that package fails: the resource applies its other packages."""
    problem = "\n".join(p.problems)
    a = p.args
    before = previous.of(p.label)
    if shards is None:
        shards = {}
    for r in before:
        if r.kind == "per-version":
            PackageVersionStatus(r.name, domain=a.domain, domain_owner=a.domain_owner, repository=a.repository,
                                 format=a.format, namespace=a.namespace, package=a.package,
                                 version=str(r.inputs.get("version")), status=str(r.inputs.get("status") or "Published"),
                                 problem=problem)
        elif r.kind == "repository":
            sh = _shard_for(shards, a)
            key = package_entry_key(a.format, a.namespace, a.package)
            sh.packages[key] = dict(r.inputs.get("versions") or {})
            if r.inputs.get("decided_by"):
                sh.decided_by[key] = dict(r.inputs["decided_by"])
            sh.problems[key] = problem
            sh.labels[key] = p.label
        else:
            PackageVersionsStatus(r.name, domain=a.domain, domain_owner=a.domain_owner, repository=a.repository,
                                  format=a.format, namespace=a.namespace, package=a.package,
                                  versions=dict(r.inputs.get("versions") or {}), problem=problem)
    if not before:
        if p.shape == "repository":
            sh = _shard_for(shards, a)
            key = package_entry_key(a.format, a.namespace, a.package)
            sh.packages[key] = {}
            sh.problems[key] = problem
            sh.labels[key] = p.label
        else:
            PackageVersionsStatus(p.label, domain=a.domain, domain_owner=a.domain_owner, repository=a.repository,
                                  format=a.format, namespace=a.namespace, package=a.package, versions={},
                                  problem=problem)


@contextmanager
def _innermost_frame_only() -> Iterator[None]:
    """While resources are registered from specs, the engine records only the innermost frame of
    the SDK's stack trace (the source position), not the whole Python stack.

    Why: the engine stores each resource's stack trace in state, and the file backend rewrites the
    whole state after every step. For a resource generated from a spec the Python stack (this
    program, the language host, asyncio) says nothing a reader needs, yet it is ~1.4 KB of the
    ~3.3 KB a per-version resource costs (bench/RESULTS.md). The SDK has no setting for it, so its
    private `_get_stack_trace` is wrapped for the duration; if a future SDK renames it, nothing is
    wrapped and the full trace is kept (the state is larger, nothing else changes)."""
    from pulumi.runtime import resource as sdk_resource

    original = getattr(sdk_resource, "_get_stack_trace", None)
    if not callable(original):
        yield
        return

    def innermost(*args: Any, **kwargs: Any) -> Any:
        trace = original(*args, **kwargs)
        try:
            del trace.frames[1:]
        except (AttributeError, TypeError):  # not the protobuf StackTrace this was written for
            pass
        return trace

    sdk_resource._get_stack_trace = innermost
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = original


def register(plans: list[PackagePlan], depends_on: Optional[list[pulumi.Resource]] = None,
             previous: Optional[PreviousState] = None, ledger: Optional[StatusLedger] = None) -> dict[str, Any]:
    """Registers the resources (each depending on ``depends_on``, the ledger) and returns the
    summary that the stack exports. With ``ledger``, each resource is given the ledger's record
    of its versions as the engine reports it (``recorded``), and writes only what that records."""
    with _innermost_frame_only():
        return _register(plans, depends_on, previous, ledger)


def _recorded(ledger: Optional[StatusLedger], label: str, version: Optional[str] = None) -> Any:
    """The ledger's record of a package (or one version) as an Output of the ledger, per version
    ``{"original": status, "left": [status, ...]}`` (the statuses only: the resource checks that
    the ledger recorded the status it writes, so the revisions need not be copied into every
    resource's state): under `pulumi up --target` without the ledger, it is the record as the last
    full run left it."""
    if ledger is None:
        return None

    def pick(both: tuple[Any, Any]) -> str:
        originals = decoded((both[0] or {}).get(label)) or {}
        left = decoded((both[1] or {}).get(label)) or {}
        wanted = [version] if version is not None else list(left)
        return _json({v: {"original": originals.get(v), "left": sorted({str(s[0]) for s in left[v] if s})}
                      for v in wanted if v in left})
    return _ledger_record(ledger).apply(pick)


_records: dict[int, Any] = {}


def _ledger_record(ledger: StatusLedger) -> Any:
    """The ledger's (originals, left) as one Output, made once per ledger. Not `Output.all`: that
    lifts each argument's *value* deeply (every element of the two mappings becomes an Output of
    its own), which for each resource given the record cost a copy of the whole ledger in Outputs
    (bench/RESULTS-policies.md: 1,000 packages took 90 s and 1.5 GB in the program before)."""
    key = id(ledger)
    if key not in _records:
        _records.clear()
        def with_originals(left: Any) -> Any:
            return ledger.originals.apply(lambda originals: (originals, left))
        _records[key] = ledger.left.apply(with_originals)
    return _records[key]


def _planned_record(ledger: StatusLedger, originals: Mapping[str, Any], left: Mapping[str, Any]) -> None:
    """In a preview: `_ledger_record(ledger)` is the record given to the ledger, not its outputs."""
    _records.clear()
    _records[id(ledger)] = pulumi.Output.from_input(0).apply(lambda _: (originals, left))


def _json(value: Any) -> str:
    """`recorded` travels as JSON text: an Output that resolves to a mapping has the SDK wrap each
    of its elements in an Output of its own (see lifecycle.parsed)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _recorded_shard(ledger: Optional[StatusLedger], labels: Mapping[str, str]) -> Any:
    """`_recorded` for a repository resource: per entry key, its package's record."""
    if ledger is None:
        return None

    def pick(both: tuple[Any, Any]) -> str:
        originals, left = both[0] or {}, both[1] or {}
        out: dict[str, Any] = {}
        for key, label in labels.items():
            o, lft = decoded(originals.get(label)) or {}, decoded(left.get(label)) or {}
            if lft:
                out[key] = {v: {"original": o.get(v), "left": sorted({str(s[0]) for s in states if s})}
                            for v, states in lft.items()}
        return _json(out)
    return _ledger_record(ledger).apply(pick)


def _register(plans: list[PackagePlan], depends_on: Optional[list[pulumi.Resource]],
              previous: Optional[PreviousState], ledger: Optional[StatusLedger] = None) -> dict[str, Any]:
    opts = pulumi.ResourceOptions(depends_on=depends_on) if depends_on else None
    changes: dict[str, dict[str, dict[str, str]]] = {}
    managed = 0
    shards: Shards = {}
    for p in plans:
        if p.problems:
            register_broken(p, previous or PreviousState(), shards)
            continue
        if not p.decisions:
            continue
        managed += len(p.decisions)
        a = p.args
        active = p.registered()
        if not active:
            continue
        conn = {k: getattr(a, k) for k in CONNECTION_FIELDS}
        restoring = sorted(v for v, d in active.items() if d.kind == "restore")
        if p.shape == "repository":
            sh = _shard_for(shards, a)
            key = package_entry_key(a.format, a.namespace, a.package)
            sh.packages[key] = {v: d.status for v, d in active.items()}
            sh.decided_by[key] = {v: d.rule for v, d in active.items()}
            if restoring:
                sh.restoring[key] = restoring
            if p.pkg.allow_dispose:
                sh.allow_dispose.append(key)
            sh.labels[key] = p.label
        elif p.pkg.resource == "per-version":
            for v, d in active.items():
                PackageVersionStatus(f"{p.label}@{v}", domain=a.domain, domain_owner=a.domain_owner,
                                     repository=a.repository, format=a.format, namespace=a.namespace,
                                     package=a.package, version=v, status=d.status, decided_by=d.rule,
                                     restoring=True if d.kind == "restore" else None,
                                     allow_dispose=p.pkg.allow_dispose, restore_on_delete=p.pkg.restore_on_delete,
                                     recorded=_recorded(ledger, p.label, v), opts=opts, **conn)
        else:
            PackageVersionsStatus(p.label, domain=a.domain, domain_owner=a.domain_owner, repository=a.repository,
                                  format=a.format, namespace=a.namespace, package=a.package,
                                  versions={v: d.status for v, d in active.items()},
                                  decided_by={v: d.rule for v, d in active.items()}, restoring=restoring or None,
                                  allow_dispose=p.pkg.allow_dispose, restore_on_delete=p.pkg.restore_on_delete,
                                  recorded=_recorded(ledger, p.label), opts=opts, **conn)
        c = p.changes()
        if c:
            changes[p.label] = c
        n = sum(1 for v in c if p.decisions[v].kind == "restore")
        if p.shape == "repository":
            # One line per repository resource, not per package: a log line is a call to the engine.
            sh.stats = [sh.stats[0] + len(p.decisions), sh.stats[1] + len(c), sh.stats[2] + n]
            continue
        pulumi.log.info(f"{p.label}: {len(p.decisions)} versions managed, {len(c)} to change"
                        + (f" ({n} restore(s))" if n else ""))
    for sh in sorted(shards.values(), key=lambda x: x.name):
        pulumi.log.info(f"{sh.name}: {len(sh.packages)} packages, {sh.stats[0]} versions managed, {sh.stats[1]} to "
                        f"change" + (f" ({sh.stats[2]} restore(s))" if sh.stats[2] else "")
                        + (f", {len(sh.problems)} package(s) not planned this run" if sh.problems else ""))
        a = sh.args
        conn = {k: getattr(a, k) for k in CONNECTION_FIELDS}
        RepositoryVersionsStatus(sh.name, domain=a.domain, domain_owner=a.domain_owner, repository=a.repository,
                                 shard=f"{sh.index:02d}/{SHARDS}", packages=dict(sorted(sh.packages.items())),
                                 decided_by=dict(sorted(sh.decided_by.items())), restoring=sh.restoring or None,
                                 allow_dispose=sorted(sh.allow_dispose), problems=sh.problems or None,
                                 recorded=_recorded_shard(ledger, {k: v for k, v in sh.labels.items()
                                                                   if k not in sh.problems}),
                                 opts=opts, **conn)
    total = sum(len(c) for c in changes.values())
    return {"packages": len([p for p in plans if p.decisions]), "managed_versions": managed,
            "planned_changes": total, "changes": changes,
            "failed_packages": {p.label: p.problems for p in plans if p.problems}}


CHANGES_SHOWN = 50  # packages named in the `changes` output; the plan file has every version


def changes_output(changes: dict[str, dict[str, dict[str, str]]]) -> dict[str, Any]:
    """The `changes` stack output: counts per package and transition (`Published -> Archived: 3`),
    at most CHANGES_SHOWN packages, so the console and the next preview's output diff stay small
    at any size; every version is in the preview's diff and the plan file
    (CODEARTIFACT_STATUS_PLAN)."""
    out: dict[str, Any] = {}
    for label in sorted(changes)[:CHANGES_SHOWN]:
        counts: dict[str, int] = {}
        for c in changes[label].values():
            key = f"{c['from']} -> {c['to']}"
            counts[key] = counts.get(key, 0) + 1
        out[label] = dict(sorted(counts.items()))
    rest = sorted(changes)[CHANGES_SHOWN:]
    if rest:
        out["(more packages)"] = {"packages": len(rest), "changes": sum(len(changes[x]) for x in rest)}
    return out


def kept_report(plans: list[PackagePlan]) -> dict[str, dict[str, list[str]]]:
    """package label -> version -> consumer files, for the versions a rule would have changed."""
    return {p.label: {v: list(files) for v, files in p.kept.items()} for p in plans if p.kept}


def _stack_name() -> str:
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"


def main() -> None:
    """The body of __main__.py."""
    try:
        config.set_stack_config(stack_config_from_pulumi())
    except ValueError as e:
        raise pulumi.RunError(str(e)) from None
    cfg = pulumi.Config("codeartifact")
    specs_dir = Path(cfg.get("specsDir") or "specs")
    max_changes = cfg.get_int("maxChanges")
    cap = DEFAULT_MAX_CHANGES if max_changes is None else max_changes
    try:
        previous = read_previous(_stack_name())
    except StateUnavailable as e:
        raise pulumi.RunError(f"cannot read this stack's state to plan restores, so nothing was registered or "
                              f"applied: {e}") from None
    loaded: list[spec.LoadedSpec] = []
    now = time.time()
    try:
        plans = plan(specs_dir, isolate=True, loaded_out=loaded, names=known_names(previous), since=previous.since,
                     now=now)
    except spec.SpecError as e:
        raise pulumi.RunError(str(e)) from None
    for p in plans:
        for w in p.warnings:
            pulumi.log.warn(w)
        if p.kept:
            pulumi.log.info(f"{p.label}: kept: {len(p.kept)} version(s) in use, which no rule changes: " + "; ".join(
                f"{v} (in use by {consumers_text(files)})" for v, files in list(p.kept.items())[:10])
                + (" ..." if len(p.kept) > 10 else ""))
        for problem in p.problems:
            pulumi.log.error(f"{p.label} is not planned this run (the other packages are): {problem}")
        if p.evidence:
            pulumi.log.info(f"{p.label}: evidence: " + "; ".join(f"{v}: {why}" for v, why in list(p.evidence.items())[:10])
                            + (" ..." if len(p.evidence) > 10 else ""))
        if p.recent:
            pulumi.log.info(f"{p.label}: kept: {len(p.recent)} version(s) downloaded recently: " + "; ".join(
                f"{v}: {why}" for v, why in list(p.recent.items())[:10]) + (" ..." if len(p.recent) > 10 else ""))
        if p.waiting:
            pulumi.log.info(f"{p.label}: {len(p.waiting)} version(s) wait for their status time: " + "; ".join(
                f"{v}: {why}" for v, why in list(p.waiting.items())[:10]) + (" ..." if len(p.waiting) > 10 else ""))
    gone = [f"{label}: no longer in the repository (ListPackages does not list it); its {count} managed version(s) "
            f"leave management" for label, count in sorted(vanished(plans, previous, loaded).items())]
    for w in gone:
        pulumi.log.warn(w)
    plans, skipped = with_restores(plans, previous, loaded=loaded)
    awaiting: dict[str, dict[str, str]] = {}
    reviewed_file = os.environ.get(reviewed.ENV)
    if reviewed_file:
        try:
            review = reviewed.load(reviewed_file)
        except reviewed.ReviewError as e:
            raise pulumi.RunError(f"{e}; nothing was registered or applied") from None
        restricted = reviewed.restrict(plans, review)
        awaiting = restricted.awaiting
        for label, problems in sorted(restricted.failed.items()):
            for problem in problems:
                pulumi.log.error(f"{label} is not applied this run (the other packages are): {problem}")
        for label, versions in sorted(awaiting.items()):
            shown = "; ".join(f"{v}: {why}" for v, why in list(versions.items())[:10])
            pulumi.log.warn(f"{label}: {len(versions)} change(s) awaiting review, not made ({reviewed.ENV}): {shown}"
                            + (" ..." if len(versions) > 10 else ""))
    planned = sum(len(p.changes()) for p in plans)
    if planned > cap:
        restores = sum(1 for p in plans for v in p.changes() if p.decisions[v].kind == "restore")
        raise pulumi.RunError(
            f"{planned} status changes planned, above the per-run cap of {cap} (codeartifact:maxChanges; "
            f"{restores} of the changes are restores); nothing was applied. Review the plan, then raise the cap deliberately: "
            f"`pulumi config set codeartifact:maxChanges {planned}`")
    for label, versions in sorted(skipped.items()):
        shown = "; ".join(f"{v}: {why}" for v, why in list(versions.items())[:10])
        pulumi.log.warn(f"{label}: {len(versions)} version(s) leaving management are not restored: {shown}"
                        + (" ..." if len(versions) > 10 else ""))
    originals, left, packages = ledger_record(plans, previous)
    ledger = StatusLedger(LEDGER_NAME, originals, left, packages, since=since_record(plans, previous, now))
    if pulumi.runtime.is_dry_run():
        # A preview writes nothing, so the order that makes the ledger write-ahead is not needed:
        # the status resources are given the record this run gives the ledger (what its step will
        # report) and refresh alongside it instead of after it. An update (including `up`'s own
        # run after its preview) depends on the ledger's step and reads its outputs.
        _planned_record(ledger, originals, left)
        summary = register(plans, None, previous, ledger)
    else:
        summary = register(plans, [ledger], previous, ledger)
    plan_file = os.environ.get("CODEARTIFACT_STATUS_PLAN")
    if plan_file:
        # For `python -m provider summary --plan`: the statuses this run saw for versions it adopts,
        # and the versions it leaves alone instead of restoring.
        Path(plan_file).write_text(json.dumps({
            "changes": summary["changes"], "not_restored": skipped, "failed_packages": summary["failed_packages"],
            "awaiting_review": awaiting,
            "warnings": [w for p in plans for w in p.warnings] + gone, "kept_in_use": kept_report(plans),
            "evidence": {p.label: p.evidence for p in plans if p.evidence},
            "waiting": {p.label: p.waiting for p in plans if p.waiting},
            "recent_downloads": {p.label: p.recent for p in plans if p.recent},
            "evidence_windows": {ls.name: ls.downloads.window() for ls in loaded if ls.downloads is not None}},
            indent=1, sort_keys=True))
    pulumi.export("summary", {k: v for k, v in summary.items() if k not in ("changes", "failed_packages")})
    pulumi.export("changes", changes_output(summary["changes"]))
    _end_quietly_when_interrupted()


def _end_quietly_when_interrupted() -> None:
    """From here on the program has nothing left to do: the SDK waits (SignalAndWaitForShutdown)
    until the engine has finished every step. After a failed step (a package that failed closed,
    with --continue-on-error) the engine does not release that wait: it stops its plugins, and the
    program gets SIGINT while waiting, which Pulumi's executor shows as two KeyboardInterrupt
    tracebacks. The engine has already reported the failure, so the program then leaves at once,
    with the executor's "error already shown" code (32): never 0, so an interrupted program is
    never taken for a complete one (which would delete the resources it had not registered yet)."""
    import signal
    import sys
    import threading

    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread (e.g. the program run in tests)

    def leave(_signum: int, _frame: object) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(32)

    signal.signal(signal.SIGINT, leave)

"""Restores as planned, reviewable changes, and the ledger entries that stay until they resolve.

A version leaves management when its package leaves the specs, when no rule or entry selects it
any more, or when it becomes protected. With `restore_on_delete`, the stack program puts its
original status back, but only as an ordinary status change of this run: it is in the preview,
the `changes` output, the PR summary and the change cap like any other, and it is locked to the
version's current revision like any other write. A version is restored only when it is exactly as
this stack's writes or adoption may have left it (``left``, recorded in the StatusLedger before
every write, and the resources' own ``owned`` records); otherwise it is left alone and reported.

The original of a version that left management stays in the ledger (a *pending* restore) until it
resolves: the version is observed back at its original, it is gone or Disposed (no restore is
possible), or the original is released on purpose (`codeartifact:releaseOriginals`, or the version
made `protected`, or the package without `restore_on_delete`). A run that
plans the restore but fails, cannot read the package, or is interrupted therefore never forgets
it: the next preview plans it again, or reports why not, until it resolves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal, Mapping, Optional

from provider._core.errors import NotFound, ProviderError
from provider._core.model import (
    CONNECTION_FIELDS,
    IDENTITY_FIELDS,
    RETIRING_STATUSES,
    UPDATABLE_STATUSES,
    PackageArgs,
)
from provider.rules.expand import Decision, LiveVersion
from provider.stack.previous import PreviousState, State

REMOVED = "restore (removed from specs)"
DESELECTED = "restore (no longer selected)"

PACKAGE_FIELDS = (*IDENTITY_FIELDS, *CONNECTION_FIELDS, "allow_dispose", "restore_on_delete")


@dataclass
class Orphan:
    """A package no longer in the specs that still has restores to make this run."""

    args: PackageArgs
    kind: str
    restore_on_delete: bool
    allow_dispose: bool
    live: dict[str, LiveVersion]
    decisions: dict[str, Decision]

    @property
    def label(self) -> str:
        return self.args.package_label()


@dataclass
class Current:
    """What the program decided for a package that is still in the specs."""

    label: str
    restore_on_delete: bool
    protected: Callable[[str], bool]
    live: dict[str, LiveVersion]
    decisions: dict[str, Decision]
    in_use: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # version -> consumer files
    kind: str = "batched"  # the shape of its resources this run ("batched" or "per-version")


@dataclass(frozen=True)
class Pending:
    """A ledger entry kept for a version that left management and has not resolved yet."""

    original: str
    left: tuple[State, ...]  # the ledger's write-ahead states, in the order written


@dataclass
class RestorePlan:
    """The outcome of `plan_restores`. Iterates as (restores, orphans, skipped) for callers that
    need only those."""

    restores: dict[str, dict[str, Decision]] = field(default_factory=dict)  # packages still in the specs
    orphans: list[Orphan] = field(default_factory=list)  # packages gone from the specs, registered this run
    skipped: dict[str, dict[str, str]] = field(default_factory=dict)  # label -> version -> why not restored
    pending: dict[str, dict[str, Pending]] = field(default_factory=dict)  # kept in the ledger this run
    packages: dict[str, dict[str, object]] = field(default_factory=dict)  # label -> coordinates, for pending

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter((self.restores, self.orphans, self.skipped))


def package_args(fields: Mapping[str, object]) -> PackageArgs:
    """A package's arguments from a ledger or resource record (empty values dropped)."""
    return PackageArgs.model_validate({k: fields.get(k) for k in PACKAGE_FIELDS if fields.get(k) not in (None, "")})


def package_record(args: PackageArgs, kind: str) -> dict[str, object]:
    """What the ledger keeps about a package so that a pending restore can be made after its
    resource has left the state: coordinates, connection, the opt-ins and the resource shape."""
    rec: dict[str, object] = {k: v for k, v in args.model_dump().items() if k in PACKAGE_FIELDS and v not in (None, "")}
    rec["kind"] = kind
    return rec


def _left_text(left: frozenset[State]) -> str:
    return " or ".join(f"{s} at revision {r}" for s, r in sorted(left))


Verdict = Literal["restore", "resolved", "impossible", "pending"]


@dataclass(frozen=True)
class Outcome:
    """What to do with a version leaving management: ``restore`` it to ``target``; it is
    ``resolved`` (already at its original: the entry leaves the ledger, nothing to report); a
    restore is ``impossible`` (gone, Disposed, no original: it leaves the ledger, reported); or it
    stays ``pending`` (kept in the ledger and reported until it resolves). ``why`` is for people."""

    verdict: Verdict
    why: str = ""
    target: Optional[str] = None


def decide(version: str, original: Optional[str], left: frozenset[State],
           live: Optional[LiveVersion], ours: Optional[bool] = None) -> Outcome:
    """Whether and how to restore one version, from its recorded original, the states our writes
    may have left it in (``ours``: whether the live state is one of them) and how it is now."""
    if live is None:
        return Outcome("impossible", "the version no longer exists")
    if original is None:
        return Outcome("impossible", "no original status is recorded for it")
    if live.status == original:
        return Outcome("resolved", f"already {original}")
    if original not in UPDATABLE_STATUSES:
        return Outcome("impossible", f"its original status {original} cannot be set")
    if live.status == "Disposed":
        return Outcome("impossible", "it is Disposed, which is irreversible")
    if not left:
        return Outcome("pending", "changed by someone else since this stack last wrote it (no write of ours left it "
                                  f"{live.status} at revision {live.revision}); left alone, original {original} kept")
    if not (ours if ours is not None else (live.status, live.revision) in left):
        return Outcome("pending", f"changed by someone else since our last write (we left it {_left_text(left)}, it is "
                                  f"now {live.status} at revision {live.revision}); left alone, original {original} "
                                  f"kept")
    return Outcome("restore", target=original)


Listing = Callable[[PackageArgs], dict[str, LiveVersion]]
InUse = Callable[[PackageArgs, list[str]], Mapping[str, tuple[str, ...]]]


def plan_restores(current: list[Current], previous: PreviousState, listing: Listing,
                  in_use_of: Optional[InUse] = None,
                  released: Callable[[str, str], bool] = lambda label, version: False) -> RestorePlan:
    """Plans the restores of every version this stack knew (ledger entries and resources of the
    previous state) that is not managed this run. Read-only: packages no longer in the specs are
    listed through ``listing``; ``in_use_of`` gives the consumers of such a package's versions
    (the specs' file-level evidence); ``released(label, version)`` says an original was released
    on purpose (`codeartifact:releaseOriginals`)."""
    by_label = {c.label: c for c in current}
    out = RestorePlan()
    orphans: dict[str, Orphan] = {}
    lives: dict[str, object] = {}  # label -> listing (dict) or the ProviderError that reading it raised

    for label, versions in sorted(previous.known().items()):
        cur = by_label.get(label)
        leaving = sorted(v for v in versions if cur is None or v not in cur.decisions)
        if not leaving:
            continue
        record = previous.package(label)
        restore = cur.restore_on_delete if cur is not None else bool(record and record.get("restore_on_delete"))
        kept: dict[str, Pending] = {}
        for v in leaving:
            original = previous.original(label, v)
            left = previous.left_of(label, v)
            ledger_left = previous.left.get(label, {}).get(v, ())
            if original is not None and released(label, v):
                if previous.originals.get(label, {}).get(v) is not None:
                    out.skipped.setdefault(label, {})[v] = (f"original {original} released "
                                                           f"(codeartifact:releaseOriginals): not restored")
                continue
            if not restore:
                continue  # leaving management without restore_on_delete releases the original
            if cur is not None:
                live: object = cur.live
            elif label in lives:
                live = lives[label]
            else:
                if record is None:
                    continue  # nothing says where the package is: nothing can be read or restored
                try:
                    live = listing(package_args(record))
                except NotFound:
                    live = {}  # the package was deleted: none of its versions can be restored
                except ProviderError as e:
                    live = e
                lives[label] = live
            if isinstance(live, ProviderError):
                out.skipped.setdefault(label, {})[v] = (f"not restored yet: cannot read the package: "
                                                       f"{live.failures[0].detail}; the original {original} is kept "
                                                       f"and the restore is planned again on the next run")
                if original is not None:
                    kept[v] = Pending(original, ledger_left or tuple(sorted(left)))
                continue
            assert isinstance(live, dict)
            obs = live.get(v)
            if cur is not None and cur.protected(v) and not (obs is not None and original == obs.status):
                # Protecting a version is a reviewed decision to leave it as it is: its original is
                # released (reported in this run's preview and summary).
                out.skipped.setdefault(label, {})[v] = ("now protected: left as it is" + (
                    f" (its original {original} is released)" if original else ""))
                continue
            ours = obs is not None and previous.ours(label, v, (obs.status, obs.revision))
            outcome = decide(v, original, left, obs, ours)
            if outcome.verdict != "restore":
                if outcome.verdict != "resolved":
                    out.skipped.setdefault(label, {})[v] = outcome.why
                if outcome.verdict == "pending" and original is not None:
                    kept[v] = Pending(original, ledger_left or tuple(sorted(left)))
                continue
            target = outcome.target
            assert original is not None and obs is not None and target is not None
            consumers: tuple[str, ...] = ()
            if target in RETIRING_STATUSES:
                if cur is not None:
                    consumers = tuple(cur.in_use.get(v) or ())
                elif in_use_of is not None and record is not None:
                    consumers = tuple(in_use_of(package_args(record), [v]).get(v) or ())
            if consumers:
                out.skipped.setdefault(label, {})[v] = (f"in use by {', '.join(consumers[:3])}: not restored to "
                                                       f"{target}")
                kept[v] = Pending(original, ledger_left or tuple(sorted(left)))
                continue
            # Restored this run. A package that left the specs keeps the entry (with the state the
            # restore leaves it in) until a later run observes it back at its original, so a failed
            # restore is planned again. A version leaving a package still in the specs is carried
            # by that package's resource, which already owns it: if the restore fails or is
            # interrupted, the engine keeps that resource's previous state (original and how we left
            # it), so the next run plans the restore again; if it succeeds nothing is left to commit.
            if cur is None or not previous.owns(label, v, cur.kind):
                kept[v] = Pending(original, ((obs.status, obs.revision), (target, obs.revision)))
            decision = Decision(target, DESELECTED if cur is not None else REMOVED, "restore")
            if cur is not None:
                out.restores.setdefault(label, {})[v] = decision
            else:
                o = orphans.get(label)
                if o is None:
                    assert record is not None
                    args = package_args(record)
                    o = orphans[label] = Orphan(args, str(record.get("kind") or "batched"), True,
                                                args.allow_dispose, live, {})
                o.decisions[v] = decision
        if kept:
            out.pending[label] = kept
            if record is not None:
                out.packages[label] = dict(record)
    out.orphans = list(orphans.values())
    return out

"""Restores as planned, reviewable changes.

A version leaves management when its package leaves the specs, when no rule or entry selects it
any more, or when it becomes protected. With `restore_on_delete`, the stack program puts its
original status back, but only as an ordinary status change of this run: it is in the preview,
the `changes` output, the PR summary and the change cap like any other, and it is locked to the
version's current revision like any other write. A version is restored only when it is exactly as
our last write or adoption left it (status and revision, from state that refresh never changes);
otherwise, or when it was Disposed, is gone, or is now protected, it is left alone and reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

from provider._core.errors import ProviderError
from provider._core.model import RETIRING_STATUSES, UPDATABLE_STATUSES, PackageArgs
from provider.rules.expand import Decision, LiveVersion
from provider.stack.previous import PreviousResource, PreviousState

REMOVED = "restore (removed from specs)"
DESELECTED = "restore (no longer selected)"


@dataclass
class Orphan:
    """A package no longer in the specs that still has restores to make this run."""

    resources: list[PreviousResource]
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


def _args_of(r: PreviousResource) -> PackageArgs:
    keep = ("domain", "domain_owner", "repository", "format", "namespace", "package", "region", "endpoint_url",
            "profile", "role_arn", "max_attempts", "allow_dispose", "restore_on_delete")
    return PackageArgs.model_validate({k: r.inputs.get(k) for k in keep if r.inputs.get(k) not in (None, "")})


def decide(version: str, original: Optional[str], owned_status: Optional[str], owned_revision: Optional[str],
           live: Optional[LiveVersion]) -> tuple[Optional[str], str]:
    """(target, why): the original to restore, or None and the reason it is left alone."""
    if live is None:
        return None, "the version no longer exists"
    if original is None:
        return None, "no original status is recorded for it"
    if live.status == original:
        return None, f"already {original}"
    if original not in UPDATABLE_STATUSES:
        return None, f"its original status {original} cannot be set"
    if live.status == "Disposed":
        return None, "it is Disposed, which is irreversible"
    if owned_status is None or owned_revision is None:
        return None, "no record of how we left it"
    if (live.status, live.revision) != (owned_status, owned_revision):
        return None, (f"changed by someone else since our last write (we left it {owned_status} at revision "
                      f"{owned_revision}, it is now {live.status} at revision {live.revision}); left alone")
    return original, ""


def plan_restores(current: list[Current], previous: PreviousState,
                  listing: Callable[[PackageArgs, bool], dict[str, LiveVersion]]
                  ) -> tuple[dict[str, dict[str, Decision]], list[Orphan], dict[str, dict[str, str]]]:
    """(restores for packages still in the specs, orphans to register, versions left alone with the
    reason). Read-only: packages no longer in the specs are listed through ``listing``."""
    by_label = {c.label: c for c in current}
    restores: dict[str, dict[str, Decision]] = {}
    skipped: dict[str, dict[str, str]] = {}
    orphans: dict[str, Orphan] = {}
    for r in previous.resources:
        cur = by_label.get(r.label)
        restore = cur.restore_on_delete if cur is not None else bool(r.inputs.get("restore_on_delete"))
        leaving = [v for v in r.owned if cur is None or v not in cur.decisions]
        if not leaving or not restore:
            continue
        if cur is not None:
            live = cur.live
        elif r.label in orphans:
            live = orphans[r.label].live
        else:
            try:
                live = listing(_args_of(r), False)
            except ProviderError as e:
                for v in leaving:
                    skipped.setdefault(r.label, {})[v] = f"cannot read the package: {e.failures[0].detail}"
                continue
        for v in leaving:
            if cur is not None and cur.protected(v):
                skipped.setdefault(r.label, {})[v] = "now protected: left as it is"
                continue
            owned = r.owned.get(v)
            target, why = decide(v, previous.original(r.label, v), owned.status if owned else None,
                                 owned.revision if owned else None, live.get(v))
            if target is None:
                if not why.startswith("already"):
                    skipped.setdefault(r.label, {})[v] = why
                continue
            if cur is not None and target in RETIRING_STATUSES and cur.in_use.get(v):
                skipped.setdefault(r.label, {})[v] = (f"in use by {', '.join(cur.in_use[v][:3])}: not restored to "
                                                      f"{target}")
                continue
            decision = Decision(target, DESELECTED if cur is not None else REMOVED)
            if cur is not None:
                restores.setdefault(r.label, {})[v] = decision
            else:
                o = orphans.get(r.label)
                if o is None:
                    args = _args_of(r)
                    o = orphans[r.label] = Orphan([], args, r.kind, True, args.allow_dispose, live, {})
                o.resources.append(r)
                o.decisions[v] = decision
    return restores, list(orphans.values()), skipped

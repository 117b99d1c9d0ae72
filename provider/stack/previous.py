"""What this stack managed before this run: read from its own state (`pulumi stack export`).

The program needs it to plan restores (versions leaving management) as ordinary, reviewable
changes, and to keep each version's original across runs, renames and re-shaped resources.
Refresh never changes what is read here: originals come from the StatusLedger and "as we left
it" from each resource's ``owned`` outputs, both written only by our own writes and adoptions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Optional

from provider._core.batching import Observed
from provider._core.model import CONNECTION_FIELDS, package_label, parse_entry_key
from provider.package_version_status import PackageVersionStatus
from provider.package_versions_status import PackageVersionsStatus
from provider.repository_versions_status import RepositoryVersionsStatus, per_package
from provider.status_ledger import StatusLedger
from provider.status_ledger import record as ledger_record
from provider.status_ledger import unreadable as ledger_unreadable

# The type tokens, as the resource classes declare them (`dynamic/codeartifact:<Name>`).
BATCHED = PackageVersionsStatus._resource_type_name
PER_VERSION = PackageVersionStatus._resource_type_name
REPOSITORY = RepositoryVersionsStatus._resource_type_name
LEDGER = StatusLedger._resource_type_name

State = tuple[str, str]  # (status, revision) of one version


class StateUnavailable(Exception):
    """The stack's state could not be read; the program then registers nothing."""


@dataclass
class PreviousResource:
    kind: Literal["batched", "per-version", "repository"]  # a repository resource appears once per package
    name: str
    inputs: dict[str, Any]
    owned: dict[str, Optional[Observed]]  # per version: as our last write or adoption left it
    original: dict[str, str]  # per version: the resource's own record (older state has no ledger)

    @property
    def label(self) -> str:
        return package_label(self.inputs)


@dataclass
class PreviousState:
    resources: list[PreviousResource] = field(default_factory=list)
    originals: dict[str, dict[str, str]] = field(default_factory=dict)  # the ledger
    has_ledger: bool = False
    # The ledger's write-ahead record: per version, every (status, revision) this stack's writes
    # or adoption may have left it in (recorded before the writes; state older than it has none).
    left: dict[str, dict[str, tuple[State, ...]]] = field(default_factory=dict)  # in the order written
    packages: dict[str, dict[str, Any]] = field(default_factory=dict)  # the ledger: label -> coordinates
    # The ledger: label -> version -> [status, since (epoch s), how] (provider/status_ledger.py).
    since: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    # Set by the program's restore planning: ledger entries kept this run for unresolved restores.
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending_packages: dict[str, dict[str, Any]] = field(default_factory=dict)
    _by_label: Optional[dict[str, list[PreviousResource]]] = field(default=None, repr=False, compare=False)

    def of(self, label: str) -> list[PreviousResource]:
        """The resources (per package, for repository resources) that managed ``label``: indexed
        once, since thousands of packages look themselves up for each of their versions."""
        if self._by_label is None:
            index: dict[str, list[PreviousResource]] = {}
            for r in self.resources:
                index.setdefault(r.label, []).append(r)
            self._by_label = index
        return self._by_label.get(label, [])

    def original(self, label: str, version: str) -> Optional[str]:
        """The recorded original: the ledger's, else the resource's own record (state written
        before the ledger existed, or a resource that wrote while the ledger was not updated,
        e.g. `pulumi up --target`; the ledger wins because a re-shaped resource records what it
        found, not the original)."""
        got = self.originals.get(label, {}).get(version)
        if got is None:
            for r in self.of(label):
                if version in r.original:
                    return r.original[version]
        return got

    def left_of(self, label: str, version: str) -> frozenset[State]:
        """Every state our writes or adoption may have left the version in: the ledger's
        write-ahead record and the resources' ``owned`` (as the last successful write left it)."""
        out = set(self.left.get(label, {}).get(version, frozenset()))
        for r in self.of(label):
            o = r.owned.get(version)
            if o is not None:
                out.add((o.status, o.revision))
        return frozenset(out)

    def owns(self, label: str, version: str, kind: str) -> bool:
        """Whether the resource of this shape that manages the version (`label`, or `label@version`
        per version) is in the previous state and records the version's original and owned state."""
        name = label if kind == "batched" else f"{label}@{version}"
        return any(r.kind == kind and (r.name == name or kind == "repository") and r.owned.get(version) is not None
                   and version in r.original for r in self.of(label))

    def ours(self, label: str, version: str, state: State) -> bool:
        """Whether ``state`` is how our writes or adoption may have left the version: one of the
        ledger's write-ahead states or the resource's ``owned``, except that once the resource
        confirms the ledger's last recorded write (its ``owned`` is that write's result), the
        states before that write are history, not ours any more."""
        ledger = self.left.get(label, {}).get(version, ())
        owned = {(o.status, o.revision) for r in self.of(label) if (o := r.owned.get(version)) is not None}
        if state not in set(ledger) | owned:
            return False
        return not (ledger and ledger[-1] in owned and state != ledger[-1])

    def known(self) -> dict[str, set[str]]:
        """label -> every version this stack recorded (ledger entries and resources' versions)."""
        out: dict[str, set[str]] = {}
        for label, versions in self.originals.items():
            out.setdefault(label, set()).update(versions)
        for r in self.resources:
            out.setdefault(r.label, set()).update(r.owned)
        return out

    def package(self, label: str) -> Optional[dict[str, Any]]:
        """Where a package is and how it was managed: the ledger's record, else a resource's inputs."""
        for r in self.of(label)[:1]:
            return {**self.packages.get(label, {}), **{k: v for k, v in r.inputs.items() if v not in (None, "")},
                    "kind": r.kind}
        return self.packages.get(label)


def _left(raw: Any) -> dict[str, dict[str, tuple[State, ...]]]:
    out: dict[str, dict[str, tuple[State, ...]]] = {}
    for label, versions in (raw or {}).items() if isinstance(raw, Mapping) else ():
        for v, states in (versions or {}).items():
            out.setdefault(str(label), {})[str(v)] = tuple(
                (str(s[0]), str(s[1])) for s in states or [] if isinstance(s, (list, tuple)) and len(s) == 2)
    return out


def _observed(status: Any, revision: Any) -> Optional[Observed]:
    return Observed(str(status), str(revision)) if status and revision else None


def _repository_packages(name: str, ins: Mapping[str, Any], outs: Mapping[str, Any]) -> list[PreviousResource]:
    """A repository resource's packages, each as the resource of its own it stands for (so
    restores, originals and "as we left it" work the same for every shape)."""
    out: list[PreviousResource] = []
    common = {k: ins.get(k) for k in ("domain", "domain_owner", "repository", *CONNECTION_FIELDS)}
    dispose = set(ins.get("allow_dispose") or [])
    problems = ins.get("problems") or {}
    in_versions = ins.get("packages") or {}
    owned_all, original_all = per_package(outs, "owned"), per_package(outs, "original")
    for key, statuses in (outs.get("packages") or {}).items():
        try:
            fmt, namespace, package = parse_entry_key(str(key))
        except ValueError:
            continue
        owned_raw = owned_all.get(key) or {}
        owned = {str(v): _observed(*(sr if isinstance(sr, list) and len(sr) == 2 else (None, None)))
                 for v, sr in owned_raw.items()}
        inputs = {**common, "format": fmt, "namespace": namespace, "package": package,
                  "versions": dict(in_versions.get(key) or statuses or {}), "allow_dispose": key in dispose,
                  "decided_by": dict(((ins.get("decided_by") or {}).get(key)) or {}), "entry_key": str(key)}
        if key in problems:
            inputs["problem"] = problems[key]
        out.append(PreviousResource("repository", name, inputs, owned,
                                    {str(v): str(s) for v, s in (original_all.get(key) or {}).items()}))
    return out


def parse(deployment: dict[str, Any]) -> PreviousState:
    """Our resources in an exported deployment (pending deletions of replaced resources skipped).
    Raises StateUnavailable when the ledger's record cannot be read."""
    state = PreviousState()
    for r in deployment.get("resources") or []:
        rtype, outs, ins = str(r.get("type", "")), r.get("outputs") or {}, r.get("inputs") or {}
        if r.get("delete"):
            continue
        name = str(r.get("urn", "")).split("::")[-1]
        if rtype.endswith(LEDGER):
            state.has_ledger = True
            broken = ledger_unreadable(outs)
            if broken:
                # Planning without a package's originals would forget them: refuse the run instead.
                raise StateUnavailable(f"the StatusLedger's record of {', '.join(broken[:5])} is not readable JSON")
            rec = ledger_record(outs)
            state.originals = rec["originals"]
            state.left = _left(rec["left"])
            state.packages = rec["packages"]
            state.since = rec["since"]
        elif rtype.endswith(BATCHED):
            raw_owned = outs.get("owned")
            if isinstance(raw_owned, dict):
                owned = {str(v): _observed(*(sr if isinstance(sr, list) and len(sr) == 2 else (None, None)))
                         for v, sr in raw_owned.items()}
            else:  # state written before `owned` existed: the last read stands in
                revisions = outs.get("revisions") or {}
                owned = {str(v): _observed(s, revisions.get(v)) for v, s in (outs.get("versions") or {}).items()}
            state.resources.append(PreviousResource("batched", name, dict(ins), owned,
                                                    {str(v): str(s) for v, s in (outs.get("original") or {}).items()}))
        elif rtype.endswith(REPOSITORY):
            state.resources.extend(_repository_packages(name, ins, outs))
        elif rtype.endswith(PER_VERSION):
            restoring = ins.get("restoring")
            if restoring is None:  # state written before `restoring` existed said it in decided_by only
                restoring = str(ins.get("decided_by") or "").startswith("restore (")
            if restoring and outs.get("status") == ins.get("status"):
                continue  # restored: the version left management with that write
            version = str(ins.get("version") or outs.get("version"))
            owned_one = _observed(outs.get("owned_status"), outs.get("owned_revision")) or \
                _observed(outs.get("status"), outs.get("revision"))
            original = outs.get("original_status")
            state.resources.append(PreviousResource("per-version", name, dict(ins), {version: owned_one},
                                                    {version: str(original)} if original else {}))
    return state


def read(stack: str) -> PreviousState:
    """This stack's last saved state, through the Pulumi CLI that runs the program (any backend).
    Raises StateUnavailable naming the reason."""
    cli = os.environ.get("CODEARTIFACT_STATUS_PULUMI") or shutil.which("pulumi")
    if not cli:
        raise StateUnavailable("the `pulumi` command is not on PATH")
    proc = subprocess.run([cli, "stack", "export", "--stack", stack], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise StateUnavailable(f"`pulumi stack export --stack {stack}` failed: {proc.stderr.strip()[-500:]}")
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        raise StateUnavailable(f"`pulumi stack export` printed no JSON ({e})") from None
    return parse(doc.get("deployment") or {})

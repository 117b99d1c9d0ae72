"""`StatusLedger`: the stack's record of each version's original status, kept until it resolves.

Type token: ``pulumi-python:dynamic/codeartifact:StatusLedger``; the provider class path
`provider.status_ledger.StatusLedgerProvider` is stored in state (a public contract). It talks to
no service: it only keeps, in Pulumi state,
- ``originals``: package label -> version -> the status the version had when the stack first took
  it over;
- ``left``: package label -> version -> every [status, revision] this stack's writes or adoption
  may leave the version in, written *before* those writes (a write-ahead record: after a failed,
  partial or killed run the version is in one of them unless someone else changed it);
- ``packages``: package label -> coordinates, connection and opt-ins, so that a pending restore can
  still be made after the package's resource has left the state;
- ``since``: package label -> version -> [status, epoch seconds, how]: since when the version is in
  that status, as `in_status_for_days` counts it ("our write": the time of this stack's write,
  recorded with the write's plan; "CloudTrail": a status write in the download evidence; "first
  seen": the first run that saw it in that status). An entry leaves once the version is seen in
  another status.

The stack program registers it before every status resource (they depend on it, and each checks
that the ledger it was given records the write it is about to make), so an original is recorded
before anything writes (in a preview, which writes nothing, they are given the record the ledger
is given and do not wait for its step). Its lifecycle (docs/resources.md, "The ledger"): an original is added when a
version is first managed; it leaves only when its version is observed back at it, is gone or
Disposed, or is released on purpose (`codeartifact:releaseOriginals`). Deleting the ledger (e.g.
`pulumi destroy`) is refused while it holds an original that differs from how we left the version,
unless those originals are released: a destroy never silently forgets what to put back.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    ConfigureRequest,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from provider._core import config, lifecycle
from provider._core.errors import ProviderError, VersionFailure
from provider._core.model import STATUSES

LEDGER_NAME = "codeartifact-status-ledger"


# What the ledger stores, per field: package label -> that package's record as compact JSON text
# (lifecycle.per_package_text: one SDK value per package, not per version); state written before
# (nested mappings per package) reads the same.
FIELDS = ("originals", "left", "packages", "since")


def _packages_of(props: Mapping[str, Any], name: str) -> dict[str, Any]:
    """label -> the package's record, decoded; a package whose text is not JSON is kept as None
    (`check` names it; nothing silently drops it)."""
    return lifecycle.per_package_decoded(props.get(name))


def _originals(props: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    return {p: {str(v): str(s) for v, s in (vs or {}).items()}
            for p, vs in _packages_of(props, "originals").items() if isinstance(vs, Mapping) or vs is None}


def _left(props: Mapping[str, Any]) -> dict[str, dict[str, list[list[str]]]]:
    return {p: {str(v): [[str(sr[0]), str(sr[1])] for sr in (states or [])
                         if isinstance(sr, (list, tuple)) and len(sr) == 2]
                for v, states in (vs or {}).items()}
            for p, vs in _packages_of(props, "left").items() if isinstance(vs, Mapping) or vs is None}


def _packages(props: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {p: dict(rec) for p, rec in _packages_of(props, "packages").items() if isinstance(rec, Mapping)}


def _since(props: Mapping[str, Any]) -> dict[str, dict[str, list[Any]]]:
    out: dict[str, dict[str, list[Any]]] = {}
    for p, vs in _packages_of(props, "since").items():
        for v, e in (vs.items() if isinstance(vs, Mapping) else ()):
            if isinstance(e, (list, tuple)) and len(e) == 3:
                out.setdefault(p, {})[str(v)] = [str(e[0]), float(e[1]), str(e[2])]
    return out


def record(props: Mapping[str, Any]) -> dict[str, Any]:
    """The ledger as data (every field decoded), whichever way the state stores it."""
    return {"originals": _originals(props), "left": _left(props), "packages": _packages(props),
            "since": _since(props)}


text = lifecycle.per_package_text  # one package's record as the ledger stores it


def stored(props: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``props`` (decoded or stored) in the stored form: field -> label -> JSON text. Already in
    that form (what `check` returns), the texts are kept as they are: they are canonical."""
    if _is_stored(props):
        return {name: dict(props.get(name) or {}) for name in FIELDS}
    rec = record(props)
    return {name: {label: text(value) for label, value in sorted(rec[name].items())} for name in FIELDS}


UNREADABLE = "not a JSON object: the ledger's record of this package cannot be read"


def _is_stored(props: Mapping[str, Any]) -> bool:
    """Whether every field of ``props`` is in the stored form (label -> text)."""
    return all(isinstance(props.get(name) or {}, Mapping) and
               all(isinstance(t, str) for t in (props.get(name) or {}).values()) for name in FIELDS)


def _status_failures(rec: Mapping[str, Any]) -> list[CheckFailure]:
    failures = [CheckFailure(f"originals.{p}.{v}", f"{s!r} is not a CodeArtifact status")
                for p, vs in rec["originals"].items() for v, s in vs.items() if s not in STATUSES]
    failures += [CheckFailure(f"left.{p}.{v}", f"{s!r} is not a CodeArtifact status")
                 for p, vs in rec["left"].items() for v, states in vs.items() for s, _ in states
                 if s not in STATUSES]
    failures += [CheckFailure(f"since.{p}.{v}", f"{e[0]!r} is not a CodeArtifact status")
                 for p, vs in rec["since"].items() for v, e in vs.items() if e[0] not in STATUSES]
    return failures


def unreadable(props: Mapping[str, Any]) -> list[str]:
    """`field.label` of every package record whose text is not a JSON object."""
    return [f"{name}.{label}" for name in FIELDS for label, rec in _packages_of(props, name).items()
            if not isinstance(rec, Mapping)]


def unresolved(props: Mapping[str, Any]) -> list[str]:
    """`label@version` of every recorded original that a state our writes may have left the
    version in differs from (or that has no such record): forgetting it would lose a restore."""
    left = _left(props)
    return sorted(f"{label}@{v}" for label, versions in _originals(props).items() for v, original in versions.items()
                  if not (states := left.get(label, {}).get(v)) or any(s != original for s, _ in states))


class StatusLedgerProvider(ResourceProvider):
    """A record in state, nothing else. No instance attributes."""

    serialize_as_secret_always = False

    def configure(self, req: ConfigureRequest) -> None:
        lifecycle.configure(req)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Every recorded status must be a status the service reports, every package's record
        readable. The inputs are kept in the stored form (`stored`). A package whose stored text
        is the one the previous check accepted is not decoded again (most of a large ledger, most
        runs)."""
        olds = _olds or {}
        if _is_stored(news) and _is_stored(olds):
            changed = {name: {label: t for label, t in (news.get(name) or {}).items()
                              if (olds.get(name) or {}).get(label) != t} for name in FIELDS}
            broken = unreadable(changed)
            return CheckResult(stored(news),
                               [CheckFailure(where, UNREADABLE) for where in broken] + _status_failures(record(changed)))
        failures = [CheckFailure(where, UNREADABLE) for where in unreadable(news)]
        failures += _status_failures(record(news))
        return CheckResult(stored(news), failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Updates in place when the record changes; never replaces. Both in the stored form, the
        texts are compared (they are canonical); otherwise the decoded records."""
        if _is_stored(olds) and _is_stored(news):
            changed = any((olds.get(name) or {}) != (news.get(name) or {}) for name in FIELDS)
        else:
            changed = record(olds) != record(news)
        return DiffResult(changes=changed, replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(LEDGER_NAME, stored(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh keeps the record as it is: it describes the past, not the service. A record in
        an older form is returned as it was (a read changes nothing; the next update stores it in
        the current form)."""
        kept = {name: props.get(name) or {} for name in FIELDS}
        return ReadResult(id_=id_, outs=kept, inputs=dict(kept))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(stored(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Refuses while the record holds an original that our writes changed and that is not
        released (`codeartifact:releaseOriginals`): deleting would forget what to put back.

        Contract: on refusal the engine keeps the ledger in state unchanged; nothing else is
        affected (no service object stands behind the record)."""
        broken = unreadable(props)
        if broken:
            raise ProviderError("forgetting", [VersionFailure("StatusLedger", "ORIGINALS_UNREADABLE", (
                f"the ledger's record of {', '.join(broken[:5])} cannot be read, so whether it holds an original "
                "to restore is unknown; the ledger is kept. Repair the state (`pulumi stack export` / `import`)"))])
        released = config.stack_config().release_originals
        pending = [x for x in unresolved(props) if not config.released(released, x.rsplit("@", 1)[0],
                                                                      x.rsplit("@", 1)[1])]
        if pending:
            shown = ", ".join(pending[:5]) + (f" and {len(pending) - 5} more" if len(pending) > 5 else "")
            raise ProviderError("forgetting", [VersionFailure("StatusLedger", "ORIGINALS_PENDING", (
                f"the ledger holds the original status of {len(pending)} version(s) this stack changed ({shown}); "
                "deleting it would forget them. Restore them first (remove the packages from the specs with "
                "`restore_on_delete: true` and run `pulumi up`), or release them on purpose: "
                "`pulumi config set codeartifact:releaseOriginals '*'` (or a comma-separated list of package "
                "labels), then run the command again"))])


class StatusLedger(Resource, module="codeartifact", name="StatusLedger"):
    """The originals of every managed or pending version (``originals``: package label -> version
    -> status), the states our writes may leave them in (``left``) and where each package is
    (``packages``). Each output maps a package label to that package's record as JSON text (state
    written by earlier releases: to the record itself); `decoded` reads either."""

    originals: pulumi.Output[dict[str, Any]]
    left: pulumi.Output[dict[str, Any]]
    packages: pulumi.Output[dict[str, Any]]
    since: pulumi.Output[dict[str, Any]]

    def __init__(self, resource_name: str, originals: Mapping[str, Mapping[str, str]],
                 left: Optional[Mapping[str, Mapping[str, Any]]] = None,
                 packages: Optional[Mapping[str, Mapping[str, Any]]] = None,
                 opts: Optional[pulumi.ResourceOptions] = None,
                 since: Optional[Mapping[str, Mapping[str, Any]]] = None) -> None:
        # The program's record is data of the right shape already: each package's record is
        # written as text directly (`check` validates every status of what changed).
        fields = {"originals": originals, "left": left or {}, "packages": packages or {}, "since": since or {}}
        super().__init__(StatusLedgerProvider(), resource_name,
                         {name: {str(label): value if isinstance(value, str) else text(value)
                                 for label, value in sorted(fields[name].items())} for name in FIELDS}, opts)


def decoded(value: Any) -> Any:
    """One package's record from a ledger output (JSON text, or the record itself in state written
    by earlier releases); None when absent or unreadable."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


__all__ = ["FIELDS", "LEDGER_NAME", "StatusLedger", "StatusLedgerProvider", "decoded", "record", "stored", "text",
           "unreadable"]

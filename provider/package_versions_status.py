"""`PackageVersionsStatus`: desired statuses of many versions of one package, applied in batches.

Type token: ``pulumi-python:dynamic/codeartifact:PackageVersionsStatus``. Writes are grouped by
(current status, target status) in chunks of <=100 versions: ceil(k/100) calls per group, the
physical minimum. The provider class path `provider.package_versions_status.PackageVersionsStatusProvider`
is stored in state: a public contract.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Union

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from provider._core import api, host, lifecycle
from provider._core.batching import Change, Observed, changes_for
from provider._core.errors import NotFound, ProviderError, VersionFailure
from provider._core.model import PackageVersionsStatusArgs

OUTPUT_FIELDS = ("revisions", "original", "owned")


def _outputs(args: PackageVersionsStatusArgs, observed: Mapping[str, Observed], original: Mapping[str, str],
             owned: Mapping[str, Observed]) -> dict[str, Any]:
    """Inputs with ``versions`` = the statuses the service reports, plus their revisions, the
    statuses found before we managed them, and ``owned``: [status, revision] as our last write or
    adoption left each version (refresh never changes it: the stack program restores a version
    only while it is still exactly as we left it)."""
    out = args.model_dump()
    # A version restored to its original leaves management with this write: it is not kept in
    # state, so the next run (which no longer declares it) sees no difference.
    done = {v for v in args.restoring or () if v in observed and observed[v].status == args.versions.get(v)}
    if args.decided_by is not None:
        out["decided_by"] = {v: r for v, r in args.decided_by.items() if v not in done}
    managed = [v for v in args.versions if v in observed and v not in done]
    out["versions"] = {v: observed[v].status for v in managed}
    out["revisions"] = {v: observed[v].revision for v in managed}
    out["original"] = {v: original.get(v, observed[v].status) for v in managed}
    out["owned"] = {v: [o.status, o.revision] for v in managed if (o := owned.get(v) or observed.get(v))}
    return out


def _owned(props: Mapping[str, Any]) -> dict[str, Observed]:
    """``owned`` from state; state written before it existed falls back to the last read."""
    raw = props.get("owned")
    if isinstance(raw, Mapping):
        return {v: Observed(str(sr[0]), str(sr[1])) for v, sr in raw.items() if isinstance(sr, (list, tuple))
                and len(sr) == 2}
    return _last_read(props)


def _last_read(olds: Mapping[str, Any]) -> dict[str, Observed]:
    statuses = olds.get("versions") or {}
    revisions = olds.get("revisions") or {}
    return {v: Observed(s, revisions[v]) for v, s in statuses.items() if revisions.get(v)}


class PackageVersionsStatusProvider(ResourceProvider):
    """Lifecycle of one package's version statuses. No instance attributes (see provider/_core/config.py)."""

    serialize_as_secret_always = False

    def configure(self, req: ConfigureRequest) -> None:
        lifecycle.configure(req)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validates arguments; one CheckFailure per bad property (``versions.<v>`` for a bad status).
        Refuses Disposed without both opt-ins, and any version leaving Disposed."""
        args, failures = lifecycle.validate(PackageVersionsStatusArgs, news, OUTPUT_FIELDS)
        if args is not None and not args.problem:
            old_versions = (_olds or {}).get("versions") or {}
            for v, status in args.versions.items():
                if status == "Disposed" and not lifecycle.dispose_allowed(args):
                    failures.append(CheckFailure(f"versions.{v}", lifecycle.dispose_refusal(args)))
                if old_versions.get(v) == "Disposed" and status != "Disposed":
                    failures.append(CheckFailure(
                        f"versions.{v}", f"{args.label(v)} was Disposed, which is irreversible; it cannot become "
                                         f"{status} (a Disposed version can only be deleted)"))
        return lifecycle.check_result(args, news, failures, OUTPUT_FIELDS)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """The package's identity replaces; the versions map (and settings) update in place."""
        return lifecycle.diff(olds, news, ("versions", "decided_by"))

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Adopts existing versions: records their statuses, then applies the differences.

        Contract: if any declared version does not exist, raises NotFound naming every missing
        version and applies nothing."""
        lifecycle.raise_problem(props)
        props = lifecycle.parsed(props)
        args = PackageVersionsStatusArgs.model_validate(lifecycle.strip(props, OUTPUT_FIELDS))
        observed = api.observe(args)
        changes, missing = changes_for(args.versions, observed)
        if missing:
            raise NotFound("adopting", [VersionFailure(
                args.label(v), "NOT_FOUND", "the package version does not exist; this resource manages the status "
                                            "of existing versions, it does not publish them") for v in missing])
        original = {v: lifecycle.recorded_original(props, v) or observed[v].status for v in args.versions}
        self._guard_dispose(args, changes)
        lifecycle.unrecorded(args, props, changes)
        if changes:
            try:
                observed.update(api.apply(args, changes))
            except ProviderError as e:
                if e.done:  # part of it was written: the state must say so (locks, "as we left it")
                    observed.update({v: o for v, o in e.done.items() if isinstance(o, Observed)})
                    host.fail_partially(args.label("*"), props, _outputs(args, observed, original, observed), e)
                raise
        return CreateResult(args.label("*"), _outputs(args, observed, original, observed))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh: actual statuses and revisions of the managed versions. Versions that vanished
        drop out of the map (a later update then reports them NOT_FOUND); a vanished package
        returns an empty id. Inputs carry the actual statuses, so drift shows in `preview --diff`."""
        args = PackageVersionsStatusArgs.model_validate(lifecycle.strip(props, OUTPUT_FIELDS))
        try:
            observed = api.observe(args)
        except NotFound:
            return ReadResult(id_="", outs={})
        except ProviderError as e:
            raise lifecycle.refresh_error(args, e) from None
        outs = _outputs(args, observed, props.get("original") or {}, _owned(props))
        return ReadResult(id_=id_, outs=outs, inputs=lifecycle.strip(outs, OUTPUT_FIELDS))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Applies the differences, each version locked to its status and revision from the last read.
        Versions new to the map are adopted (observed now); versions dropped from the map are left
        as they are (a restore is a change the stack program plans and shows, never implicit).

        Contract: versions changed by someone else since the last read fail closed (one ConflictError
        naming each, expected vs actual); the rest of the package is still applied, and the state
        records what was (a partial failure: the engine keeps these outputs with the old inputs)."""
        lifecycle.raise_problem(news)
        news = lifecycle.parsed(news)
        args = PackageVersionsStatusArgs.model_validate(lifecycle.strip(news, OUTPUT_FIELDS))
        last = _last_read(olds)
        owned = _owned(olds)
        original = dict(olds.get("original") or {})
        new_versions = [v for v in args.versions if v not in last]
        if new_versions:
            live = api.observe(args)
            missing = [v for v in new_versions if v not in live]
            if missing:
                raise NotFound("adopting", [VersionFailure(args.label(v), "NOT_FOUND",
                                                           "the package version does not exist") for v in missing])
            for v in new_versions:
                last[v] = owned[v] = live[v]
                original.setdefault(v, lifecycle.recorded_original(news, v) or live[v].status)
        changes, _ = changes_for(args.versions, last)
        self._guard_dispose(args, changes)
        lifecycle.unrecorded(args, news, changes, olds.get("original") or {})
        if changes:
            try:
                done = api.apply(args, changes)
            except ProviderError as e:
                if e.done:  # part of it was written: the state must say so (locks, "as we left it")
                    written = {v: o for v, o in e.done.items() if isinstance(o, Observed)}
                    last.update(written)
                    owned.update(written)
                    host.fail_partially(_id, news, _outputs(args, last, original, owned), e)
                raise
            last.update(done)
            owned.update(done)
        return UpdateResult(_outputs(args, last, original, owned))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Writes nothing: every version is left as it is. Restoring original statuses is a change
        the stack program plans (and the preview shows) before the resource is removed, never a
        side effect of deleting it; so `pulumi destroy` never changes a status."""

    @staticmethod
    def _guard_dispose(args: PackageVersionsStatusArgs, changes: list[Change]) -> None:
        # Defence in depth: check() already refused this; never dispose on a path that skipped it.
        disposing = [c.version for c in changes if c.target == "Disposed"]
        if disposing and not lifecycle.dispose_allowed(args):
            raise ProviderError("disposing", [VersionFailure(args.label(v), "DISPOSE_NOT_ALLOWED",
                                                             lifecycle.dispose_refusal(args)) for v in disposing])


class PackageVersionsStatus(Resource, module="codeartifact", name="PackageVersionsStatus"):
    """Desired statuses of many existing versions of one package (``versions: {version: status}``).

    Outputs: ``versions`` (statuses as last read or applied), ``revisions`` (the locks for the next
    change), ``original`` (each version's status before we managed it) and ``owned`` (status and
    revision as our last write or adoption left each version)."""

    versions: pulumi.Output[dict[str, str]]
    revisions: pulumi.Output[dict[str, str]]
    original: pulumi.Output[dict[str, str]]
    owned: pulumi.Output[dict[str, list[str]]]

    def __init__(self, resource_name: str, *, domain: pulumi.Input[str], repository: pulumi.Input[str],
                 format: pulumi.Input[str], package: pulumi.Input[str],
                 versions: pulumi.Input[Mapping[str, str]], namespace: Optional[pulumi.Input[str]] = None,
                 domain_owner: Optional[pulumi.Input[str]] = None, allow_dispose: bool = False,
                 restore_on_delete: bool = False, decided_by: Optional[Mapping[str, str]] = None,
                 restoring: Optional[list[str]] = None,
                 region: Optional[str] = None,
                 endpoint_url: Optional[str] = None, profile: Optional[str] = None,
                 role_arn: Optional[str] = None, max_attempts: Optional[int] = None,
                 problem: Optional[str] = None, recorded: Optional[pulumi.Input[Union[str, Mapping[str, Any]]]] = None,
                 opts: Optional[pulumi.ResourceOptions] = None) -> None:
        props: dict[str, Any] = {
            "domain": domain, "domain_owner": domain_owner, "repository": repository, "format": format,
            "namespace": namespace, "package": package, "versions": versions, "allow_dispose": allow_dispose,
            "restore_on_delete": restore_on_delete, "decided_by": decided_by, "restoring": restoring, "region": region,
            "endpoint_url": endpoint_url,
            "profile": profile, "role_arn": role_arn, "max_attempts": max_attempts, "problem": problem,
            "revisions": None, "original": None, "owned": None,
        }
        if recorded is not None:
            props["recorded"] = recorded
        super().__init__(PackageVersionsStatusProvider(), resource_name, props, opts)

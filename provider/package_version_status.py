"""`PackageVersionStatus`: the desired status of one CodeArtifact package version.

Type token: ``pulumi-python:dynamic/codeartifact:PackageVersionStatus``. The provider class
`provider.package_version_status.PackageVersionStatusProvider` is stored in state by import path:
that path is a public contract.
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

from provider._core import api, lifecycle
from provider._core.batching import Change, Observed
from provider._core.errors import NotFound, ProviderError, VersionFailure
from provider._core.model import IDENTITY_FIELDS, PackageVersionStatusArgs

OUTPUT_FIELDS = ("revision", "original_status", "owned_status", "owned_revision")


def _outputs(args: PackageVersionStatusArgs, obs: Observed, original: str, owned: Observed) -> dict[str, Any]:
    """``status``/``revision``: as last read or written; ``owned_*``: as our last write or
    adoption left the version (refresh never changes them: the stack program restores a version
    only while it is still exactly as we left it)."""
    out = args.model_dump()
    out.update(status=obs.status, revision=obs.revision, original_status=original, owned_status=owned.status,
               owned_revision=owned.revision)
    return out


def _owned(props: Mapping[str, Any]) -> Optional[Observed]:
    status, revision = props.get("owned_status"), props.get("owned_revision")
    return Observed(str(status), str(revision)) if status and revision else None


class PackageVersionStatusProvider(ResourceProvider):
    """Lifecycle of one version's status. No instance attributes (see provider/_core/config.py)."""

    serialize_as_secret_always = False  # it holds no secret; keep state readable and small

    def configure(self, req: ConfigureRequest) -> None:
        lifecycle.configure(req)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validates arguments; one CheckFailure per bad property. Also refuses Disposed without both
        opt-ins, and leaving Disposed (it is irreversible)."""
        args, failures = lifecycle.validate(PackageVersionStatusArgs, news, OUTPUT_FIELDS)
        if args is not None and not args.problem:
            if args.status == "Disposed" and not lifecycle.dispose_allowed(args):
                failures.append(CheckFailure("status", lifecycle.dispose_refusal(args)))
            if (_olds or {}).get("status") == "Disposed" and args.status != "Disposed":
                failures.append(CheckFailure(
                    "status", f"{args.label(args.version)} was Disposed, which is irreversible; it cannot become "
                              f"{args.status} (a Disposed version can only be deleted)"))
        return lifecycle.check_result(args, news, failures, OUTPUT_FIELDS)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Identity (domain, owner, repository, format, namespace, package, version) replaces;
        status (and connection settings) update in place."""
        return lifecycle.diff(olds, news, ("status", "decided_by"), (*IDENTITY_FIELDS, "version"))

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Adopts an existing version: records the status found before we touched it, then applies
        the desired status (locked to the observed status and revision).

        Contract: raises NotFound (naming the version) if it does not exist, and nothing is applied."""
        lifecycle.raise_problem(props)
        props = lifecycle.parsed(props)
        args = PackageVersionStatusArgs.model_validate(lifecycle.strip(props, OUTPUT_FIELDS))
        try:
            obs = api.find_version(args, args.version)
        except NotFound as e:
            raise NotFound("adopting", [VersionFailure(
                args.label(args.version), "NOT_FOUND",
                f"{e.failures[0].detail}; this resource manages the status of an existing version, it does not "
                "publish one")]) from None
        original = lifecycle.recorded_original(props, args.version) or obs.status
        if obs.status == args.status:
            return CreateResult(args.label(args.version), _outputs(args, obs, original, obs))
        self._guard_dispose(args)
        change = Change(args.version, obs.status, obs.revision, args.status)
        lifecycle.unrecorded(args, props, [change])
        done = api.apply_one(args, change)
        return CreateResult(args.label(args.version), _outputs(args, done, original, done))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh: the actual status and revision. A vanished version (or package) returns an
        empty id, which tells the engine the resource is gone. The returned inputs carry the actual
        status, so drift shows in `pulumi preview --diff` as `status: "Archived" => "Published"`."""
        args = PackageVersionStatusArgs.model_validate(lifecycle.strip(props, OUTPUT_FIELDS))
        try:
            obs = api.find_version(args, args.version)
        except NotFound:
            return ReadResult(id_="", outs={})
        except ProviderError as e:
            raise lifecycle.refresh_error(args, e) from None
        # State from before `owned_*` existed: what the state held before this refresh is the best
        # record of what we left.
        owned = _owned(props) or (Observed(str(props.get("status")), str(props.get("revision")))
                                  if props.get("status") and props.get("revision") else obs)
        outs = _outputs(args, obs, str(props.get("original_status") or obs.status), owned)
        return ReadResult(id_=id_, outs=outs, inputs=lifecycle.strip(outs, OUTPUT_FIELDS))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Applies the new status with `versionRevisions` = the revision from the last read and
        `expectedStatus` = the status from the last read.

        Contract: a change made by someone else since that read fails closed (ConflictError naming
        the version, expected vs actual) and nothing is overwritten."""
        lifecycle.raise_problem(news)
        news = lifecycle.parsed(news)
        args = PackageVersionStatusArgs.model_validate(lifecycle.strip(news, OUTPUT_FIELDS))
        current, revision = olds.get("status"), olds.get("revision")
        original = str(olds.get("original_status") or current)
        if not current or not revision:  # state from an interrupted create: observe now
            obs = api.find_version(args, args.version)
            current, revision = obs.status, obs.revision
        last = Observed(current, revision)
        if current == args.status:
            return UpdateResult(_outputs(args, last, original, _owned(olds) or last))
        self._guard_dispose(args)
        change = Change(args.version, current, revision, args.status)
        lifecycle.unrecorded(args, news, [change], {args.version: olds.get("original_status")})
        done = api.apply_one(args, change)
        return UpdateResult(_outputs(args, done, original, done))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Writes nothing: the version is left as it is. Restoring an original status is a change
        the stack program plans (and the preview shows) before the resource is removed, never a
        side effect of deleting it; so `pulumi destroy` never changes a status."""

    @staticmethod
    def _guard_dispose(args: PackageVersionStatusArgs) -> None:
        # Defence in depth: check() already refused this; never dispose on a path that skipped it.
        if args.status == "Disposed" and not lifecycle.dispose_allowed(args):
            raise ProviderError("disposing", [VersionFailure(args.label(args.version), "DISPOSE_NOT_ALLOWED",
                                                             lifecycle.dispose_refusal(args))])


class PackageVersionStatus(Resource, module="codeartifact", name="PackageVersionStatus"):
    """The desired status of one existing package version.

    Outputs: ``status`` (as last read or applied), ``revision`` (the version's revision, used as the
    lock for the next change), ``original_status`` (what it was before we managed it) and
    ``owned_status``/``owned_revision`` (as our last write or adoption left it)."""

    status: pulumi.Output[str]
    revision: pulumi.Output[str]
    original_status: pulumi.Output[str]
    owned_status: pulumi.Output[str]
    owned_revision: pulumi.Output[str]

    def __init__(self, resource_name: str, *, domain: pulumi.Input[str], repository: pulumi.Input[str],
                 format: pulumi.Input[str], package: pulumi.Input[str], version: pulumi.Input[str],
                 status: pulumi.Input[str], namespace: Optional[pulumi.Input[str]] = None,
                 domain_owner: Optional[pulumi.Input[str]] = None, allow_dispose: bool = False,
                 restore_on_delete: bool = False, decided_by: Optional[str] = None,
                 restoring: Optional[bool] = None, region: Optional[str] = None,
                 endpoint_url: Optional[str] = None, profile: Optional[str] = None,
                 role_arn: Optional[str] = None, max_attempts: Optional[int] = None,
                 problem: Optional[str] = None, recorded: Optional[pulumi.Input[Union[str, Mapping[str, Any]]]] = None,
                 opts: Optional[pulumi.ResourceOptions] = None) -> None:
        props: dict[str, Any] = {
            "domain": domain, "domain_owner": domain_owner, "repository": repository, "format": format,
            "namespace": namespace, "package": package, "version": version, "status": status,
            "allow_dispose": allow_dispose, "restore_on_delete": restore_on_delete, "decided_by": decided_by,
            "restoring": restoring,
            "region": region,
            "endpoint_url": endpoint_url, "profile": profile, "role_arn": role_arn, "max_attempts": max_attempts,
            "problem": problem,
            "revision": None, "original_status": None, "owned_status": None, "owned_revision": None,
        }
        if recorded is not None:
            props["recorded"] = recorded
        super().__init__(PackageVersionStatusProvider(), resource_name, props, opts)

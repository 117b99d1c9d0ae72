"""`RepositoryVersionsStatus`: desired statuses of the versions of many packages of one repository.

Type token: ``pulumi-python:dynamic/codeartifact:RepositoryVersionsStatus``. The shape repository
policies use: the stack program spreads a repository's packages over a fixed number of these
resources (shards, by a hash of the package name), so the engine's cost (steps, checkpoints) does
not grow with the package count. Inside one resource every package is planned, written and failed
on its own: writes are grouped per (package, current, target) in chunks of <=100 versions (the
physical minimum), each locked to the versions' revisions and statuses as last read; a package whose
write fails closed, or that the program could not plan (``problems``), never blocks the others, and
the state records exactly what was written. The provider class path
`provider.repository_versions_status.RepositoryVersionsStatusProvider` is stored in state: a public
contract.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
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
from provider._core.aws_errors import raise_for
from provider._core.batching import Change, Observed, changes_for
from provider._core.errors import NotFound, ProviderError, VersionFailure
from provider._core.model import RepositoryVersionsStatusArgs

OUTPUT_FIELDS = ("revisions", "original", "owned")
PACKAGE_WORKERS = 8  # packages written at once (each also writes its chunks concurrently; pacing bounds the rate)

Listing = dict[str, dict[str, Observed]]  # package key -> version -> observed


def per_package(props: Mapping[str, Any], name: str) -> dict[str, dict[str, Any]]:
    """An output field (`revisions`, `original`, `owned`) as package key -> version -> value,
    whichever form the state holds: per package JSON text (lifecycle.per_package_text), or the
    nested mapping earlier releases wrote."""
    return {k: dict(v) for k, v in lifecycle.per_package_decoded(props.get(name)).items() if isinstance(v, Mapping)}


def _compact(props: Mapping[str, Any]) -> bool:
    """Whether ``props`` hold the output fields as text (or hold none yet)."""
    return not any(isinstance(v, Mapping) for name in OUTPUT_FIELDS
                   for v in ((props.get(name) or {}).values() if isinstance(props.get(name), Mapping) else ()))


def _outputs(args: RepositoryVersionsStatusArgs, observed: Listing, original: Mapping[str, Mapping[str, str]],
             owned: Listing, compact: bool = True) -> dict[str, Any]:
    """Inputs with ``packages`` = the statuses the service reports (per package and version), plus
    their revisions, the statuses found before we managed them, and ``owned``: [status, revision]
    as our last write or adoption left each version (refresh never changes it). A package without
    an observation (not planned this run, or not readable) keeps nothing here but what ``observed``
    holds for it: the caller passes the previous state for those. ``compact``: the three output
    fields as per-package JSON text (`per_package` reads both forms; a refresh keeps the form the
    state had, so an upgrade alone never shows as drift)."""
    out = args.model_dump()
    restoring = args.restoring or {}
    packages: dict[str, dict[str, str]] = {}
    revisions: dict[str, dict[str, str]] = {}
    originals: dict[str, dict[str, str]] = {}
    owned_out: dict[str, dict[str, list[str]]] = {}
    decided: dict[str, dict[str, str]] = {}
    for key, versions in args.packages.items():
        obs = observed.get(key) or {}
        # A version restored to its original leaves management with this write.
        done = {v for v in restoring.get(key, ()) if v in obs and obs[v].status == versions.get(v)}
        managed = [v for v in versions if v in obs and v not in done]
        if not managed:
            continue
        packages[key] = {v: obs[v].status for v in managed}
        revisions[key] = {v: obs[v].revision for v in managed}
        originals[key] = {v: (original.get(key) or {}).get(v, obs[v].status) for v in managed}
        mine = owned.get(key) or {}
        owned_out[key] = {v: [o.status, o.revision] for v in managed if (o := mine.get(v) or obs.get(v))}
        if args.decided_by is not None and key in args.decided_by:
            decided[key] = {v: r for v, r in args.decided_by[key].items() if v in packages[key]}
    out["packages"] = packages
    form = lifecycle.per_package_text if compact else (lambda x: x)
    out["revisions"] = {k: form(v) for k, v in revisions.items()}
    out["original"] = {k: form(v) for k, v in originals.items()}
    out["owned"] = {k: form(v) for k, v in owned_out.items()}
    if args.decided_by is not None:
        out["decided_by"] = decided
    return out


def _last_read(props: Mapping[str, Any]) -> Listing:
    statuses = props.get("packages") or {}
    revisions = per_package(props, "revisions")
    return {k: {v: Observed(s, (revisions.get(k) or {})[v]) for v, s in (vs or {}).items()
                if (revisions.get(k) or {}).get(v)} for k, vs in statuses.items()}


def _owned(props: Mapping[str, Any]) -> Listing:
    raw = per_package(props, "owned")
    return {k: {v: Observed(str(sr[0]), str(sr[1])) for v, sr in (vs or {}).items()
                if isinstance(sr, (list, tuple)) and len(sr) == 2} for k, vs in raw.items()}


def _recorded_of(props: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The resource-shaped props that lifecycle's ledger checks read, for one package."""
    raw = props.get(lifecycle.RECORDED)
    if not isinstance(raw, Mapping):
        return {}
    return {lifecycle.RECORDED: raw.get(key) or {}}


class RepositoryVersionsStatusProvider(ResourceProvider):
    """Lifecycle of one shard of a repository's packages. No instance attributes (see provider/_core/config.py)."""

    serialize_as_secret_always = False

    def configure(self, req: ConfigureRequest) -> None:
        lifecycle.configure(req)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validates arguments; one CheckFailure per bad property (``packages.<package>.<version>``).
        Refuses Disposed without both opt-ins, and any version leaving Disposed."""
        args, failures = lifecycle.validate(RepositoryVersionsStatusArgs, news, OUTPUT_FIELDS)
        if args is not None:
            old = (_olds or {}).get("packages") or {}
            for key, versions in args.packages.items():
                if key in (args.problems or {}):
                    continue
                pkg = args.package_args(key)
                for v, status in versions.items():
                    if status == "Disposed" and not lifecycle.dispose_allowed(pkg):
                        failures.append(CheckFailure(f"packages.{key}.{v}", lifecycle.dispose_refusal(pkg)))
                    if (old.get(key) or {}).get(v) == "Disposed" and status != "Disposed":
                        failures.append(CheckFailure(
                            f"packages.{key}.{v}", f"{pkg.label(v)} was Disposed, which is irreversible; it cannot "
                                                   f"become {status} (a Disposed version can only be deleted)"))
        return lifecycle.check_result(args, news, failures, OUTPUT_FIELDS)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """The repository's identity (and shard) replaces; the packages map (and settings) update
        in place. A resource carrying `problems` always differs, so that its update reports them."""
        if news.get("problems"):
            return DiffResult(changes=True, replaces=[], stables=[], delete_before_replace=False)
        return lifecycle.diff(olds, news, ("packages", "decided_by", "shard"),
                              identity=("domain", "domain_owner", "repository", "shard"))

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Adopts the existing versions of every package: records their statuses, then applies the
        differences, package by package.

        Contract: a package with a declared version that does not exist (or that cannot be read)
        applies nothing and fails, naming every missing version; every other package is applied;
        the state then records exactly what each package's writes did (a partial failure)."""
        args = RepositoryVersionsStatusArgs.model_validate(lifecycle.strip(props, OUTPUT_FIELDS))
        props = lifecycle.parsed(props)
        observed, original, failures = _observe(args, props, args.packages, {})
        owned: Listing = {k: dict(v) for k, v in observed.items()}
        changes = _changes(args, props, observed, {}, failures)
        _apply(args, changes, observed, owned, failures)
        outs = _outputs(args, observed, original, owned)
        _finish(args.domain + "/" + args.repository + "#" + args.shard, props, outs, failures, changes)
        return CreateResult(f"{args.domain}/{args.repository}#{args.shard}", outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh: actual statuses and revisions of every managed version. Versions that vanished
        drop out of the map, and so does a package that vanished (the resource stays, possibly
        empty: the program decides whether it is still needed). Inputs carry the actual statuses, so drift shows in `preview --diff`."""
        args = RepositoryVersionsStatusArgs.model_validate(lifecycle.strip(props, OUTPUT_FIELDS))
        keys = list(args.packages)

        def one(key: str) -> tuple[str, Optional[dict[str, Observed]]]:
            try:
                return key, api.observe(args.package_args(key))
            except NotFound:
                return key, None

        try:
            with ThreadPoolExecutor(max_workers=PACKAGE_WORKERS) as pool:
                found = dict(pool.map(one, keys))
        except ProviderError as e:
            raise lifecycle.refresh_error(args.package_args(keys[0]), e) from None
        observed = {k: v for k, v in found.items() if v is not None}
        outs = _outputs(args, observed, per_package(props, "original"), _owned(props), _compact(props))
        return ReadResult(id_=id_, outs=outs, inputs=lifecycle.strip(outs, OUTPUT_FIELDS))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Applies the differences package by package, each version locked to its status and
        revision from the last read. Packages and versions new to the map are adopted (observed
        now); those dropped from it are left as they are (a restore is a change the stack program
        plans and shows, never implicit); packages in ``problems`` are left exactly as the state
        records them.

        Contract: a package whose versions were changed by someone else since the last read fails
        closed (naming each, expected vs actual), as does a package the program could not plan;
        every other package is applied, and the state records what was (a partial failure: the
        engine keeps these outputs with the old inputs, so the next run tries the rest again)."""
        args = RepositoryVersionsStatusArgs.model_validate(lifecycle.strip(news, OUTPUT_FIELDS))
        news = lifecycle.parsed(news)
        last = _last_read(olds)
        owned = _owned(olds)
        original = per_package(olds, "original")
        new = {k: [v for v in vs if v not in (last.get(k) or {})] for k, vs in args.packages.items()
               if k not in (args.problems or {})}
        new = {k: vs for k, vs in new.items() if vs}
        observed: Listing = {k: dict(v) for k, v in last.items()}
        fresh, fresh_original, failures = _observe(args, news, {k: {v: args.packages[k][v] for v in vs}
                                                                for k, vs in new.items()}, original)
        for k, vs in fresh.items():
            observed.setdefault(k, {}).update(vs)
            owned.setdefault(k, {}).update({v: o for v, o in vs.items() if v not in (owned.get(k) or {})})
            original.setdefault(k, {}).update({v: s for v, s in fresh_original.get(k, {}).items()
                                               if v not in original.get(k, {})})
        changes = _changes(args, news, observed, per_package(olds, "original"), failures)
        _apply(args, changes, observed, owned, failures)
        outs = _outputs(args, observed, original, owned)
        _finish(_id, news, outs, failures, changes)
        return UpdateResult(outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Writes nothing: every version is left as it is. Restoring original statuses is a change
        the stack program plans (and the preview shows) before the resource is removed, never a
        side effect of deleting it; so `pulumi destroy` never changes a status."""


def _observe(args: RepositoryVersionsStatusArgs, props: Mapping[str, Any], wanted: Mapping[str, Mapping[str, str]],
             original: Mapping[str, Mapping[str, str]]) -> tuple[Listing, dict[str, dict[str, str]], dict[str, list[Any]]]:
    """Observes the packages that ``wanted`` names (their versions as listed now), skipping those
    with problems; a package whose listing fails, or that lacks a declared version, is a failure
    of that package only. Returns (observed, originals as the ledger records them or as found now,
    failures per package)."""
    problems = args.problems or {}
    keys = [k for k in wanted if k not in problems]
    failures: dict[str, list[Any]] = {}

    def one(key: str) -> tuple[str, Any]:
        try:
            return key, api.observe(args.package_args(key))
        except ProviderError as e:
            return key, e

    with ThreadPoolExecutor(max_workers=PACKAGE_WORKERS) as pool:
        listed = dict(pool.map(one, keys))
    observed: Listing = {}
    originals: dict[str, dict[str, str]] = {}
    for key in keys:
        got = listed[key]
        pkg = args.package_args(key)
        if isinstance(got, ProviderError):
            failures[key] = [(type(got).__name__, f) for f in got.failures]
            continue
        missing = [v for v in wanted[key] if v not in got]
        if missing:
            failures[key] = [("NotFound", VersionFailure(
                pkg.label(v), "NOT_FOUND", "the package version does not exist; this resource manages the status of "
                                           "existing versions, it does not publish them")) for v in missing]
            continue
        observed[key] = {v: got[v] for v in wanted[key]}
        recorded = _recorded_of(props, key)
        originals[key] = {v: (original.get(key) or {}).get(v) or lifecycle.recorded_original(recorded, v)
                          or got[v].status for v in wanted[key]}
    for key, why in problems.items():
        failures[key] = [("SpecProblem", VersionFailure(args.package_args(key).label("*") if key in args.packages
                                                        else f"{args.domain}/{args.repository}/{key}@*",
                                                        "SPEC_PROBLEM", why))]
    return observed, originals, failures


def _changes(args: RepositoryVersionsStatusArgs, props: Mapping[str, Any], observed: Listing,
             own_originals: Mapping[str, Mapping[str, str]], failures: dict[str, list[Any]]) -> dict[str, list[Change]]:
    """The changes of every package that can be applied: dispose opt-ins and the ledger's record
    are checked per package (a package that fails a check writes nothing; the others go on)."""
    out: dict[str, list[Change]] = {}
    for key, desired in args.packages.items():
        if key in failures or key not in observed:
            continue
        pkg = args.package_args(key)
        changes, _ = changes_for(desired, observed[key])
        try:
            disposing = [c.version for c in changes if c.target == "Disposed"]
            if disposing and not lifecycle.dispose_allowed(pkg):
                # Defence in depth: check() already refused this; never dispose on a path that skipped it.
                raise ProviderError("disposing", [VersionFailure(pkg.label(v), "DISPOSE_NOT_ALLOWED",
                                                                 lifecycle.dispose_refusal(pkg)) for v in disposing])
            lifecycle.unrecorded(pkg, _recorded_of(props, key) if lifecycle.RECORDED in props else {}, changes,
                                 own_originals.get(key) or {})
        except ProviderError as e:
            failures[key] = [(type(e).__name__, f) for f in e.failures]
            continue
        if changes:
            out[key] = changes
    return out


def _apply(args: RepositoryVersionsStatusArgs, changes: dict[str, list[Change]], observed: Listing, owned: Listing,
           failures: dict[str, list[Any]]) -> None:
    """Writes every package's changes (packages concurrently, each at its minimum of calls) and
    records in ``observed`` and ``owned`` what the service reported; a package's failures go to
    ``failures`` and never stop another package."""
    def one(key: str) -> tuple[str, dict[str, Observed], list[Any]]:
        done, failed = api.apply_collect(args.package_args(key), changes[key])
        return key, done, failed

    with ThreadPoolExecutor(max_workers=PACKAGE_WORKERS) as pool:
        for key, done, failed in pool.map(one, list(changes)):
            observed.setdefault(key, {}).update(done)
            owned.setdefault(key, {}).update(done)
            if failed:
                failures[key] = failed


def _finish(resource_id: str, props: dict[str, Any], outs: dict[str, Any], failures: dict[str, list[Any]],
            changes: dict[str, list[Change]]) -> None:
    """Raises one error naming every failed package's versions (conflicts first), after telling
    the engine what was written (a partial failure), when any package failed."""
    if not failures:
        return
    items = [f for key in sorted(failures) for f in failures[key]]
    all_changes = [c for cs in changes.values() for c in cs] or [Change("*", "Published", "", "Published")]
    try:
        raise_for(all_changes, items)
    except ProviderError as e:
        host.fail_partially(resource_id, props, outs, e)
        raise


class RepositoryVersionsStatus(Resource, module="codeartifact", name="RepositoryVersionsStatus"):
    """Desired statuses of the versions of many packages of one repository (one shard of it):
    ``packages: {"format[/namespace]/name": {version: status}}``.

    Outputs: ``packages`` (statuses as last read or applied, per package and version), and per
    package as JSON text of version -> value (`per_package` reads them): ``revisions`` (the locks
    for the next change), ``original`` (each version's status before we managed it) and ``owned``
    (status and revision as our last write or adoption left each version)."""

    packages: pulumi.Output[dict[str, dict[str, str]]]
    revisions: pulumi.Output[dict[str, Any]]
    original: pulumi.Output[dict[str, Any]]
    owned: pulumi.Output[dict[str, Any]]

    def __init__(self, resource_name: str, *, domain: pulumi.Input[str], repository: pulumi.Input[str],
                 shard: str, packages: Mapping[str, Mapping[str, str]],
                 domain_owner: Optional[pulumi.Input[str]] = None,
                 decided_by: Optional[Mapping[str, Mapping[str, str]]] = None,
                 restoring: Optional[Mapping[str, list[str]]] = None, allow_dispose: Optional[list[str]] = None,
                 problems: Optional[Mapping[str, str]] = None, region: Optional[str] = None,
                 endpoint_url: Optional[str] = None, profile: Optional[str] = None,
                 role_arn: Optional[str] = None, max_attempts: Optional[int] = None,
                 recorded: Optional[pulumi.Input[Union[str, Mapping[str, Any]]]] = None,
                 opts: Optional[pulumi.ResourceOptions] = None) -> None:
        props: dict[str, Any] = {
            "domain": domain, "domain_owner": domain_owner, "repository": repository, "shard": shard,
            "packages": packages, "decided_by": decided_by, "restoring": restoring,
            "allow_dispose": allow_dispose or [], "problems": problems, "region": region,
            "endpoint_url": endpoint_url, "profile": profile, "role_arn": role_arn, "max_attempts": max_attempts,
            "revisions": None, "original": None, "owned": None,
        }
        if recorded is not None:
            props["recorded"] = recorded
        super().__init__(RepositoryVersionsStatusProvider(), resource_name, props, opts)

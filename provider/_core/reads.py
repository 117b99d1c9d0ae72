"""Reads: finders for what CodeArtifact holds (a package's versions, published times).

One paginated ListPackageVersions per package (1000 versions a page), cached for a short TTL and
shared by concurrent callers (single flight), so a refresh of many resources of one package costs
its pages, not one call per version. A cached observation can only be stale by the TTL; it never
weakens a write, because every write carries its own locks. Published times never change, so
they are cached for the whole command. Finders raise NotFound, never return None.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

from botocore.exceptions import BotoCoreError, ClientError

from provider._core import config, listing_cache
from provider._core.aws_errors import raise_client_error
from provider._core.errors import InvalidResponse, NotFound, VersionFailure
from provider._core.model import STATUSES, Observed, PackageArgs, RepositoryArgs
from provider._core.single_flight import Flight

_cache_lock = threading.Lock()
_cache: dict[tuple[Any, ...], tuple[float, dict[str, Observed]]] = {}
_flights: dict[tuple[Any, ...], Flight[dict[str, Observed]]] = {}


def key(args: PackageArgs) -> tuple[Any, ...]:
    """What identifies one package's listing: the effective connection and the package."""
    return (tuple(sorted(config.effective(args).items())), args.package_key())


def _list_all(args: PackageArgs) -> dict[str, Observed]:
    client = config.client_for(args)
    out: dict[str, Observed] = {}
    try:
        # Newest first by publish time (the service's documented sort): age rules find their
        # boundary in this order by binary search, keep_latest `by: published` reads it directly.
        for page in client.get_paginator("list_package_versions").paginate(
                **args.coordinates(), sortBy="PUBLISHED_TIME", PaginationConfig={"PageSize": 1000}):
            for item in page.get("versions", []):
                version, status, revision = item.get("version"), item.get("status"), item.get("revision")
                if not version or status not in STATUSES or not revision:
                    raise InvalidResponse("reading", [VersionFailure(
                        args.label(str(version)), "InvalidResponse",
                        f"ListPackageVersions returned an unusable entry {item!r}")])
                out[version] = Observed(status, revision, (item.get("origin") or {}).get("originType"))
    except (ClientError, BotoCoreError) as exc:
        raise_client_error(exc, args, ["*"], "reading")
    return out


@dataclass(frozen=True)
class ListedPackage:
    """One package as ListPackages reports it, with its origin controls (ALLOW / BLOCK)."""

    format: str
    namespace: Optional[str]
    package: str
    publish: Optional[str] = None
    upstream: Optional[str] = None


@dataclass(frozen=True)
class _RepositoryLabel:
    """Names a repository where errors name a package version (`dom/repo@(ListPackages)`)."""

    name: str

    def label(self, what: str) -> str:
        return f"{self.name}@{what}"


_packages_lock = threading.Lock()
_packages: dict[tuple[Any, ...], list[ListedPackage]] = {}


def list_packages(repo: RepositoryArgs) -> list[ListedPackage]:
    """Every package of the repository: ListPackages, ⌈P/1000⌉ pages, once per process (a
    command's program discovers each repository once, however many policies it has). Raises
    NotFound when the domain or repository does not exist."""
    k = (tuple(sorted(config.effective(repo).items())), repo.domain, repo.domain_owner, repo.repository)
    with _packages_lock:
        if k in _packages:
            return list(_packages[k])
    shared = listing_cache.get(("packages", k), config.stack_config().cache_ttl_seconds)
    if shared is not None and isinstance(shared.get("packages"), list):
        # Listed by an earlier process of this pulumi command (`up` runs the program for its preview too).
        cached = [ListedPackage(*item) for item in shared["packages"]]
        with _packages_lock:
            _packages[k] = cached
        return list(cached)
    client = config.client_for(repo)
    out: list[ListedPackage] = []
    try:
        for page in client.get_paginator("list_packages").paginate(
                **repo.repository_coordinates(), PaginationConfig={"PageSize": 1000}):
            for item in page.get("packages", []):
                fmt, name = item.get("format"), item.get("package")
                if not fmt or not name:
                    raise InvalidResponse("reading", [VersionFailure(
                        f"{repo.domain}/{repo.repository}/*", "InvalidResponse",
                        f"ListPackages returned an unusable entry {item!r}")])
                restrictions = (item.get("originConfiguration") or {}).get("restrictions") or {}
                out.append(ListedPackage(str(fmt), item.get("namespace") or None, str(name),
                                         restrictions.get("publish"), restrictions.get("upstream")))
    except (ClientError, BotoCoreError) as exc:
        raise_client_error(exc, _RepositoryLabel(f"{repo.domain}/{repo.repository}"), ["(ListPackages)"],  # type: ignore[arg-type]
                           "reading")
    with _packages_lock:
        _packages[k] = out
    listing_cache.put(("packages", k), {"packages": [[p.format, p.namespace, p.package, p.publish, p.upstream]
                                                     for p in out]})
    return list(out)


_published_lock = threading.Lock()
_published: dict[tuple[Any, ...], dict[str, Optional[float]]] = {}


def published_times(args: PackageArgs, versions: list[str]) -> dict[str, Optional[float]]:
    """Each version's published time (epoch seconds; None when the service gives none), one
    DescribePackageVersion per version not yet known. A published time never changes, so what
    any process of this `pulumi` command described is reused (command-scoped shared cache)."""
    k = key(args)
    shared_key = ("published", k)
    with _published_lock:
        known = _published.setdefault(k, {})
        known.update(listing_cache.get(shared_key, config.stack_config().cache_ttl_seconds) or {})
        missing = [v for v in dict.fromkeys(versions) if v not in known]
    if missing:
        client = config.client_for(args)

        def describe(v: str) -> tuple[str, Optional[float]]:
            try:
                desc = client.describe_package_version(**args.coordinates(), packageVersion=v)["packageVersion"]
            except (ClientError, BotoCoreError) as exc:
                raise_client_error(exc, args, [v], "reading")
            when = desc.get("publishedTime")
            return v, when.timestamp() if when is not None else None

        with ThreadPoolExecutor(max_workers=8) as pool:
            found = dict(pool.map(describe, missing))
        with _published_lock:
            known.update(found)
            listing_cache.put(shared_key, dict(known))
    with _published_lock:
        return {v: known.get(v) for v in versions}


def observe(args: PackageArgs, fresh: bool = False) -> dict[str, Observed]:
    """Every version of the package with its status and revision (a copy the caller owns).
    Raises NotFound when the domain, repository or package does not exist. ``fresh`` bypasses
    the cache."""
    return dict(_observed(args, fresh))


def _observed(args: PackageArgs, fresh: bool = False) -> dict[str, Observed]:
    """`observe` without the copy: the cached listing itself, which callers must not change (a
    per-version read looks up one version; copying a 1,000-version listing for each of 1,000
    resources cost more than the lookup)."""
    k = key(args)
    ttl = config.stack_config().cache_ttl_seconds
    leader = False
    with _cache_lock:
        hit = _cache.get(k)
        if not fresh and hit is not None and time.monotonic() - hit[0] <= ttl:
            return hit[1]
        flight = None if fresh else _flights.get(k)
        if flight is None:
            flight = Flight[dict[str, Observed]]()
            leader = True
            if not fresh:
                _flights[k] = flight
    if leader:
        started = time.monotonic()

        def list_and_share() -> dict[str, Observed]:
            try:
                shared = None if fresh else listing_cache.get(k, ttl)
                if shared is not None:  # listed moments ago by another process of this pulumi command
                    result = {v: Observed(sr[0], sr[1], sr[2] if len(sr) > 2 else None) for v, sr in shared.items()}
                else:
                    result = _list_all(args)
                    listing_cache.put(k, {v: [o.status, o.revision, o.origin] for v, o in result.items()})
                with _cache_lock:
                    _cache[k] = (started, result)
                return result
            finally:
                with _cache_lock:
                    if _flights.get(k) is flight:
                        del _flights[k]

        flight.run(list_and_share)
    return flight.outcome()


def remember(args: PackageArgs, results: dict[str, Observed]) -> None:
    """Patches the cached observation with what a successful write reported (and drops the
    listing shared with other processes, which no longer holds)."""
    k = key(args)
    with _cache_lock:
        hit = _cache.get(k)
        if hit is not None:
            for v, o in results.items():
                before = hit[1].get(v)
                hit[1][v] = Observed(o.status, o.revision, before.origin if before else None)
    if results:
        listing_cache.drop(k)


def forget() -> None:
    """Forgets every listing and published time this process observed (test-only: provider/_core/testing.py)."""
    with _cache_lock:
        _cache.clear()
    with _published_lock:
        _published.clear()
    with _packages_lock:
        _packages.clear()


def find_version(args: PackageArgs, version: str, fresh: bool = False) -> Observed:
    """The observed status and revision of one version; raises NotFound, never returns None."""
    obs = _observed(args, fresh=fresh).get(version)
    if obs is None:
        raise NotFound("reading", [VersionFailure(args.label(version), "NOT_FOUND",
                                                  "the package version does not exist")])
    return obs

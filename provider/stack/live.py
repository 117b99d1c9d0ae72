"""Read-only listing of live versions for the stack program (rule expansion never writes)."""

from __future__ import annotations

from typing import Callable, Optional

from provider._core import api
from provider._core.model import PackageArgs, RepositoryArgs
from provider.rules.expand import LiveVersion


def list_versions(args: PackageArgs) -> dict[str, LiveVersion]:
    """Every version with status, revision and origin, newest first by publish time (one
    ListPackageVersions page per 1000 versions; `rank` is the position in that order). Published
    times are read only where a rule needs them (`describe`, called by the conditions' bulk step),
    never for every version. Raises provider._core.errors.NotFound for a missing
    domain/repository/package."""
    return {v: LiveVersion(v, o.status, o.revision, None, o.origin, rank=i)
            for i, (v, o) in enumerate(api.observe(args).items())}


def describe(args: PackageArgs) -> "Callable[[list[str]], dict[str, Optional[float]]]":
    """The published-time reader that provider.rules.expand.resolve_ages calls for this package."""
    return lambda versions: api.published_times(args, versions)


def list_packages(repo: RepositoryArgs) -> list[api.ListedPackage]:
    """Every package of the repository with its origin controls (ListPackages, ⌈P/1000⌉ pages, once
    per command). Raises provider._core.errors.NotFound for a missing domain/repository."""
    return api.list_packages(repo)

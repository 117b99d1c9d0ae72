"""Read-only listing of live versions for the stack program (rule expansion never writes)."""

from __future__ import annotations

from typing import Callable, Optional

from provider._core import api
from provider._core.model import PackageArgs
from provider.rules.expand import LiveVersion


def list_versions(args: PackageArgs, with_published_time: bool = False) -> dict[str, LiveVersion]:
    """Every version with status, revision and origin, newest first by publish time (one
    ListPackageVersions page per 1000 versions). Published times are read only where a rule
    needs them (provider.rules.expand.resolve_ages), never for every version; ``with_published_time``
    is accepted for callers that want them all. Raises provider._core.errors.NotFound for a missing
    domain/repository/package."""
    observed = api.observe(args)
    published = api.published_times(args, list(observed)) if with_published_time else {}
    return {v: LiveVersion(v, o.status, o.revision, published.get(v), o.origin, rank=i)
            for i, (v, o) in enumerate(observed.items())}


def describe(args: PackageArgs) -> "Callable[[list[str]], dict[str, Optional[float]]]":
    """The published-time reader that provider.rules.expand.resolve_ages calls for this package."""
    return lambda versions: api.published_times(args, versions)

"""Read-only listing of live versions for the stack program (rule expansion never writes)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from . import api, config
from .expand import LiveVersion
from .model import PackageArgs


def list_versions(args: PackageArgs, with_published_time: bool) -> dict[str, LiveVersion]:
    """Every version with status and revision (one ListPackageVersions page per 1000 versions);
    with ``with_published_time``, also each version's published time (one DescribePackageVersion
    each, 8 at a time). Raises provider.errors.NotFound for a missing domain/repository/package."""
    observed = api.observe(args)
    published: dict[str, Any] = {}
    if with_published_time and observed:
        client = config.client_for(args)

        def describe(v: str) -> tuple[str, Any]:
            try:
                desc = client.describe_package_version(**args.coordinates(), packageVersion=v)["packageVersion"]
            except ClientError as e:
                api._raise_client_error(e, args, [v], "reading")
                raise
            return v, desc.get("publishedTime")

        with ThreadPoolExecutor(max_workers=8) as pool:
            published = dict(pool.map(describe, sorted(observed)))
    return {v: LiveVersion(v, o.status, o.revision,
                           published[v].timestamp() if published.get(v) is not None else None)
            for v, o in observed.items()}

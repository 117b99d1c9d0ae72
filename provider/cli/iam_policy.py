"""`python -m provider iam-policy`: the least-privilege IAM policy that the specs need.

One statement per declared package, on exactly that package's ARN
(`arn:PARTITION:codeartifact:REGION:OWNER:package/DOMAIN/REPOSITORY/FORMAT/NAMESPACE/NAME`, the
namespace segment empty for formats without one, as the service writes it): the reads the stack
program and refresh make (ListPackageVersions, DescribePackageVersion for age rules) and
UpdatePackageVersionsStatus; DisposePackageVersions in a statement of its own, only for packages
that opt in (`allow_dispose: true`). Names are written as CodeArtifact stores them (PyPI names
normalized, NuGet and Swift lowercased).

Not covered, on purpose: restores of a package removed from the specs need its statement until
the `up` that restores it has run (apply with the previous policy, then tighten); `adopt`,
`snapshot` and `init --from-live` also need codeartifact:ListPackages on the repository.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

from provider._core.model import normalized_name
from provider.rules import spec

READ_AND_UPDATE = ["codeartifact:ListPackageVersions", "codeartifact:DescribePackageVersion",
                   "codeartifact:UpdatePackageVersionsStatus"]
DISPOSE = ["codeartifact:DisposePackageVersions"]


class PolicyError(Exception):
    """Something the policy needs but the specs do not say (e.g. the account of a domain)."""


def package_arn(partition: str, region: str, owner: str, domain: str, repository: str, fmt: str,
                namespace: Optional[str], package: str) -> str:
    return (f"arn:{partition}:codeartifact:{region}:{owner}:package/{domain}/{repository}/{fmt}/"
            f"{normalized_name(fmt, namespace)}/{normalized_name(fmt, package)}")


def _sid(text: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9]", "", text.title())[:90] or "Package"
    sid, n = base, 2
    while sid in used:
        sid, n = f"{base}{n}", n + 1
    used.add(sid)
    return sid


def policy(specs_dir: Path, region: str, account: Optional[str], partition: str = "aws") -> dict[str, Any]:
    """The policy document. Raises spec.SpecError for invalid specs, PolicyError when a spec has no
    `domain_owner` and no ``account`` is given."""
    loaded = spec.load_dir(specs_dir)
    statements: list[dict[str, Any]] = []
    used: set[str] = set()
    missing = []
    for ls in loaded:
        owner = ls.spec.domain_owner or account
        if owner is None:
            missing.append(ls.name)
            continue
        for p in ls.spec.packages:
            arn = package_arn(partition, region, owner, ls.spec.domain, ls.spec.repository, p.format, p.namespace,
                              p.package)
            label = f"{ls.spec.repository} {p.format} {p.namespace or ''} {p.package}"
            statements.append({"Sid": _sid(f"Status {label}", used), "Effect": "Allow", "Action": READ_AND_UPDATE,
                               "Resource": [arn]})
            if p.allow_dispose:
                statements.append({"Sid": _sid(f"Dispose {label}", used), "Effect": "Allow", "Action": DISPOSE,
                                   "Resource": [arn]})
    if missing:
        raise PolicyError(f"{', '.join(missing)}: no `domain_owner`; give the account with --account")
    if not statements:
        raise PolicyError(f"{specs_dir}: the specs declare no package, and a policy needs at least one statement")
    return {"Version": "2012-10-17", "Statement": statements}

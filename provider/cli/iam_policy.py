"""`python -m provider iam-policy`: the least-privilege IAM policy that the specs need.

Per declared package, on exactly that package's ARN
(`arn:PARTITION:codeartifact:REGION:OWNER:package/DOMAIN/REPOSITORY/FORMAT/NAMESPACE/NAME`, the
namespace segment empty for formats without one, as the service writes it): the reads the stack
program and refresh make (ListPackageVersions, and DescribePackageVersion only for a package whose
rules use a condition that reads it: `older_than_days`) and UpdatePackageVersionsStatus; DisposePackageVersions only for packages that opt in
(`allow_dispose: true`). Packages that need the same actions share one statement (one statement per
action set, many ARNs each), so a policy holds about 40 packages in IAM's 6,144 characters for a
managed policy. Names are written as CodeArtifact stores them (PyPI names normalized, NuGet and
Swift lowercased).

Size: IAM counts a policy without whitespace; a policy over the limit (`--limit managed`, 6,144,
the default; `inline`, 10,240 for a role's inline policy) is split into numbered policies that
together grant exactly the same, and the command says so on stderr: never a silently oversized
policy.

A repository policy (`policies:`) is granted codeartifact:ListPackages on its repository's ARN (it
discovers the packages every run) and the package actions on ARN patterns built from its `select`
(each format, namespace glob and `include` glob; `*` where the selection says nothing): IAM's
wildcards mean the same as the spec's globs, but `exclude` and the origin-control filters cannot be
said in an ARN, so the grant covers every package the includes name.

Download evidence (`downloads:` in a spec) is read from local files; when CI copies it from the
trail's S3 bucket, `--evidence-bucket BUCKET[/PREFIX]` adds s3:ListBucket on the bucket and
s3:GetObject under the prefix, only if a spec uses `downloads:` (without the flag the command says
on stderr that those reads are not granted).

Not covered, on purpose: restores of a package removed from the specs need its statement until
the `up` that restores it has run (apply with the previous policy, then tighten); `adopt`,
`snapshot` and `init --from-live` also need codeartifact:ListPackages on the repository.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from provider._core.model import normalized_name
from provider.rules import conditions, spec

READ_AND_UPDATE = ["codeartifact:ListPackageVersions", "codeartifact:UpdatePackageVersionsStatus"]
DISPOSE = ["codeartifact:DisposePackageVersions"]
DISCOVER = ["codeartifact:ListPackages"]
_ORDER = ["codeartifact:ListPackageVersions", "codeartifact:DescribePackageVersion",
          "codeartifact:UpdatePackageVersionsStatus"]


class PolicyError(Exception):
    """Something the policy needs but the specs do not say (e.g. the account of a domain)."""


def package_arn(partition: str, region: str, owner: str, domain: str, repository: str, fmt: str,
                namespace: Optional[str], package: str) -> str:
    return (f"arn:{partition}:codeartifact:{region}:{owner}:package/{domain}/{repository}/{fmt}/"
            f"{normalized_name(fmt, namespace)}/{normalized_name(fmt, package)}")


def policy_arns(partition: str, region: str, owner: str, domain: str, repository: str,
                select: spec.PackageSelect) -> list[str]:
    """The package ARN patterns a repository policy's selection covers (IAM wildcards)."""
    out: list[str] = []
    formats: list[str] = [str(f) for f in select.formats] if select.formats else ["*"]
    for fmt in formats:
        for ns in select.namespaces if select.namespaces is not None else ["*"]:
            for name in select.include:
                n_ns = ns if fmt == "*" or ns == "*" else normalized_name(fmt, ns)
                n_name = name if fmt == "*" else normalized_name(fmt, name)
                out.append(f"arn:{partition}:codeartifact:{region}:{owner}:package/{domain}/{repository}/{fmt}/"
                           f"{n_ns}/{n_name}")
    return list(dict.fromkeys(out))


LIMITS = {"managed": 6144, "inline": 10240}


def size(doc: dict[str, Any]) -> int:
    """The size IAM counts: the document without whitespace."""
    return len(json.dumps(doc, separators=(",", ":")))


def _document(grants: list[tuple[tuple[str, ...], str]]) -> dict[str, Any]:
    """One statement per action set, the ARNs in the order given."""
    by_actions: dict[tuple[str, ...], list[str]] = {}
    for actions, arn in grants:
        by_actions.setdefault(actions, []).append(arn)
    statements: list[dict[str, Any]] = []
    for actions, arns in by_actions.items():
        sid = ("DisposeOptedInPackages" if actions == tuple(DISPOSE) else
               "DiscoverPackages" if actions == tuple(DISCOVER) else
               "ListDownloadEvidence" if actions == tuple(EVIDENCE_LIST) else
               "ReadDownloadEvidence" if actions == tuple(EVIDENCE_READ) else "ReadAndSetStatus")
        # IAM refuses a policy whose statements share a Sid: packages whose conditions read more
        # (DescribePackageVersion) get a statement of their own, so number the repeats.
        used = {st["Sid"] for st in statements}
        base, n = sid, 2
        while sid in used:
            sid, n = f"{base}{n}", n + 1
        statements.append({"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": arns})
    return {"Version": "2012-10-17", "Statement": statements}


EVIDENCE_LIST = ["s3:ListBucket"]
EVIDENCE_READ = ["s3:GetObject"]


def evidence_grants(partition: str, location: str) -> list[tuple[tuple[str, ...], str]]:
    """Reading download evidence (CloudTrail log files, exported tables) from ``location``
    (`bucket` or `bucket/prefix`): ListBucket on the bucket, GetObject under the prefix."""
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    return [(tuple(EVIDENCE_LIST), f"arn:{partition}:s3:::{bucket}"),
            (tuple(EVIDENCE_READ), f"arn:{partition}:s3:::{bucket}/{prefix.rstrip('/') + '/' if prefix else ''}*")]


def uses_downloads(specs_dir: Path) -> bool:
    return any(ls.spec.downloads is not None for ls in spec.load_dir(specs_dir))


def grants(specs_dir: Path, region: str, account: Optional[str], partition: str = "aws",
           evidence_bucket: Optional[str] = None) -> list[list[tuple[tuple[str, ...], str]]]:
    """Per declared package (in spec order), the (actions, ARN) pairs it needs; with
    ``evidence_bucket`` and a spec using `downloads:`, the reads of the evidence last (only when
    used). Raises spec.SpecError for invalid specs, PolicyError when a spec has no `domain_owner`
    and no ``account`` is given, or when the specs declare no package."""
    loaded = spec.load_dir(specs_dir)
    out: list[list[tuple[tuple[str, ...], str]]] = []
    missing = []
    seen: set[str] = set()
    for ls in loaded:
        owner = ls.spec.domain_owner or account
        if owner is None:
            missing.append(ls.name)
            continue
        for p in ls.spec.packages:
            arn = package_arn(partition, region, owner, ls.spec.domain, ls.spec.repository, p.format, p.namespace,
                              p.package)
            if arn in seen:
                continue
            seen.add(arn)
            # The listing and the write, plus what the package's rule conditions read (e.g. the age
            # condition's DescribePackageVersion): each condition says which actions it needs.
            needed = {a for c in conditions.used_by(list(p.rules)) for a in c.actions}
            mine = [(tuple(sorted({*READ_AND_UPDATE, *needed}, key=lambda a: (_ORDER.index(a) if a in _ORDER else len(_ORDER), a))), arn)]
            if p.allow_dispose:
                mine.append((tuple(DISPOSE), arn))
            out.append(mine)
        for pol in ls.spec.policies:
            repo_arn = f"arn:{partition}:codeartifact:{region}:{owner}:repository/{ls.spec.domain}/{ls.spec.repository}"
            mine = [] if repo_arn in seen else [(tuple(DISCOVER), repo_arn)]
            seen.add(repo_arn)
            needed = {a for c in conditions.used_by(list(pol.rules)) for a in c.actions}
            actions = tuple(sorted({*READ_AND_UPDATE, *needed},
                                   key=lambda a: (_ORDER.index(a) if a in _ORDER else len(_ORDER), a)))
            dispose = pol.allow_dispose or any(p.allow_dispose for p in ls.spec.packages)
            for arn in policy_arns(partition, region, owner, ls.spec.domain, ls.spec.repository, pol.select):
                if arn in seen:
                    continue
                seen.add(arn)
                mine.append((actions, arn))
                if dispose:
                    mine.append((tuple(DISPOSE), arn))
            if mine:
                out.append(mine)
    if missing:
        raise PolicyError(f"{', '.join(missing)}: no `domain_owner`; give the account with --account")
    if not out:
        raise PolicyError(f"{specs_dir}: the specs declare no package, and a policy needs at least one statement")
    if evidence_bucket and any(ls.spec.downloads is not None for ls in loaded):
        out.append(evidence_grants(partition, evidence_bucket))
    return out


def policies(specs_dir: Path, region: str, account: Optional[str], partition: str = "aws",
             limit: str = "managed", evidence_bucket: Optional[str] = None) -> list[dict[str, Any]]:
    """The policy documents, each within IAM's ``limit`` ("managed" or "inline"): one when the
    whole policy fits, else as few as a package-by-package fill gives (a package's grants are never
    split across policies). Raises PolicyError when one package alone does not fit."""
    cap = LIMITS[limit]
    docs: list[list[tuple[tuple[str, ...], str]]] = [[]]
    for package in grants(specs_dir, region, account, partition, evidence_bucket):
        if size(_document(docs[-1] + package)) <= cap:
            docs[-1] += package
        elif not docs[-1] or size(_document(package)) > cap:
            raise PolicyError(f"the grants of {package[0][1]} alone exceed IAM's {cap:,} characters")
        else:
            docs.append(list(package))
    return [_document(d) for d in docs]


def policy(specs_dir: Path, region: str, account: Optional[str], partition: str = "aws",
           evidence_bucket: Optional[str] = None) -> dict[str, Any]:
    """The whole policy as one document (it may exceed IAM's limits: see `policies`)."""
    return _document([g for package in grants(specs_dir, region, account, partition, evidence_bucket)
                      for g in package])

"""Snapshots of live versions: what `python -m provider snapshot` writes and `plan --live` reads.

A snapshot lets anyone evaluate specs offline (no credentials, no Pulumi): a reviewer checking a
rule change, a fork's PR job, a test of rules against data. Its JSON Schema is
docs/snapshot.schema.json (`python -m provider snapshot --schema`).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provider._core.errors import NotFound, VersionFailure
from provider._core.model import Format, PackageArgs, RepositoryArgs, Status, package_key, validation_problems
from provider.rules import conditions
from provider.rules.expand import LiveVersion

Origin = Literal["INTERNAL", "EXTERNAL", "UNKNOWN"]


class SnapshotVersion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str
    status: Status
    revision: Optional[str] = None
    published_time: Optional[datetime] = Field(None, description="ISO 8601; needed by age rules")
    origin: Optional[Origin] = None
    publish_rank: Optional[int] = Field(
        None, ge=0, description="position in the service's newest-first listing (ListPackageVersions, sortBy "
                                "PUBLISHED_TIME): the publish order that keep_latest `by: published` and age rules "
                                "use live, equal published times included; without it, published_time orders "
                                "the versions (equal times by version order)")


class SnapshotPackage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Format
    namespace: Optional[str] = None
    package: str
    publish: Optional[Literal["ALLOW", "BLOCK"]] = Field(None, description="origin control (ListPackages): needed by "
                                                                           "policies that select by it")
    upstream: Optional[Literal["ALLOW", "BLOCK"]] = Field(None, description="origin control (ListPackages): needed by "
                                                                            "policies that select by it")
    versions: list[SnapshotVersion]


class SnapshotRepository(BaseModel):
    model_config = ConfigDict(extra="forbid")
    domain: str
    domain_owner: Optional[str] = None
    repository: str
    packages: list[SnapshotPackage]


class Snapshot(BaseModel):
    """Live versions of one or more repositories at one moment."""

    model_config = ConfigDict(extra="forbid")
    snapshot_version: Literal[1] = 1
    taken_at: Optional[datetime] = None
    repositories: list[SnapshotRepository]


class SnapshotError(Exception):
    pass


def load(path: Path) -> Snapshot:
    """Reads and validates a snapshot. Raises SnapshotError naming the file and the field."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise SnapshotError(f"{path}: cannot read the snapshot: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise SnapshotError(f"{path}:{e.lineno}: not valid JSON: {e.msg}") from None
    try:
        return Snapshot.model_validate(raw)
    except ValidationError as e:
        problems = [f"{path}: {'.'.join(str(p) for p in loc)}: {msg}" for loc, msg in validation_problems(e)]
        raise SnapshotError("\n".join(problems)) from None


def _key(domain: str, repository: str, fmt: str, namespace: Optional[str], package: str) -> tuple[str, ...]:
    return (domain, repository, *package_key(fmt, namespace, package))


def listing(snap: Snapshot) -> Any:
    """A listing function for `program.plan` that answers from the snapshot (NotFound, naming the
    package, for a package the snapshot does not hold)."""
    index: dict[tuple[str, ...], tuple[Optional[str], SnapshotPackage]] = {}
    for repo in snap.repositories:
        for pkg in repo.packages:
            index[_key(repo.domain, repo.repository, pkg.format, pkg.namespace, pkg.package)] = (repo.domain_owner, pkg)

    def read(args: PackageArgs) -> dict[str, LiveVersion]:
        hit = index.get(_key(args.domain, args.repository, args.format, args.namespace, args.package))
        if hit is None or (args.domain_owner and hit[0] and hit[0] != args.domain_owner):
            raise NotFound("reading", [VersionFailure(args.label("*"), "NOT_FOUND",
                                                      f"the snapshot has no package {args.package_label()}")])
        return {v.version: LiveVersion(v.version, v.status.value, v.revision or "",
                                       v.published_time.timestamp() if v.published_time else None, v.origin,
                                       rank=v.publish_rank)
                for v in hit[1].versions}
    return read


def discovery(snap: Snapshot) -> Any:
    """A ListPackages stand-in for `program.plan` that answers from the snapshot (NotFound for a
    repository the snapshot does not hold)."""
    from provider._core.api import ListedPackage

    def listed(repo: RepositoryArgs) -> list[ListedPackage]:
        for r in snap.repositories:
            if (r.domain, r.repository) == (repo.domain, repo.repository):
                return [ListedPackage(p.format, p.namespace, p.package, p.publish, p.upstream) for p in r.packages]
        raise NotFound("reading", [VersionFailure(f"{repo.domain}/{repo.repository}@*", "NOT_FOUND",
                                                  f"the snapshot has no repository {repo.domain}/{repo.repository}")])
    return listed


def take(base: RepositoryArgs, packages: list[dict[str, Any]], published_time: bool = True) -> Snapshot:
    """Reads the listed packages from the service (ListPackageVersions; DescribePackageVersion per
    version for published times). Read-only."""
    from provider._core import api

    out: list[SnapshotPackage] = []
    for p in packages:
        args = PackageArgs(domain=base.domain, domain_owner=base.domain_owner, repository=base.repository,
                           **{k: p.get(k) for k in ("format", "namespace", "package")})
        observed = api.observe(args)  # in the service's order: newest published first
        rank = {v: i for i, v in enumerate(observed)}
        published = api.published_times(args, list(observed)) if published_time else {}
        out.append(SnapshotPackage(format=args.format, namespace=args.namespace, package=args.package,
                                   publish=p.get("publish"), upstream=p.get("upstream"), versions=[
            SnapshotVersion(version=v, status=Status(o.status), revision=o.revision,
                            published_time=datetime.fromtimestamp(t, timezone.utc) if (t := published.get(v)) else None,
                            origin=o.origin, publish_rank=rank[v]) for v, o in sorted(observed.items())]))
    return Snapshot(taken_at=datetime.now(timezone.utc), repositories=[SnapshotRepository(
        domain=base.domain, domain_owner=base.domain_owner, repository=base.repository, packages=out)])


def json_schema() -> dict[str, Any]:
    schema = Snapshot.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "CodeArtifact package versions snapshot"
    return schema


def missing_data(snap: Snapshot, loaded: list[Any]) -> list[str]:
    """Rules that need data this snapshot lacks, each naming the spec's file:line, the rule and
    how to take a snapshot that has it: an age rule needs every version's published time, and
    keep_latest `by: published` needs the publish order (publish_rank or published_time)."""
    index = {_key(r.domain, r.repository, p.format, p.namespace, p.package): p
             for r in snap.repositories for p in r.packages}
    problems: list[str] = []
    for ls in loaded:
        for j, pol in enumerate(ls.spec.policies):
            controls = [c for c in ("publish", "upstream") if getattr(pol.select, c) is not None]
            repo_packages = [p for r in snap.repositories
                             if (r.domain, r.repository) == (ls.spec.domain, ls.spec.repository) for p in r.packages]
            no_controls = [p.package for p in repo_packages if any(getattr(p, c) is None for c in controls)]
            if controls and no_controls:
                problems.append(f"{ls.name}:{ls.line(('policies', j, 'select'))}: policies[{j}] ({pol.name}): "
                                f"select.{'/'.join(controls)} needs each package's origin controls, which the snapshot "
                                f"lacks for {', '.join(no_controls[:3])}{' ...' if len(no_controls) > 3 else ''}: take it "
                                f"again with `python -m provider snapshot`")
            selected = [p for p in repo_packages if pol.select.selects(p.format, p.namespace, p.package,
                                                                       {"publish": p.publish, "upstream": p.upstream})]
            for k, rule in enumerate(pol.rules):
                for c in conditions.used_by([rule]):
                    for name in sorted(c.needs):
                        missing = [f"{p.package}@{v.version}" for p in selected for v in p.versions
                                   if getattr(v, name) is None
                                   and not (name == "published_time" and v.status == "Unfinished")]
                        if missing:
                            problems.append(
                                f"{ls.name}:{ls.line(('policies', j, 'rules', k))}: policies[{j}].rules[{k}] "
                                f"({rule.name}): {c.field} needs each version's {name.replace('_', ' ')}, which the "
                                f"snapshot lacks for {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}: "
                                f"take it again with `python -m provider snapshot`")
        for i, pkg in enumerate(ls.spec.packages):
            held = index.get(_key(ls.spec.domain, ls.spec.repository, pkg.format, pkg.namespace, pkg.package))
            if held is None:
                continue
            lacking = {name: [v.version for v in held.versions if getattr(v, name) is None
                              and not (name == "published_time" and v.status == "Unfinished")]
                       for name in ("published_time", "origin")}
            no_order = [v.version for v in held.versions if v.publish_rank is None and v.published_time is None]
            for j, rule in enumerate(pkg.rules):
                where = f"{ls.name}:{ls.line(('packages', i, 'rules', j))}: packages[{i}].rules[{j}] ({rule.name})"
                for c in conditions.used_by([rule]):
                    for name in sorted(c.needs):
                        missing = lacking.get(name) or []
                        if missing:
                            how = (" (taken with --no-published-time?): take it again without that flag"
                                   if name == "published_time" else ": take it again with `python -m provider snapshot`")
                            problems.append(f"{where}: {c.field} needs each version's {name.replace('_', ' ')}, which "
                                            f"the snapshot lacks for {', '.join(missing[:3])}"
                                            f"{' ...' if len(missing) > 3 else ''}{how}")
                keep = rule.keep()
                if keep is not None and keep.by == "published" and no_order:
                    problems.append(f"{where}: keep_latest by: published needs the publish order, which the "
                                    f"snapshot lacks for {', '.join(no_order[:3])}"
                                    f"{' ...' if len(no_order) > 3 else ''}: take it again with `python -m "
                                    f"provider snapshot` (it records publish_rank)")
    return problems

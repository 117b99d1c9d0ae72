"""Typed edges of the provider: statuses, formats, coordinates and resource arguments (pydantic).

Validation here is what `check` reports as CheckFailures, one per bad property; nothing is applied
for a resource whose arguments do not validate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, Mapping, Optional, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Format = Literal["npm", "pypi", "maven", "nuget", "generic", "ruby", "swift", "cargo"]
# Statuses a version can be declared to have. Unfinished and Deleted are never targets.
DesiredStatus = Literal["Published", "Unlisted", "Archived", "Disposed"]
DESIRED_STATUSES: tuple[str, ...] = get_args(DesiredStatus)
# What UpdatePackageVersionsStatus can set (and what rules consider by default).
UPDATABLE_STATUSES = frozenset({"Published", "Unlisted", "Archived"})
# Statuses that take a version out of consumers' reach: never set on a version in use.
RETIRING_STATUSES = frozenset({"Unlisted", "Archived", "Disposed"})
# What a rule's `match.status` may select (Disposed versions are final; Deleted ones are gone).
SelectableStatus = Literal["Published", "Unlisted", "Archived", "Unfinished"]


# What decided a version's status, as data (not parsed from `decided_by`, which is for people):
# an explicit `versions:` entry, a rule, a restore of the original as the version leaves
# management, or (strict review mode) no change because the change awaits review.
DecisionKind = Literal["explicit", "rule", "restore", "awaiting-review"]


class Status(str, Enum):
    """Every status the service reports."""

    Published = "Published"
    Unfinished = "Unfinished"
    Unlisted = "Unlisted"
    Archived = "Archived"
    Disposed = "Disposed"
    Deleted = "Deleted"


@dataclass(frozen=True)
class Observed:
    """What the service reported for one version (origin: ListPackageVersions' originType)."""

    status: str
    revision: str
    origin: Optional[str] = None


@dataclass(frozen=True)
class Change:
    """Move ``version`` from ``current`` (as last observed, with ``revision``) to ``target``."""

    version: str
    current: str
    revision: str
    target: str


STATUSES = frozenset(s.value for s in Status)


NAMESPACE_REQUIRED = frozenset({"maven", "swift", "generic"})
NAMESPACE_FORBIDDEN = frozenset({"pypi", "nuget", "ruby", "cargo"})
DOMAIN_RE = re.compile(r"[a-z][a-z0-9_\-]{0,48}[a-z0-9]")
REPOSITORY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{1,99}")
NAME_RE = re.compile(r"[^#/\s]{1,255}")
ACCOUNT_RE = re.compile(r"[0-9]{12}")


def _match(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid {what} (must match {pattern.pattern})")
    return value


class ConnectionArgs(BaseModel):
    """Per-resource overrides of the stack's `codeartifact:*` configuration. None of these is a
    credential: credentials come from the standard AWS chain and never enter Pulumi state."""

    model_config = ConfigDict(extra="forbid")
    region: Optional[str] = None
    endpoint_url: Optional[str] = None
    profile: Optional[str] = None
    role_arn: Optional[str] = None
    max_attempts: Optional[int] = Field(None, ge=1, le=50)


class RepositoryArgs(ConnectionArgs):
    """One repository: where packages live (validated like the service validates it)."""

    domain: str
    domain_owner: Optional[str] = None
    repository: str

    @field_validator("domain")
    @classmethod
    def _domain(cls, v: str) -> str:
        return _match(v, DOMAIN_RE, "domain name")

    @field_validator("repository")
    @classmethod
    def _repository(cls, v: str) -> str:
        return _match(v, REPOSITORY_RE, "repository name")

    @field_validator("domain_owner")
    @classmethod
    def _owner(cls, v: Optional[str]) -> Optional[str]:
        return None if v is None else _match(v, ACCOUNT_RE, "12-digit account id")

    def repository_coordinates(self) -> dict[str, Any]:
        """The API's repository parameters (domain, domainOwner, repository)."""
        out: dict[str, Any] = {"domain": self.domain, "repository": self.repository}
        if self.domain_owner:
            out["domainOwner"] = self.domain_owner
        return out


class PackageArgs(RepositoryArgs):
    """One package: where it lives and what it is."""

    format: Format
    namespace: Optional[str] = None
    package: str
    allow_dispose: bool = False
    restore_on_delete: bool = False
    problem: Optional[str] = Field(None, description="set by the stack program when this package's spec cannot be "
                                                     "planned: `check` then fails this resource only, naming it")

    @field_validator("package")
    @classmethod
    def _package(cls, v: str) -> str:
        return _match(v, NAME_RE, "package name")

    @model_validator(mode="after")
    def _namespace(self) -> "PackageArgs":
        ns = self.namespace or None
        if ns is None and self.format in NAMESPACE_REQUIRED:
            raise ValueError(f"namespace: required for {self.format} packages "
                             f"({'group ID' if self.format == 'maven' else 'scope/namespace'})")
        if ns is not None:
            if self.format in NAMESPACE_FORBIDDEN:
                raise ValueError(f"namespace: {self.format} packages have no namespace; remove it")
            if self.format == "npm" and ns.startswith("@"):
                raise ValueError(f"namespace: give the npm scope without '@' ({ns[1:]!r}, not {ns!r})")
            _match(ns, NAME_RE, "namespace")
        self.namespace = ns
        return self

    def label(self, version: str) -> str:
        """`domain/repository/format[/namespace]/package@version`: how errors name a version."""
        return f"{self.package_label()}@{version}"

    def package_label(self) -> str:
        # From the fields themselves, not model_dump(): the program asks for labels per version,
        # and dumping the whole model each time cost seconds at 10,000 versions.
        return package_label({k: getattr(self, k, None) for k in LABEL_FIELDS})

    def coordinates(self) -> dict[str, Any]:
        """The API's package parameters (domain, domainOwner, repository, format, namespace, package)."""
        out: dict[str, Any] = {"domain": self.domain, "repository": self.repository, "format": self.format,
                               "package": self.package}
        if self.domain_owner:
            out["domainOwner"] = self.domain_owner
        if self.namespace:
            out["namespace"] = self.namespace
        return out

    def package_key(self) -> tuple[Any, ...]:
        return (self.domain, self.domain_owner, self.repository, self.format, self.namespace, self.package)


def package_key(fmt: str, namespace: Optional[str], package: str) -> tuple[str, str, str]:
    """A package as CodeArtifact compares names within a repository: (format, namespace, name),
    names normalized (PyPI `Flask_Login` is `flask-login`; NuGet and Swift are case-insensitive)."""
    return (fmt, normalized_name(fmt, namespace), normalized_name(fmt, package))


# Disposing is irreversible and always needs both opt-ins: one place says what they are.
DISPOSE_SPEC_OPT_IN = "`allow_dispose: true` in the spec"
DISPOSE_STACK_OPT_IN = "`pulumi config set codeartifact:allowDispose true`"


def dispose_missing(in_spec: bool, on_stack: bool, spec_half: str = DISPOSE_SPEC_OPT_IN,
                    stack_half: str = DISPOSE_STACK_OPT_IN) -> str:
    """The opt-ins disposing still lacks (of the two it always needs), for an error message."""
    return " and ".join(half for ok, half in ((in_spec, spec_half), (on_stack, stack_half)) if not ok)


LABEL_FIELDS = ("domain", "repository", "format", "namespace", "package")


def package_label(fields: Mapping[str, Any]) -> str:
    """`domain/repository/format[/namespace]/package`: how the program, the PR summary, errors and
    the stack's state name a package (from resource inputs, outputs or PackageArgs fields)."""
    parts = [fields.get(k) for k in LABEL_FIELDS]
    return "/".join(str(p) for p in parts if p)


def normalized_name(fmt: str, name: Optional[str]) -> str:
    """A package name (or namespace) as CodeArtifact compares it: PyPI names by PEP 503
    (`Acme.SDK` = `acme-sdk`), NuGet and Swift names case-insensitively; others exactly."""
    if not name:
        return ""
    if fmt == "pypi":
        return re.sub(r"[-_.]+", "-", name).lower()
    if fmt in ("nuget", "swift"):
        return name.lower()
    return name


def _check_version(v: str) -> str:
    return _match(v, NAME_RE, "version")


class PackageVersionStatusArgs(PackageArgs):
    """`PackageVersionStatus`: the desired status of one package version."""

    version: str
    status: DesiredStatus
    decided_by: Optional[str] = Field(None, description="the spec entry or rule that decided the status (informational)")
    restoring: Optional[bool] = Field(None, description="the stack program restores the version's original with "
                                                        "this status: once there, it leaves management")

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        return _check_version(v)


class PackageVersionsStatusArgs(PackageArgs):
    """`PackageVersionsStatus`: desired statuses of many versions of one package."""

    versions: dict[str, DesiredStatus]
    decided_by: Optional[dict[str, str]] = Field(None, description="per version: the spec entry or rule (informational)")
    restoring: Optional[list[str]] = Field(None, description="the versions whose status restores their original: "
                                                             "once there, they leave management")

    @field_validator("versions")
    @classmethod
    def _versions(cls, vs: dict[str, str]) -> dict[str, str]:
        for v in vs:
            _check_version(v)
        return vs


def package_entry_key(fmt: str, namespace: Optional[str], package: str) -> str:
    """How a repository resource names one of its packages: `format[/namespace]/name` (names and
    namespaces never contain `/`, so the key reads back unambiguously)."""
    return "/".join(p for p in (fmt, namespace, package) if p)


def parse_entry_key(key: str) -> tuple[str, Optional[str], str]:
    """(format, namespace, package) of a `package_entry_key`. Raises ValueError."""
    parts = key.split("/")
    if len(parts) == 2:
        return parts[0], None, parts[1]
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    raise ValueError(f"{key!r} is not format/package or format/namespace/package")


class RepositoryVersionsStatusArgs(RepositoryArgs):
    """`RepositoryVersionsStatus`: desired statuses of the versions of many packages of one
    repository (one shard of it), each package applied and failing on its own."""

    shard: str = Field(description="which of the repository's shards this is (packages are assigned by name hash)")
    packages: dict[str, dict[str, DesiredStatus]] = Field(
        description="package (format[/namespace]/name) -> version -> desired status")
    decided_by: Optional[dict[str, dict[str, str]]] = Field(None, description="per package and version: the spec "
                                                                                "entry or rule (informational)")
    restoring: Optional[dict[str, list[str]]] = Field(None, description="per package: the versions whose status "
                                                                          "restores their original")
    allow_dispose: list[str] = Field(default_factory=list, description="the packages whose spec opts in to Disposed")
    problems: Optional[dict[str, str]] = Field(None, description="packages the stack program could not plan this run: "
                                                                   "left as they are, and this resource fails naming them")

    @field_validator("packages")
    @classmethod
    def _packages(cls, pkgs: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for key, versions in pkgs.items():
            parse_entry_key(key)
            for v in versions:
                _check_version(v)
        return pkgs

    def package_args(self, key: str) -> PackageArgs:
        """One package's arguments (coordinates, this resource's connection, its dispose opt-in)."""
        fmt, namespace, package = parse_entry_key(key)
        return PackageArgs.model_validate({
            **{k: getattr(self, k) for k in ("domain", "domain_owner", "repository", *ConnectionArgs.model_fields)},
            "format": fmt, "namespace": namespace, "package": package, "allow_dispose": key in self.allow_dispose})


IDENTITY_FIELDS = ("domain", "domain_owner", "repository", "format", "namespace", "package")
CONNECTION_FIELDS = tuple(ConnectionArgs.model_fields)


_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w]*(?:\.[\w\-]+)*): (.*)$", re.S)


def validation_problems(err: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    """Every problem of a pydantic ValidationError as (location, reason), phrased for a person.
    The one adapter for specs, resource inputs, provider configuration and snapshots: model-level
    validators phrase their errors as `field.path: reason`, which is folded into the location;
    an unknown field says so; a status that can never be a target says why."""
    out: list[tuple[tuple[Any, ...], str]] = []
    for e in err.errors():
        loc = tuple(e["loc"])
        msg = str(e["msg"]).removeprefix("Value error, ")
        m = _FIELD_PREFIX.match(msg)
        if m:
            loc += tuple(int(p) if p.isdigit() else p for p in m.group(1).split("."))
            msg = m.group(2)
        if e["type"] == "extra_forbidden":
            msg = "unknown field"
        elif e["type"] == "literal_error":
            got = e.get("input")
            msg = f"{got} is never a target status ({msg})" if got in ("Unfinished", "Deleted") else \
                f"{msg} (got {got!r})"
        out.append((loc, msg))
    return out

"""The CodeArtifact backend: every rule and all state, persisted in SQLite.

Each public operation runs in one SQLite transaction under one lock, so concurrent requests are
serialized and an operation either applies completely or not at all (a crash mid-operation
leaves the database as it was before the request). Methods take the service's parameters in
snake_case and return plain dicts shaped like the service model's output shapes.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from . import rules
from .errors import (
    AccessDeniedException,
    ConflictException,
    ResourceNotFoundException,
    ValidationException,
)
from .rules import Format, Status
from .seed import SeedDoc
from . import trail as trail_mod
from .trail import Trail

SCHEMA = """
CREATE TABLE IF NOT EXISTS domains (
    name TEXT PRIMARY KEY, owner TEXT NOT NULL, created REAL NOT NULL, encryption_key TEXT
);
CREATE TABLE IF NOT EXISTS repositories (
    domain TEXT NOT NULL, name TEXT NOT NULL, description TEXT, created REAL NOT NULL,
    PRIMARY KEY (domain, name)
);
CREATE TABLE IF NOT EXISTS packages (
    domain TEXT NOT NULL, repo TEXT NOT NULL, format TEXT NOT NULL, namespace TEXT NOT NULL,
    name TEXT NOT NULL, PRIMARY KEY (domain, repo, format, namespace, name)
);
CREATE TABLE IF NOT EXISTS package_origins (
    domain TEXT NOT NULL, repo TEXT NOT NULL, format TEXT NOT NULL, namespace TEXT NOT NULL,
    name TEXT NOT NULL, publish TEXT NOT NULL, upstream TEXT NOT NULL,
    PRIMARY KEY (domain, repo, format, namespace, name)
);
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    domain TEXT NOT NULL, repo TEXT NOT NULL, format TEXT NOT NULL, namespace TEXT NOT NULL,
    package TEXT NOT NULL, version TEXT NOT NULL, status TEXT NOT NULL, revision TEXT NOT NULL,
    published REAL NOT NULL, origin TEXT NOT NULL, metadata TEXT NOT NULL,
    UNIQUE (domain, repo, format, namespace, package, version)
);
CREATE TABLE IF NOT EXISTS assets (
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    name TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, md5 TEXT NOT NULL,
    sha1 TEXT NOT NULL, sha512 TEXT NOT NULL, content BLOB,
    PRIMARY KEY (version_id, name)
);
"""

DEFAULT_ACCOUNT = "111122223333"
DEFAULT_REGION = "us-east-1"
MAX_VERSIONS_PER_CALL = 100


@dataclass(frozen=True)
class Caller:
    """Who is calling, from the request's SigV4 credential scope."""

    account: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    access_key: str = ""

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:user/{self.access_key or 'anonymous'}"


@dataclass(frozen=True)
class DenyRule:
    """Deny ``action`` (e.g. ``codeartifact:UpdatePackageVersionsStatus``, globs allowed) on
    resources whose ARN matches ``resource`` (an fnmatch glob)."""

    action: str
    resource: str


@dataclass(frozen=True)
class PolicyStatement:
    """One statement of an identity-based IAM policy: ``effect`` on ``actions`` and ``resources``
    (IAM wildcards: `*` any run of characters, `?` one; actions compare case-insensitively)."""

    effect: str  # Allow | Deny
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def matches(self, action: str, resource_arn: str) -> bool:
        return any(_iam_glob(a, ignore_case=True).fullmatch(action) for a in self.actions) and \
            any(_iam_glob(r).fullmatch(resource_arn) for r in self.resources)


def _iam_glob(pattern: str, ignore_case: bool = False) -> "re.Pattern[str]":
    rx = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(rx, re.IGNORECASE if ignore_case else 0)


@dataclass
class PackageRef:
    domain: str
    owner: str
    repo: str
    format: Format
    namespace: str
    package: str

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.domain, self.repo, self.format.value, self.namespace, self.package)

    def arn(self, region: str) -> str:
        return rules.package_arn(region, self.owner, self.domain, self.repo, self.format.value,
                                 self.namespace, self.package)


def _token(offset: int, query: str) -> str:
    raw = json.dumps({"o": offset, "q": hashlib.sha256(query.encode()).hexdigest()[:16]})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _offset(token: Optional[str], query: str) -> int:
    """Decodes an opaque nextToken; a token from another query or a forged one is rejected."""
    if not token:
        return 0
    try:
        doc = json.loads(base64.urlsafe_b64decode(token.encode()))
        if doc["q"] != hashlib.sha256(query.encode()).hexdigest()[:16]:
            raise ValueError
        return int(doc["o"])
    except (ValueError, KeyError, TypeError, json.JSONDecodeError):
        raise ValidationException("The nextToken is not valid for this request.", "OTHER") from None


def _page(items: list[Any], max_results: Optional[int], next_token: Optional[str], query: str,
          default: int, limit: int) -> tuple[list[Any], Optional[str]]:
    n = default if max_results is None else max_results
    if not 1 <= n <= limit:
        raise ValidationException(
            f"1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy "
            f"constraint: Member must have value between 1 and {limit}"
        )
    start = _offset(next_token, query)
    page = items[start:start + n]
    more = start + n < len(items)
    return page, (_token(start + n, query) if more else None)


class Backend:
    """All CodeArtifact state and rules. Thread-safe: one lock around one SQLite connection."""

    def __init__(self, db_path: str = ":memory:", account: str = DEFAULT_ACCOUNT,
                 region: str = DEFAULT_REGION) -> None:
        self.account = account
        self.region = region
        self.deny_rules: list[DenyRule] = []
        # None: every signed caller may do everything (the default). A list: the caller's
        # identity-based policy, evaluated as IAM does (explicit deny > allow > implicit deny).
        self.policy: Optional[list[PolicyStatement]] = None
        self._lock = threading.RLock()
        self._db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA foreign_keys = ON")
        if db_path != ":memory:":
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(SCHEMA)
        self.trail = Trail(self._db, account, region, self._lock)

    # -- plumbing -------------------------------------------------------------------------

    class _Tx:
        def __init__(self, backend: "Backend") -> None:
            self.b = backend

        def __enter__(self) -> sqlite3.Connection:
            self.b._lock.acquire()
            self.b._db.execute("BEGIN IMMEDIATE")
            return self.b._db

        def __exit__(self, exc_type: Any, *_: Any) -> None:
            try:
                self.b._db.execute("ROLLBACK" if exc_type else "COMMIT")
            finally:
                self.b._lock.release()

    def tx(self) -> "Backend._Tx":
        return Backend._Tx(self)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def authorize(self, caller: Caller, action: str, resource_arn: str) -> None:
        """IAM's evaluation for the caller: an explicit deny (a deny rule or a Deny statement)
        refuses; with a policy set, only an Allow statement matching the action and the resource's
        ARN permits (implicit deny otherwise); without one, everything is allowed."""
        full = f"codeartifact:{action}"
        denied = any(fnmatch.fnmatchcase(full, rule.action) and fnmatch.fnmatchcase(resource_arn, rule.resource)
                     for rule in self.deny_rules)
        statements = self.policy
        if statements is not None:
            denied = denied or any(s.effect == "Deny" and s.matches(full, resource_arn) for s in statements)
        if denied:
            raise AccessDeniedException(
                f"User: {caller.arn} is not authorized to perform: {full} on resource: "
                f"{resource_arn} with an explicit deny"
            )
        if statements is not None and not any(s.effect == "Allow" and s.matches(full, resource_arn)
                                              for s in statements):
            raise AccessDeniedException(
                f"User: {caller.arn} is not authorized to perform: {full} on resource: {resource_arn} "
                f"because no identity-based policy allows the {full} action"
            )

    def _domain(self, db: sqlite3.Connection, domain: str, owner: Optional[str]) -> sqlite3.Row:
        rules.check_pattern("domain", domain, rules.DOMAIN_RE)
        if owner is not None:
            rules.check_pattern("domainOwner", owner, rules.ACCOUNT_RE)
        row: Optional[sqlite3.Row] = db.execute("SELECT * FROM domains WHERE name = ?", (domain,)).fetchone()
        if row is None or (owner is not None and row["owner"] != owner):
            raise ResourceNotFoundException(f"Domain not found. Domain '{domain}' could not be found.",
                                            "domain", domain)
        return row

    def _repo(self, db: sqlite3.Connection, domain: str, owner: Optional[str], repo: str) -> sqlite3.Row:
        d = self._domain(db, domain, owner)
        rules.check_pattern("repository", repo, rules.REPOSITORY_RE)
        row = db.execute("SELECT * FROM repositories WHERE domain = ? AND name = ?", (domain, repo)).fetchone()
        if row is None:
            raise ResourceNotFoundException(
                f"Repository not found. Repository '{repo}' in domain '{domain}' could not be found.",
                "repository", repo)
        return d

    def _package_ref(self, db: sqlite3.Connection, domain: str, owner: Optional[str], repo: str,
                     fmt: str, namespace: Optional[str], package: str, must_exist: bool = True) -> PackageRef:
        d = self._repo(db, domain, owner, repo)
        f = rules.parse_enum("format", fmt, Format)
        assert isinstance(f, Format)
        ns = rules.normalize_namespace(f, namespace)
        rules.check_pattern("package", package, rules.NAME_RE)
        ref = PackageRef(domain, d["owner"], repo, f, ns, rules.normalize_name(f, package))
        if must_exist:
            row = db.execute(
                "SELECT 1 FROM packages WHERE domain=? AND repo=? AND format=? AND namespace=? AND name=?",
                ref.key).fetchone()
            if row is None:
                shown = rules.display_package(f.value, ns, ref.package)
                raise ResourceNotFoundException(
                    f"Package not found. Package '{shown}' of format '{f.value}' could not be found "
                    f"in repository '{repo}'.", "package", ref.package)
        return ref

    def _version_rows(self, db: sqlite3.Connection, ref: PackageRef) -> dict[str, sqlite3.Row]:
        rows = db.execute(
            "SELECT * FROM versions WHERE domain=? AND repo=? AND format=? AND namespace=? AND package=?",
            ref.key).fetchall()
        return {r["version"]: r for r in rows}

    def _version_row(self, db: sqlite3.Connection, ref: PackageRef, version: str) -> sqlite3.Row:
        rules.check_pattern("packageVersion", version, rules.NAME_RE)
        row: Optional[sqlite3.Row] = db.execute(
            "SELECT * FROM versions WHERE domain=? AND repo=? AND format=? AND namespace=? AND package=? "
            "AND version=?", (*ref.key, version)).fetchone()
        if row is None:
            raise ResourceNotFoundException(
                f"Package version not found. Version '{version}' of package "
                f"'{rules.display_package(ref.format.value, ref.namespace, ref.package)}' could not be found.",
                "package-version", version)
        return row

    @staticmethod
    def _ns(ref_or_ns: Any) -> dict[str, str]:
        ns = ref_or_ns.namespace if isinstance(ref_or_ns, PackageRef) else ref_or_ns
        return {"namespace": ns} if ns else {}

    def _revise(self, db: sqlite3.Connection, vid: int) -> str:
        row = db.execute("SELECT * FROM versions WHERE id = ?", (vid,)).fetchone()
        assets = [(a["name"], a["sha256"]) for a in
                  db.execute("SELECT name, sha256 FROM assets WHERE version_id = ?", (vid,))]
        rev = rules.revision_of(
            (row["domain"], row["repo"], row["format"], row["namespace"], row["package"], row["version"]),
            assets, json.loads(row["metadata"]))
        db.execute("UPDATE versions SET revision = ? WHERE id = ?", (rev, vid))
        return rev

    # -- domains and repositories ----------------------------------------------------------

    def _domain_desc(self, db: sqlite3.Connection, row: sqlite3.Row, caller: Caller) -> dict[str, Any]:
        count = db.execute("SELECT COUNT(*) FROM repositories WHERE domain = ?", (row["name"],)).fetchone()[0]
        size = db.execute(
            "SELECT COALESCE(SUM(a.size), 0) FROM assets a JOIN versions v ON v.id = a.version_id "
            "WHERE v.domain = ?", (row["name"],)).fetchone()[0]
        arn = f"arn:aws:codeartifact:{caller.region}:{row['owner']}:domain/{row['name']}"
        return {
            "name": row["name"], "owner": row["owner"], "arn": arn, "status": "Active",
            "createdTime": row["created"],
            "encryptionKey": row["encryption_key"] or f"arn:aws:kms:{caller.region}:{row['owner']}:key/emulator",
            "repositoryCount": count, "assetSizeBytes": size,
            "s3BucketArn": f"arn:aws:s3:::assets-{row['owner']}-{caller.region}",
        }

    def create_domain(self, caller: Caller, domain: str, encryption_key: Optional[str] = None,
                      tags: Optional[list[Any]] = None) -> dict[str, Any]:
        rules.check_pattern("domain", domain, rules.DOMAIN_RE)
        with self.tx() as db:
            if db.execute("SELECT 1 FROM domains WHERE name = ?", (domain,)).fetchone():
                raise ConflictException(f"Domain '{domain}' already exists.", "domain", domain)
            db.execute("INSERT INTO domains VALUES (?, ?, ?, ?)", (domain, caller.account, time.time(), encryption_key))
            row = db.execute("SELECT * FROM domains WHERE name = ?", (domain,)).fetchone()
            return {"domain": self._domain_desc(db, row, caller)}

    def describe_domain(self, caller: Caller, domain: str, domain_owner: Optional[str] = None) -> dict[str, Any]:
        with self.tx() as db:
            return {"domain": self._domain_desc(db, self._domain(db, domain, domain_owner), caller)}

    def list_domains(self, caller: Caller, max_results: Optional[int] = None,
                     next_token: Optional[str] = None) -> dict[str, Any]:
        with self.tx() as db:
            rows = db.execute("SELECT * FROM domains ORDER BY name").fetchall()
            page, token = _page(rows, max_results, next_token, "domains", 1000, 1000)
            out: dict[str, Any] = {"domains": [
                {k: v for k, v in self._domain_desc(db, r, caller).items()
                 if k in ("name", "owner", "arn", "status", "createdTime", "encryptionKey")} for r in page]}
            if token:
                out["nextToken"] = token
            return out

    def _repo_desc(self, row: sqlite3.Row, owner: str, caller: Caller, full: bool) -> dict[str, Any]:
        out = {
            "name": row["name"], "administratorAccount": owner, "domainName": row["domain"],
            "domainOwner": owner,
            "arn": f"arn:aws:codeartifact:{caller.region}:{owner}:repository/{row['domain']}/{row['name']}",
            "createdTime": row["created"],
        }
        if row["description"]:
            out["description"] = row["description"]
        if full:
            out.update(upstreams=[], externalConnections=[])
        return out

    def create_repository(self, caller: Caller, domain: str, repository: str, domain_owner: Optional[str] = None,
                          description: Optional[str] = None, upstreams: Optional[list[Any]] = None,
                          tags: Optional[list[Any]] = None) -> dict[str, Any]:
        with self.tx() as db:
            d = self._domain(db, domain, domain_owner)
            rules.check_pattern("repository", repository, rules.REPOSITORY_RE)
            if db.execute("SELECT 1 FROM repositories WHERE domain=? AND name=?", (domain, repository)).fetchone():
                raise ConflictException(f"Repository '{repository}' already exists in domain '{domain}'.",
                                        "repository", repository)
            db.execute("INSERT INTO repositories VALUES (?, ?, ?, ?)", (domain, repository, description, time.time()))
            row = db.execute("SELECT * FROM repositories WHERE domain=? AND name=?", (domain, repository)).fetchone()
            return {"repository": self._repo_desc(row, d["owner"], caller, True)}

    def describe_repository(self, caller: Caller, domain: str, repository: str,
                            domain_owner: Optional[str] = None) -> dict[str, Any]:
        with self.tx() as db:
            d = self._repo(db, domain, domain_owner, repository)
            row = db.execute("SELECT * FROM repositories WHERE domain=? AND name=?", (domain, repository)).fetchone()
            return {"repository": self._repo_desc(row, d["owner"], caller, True)}

    def _list_repos(self, caller: Caller, where: str, args: tuple[Any, ...], prefix: Optional[str],
                    max_results: Optional[int], next_token: Optional[str], query: str) -> dict[str, Any]:
        with self.tx() as db:
            rows = db.execute(
                "SELECT r.*, d.owner FROM repositories r JOIN domains d ON d.name = r.domain "
                f"WHERE {where} ORDER BY r.domain, r.name", args).fetchall()
            rows = [r for r in rows if not prefix or r["name"].startswith(prefix)]
            page, token = _page(rows, max_results, next_token, query, 1000, 1000)
            out: dict[str, Any] = {"repositories": [self._repo_desc(r, r["owner"], caller, False) for r in page]}
            if token:
                out["nextToken"] = token
            return out

    def list_repositories(self, caller: Caller, repository_prefix: Optional[str] = None,
                          max_results: Optional[int] = None, next_token: Optional[str] = None) -> dict[str, Any]:
        return self._list_repos(caller, "1 = 1", (), repository_prefix, max_results, next_token,
                                f"repos:{repository_prefix}")

    def list_repositories_in_domain(self, caller: Caller, domain: str, domain_owner: Optional[str] = None,
                                    administrator_account: Optional[str] = None,
                                    repository_prefix: Optional[str] = None, max_results: Optional[int] = None,
                                    next_token: Optional[str] = None) -> dict[str, Any]:
        with self.tx() as db:
            self._domain(db, domain, domain_owner)
        return self._list_repos(caller, "r.domain = ?", (domain,), repository_prefix, max_results, next_token,
                                f"repos:{domain}:{repository_prefix}")

    # -- packages ---------------------------------------------------------------------------

    @staticmethod
    def _origin_config(row: Optional[sqlite3.Row] = None) -> dict[str, Any]:
        """A package's origin controls (both ALLOW unless seeded otherwise, as for a new package)."""
        if row is None or row["publish"] is None:
            return {"restrictions": {"publish": "ALLOW", "upstream": "ALLOW"}}
        return {"restrictions": {"publish": row["publish"], "upstream": row["upstream"]}}

    def list_packages(self, caller: Caller, domain: str, repository: str, domain_owner: Optional[str] = None,
                      format: Optional[str] = None, namespace: Optional[str] = None,
                      package_prefix: Optional[str] = None, max_results: Optional[int] = None,
                      next_token: Optional[str] = None, publish: Optional[str] = None,
                      upstream: Optional[str] = None) -> dict[str, Any]:
        with self.tx() as db:
            self._repo(db, domain, domain_owner, repository)
            owner = db.execute("SELECT owner FROM domains WHERE name = ?", (domain,)).fetchone()["owner"]
            self.authorize(caller, "ListPackages",
                           f"arn:aws:codeartifact:{caller.region}:{owner}:repository/{domain}/{repository}")
            if format is not None:
                rules.parse_enum("format", format, Format)
            for control, value in (("publish", publish), ("upstream", upstream)):
                if value is not None and value not in ("ALLOW", "BLOCK"):
                    raise ValidationException(f"Value '{value}' at '{control}' failed to satisfy constraint: "
                                              "Member must satisfy enum value set: [ALLOW, BLOCK]")
            rows = db.execute(
                "SELECT p.*, o.publish, o.upstream FROM packages p LEFT JOIN package_origins o ON o.domain = p.domain "
                "AND o.repo = p.repo AND o.format = p.format AND o.namespace = p.namespace AND o.name = p.name "
                "WHERE p.domain=? AND p.repo=? ORDER BY p.format, p.namespace, p.name", (domain, repository)).fetchall()
            rows = [r for r in rows
                    if (format is None or r["format"] == format)
                    and (namespace is None or r["namespace"] == namespace)
                    and (not package_prefix or r["name"].startswith(package_prefix))
                    and (publish is None or (r["publish"] or "ALLOW") == publish)
                    and (upstream is None or (r["upstream"] or "ALLOW") == upstream)]
            page, token = _page(rows, max_results, next_token,
                                f"pkgs:{domain}:{repository}:{format}:{namespace}:{package_prefix}", 50, 1000)
            out: dict[str, Any] = {"packages": [
                {"format": r["format"], **self._ns(r["namespace"]), "package": r["name"],
                 "originConfiguration": self._origin_config(r)} for r in page]}
            if token:
                out["nextToken"] = token
            return out

    def describe_package(self, caller: Caller, domain: str, repository: str, format: str, package: str,
                         domain_owner: Optional[str] = None, namespace: Optional[str] = None) -> dict[str, Any]:
        with self.tx() as db:
            ref = self._package_ref(db, domain, domain_owner, repository, format, namespace, package)
            origin = db.execute("SELECT publish, upstream FROM package_origins WHERE domain=? AND repo=? AND format=? "
                                "AND namespace=? AND name=?", ref.key).fetchone()
            return {"package": {"format": ref.format.value, **self._ns(ref), "name": ref.package,
                                "originConfiguration": self._origin_config(origin)}}

    # -- package versions -------------------------------------------------------------------

    def _summary(self, row: sqlite3.Row) -> dict[str, Any]:
        return {"version": row["version"], "revision": row["revision"], "status": row["status"],
                "origin": self._origin(row)}

    @staticmethod
    def _origin(row: sqlite3.Row) -> dict[str, Any]:
        origin: dict[str, Any] = {"originType": row["origin"]}
        if row["origin"] == "INTERNAL":
            origin["domainEntryPoint"] = {"repositoryName": row["repo"]}
        elif row["origin"] == "EXTERNAL":
            origin["domainEntryPoint"] = {"externalConnectionName": "public:npmjs"}
        return origin

    def list_package_versions(self, caller: Caller, domain: str, repository: str, format: str, package: str,
                              domain_owner: Optional[str] = None, namespace: Optional[str] = None,
                              status: Optional[str] = None, sort_by: Optional[str] = None,
                              max_results: Optional[int] = None, next_token: Optional[str] = None,
                              origin_type: Optional[str] = None) -> dict[str, Any]:
        with self.tx() as db:
            ref = self._package_ref(db, domain, domain_owner, repository, format, namespace, package)
            self.authorize(caller, "ListPackageVersions", ref.arn(caller.region))
            if status is not None:
                rules.parse_enum("status", status, Status)
            if origin_type is not None and origin_type not in ("INTERNAL", "EXTERNAL", "UNKNOWN"):
                raise ValidationException(f"Value '{origin_type}' at 'originType' failed to satisfy constraint: "
                                          "Member must satisfy enum value set: [INTERNAL, EXTERNAL, UNKNOWN]")
            if sort_by is not None and sort_by != "PUBLISHED_TIME":
                raise ValidationException(f"Value '{sort_by}' at 'sortBy' failed to satisfy constraint: "
                                          "Member must satisfy enum value set: [PUBLISHED_TIME]")
            order = "published DESC, id DESC" if sort_by == "PUBLISHED_TIME" else "id ASC"
            rows = db.execute(
                "SELECT * FROM versions WHERE domain=? AND repo=? AND format=? AND namespace=? AND package=? "
                f"ORDER BY {order}", ref.key).fetchall()
            rows = [r for r in rows if (status is None or r["status"] == status)
                    and (origin_type is None or r["origin"] == origin_type)]
            query = f"pv:{ref.key}:{status}:{sort_by}:{origin_type}"
            page, token = _page(rows, max_results, next_token, query, 50, 1000)
            out: dict[str, Any] = {"format": ref.format.value, **self._ns(ref), "package": ref.package,
                                   "versions": [self._summary(r) for r in page]}
            latest = db.execute(
                "SELECT version FROM versions WHERE domain=? AND repo=? AND format=? AND namespace=? AND package=? "
                "AND status = 'Published' ORDER BY published DESC, id DESC LIMIT 1", ref.key).fetchone()
            if latest:
                out["defaultDisplayVersion"] = latest["version"]
            if token:
                out["nextToken"] = token
            return out

    def describe_package_version(self, caller: Caller, domain: str, repository: str, format: str, package: str,
                                 package_version: str, domain_owner: Optional[str] = None,
                                 namespace: Optional[str] = None) -> dict[str, Any]:
        with self.tx() as db:
            ref = self._package_ref(db, domain, domain_owner, repository, format, namespace, package)
            self.authorize(caller, "DescribePackageVersion", ref.arn(caller.region))
            row = self._version_row(db, ref, package_version)
            meta = json.loads(row["metadata"])
            desc = {"format": ref.format.value, **self._ns(ref), "packageName": ref.package,
                    "displayName": meta.get("displayName", ref.package), "version": row["version"],
                    "publishedTime": row["published"], "licenses": [], "revision": row["revision"],
                    "status": row["status"], "origin": self._origin(row)}
            for key in ("summary", "homePage", "sourceCodeRepository"):
                if key in meta:
                    desc[key] = meta[key]
            return {"packageVersion": desc}

    def list_package_version_assets(self, caller: Caller, domain: str, repository: str, format: str,
                                    package: str, package_version: str, domain_owner: Optional[str] = None,
                                    namespace: Optional[str] = None, max_results: Optional[int] = None,
                                    next_token: Optional[str] = None) -> dict[str, Any]:
        with self.tx() as db:
            ref = self._package_ref(db, domain, domain_owner, repository, format, namespace, package)
            row = self._version_row(db, ref, package_version)
            assets = db.execute("SELECT * FROM assets WHERE version_id = ? ORDER BY name", (row["id"],)).fetchall()
            page, token = _page(assets, max_results, next_token, f"assets:{row['id']}", 50, 1000)
            out: dict[str, Any] = {"format": ref.format.value, **self._ns(ref), "package": ref.package,
                                   "version": row["version"], "versionRevision": row["revision"],
                                   "assets": [self._asset(a) for a in page]}
            if token:
                out["nextToken"] = token
            return out

    # Statuses whose assets can be fetched: Archived and Disposed versions cannot be downloaded.
    DOWNLOADABLE = frozenset({Status.Published, Status.Unlisted, Status.Unfinished})

    def get_package_version_asset(self, caller: Caller, domain: str, repository: str, format: str, package: str,
                                  package_version: str, asset: Optional[str] = None,
                                  domain_owner: Optional[str] = None, namespace: Optional[str] = None,
                                  package_version_revision: Optional[str] = None) -> dict[str, Any]:
        """One asset's bytes (the payload) and the version's revision (headers). Needs
        ReadFromRepository; an Archived or Disposed version's assets cannot be fetched."""
        with self.tx() as db:
            ref = self._package_ref(db, domain, domain_owner, repository, format, namespace, package)
            self.authorize(caller, "ReadFromRepository",
                           f"arn:aws:codeartifact:{caller.region}:{ref.owner}:repository/{domain}/{repository}")
            row = self._version_row(db, ref, package_version)
            if Status(row["status"]) not in self.DOWNLOADABLE:
                raise ResourceNotFoundException(
                    f"Package version {package_version} is {row['status']}; its assets cannot be downloaded.",
                    "asset", asset or "")
            if package_version_revision is not None and package_version_revision != row["revision"]:
                raise ResourceNotFoundException(
                    f"Revision {package_version_revision} of package version {package_version} does not exist.",
                    "package-version", package_version)
            assets = db.execute("SELECT * FROM assets WHERE version_id = ? ORDER BY name", (row["id"],)).fetchall()
            chosen = [a for a in assets if asset is None or a["name"] == asset]
            if not chosen:
                raise ResourceNotFoundException(f"Asset {asset!r} not found in package version {package_version}.",
                                                "asset", asset or "")
            a = chosen[0]
            return {"__payload__": bytes(a["content"]),
                    "__headers__": {"X-AssetName": a["name"], "X-PackageVersion": row["version"],
                                    "X-PackageVersionRevision": row["revision"]}}

    def package_manager_read(self, caller: Caller, domain: str, repository: str, format: str, package: str,
                             version: str, domain_owner: Optional[str] = None,
                             namespace: Optional[str] = None) -> dict[str, Any]:
        """What a package manager's fetch of one version (npm install, pip download, ...) does:
        the same checks as GetPackageVersionAsset. Recorded as ReadFromRepository by the caller
        (emulator/admin.py); raises the service error the client would get."""
        out = self.get_package_version_asset(caller, domain, repository, format, package, version,
                                             domain_owner=domain_owner, namespace=namespace)
        return {"version": version, "revision": out["__headers__"]["X-PackageVersionRevision"],
                "asset": out["__headers__"]["X-AssetName"], "size": len(out["__payload__"])}

    @staticmethod
    def _asset(a: sqlite3.Row) -> dict[str, Any]:
        return {"name": a["name"], "size": a["size"],
                "hashes": {"MD5": a["md5"], "SHA-1": a["sha1"], "SHA-256": a["sha256"], "SHA-512": a["sha512"]}}

    def publish_package_version(self, caller: Caller, domain: str, repository: str, format: str, package: str,
                                package_version: str, asset_content: bytes, asset_name: str, asset_sha256: str,
                                domain_owner: Optional[str] = None, namespace: Optional[str] = None,
                                unfinished: Optional[bool] = None) -> dict[str, Any]:
        if format != "generic":
            rules.parse_enum("format", format, Format)
            raise ValidationException(f"PublishPackageVersion supports only the generic format, not {format}.")
        if hashlib.sha256(asset_content).hexdigest() != asset_sha256.lower():
            raise ValidationException("The SHA256 hash of the asset content does not match the assetSHA256 "
                                      "provided in the request.")
        with self.tx() as db:
            ref = self._package_ref(db, domain, domain_owner, repository, format, namespace, package,
                                    must_exist=False)
            self.authorize(caller, "PublishPackageVersion", ref.arn(caller.region))
            rules.check_pattern("packageVersion", package_version, rules.NAME_RE)
            db.execute("INSERT OR IGNORE INTO packages VALUES (?, ?, ?, ?, ?)", ref.key)
            row = db.execute("SELECT * FROM versions WHERE domain=? AND repo=? AND format=? AND namespace=? "
                             "AND package=? AND version=?", (*ref.key, package_version)).fetchone()
            if row is not None and row["status"] != Status.Unfinished.value:
                raise ConflictException(
                    f"Package version '{package_version}' already exists with status {row['status']}; only "
                    "Unfinished versions accept new assets.", "package-version", package_version)
            status = Status.Unfinished if unfinished else Status.Published
            if row is None:
                vid = self._insert_version(db, ref, package_version, status, self.trail.now(), "INTERNAL", {})
            else:
                vid = row["id"]
                if db.execute("SELECT 1 FROM assets WHERE version_id=? AND name=?", (vid, asset_name)).fetchone():
                    raise ConflictException(f"Asset '{asset_name}' already exists in version '{package_version}'.",
                                            "asset", asset_name)
                db.execute("UPDATE versions SET status = ? WHERE id = ?", (status.value, vid))
            self._insert_asset(db, vid, asset_name, asset_content)
            rev = self._revise(db, vid)
            a = db.execute("SELECT * FROM assets WHERE version_id=? AND name=?", (vid, asset_name)).fetchone()
            return {"format": ref.format.value, **self._ns(ref), "package": ref.package, "version": package_version,
                    "versionRevision": rev, "status": status.value, "asset": self._asset(a)}

    def _insert_version(self, db: sqlite3.Connection, ref: PackageRef, version: str, status: Status,
                        published: float, origin: str, metadata: dict[str, Any]) -> int:
        cur = db.execute(
            "INSERT INTO versions (domain, repo, format, namespace, package, version, status, revision, "
            "published, origin, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?)",
            (*ref.key, version, status.value, published, origin, json.dumps(metadata, sort_keys=True)))
        assert cur.lastrowid is not None
        return cur.lastrowid

    @staticmethod
    def _insert_asset(db: sqlite3.Connection, vid: int, name: str, content: bytes) -> None:
        db.execute("INSERT INTO assets VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (vid, name, len(content), hashlib.sha256(content).hexdigest(), hashlib.md5(content).hexdigest(),
                    hashlib.sha1(content).hexdigest(), hashlib.sha512(content).hexdigest(), content))

    # -- status changes -----------------------------------------------------------------------

    def _check_batch(self, versions: list[str], version_revisions: Optional[dict[str, str]],
                     expected_status: Optional[str]) -> Optional[Status]:
        if not versions:
            raise ValidationException("1 validation error detected: Value at 'versions' failed to satisfy "
                                      "constraint: Member must have length greater than or equal to 1")
        if len(versions) > MAX_VERSIONS_PER_CALL:
            raise ValidationException(
                f"1 validation error detected: Value at 'versions' failed to satisfy constraint: Member must "
                f"have length less than or equal to {MAX_VERSIONS_PER_CALL}")
        for v in versions:
            rules.check_pattern("versions", v, rules.NAME_RE)
        if version_revisions is not None:
            if set(version_revisions) != set(versions):
                raise ValidationException("The versions in versionRevisions must be the same as the versions "
                                          "in versions.")
            for r in version_revisions.values():
                rules.check_pattern("versionRevisions", r, rules.REVISION_RE)
        if expected_status is None:
            return None
        s = rules.parse_enum("expectedStatus", expected_status, Status)
        assert isinstance(s, Status)
        return s

    def _change_status(self, caller: Caller, action: str, domain: str, repository: str, format: str,
                       package: str, versions: list[str], target: Status,
                       version_revisions: Optional[dict[str, str]], expected: Optional[Status],
                       domain_owner: Optional[str], namespace: Optional[str],
                       allowed_from: frozenset[Status]) -> dict[str, Any]:
        """The shared all-or-nothing core of UpdatePackageVersionsStatus and DisposePackageVersions.

        Every version is checked (NOT_FOUND, NOT_ALLOWED, MISMATCHED_REVISION, MISMATCHED_STATUS, in
        that order). If any fails, nothing is changed and every other version is SKIPPED, which is
        the service's documented current behaviour."""
        with self.tx() as db:
            ref = self._package_ref(db, domain, domain_owner, repository, format, namespace, package)
            self.authorize(caller, action, ref.arn(caller.region))
            rows = self._version_rows(db, ref)
            failed: dict[str, dict[str, str]] = {}
            for v in dict.fromkeys(versions):
                row = rows.get(v)
                if row is None:
                    failed[v] = {"errorCode": "NOT_FOUND", "errorMessage": f"version {v} not found"}
                    continue
                current = Status(row["status"])
                if current not in allowed_from:
                    failed[v] = {"errorCode": "NOT_ALLOWED",
                                 "errorMessage": f"cannot change status from {current.value} to {target.value}"}
                elif version_revisions is not None and version_revisions[v] != row["revision"]:
                    failed[v] = {"errorCode": "MISMATCHED_REVISION",
                                 "errorMessage": f"current revision: {row['revision']}, expected revision: "
                                                 f"{version_revisions[v]}"}
                elif expected is not None and current is not expected:
                    failed[v] = {"errorCode": "MISMATCHED_STATUS",
                                 "errorMessage": f"current status: {current.value}, expected status: {expected.value}"}
            if failed:
                for v in versions:
                    failed.setdefault(v, {"errorCode": "SKIPPED", "errorMessage": f"version {v} is skipped"})
                return {"successfulVersions": {}, "failedVersions": failed}
            ok: dict[str, dict[str, str]] = {}
            for v in dict.fromkeys(versions):
                row = rows[v]
                db.execute("UPDATE versions SET status = ? WHERE id = ?", (target.value, row["id"]))
                if target is Status.Disposed:
                    # Disposing deletes the assets for good; the revision is kept as it was.
                    db.execute("DELETE FROM assets WHERE version_id = ?", (row["id"],))
                ok[v] = {"revision": row["revision"], "status": target.value}
            return {"successfulVersions": ok, "failedVersions": {}}

    def update_package_versions_status(self, caller: Caller, domain: str, repository: str, format: str,
                                       package: str, versions: list[str], target_status: str,
                                       domain_owner: Optional[str] = None, namespace: Optional[str] = None,
                                       version_revisions: Optional[dict[str, str]] = None,
                                       expected_status: Optional[str] = None) -> dict[str, Any]:
        target = rules.parse_enum("targetStatus", target_status, Status)
        assert isinstance(target, Status)
        if target not in rules.UPDATE_TARGETS:
            hint = " Use DisposePackageVersions to dispose package versions." if target is Status.Disposed else ""
            raise ValidationException(
                f"targetStatus {target.value} is not allowed: the target status must be one of Published, "
                f"Unlisted or Archived.{hint}")
        expected = self._check_batch(versions, version_revisions, expected_status)
        return self._change_status(caller, "UpdatePackageVersionsStatus", domain, repository, format, package,
                                   versions, target, version_revisions, expected, domain_owner, namespace,
                                   frozenset({Status.Published, Status.Unlisted, Status.Archived}))

    def dispose_package_versions(self, caller: Caller, domain: str, repository: str, format: str, package: str,
                                 versions: list[str], domain_owner: Optional[str] = None,
                                 namespace: Optional[str] = None, version_revisions: Optional[dict[str, str]] = None,
                                 expected_status: Optional[str] = None) -> dict[str, Any]:
        expected = self._check_batch(versions, version_revisions, expected_status)
        return self._change_status(caller, "DisposePackageVersions", domain, repository, format, package,
                                   versions, Status.Disposed, version_revisions, expected, domain_owner, namespace,
                                   frozenset({Status.Published, Status.Unlisted, Status.Archived,
                                              Status.Unfinished}))

    def delete_package_versions(self, caller: Caller, domain: str, repository: str, format: str, package: str,
                                versions: list[str], domain_owner: Optional[str] = None,
                                namespace: Optional[str] = None,
                                expected_status: Optional[str] = None) -> dict[str, Any]:
        expected = self._check_batch(versions, None, expected_status)
        with self.tx() as db:
            ref = self._package_ref(db, domain, domain_owner, repository, format, namespace, package)
            self.authorize(caller, "DeletePackageVersions", ref.arn(caller.region))
            rows = self._version_rows(db, ref)
            failed: dict[str, dict[str, str]] = {}
            for v in dict.fromkeys(versions):
                row = rows.get(v)
                if row is None:
                    failed[v] = {"errorCode": "NOT_FOUND", "errorMessage": f"version {v} not found"}
                elif expected is not None and row["status"] != expected.value:
                    failed[v] = {"errorCode": "MISMATCHED_STATUS",
                                 "errorMessage": f"current status: {row['status']}, expected status: {expected.value}"}
            if failed:
                for v in versions:
                    failed.setdefault(v, {"errorCode": "SKIPPED", "errorMessage": f"version {v} is skipped"})
                return {"successfulVersions": {}, "failedVersions": failed}
            ok = {}
            for v in dict.fromkeys(versions):
                db.execute("DELETE FROM versions WHERE id = ?", (rows[v]["id"],))
                ok[v] = {"revision": rows[v]["revision"], "status": Status.Deleted.value}
            return {"successfulVersions": ok, "failedVersions": {}}

    def delete_package(self, caller: Caller, domain: str, repository: str, format: str, package: str,
                       domain_owner: Optional[str] = None, namespace: Optional[str] = None) -> dict[str, Any]:
        """DeletePackage: the package and every version of it (and its origin controls) are gone."""
        with self.tx() as db:
            ref = self._package_ref(db, domain, domain_owner, repository, format, namespace, package)
            self.authorize(caller, "DeletePackage", ref.arn(caller.region))
            origin = db.execute("SELECT publish, upstream FROM package_origins WHERE domain=? AND repo=? AND format=? "
                                "AND namespace=? AND name=?", ref.key).fetchone()
            db.execute("DELETE FROM versions WHERE domain=? AND repo=? AND format=? AND namespace=? AND package=?",
                       ref.key)
            for table in ("package_origins", "packages"):
                db.execute(f"DELETE FROM {table} WHERE domain=? AND repo=? AND format=? AND namespace=? AND name=?",
                           ref.key)
            return {"deletedPackage": {"format": ref.format.value, **self._ns(ref), "package": ref.package,
                                       "originConfiguration": self._origin_config(origin)}}

    # -- test hooks: change data without the API's checks (called by admin.py, never by the API) --

    def seed(self, doc: SeedDoc) -> dict[str, int]:
        """Loads a seed document in one transaction; existing items are kept (idempotent)."""
        counts = {"domains": 0, "repositories": 0, "packages": 0, "versions": 0, "downloads": 0}
        fetches: list[tuple[float, dict[str, Any], str]] = []
        with self.tx() as db:
            for d in doc.domains:
                owner = d.owner or self.account
                if not db.execute("SELECT 1 FROM domains WHERE name = ?", (d.name,)).fetchone():
                    rules.check_pattern("domain", d.name, rules.DOMAIN_RE)
                    db.execute("INSERT INTO domains VALUES (?, ?, ?, NULL)", (d.name, owner, time.time()))
                    counts["domains"] += 1
                for r in d.repositories:
                    if not db.execute("SELECT 1 FROM repositories WHERE domain=? AND name=?", (d.name, r.name)).fetchone():
                        rules.check_pattern("repository", r.name, rules.REPOSITORY_RE)
                        db.execute("INSERT INTO repositories VALUES (?, ?, ?, ?)",
                                   (d.name, r.name, r.description, time.time()))
                        counts["repositories"] += 1
                    for p in r.packages:
                        ns = rules.normalize_namespace(p.format, p.namespace)
                        ref = PackageRef(d.name, owner, r.name, p.format, ns, rules.normalize_name(p.format, p.name))
                        cur = db.execute("INSERT OR IGNORE INTO packages VALUES (?, ?, ?, ?, ?)", ref.key)
                        counts["packages"] += cur.rowcount
                        if (p.publish, p.upstream) != ("ALLOW", "ALLOW"):
                            db.execute("INSERT OR REPLACE INTO package_origins VALUES (?, ?, ?, ?, ?, ?, ?)",
                                       (*ref.key, p.publish, p.upstream))
                        existing = self._version_rows(db, ref)
                        for v in p.versions:
                            if v.version in existing:
                                continue  # its downloads too: seeding twice records them once
                            params = trail_mod.read_params(d.name, owner, r.name, p.format, p.namespace, p.name,
                                                           v.version)
                            fetches += [(t, params, trail_mod.USER_AGENTS.get(p.format, trail_mod.USER_AGENTS["generic"]))
                                        for t in v.download_epochs()]
                            rules.check_pattern("version", v.version, rules.NAME_RE)
                            meta = dict(v.metadata)
                            vid = self._insert_version(db, ref, v.version, v.status, v.published_epoch(),
                                                       v.origin, meta)
                            if v.status not in (Status.Disposed,):
                                name = v.asset_name or f"{ref.package}-{v.version}.tgz"
                                self._insert_asset(db, vid, name, f"{ref.key}:{v.version}".encode())
                            self._revise(db, vid)
                            counts["versions"] += 1
        # Recorded in time order after the versions exist, like the fetches they stand for.
        for when, params, agent in sorted(fetches, key=lambda f: f[0]):
            self.trail.record("ReadFromRepository", trail_mod.CI_ROLE.format(account=self.account), params,
                              user_agent=agent, read_only=True, identity_type="AssumedRole", when=when)
            counts["downloads"] += 1
        return counts


    def republish(self, domain: str, repository: str, format: str, package: str, version: str,
                  namespace: Optional[str] = None, metadata: Optional[dict[str, Any]] = None) -> dict[str, str]:
        """Test hook: what a native-registry republish does (new metadata, so a new revision)."""
        with self.tx() as db:
            ref = self._package_ref(db, domain, None, repository, format, namespace, package)
            row = self._version_row(db, ref, version)
            meta = json.loads(row["metadata"])
            meta.update(metadata or {"republishedAt": time.time()})
            db.execute("UPDATE versions SET metadata = ? WHERE id = ?", (json.dumps(meta, sort_keys=True), row["id"]))
            return {"version": version, "revision": self._revise(db, row["id"])}


    def set_status(self, domain: str, repository: str, format: str, package: str, version: str, status: str,
                   namespace: Optional[str] = None) -> None:
        """Test hook: force a status without any of the API's checks (e.g. to stage Unfinished)."""
        with self.tx() as db:
            ref = self._package_ref(db, domain, None, repository, format, namespace, package)
            row = self._version_row(db, ref, version)
            db.execute("UPDATE versions SET status = ? WHERE id = ?", (Status(status).value, row["id"]))


    def reset(self) -> None:
        """Test hook: forget everything (domains, repositories, packages, versions, deny rules, policy)."""
        with self.tx() as db:
            for table in ("assets", "versions", "package_origins", "packages", "repositories", "domains"):
                db.execute(f"DELETE FROM {table}")
        self.deny_rules = []
        self.policy = None
        self.trail.clear()
        self.trail.offset = 0.0


    def iter_versions(self) -> Iterator[dict[str, Any]]:
        with self.tx() as db:
            rows = db.execute("SELECT domain, repo, format, namespace, package, version, status, revision "
                              "FROM versions ORDER BY id").fetchall()
        for r in rows:
            yield dict(r)

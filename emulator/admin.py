"""The emulator's admin path and test hooks (moto's `moto_api` split): not part of the service.

``/_emulator/...`` requests (not signed, not counted, never faulted) seed data, inject faults and
deny rules, read and reset counters, stage one-shot triggers, and run the test hooks below, which
change the backend's data without any of the API's checks (a republish, a forced status, a reset).
The service's rules stay in backend.py; the HTTP layer (server.py) only routes here.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Iterator, Optional

import yaml

from . import rules
from .backend import Backend, DenyRule, PackageRef, PolicyStatement
from .faults import FaultConfig
from .rules import Status
from .seed import SeedDoc

if TYPE_CHECKING:
    from .server import Emulator

ADMIN_PREFIX = "/_emulator/"


def route(app: "Emulator", method: str, path: str, body: bytes) -> tuple[int, Any]:
    """Answers one admin request: (HTTP status, JSON document)."""
    name = path[len(ADMIN_PREFIX):].strip("/")
    doc: Any = {}
    if body:
        doc = yaml.safe_load(body.decode()) if name == "seed" else json.loads(body)
    b = app.backend
    if name == "health":
        return 200, {"ok": True}
    if name == "counters":
        return 200, app.counters.snapshot()
    if name == "counters/reset" and method == "POST":
        app.counters.reset()
        return 200, {"ok": True}
    if name == "faults":
        if method == "POST":
            app.faults.set(FaultConfig.model_validate(doc))
        return 200, app.faults.config.model_dump()
    if name == "policy":
        if method == "POST":
            b.policy = parse_policy(doc) if doc else None
        return 200, {"Statement": [{"Effect": st.effect, "Action": list(st.actions), "Resource": list(st.resources)}
                                   for st in b.policy]} if b.policy is not None else {}
    if name == "deny":
        if method == "POST":
            b.deny_rules = [DenyRule(r["action"], r["resource"]) for r in doc.get("rules", [])]
        return 200, {"rules": [r.__dict__ for r in b.deny_rules]}
    if name == "seed" and method == "POST":
        return 200, seed(b, SeedDoc.model_validate(doc or {}))
    if name == "republish" and method == "POST":
        return 200, republish(b, **doc)
    if name == "set-status" and method == "POST":
        set_status(b, **doc)
        return 200, {"ok": True}
    if name == "reset" and method == "POST":
        reset(b)
        app.triggers = []
        app.faults.set(FaultConfig())
        app.counters.reset()
        return 200, {"ok": True}
    if name == "triggers":
        if method == "POST":
            with app._trigger_lock:
                if doc.get("clear"):  # drop the hooks that have not fired yet
                    app.triggers.clear()
                app.triggers.extend(doc.get("triggers", []))
        return 200, {"triggers": app.triggers}
    if name == "versions":
        return 200, {"versions": list(iter_versions(b))}
    return 404, {"message": f"unknown admin path {path}"}


def parse_policy(doc: Any) -> list[PolicyStatement]:
    """An IAM policy document ({"Statement": [{"Effect", "Action", "Resource"}, ...]}; Action and
    Resource may be a string or a list). Raises ValueError naming what is wrong."""
    if not isinstance(doc, dict) or not isinstance(doc.get("Statement"), (list, dict)):
        raise ValueError("a policy is {\"Statement\": [{\"Effect\", \"Action\", \"Resource\"}, ...]}")
    raw = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    out = []
    for i, st in enumerate(raw):
        if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny"):
            raise ValueError(f"Statement[{i}]: Effect must be Allow or Deny")
        actions, resources = st.get("Action"), st.get("Resource")
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if not actions or not resources or not all(isinstance(x, str) for x in [*actions, *resources]):
            raise ValueError(f"Statement[{i}]: Action and Resource must be strings or lists of strings")
        out.append(PolicyStatement(st["Effect"], tuple(actions), tuple(resources)))
    return out


# -- test hooks: change data without the API's checks ---------------------------------------

def seed(backend: Backend, doc: SeedDoc) -> dict[str, int]:
    """Loads a seed document in one transaction; existing items are kept (idempotent)."""
    counts = {"domains": 0, "repositories": 0, "packages": 0, "versions": 0}
    with backend.tx() as db:
        for d in doc.domains:
            owner = d.owner or backend.account
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
                    existing = backend._version_rows(db, ref)
                    for v in p.versions:
                        if v.version in existing:
                            continue
                        rules.check_pattern("version", v.version, rules.NAME_RE)
                        meta = dict(v.metadata)
                        vid = backend._insert_version(db, ref, v.version, v.status, v.published_epoch(),
                                                   v.origin, meta)
                        if v.status not in (Status.Disposed,):
                            name = v.asset_name or f"{ref.package}-{v.version}.tgz"
                            backend._insert_asset(db, vid, name, f"{ref.key}:{v.version}".encode())
                        backend._revise(db, vid)
                        counts["versions"] += 1
    return counts

def republish(backend: Backend, domain: str, repository: str, format: str, package: str, version: str,
              namespace: Optional[str] = None, metadata: Optional[dict[str, Any]] = None) -> dict[str, str]:
    """Test hook: what a native-registry republish does (new metadata, so a new revision)."""
    with backend.tx() as db:
        ref = backend._package_ref(db, domain, None, repository, format, namespace, package)
        row = backend._version_row(db, ref, version)
        meta = json.loads(row["metadata"])
        meta.update(metadata or {"republishedAt": time.time()})
        db.execute("UPDATE versions SET metadata = ? WHERE id = ?", (json.dumps(meta, sort_keys=True), row["id"]))
        return {"version": version, "revision": backend._revise(db, row["id"])}

def set_status(backend: Backend, domain: str, repository: str, format: str, package: str, version: str, status: str,
               namespace: Optional[str] = None) -> None:
    """Test hook: force a status without any of the API's checks (e.g. to stage Unfinished)."""
    with backend.tx() as db:
        ref = backend._package_ref(db, domain, None, repository, format, namespace, package)
        row = backend._version_row(db, ref, version)
        db.execute("UPDATE versions SET status = ? WHERE id = ?", (Status(status).value, row["id"]))

def reset(backend: Backend) -> None:
    """Test hook: forget everything (domains, repositories, packages, versions, deny rules, policy)."""
    with backend.tx() as db:
        for table in ("assets", "versions", "packages", "repositories", "domains"):
            db.execute(f"DELETE FROM {table}")
    backend.deny_rules = []
    backend.policy = None

def iter_versions(backend: Backend) -> Iterator[dict[str, Any]]:
    with backend.tx() as db:
        rows = db.execute("SELECT domain, repo, format, namespace, package, version, status, revision "
                          "FROM versions ORDER BY id").fetchall()
    for r in rows:
        yield dict(r)

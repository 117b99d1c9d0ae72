"""The emulator's admin path and test hooks (moto's `moto_api` split): not part of the service.

``/_emulator/...`` requests (not signed, not counted, never faulted) seed data, inject faults and
deny rules, read and reset counters, stage one-shot triggers, and run the test hooks below, which
change the backend's data without any of the API's checks (a republish, a forced status, a reset).
The service's rules stay in backend.py; the HTTP layer (server.py) only routes here.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Callable, Optional, Protocol

import yaml

from .backend import Backend, Caller, DenyRule, PolicyStatement
from .errors import ServiceError
from .faults import Counters, FaultConfig, Faults
from . import trail
from .seed import SeedDoc

ADMIN_PREFIX = "/_emulator/"


class Triggers:
    """One-shot test hooks: an out-of-band change (a forced status or a republish) applied just
    before the next matching request is handled, to stage a concurrent change inside a client's
    read-then-write window."""

    KINDS = ("set-status", "republish")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[dict[str, Any]] = []

    def add(self, triggers: list[dict[str, Any]], clear: bool = False) -> list[dict[str, Any]]:
        for t in triggers:
            if (t.get("action") or {}).get("kind") not in self.KINDS:
                raise ValueError(f"a trigger's action.kind is one of {', '.join(self.KINDS)}")
        with self._lock:
            if clear:
                self._pending.clear()
            self._pending.extend(triggers)
            return list(self._pending)

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._pending)

    def fire(self, backend: Backend, operation: str, package: Optional[str]) -> None:
        """Applies (and forgets) the triggers due for this request, before it is handled."""
        with self._lock:
            if not self._pending:
                return
            due = [t for t in self._pending if t["operation"] == operation and t.get("package") in (None, package)]
            self._pending = [t for t in self._pending if t not in due]
        for t in due:
            action = dict(t["action"])
            kind = action.pop("kind")
            (backend.set_status if kind == "set-status" else backend.republish)(**action)


class Context(Protocol):
    """What the admin path works on (the running emulator; admin.py never imports the server)."""

    backend: Backend
    faults: Faults
    counters: Counters
    triggers: Triggers


Handler = Callable[[Context, str, Any], tuple[int, Any]]


def _faults(app: Context, method: str, doc: Any) -> tuple[int, Any]:
    if method == "POST":
        app.faults.set(FaultConfig.model_validate(doc))
    return 200, app.faults.config.model_dump()


def _policy(app: Context, method: str, doc: Any) -> tuple[int, Any]:
    b = app.backend
    if method == "POST":
        b.policy = parse_policy(doc) if doc else None
    return 200, {"Statement": [{"Effect": st.effect, "Action": list(st.actions), "Resource": list(st.resources)}
                               for st in b.policy]} if b.policy is not None else {}


def _deny(app: Context, method: str, doc: Any) -> tuple[int, Any]:
    if method == "POST":
        app.backend.deny_rules = [DenyRule(r["action"], r["resource"]) for r in doc.get("rules", [])]
    return 200, {"rules": [r.__dict__ for r in app.backend.deny_rules]}


def _reset(app: Context, _method: str, _doc: Any) -> tuple[int, Any]:
    app.backend.reset()
    app.triggers.add([], clear=True)
    app.faults.set(FaultConfig())
    app.counters.reset()
    return 200, {"ok": True}


def _triggers(app: Context, method: str, doc: Any) -> tuple[int, Any]:
    if method == "POST":
        return 200, {"triggers": app.triggers.add(doc.get("triggers", []), clear=bool(doc.get("clear")))}
    return 200, {"triggers": app.triggers.pending()}


def _ok(fn: Callable[[Context, Any], object]) -> Handler:
    def handle(app: Context, _method: str, doc: Any) -> tuple[int, Any]:
        fn(app, doc)
        return 200, {"ok": True}
    return handle


def _clock(app: Context, method: str, doc: Any) -> tuple[int, Any]:
    if method == "POST":
        app.backend.trail.offset = float(doc.get("offset_seconds", 0.0))
    return 200, {"offset_seconds": app.backend.trail.offset, "now": app.backend.trail.now()}


def _package_manager_read(app: Context, _method: str, doc: Any) -> tuple[int, Any]:
    """A package manager's fetch of one version (npm install, pip download, mvn, ...), by
    ``principal`` (an ARN; default a CI role): recorded as CloudTrail's ReadFromRepository, with the
    error the client got when the version cannot be downloaded (Archived, Disposed, missing)."""
    principal = str(doc.pop("principal", trail.CI_ROLE.format(account=app.backend.account)))
    user_agent = str(doc.pop("user_agent", trail.USER_AGENTS["npm"]))
    invoked_by = doc.pop("invoked_by", None)
    identity_type = "AWSService" if invoked_by else "AssumedRole"
    params = trail.read_params(doc.get("domain"), doc.get("domain_owner") or app.backend.account,
                               doc.get("repository"), doc.get("format"), doc.get("namespace"), doc.get("package"),
                               doc.get("version"))
    caller = Caller(account=app.backend.account)
    try:
        out = app.backend.package_manager_read(caller, **doc)
    except ServiceError as err:
        app.backend.trail.record("ReadFromRepository", principal, params, error_code=err.code,
                                 error_message=err.message, user_agent=user_agent, read_only=True,
                                 identity_type=identity_type, invoked_by=invoked_by)
        return err.status, {"code": err.code, "message": err.message}
    app.backend.trail.record("ReadFromRepository", principal, params, user_agent=user_agent, read_only=True,
                             identity_type=identity_type, invoked_by=invoked_by)
    return 200, out


# path -> (methods, handler): the admin API, declared in one place (emulator/README.md lists it).
ROUTES: dict[str, tuple[tuple[str, ...], Handler]] = {
    "health": (("GET",), lambda app, m, doc: (200, {"ok": True})),
    "counters": (("GET",), lambda app, m, doc: (200, app.counters.snapshot())),
    "counters/reset": (("POST",), _ok(lambda app, doc: app.counters.reset())),
    "faults": (("GET", "POST"), _faults),
    "policy": (("GET", "POST"), _policy),
    "deny": (("GET", "POST"), _deny),
    "seed": (("POST",), lambda app, m, doc: (200, app.backend.seed(SeedDoc.model_validate(doc or {})))),
    "republish": (("POST",), lambda app, m, doc: (200, app.backend.republish(**doc))),
    "set-status": (("POST",), _ok(lambda app, doc: app.backend.set_status(**doc))),
    "reset": (("POST",), _reset),
    "triggers": (("GET", "POST"), _triggers),
    "versions": (("GET",), lambda app, m, doc: (200, {"versions": list(app.backend.iter_versions())})),
    "clock": (("GET", "POST"), _clock),
    "trail": (("GET",), lambda app, m, doc: (200, {"records": app.backend.trail.records()})),
    "trail/export": (("POST",), lambda app, m, doc: (200, {"files": app.backend.trail.export(str(doc["directory"]))})),
    "package-manager/read": (("POST",), _package_manager_read),
}


def route(app: Context, method: str, path: str, body: bytes) -> tuple[int, Any]:
    """Answers one admin request: (HTTP status, JSON document)."""
    name = path[len(ADMIN_PREFIX):].strip("/")
    entry = ROUTES.get(name)
    if entry is None or method not in entry[0]:
        return 404, {"message": f"unknown admin path {path}" if entry is None else f"{method} is not allowed on {path}"}
    doc: Any = {}
    if body:
        doc = yaml.safe_load(body.decode()) if name == "seed" else json.loads(body)
    return entry[1](app, method, doc)


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

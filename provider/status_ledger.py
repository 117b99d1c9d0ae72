"""`StatusLedger`: the stack's record of each managed version's original status.

Type token: ``pulumi-python:dynamic/codeartifact:StatusLedger``; the provider class path
`provider.status_ledger.StatusLedgerProvider` is stored in state (a public contract). It talks to
no service: it only keeps, in Pulumi state, the status each version had when the stack first
took it over (``originals``: package label -> version -> status). The stack program registers it
before every status resource (they depend on it), so an original is safely recorded before
anything writes; a first adoption that fails or is killed part-way therefore keeps each
version's true original for the restores the program plans later.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from provider._core.model import STATUSES

LEDGER_NAME = "codeartifact-status-ledger"


def _originals(props: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    raw = props.get("originals") or {}
    return {str(p): {str(v): str(s) for v, s in (vs or {}).items()} for p, vs in raw.items()}


class StatusLedgerProvider(ResourceProvider):
    """A record in state, nothing else. No instance attributes."""

    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Every recorded status must be a status the service reports."""
        failures = [CheckFailure(f"originals.{p}.{v}", f"{s!r} is not a CodeArtifact status")
                    for p, vs in _originals(news).items() for v, s in vs.items() if s not in STATUSES]
        return CheckResult({"originals": _originals(news)}, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Updates in place when the record changes; never replaces."""
        return DiffResult(changes=_originals(olds) != _originals(news), replaces=[], stables=[],
                          delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(LEDGER_NAME, {"originals": _originals(props)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh keeps the record as it is: it describes the past, not the service."""
        return ReadResult(id_=id_, outs={"originals": _originals(props)}, inputs={"originals": _originals(props)})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({"originals": _originals(news)})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing to do: no service object stands behind the record."""


class StatusLedger(Resource, module="codeartifact", name="StatusLedger"):
    """The originals of every managed version (``originals``: package label -> version -> status)."""

    originals: pulumi.Output[dict[str, dict[str, str]]]

    def __init__(self, resource_name: str, originals: Mapping[str, Mapping[str, str]],
                 opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(StatusLedgerProvider(), resource_name, {"originals": originals}, opts)


__all__ = ["LEDGER_NAME", "StatusLedger", "StatusLedgerProvider"]

"""What this stack managed before this run: read from its own state (`pulumi stack export`).

The program needs it to plan restores (versions leaving management) as ordinary, reviewable
changes, and to keep each version's original across runs, renames and re-shaped resources.
Refresh never changes what is read here: originals come from the StatusLedger and "as we left
it" from each resource's ``owned`` outputs, both written only by our own writes and adoptions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any, Literal, Optional

from provider._core.batching import Observed
from provider._core.model import package_label

BATCHED = "codeartifact:PackageVersionsStatus"
PER_VERSION = "codeartifact:PackageVersionStatus"
LEDGER = "codeartifact:StatusLedger"


class StateUnavailable(Exception):
    """The stack's state could not be read; the program then registers nothing."""


@dataclass
class PreviousResource:
    kind: Literal["batched", "per-version"]
    name: str
    inputs: dict[str, Any]
    owned: dict[str, Optional[Observed]]  # per version: as our last write or adoption left it
    original: dict[str, str]  # per version: the resource's own record (older state has no ledger)

    @property
    def label(self) -> str:
        return package_label(self.inputs)


@dataclass
class PreviousState:
    resources: list[PreviousResource] = field(default_factory=list)
    originals: dict[str, dict[str, str]] = field(default_factory=dict)  # the ledger
    has_ledger: bool = False

    def original(self, label: str, version: str) -> Optional[str]:
        """The recorded original. Only state written before the ledger existed falls back to the
        resources' own records (a re-shaped resource records what it found, not the original)."""
        got = self.originals.get(label, {}).get(version)
        if got is None and not self.has_ledger:
            for r in self.resources:
                if r.label == label and version in r.original:
                    return r.original[version]
        return got


def _observed(status: Any, revision: Any) -> Optional[Observed]:
    return Observed(str(status), str(revision)) if status and revision else None


def parse(deployment: dict[str, Any]) -> PreviousState:
    """Our resources in an exported deployment (pending deletions of replaced resources skipped)."""
    state = PreviousState()
    for r in deployment.get("resources") or []:
        rtype, outs, ins = str(r.get("type", "")), r.get("outputs") or {}, r.get("inputs") or {}
        if r.get("delete"):
            continue
        name = str(r.get("urn", "")).split("::")[-1]
        if rtype.endswith(LEDGER):
            state.has_ledger = True
            for label, versions in (outs.get("originals") or {}).items():
                state.originals[str(label)] = {str(v): str(s) for v, s in (versions or {}).items()}
        elif rtype.endswith(BATCHED):
            raw_owned = outs.get("owned")
            if isinstance(raw_owned, dict):
                owned = {str(v): _observed(*(sr if isinstance(sr, list) and len(sr) == 2 else (None, None)))
                         for v, sr in raw_owned.items()}
            else:  # state written before `owned` existed: the last read stands in
                revisions = outs.get("revisions") or {}
                owned = {str(v): _observed(s, revisions.get(v)) for v, s in (outs.get("versions") or {}).items()}
            state.resources.append(PreviousResource("batched", name, dict(ins), owned,
                                                    {str(v): str(s) for v, s in (outs.get("original") or {}).items()}))
        elif rtype.endswith(PER_VERSION):
            if str(ins.get("decided_by") or "").startswith("restore") and outs.get("status") == ins.get("status"):
                continue  # restored: the version left management with that write
            version = str(ins.get("version") or outs.get("version"))
            owned_one = _observed(outs.get("owned_status"), outs.get("owned_revision")) or \
                _observed(outs.get("status"), outs.get("revision"))
            original = outs.get("original_status")
            state.resources.append(PreviousResource("per-version", name, dict(ins), {version: owned_one},
                                                    {version: str(original)} if original else {}))
    return state


def read(stack: str) -> PreviousState:
    """This stack's last saved state, through the Pulumi CLI that runs the program (any backend).
    Raises StateUnavailable naming the reason."""
    cli = os.environ.get("CODEARTIFACT_STATUS_PULUMI") or shutil.which("pulumi")
    if not cli:
        raise StateUnavailable("the `pulumi` command is not on PATH")
    proc = subprocess.run([cli, "stack", "export", "--stack", stack], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise StateUnavailable(f"`pulumi stack export --stack {stack}` failed: {proc.stderr.strip()[-500:]}")
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        raise StateUnavailable(f"`pulumi stack export` printed no JSON ({e})") from None
    return parse(doc.get("deployment") or {})

"""`pulumi preview --json` -> a Markdown summary for a pull request comment.

Per package: counts of `from -> to` transitions and the versions, the rules that decided them,
and disposals flagged (irreversible). The engine's steps say what will change; for versions being
adopted (a create step), the engine does not know their current status, so the status the stack
program saw is taken from its plan file when one is given (the program writes it when
CODEARTIFACT_STATUS_PLAN names a file).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any, Optional

OURS = ("codeartifact:PackageVersionsStatus", "codeartifact:PackageVersionStatus")
SHOWN_VERSIONS = 12


def _label(inputs: dict[str, Any]) -> str:
    parts = [inputs.get("domain"), inputs.get("repository"), inputs.get("format"), inputs.get("namespace"),
             inputs.get("package")]
    return "/".join(str(p) for p in parts if p)


def _statuses(state: Optional[dict[str, Any]], key: str) -> tuple[dict[str, str], dict[str, str]]:
    """(statuses, decided_by) from a step's old outputs or new inputs."""
    if not state:
        return {}, {}
    props = state.get(key) or {}
    if "versions" in props and isinstance(props["versions"], dict):
        return dict(props["versions"]), dict(props.get("decided_by") or {})
    if "version" in props and "status" in props:
        rule = props.get("decided_by")
        return {props["version"]: props["status"]}, ({props["version"]: rule} if rule else {})
    return {}, {}


def collect(preview: dict[str, Any], plan: Optional[dict[str, Any]] = None) -> dict[str, list[dict[str, str]]]:
    """package label -> [{version, from, to, rule}] for every version whose status will change."""
    planned = (plan or {}).get("changes", {})
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    for step in preview.get("steps", []):
        state = step.get("newState") or step.get("oldState") or {}
        if not str(state.get("type", "")).endswith(OURS):
            continue
        op = step.get("op")
        label = _label((step.get("newState") or {}).get("inputs") or (step.get("oldState") or {}).get("outputs") or {})
        new, rules = _statuses(step.get("newState"), "inputs")
        old, _ = _statuses(step.get("oldState"), "outputs")
        if op in ("delete", "delete-replaced", "discard"):
            continue  # no longer managed: versions are left as they are
        if op not in ("create", "update", "same", "replace", "create-replacement"):
            continue
        for version, to in new.items():
            before = old.get(version)
            if before is None and plan is not None:
                # Adopted: the program's plan lists every version it changes; others are already there.
                before = planned.get(label, {}).get(version, {}).get("from", to)
            if before == to:
                continue
            out[label].append({"version": version, "from": before or "(adopted; current status unknown)",
                               "to": to, "rule": rules.get(version, "")})
    return dict(out)


def render(changes: dict[str, list[dict[str, str]]], stack: str = "") -> str:
    total = sum(len(v) for v in changes.values())
    disposals = sum(1 for v in changes.values() for c in v if c["to"] == "Disposed")
    lines = [f"## CodeArtifact package version status{f' ({stack})' if stack else ''}", ""]
    if not total:
        lines += ["No status changes: the repositories match the specs.", ""]
        return "\n".join(lines)
    lines += [f"**{total} version status change(s)** in {len(changes)} package(s)"
              + (f" · **{disposals} disposal(s): irreversible, assets deleted**" if disposals else ""), "",
              "| package | change | count | versions | decided by |", "|---|---|---|---|---|"]
    for label in sorted(changes):
        groups: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
        for c in changes[label]:
            groups[(c["from"], c["to"])].append(c)
        for (frm, to), items in sorted(groups.items()):
            shown = ", ".join(c["version"] for c in items[:SHOWN_VERSIONS])
            more = f" … (+{len(items) - SHOWN_VERSIONS})" if len(items) > SHOWN_VERSIONS else ""
            rules = ", ".join(f"{r} ({n})" for r, n in Counter(c["rule"] or "?" for c in items).most_common())
            flag = " ⚠️ **DISPOSE**" if to == "Disposed" else ""
            lines.append(f"| `{label}` | {frm} → {to}{flag} | {len(items)} | {shown}{more} | {rules} |")
    lines.append("")
    for label in sorted(changes):
        lines += [f"<details><summary><code>{label}</code>: {len(changes[label])} change(s)</summary>", "",
                  "| version | from | to | decided by |", "|---|---|---|---|"]
        lines += [f"| {c['version']} | {c['from']} | {c['to']} | {c['rule']} |" for c in changes[label]]
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def summarize(preview_json: str, plan_json: Optional[str] = None, stack: str = "") -> str:
    preview = json.loads(preview_json)
    plan = json.loads(plan_json) if plan_json else None
    return render(collect(preview, plan), stack)

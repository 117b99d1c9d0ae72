"""`pulumi preview --json` -> a Markdown summary for a pull request comment.

Per package: counts of `from -> to` transitions and the versions, the rules that decided them,
and disposals flagged (irreversible). The engine's steps say what will change; for versions being
adopted (a create step), the engine does not know their current status, so the status the stack
program saw is taken from its plan file when one is given (the program writes it when
CODEARTIFACT_STATUS_PLAN names a file).
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter, defaultdict
from typing import Any, Optional

from provider._core.model import package_label
from provider.package_version_status import PackageVersionStatus
from provider.package_versions_status import PackageVersionsStatus
from provider.repository_versions_status import RepositoryVersionsStatus
from provider.rules import ecosystems

OURS = (PackageVersionsStatus._resource_type_name, PackageVersionStatus._resource_type_name,
        RepositoryVersionsStatus._resource_type_name)
SHOWN_VERSIONS = 12


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
        if op in ("delete", "delete-replaced", "discard"):
            continue  # no longer managed: versions are left as they are
        if op not in ("create", "update", "same", "replace", "create-replacement"):
            continue
        for label, new, rules, old in _packages_of(step):
            _collect_package(out, planned, plan is not None, label, new, rules, old)
    return dict(out)


def _packages_of(step: dict[str, Any]) -> list[tuple[str, dict[str, str], dict[str, str], dict[str, str]]]:
    """(label, new statuses, rules, old statuses) per package of a step: one for a package or
    version resource, one per package of a repository resource."""
    new_state, old_state = step.get("newState") or {}, step.get("oldState") or {}
    ins, outs = new_state.get("inputs") or {}, old_state.get("outputs") or {}
    if "packages" in ins or "packages" in outs:
        where = ins or outs
        base = {k: where.get(k) for k in ("domain", "repository")}
        decided = ins.get("decided_by") or {}
        old_all = outs.get("packages") or {}
        return [(package_label(base) + "/" + key, dict(versions or {}), dict(decided.get(key) or {}),
                 dict(old_all.get(key) or {})) for key, versions in (ins.get("packages") or {}).items()]
    label = package_label(ins or outs)
    new, rules = _statuses(new_state, "inputs")
    old, _ = _statuses(old_state, "outputs")
    return [(label, new, rules, old)]


def _collect_package(out: dict[str, list[dict[str, str]]], planned: dict[str, Any], have_plan: bool, label: str,
                     new: dict[str, str], rules: dict[str, str], old: dict[str, str]) -> None:
    for version, to in new.items():
        before = old.get(version)
        if before is None and have_plan:
            # Adopted: the program's plan lists every version it changes; others are already there.
            before = planned.get(label, {}).get(version, {}).get("from", to)
        if before == to:
            continue
        out[label].append({"version": version, "from": before or "(adopted; current status unknown)",
                           "to": to, "rule": rules.get(version, "")})


GITHUB_COMMENT_LIMIT = 65536
BUDGET = 60000  # leaves room for the not-restored list and the fold notice
FOLDED = ("_The per-version detail did not fit a pull request comment: it is in the workflow's "
          "`codeartifact-status-detail` artifact (`python -m provider summary --detail FILE`)._")


def md(text: str) -> str:
    """Plain text for a Markdown table cell or list item, as GitHub renders it: `|` would end
    the cell, backticks, `*`, `_`, `[`, `<` would start code, emphasis, links or HTML."""
    out = text.replace("\\", "\\\\")
    for ch in "|`*[]<>":
        out = out.replace(ch, "\\" + ch)
    return out


def code(text: str) -> str:
    """An inline code span that holds any text (a backtick fence longer than any run inside it),
    with `|` escaped so a table cell keeps it (GitHub reads `\\|` in a code span in a table as `|`)."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


def _format_of(label: str) -> str:
    parts = label.split("/")
    return parts[2] if len(parts) > 2 else "generic"


def in_version_order(label: str, items: list[dict[str, str]]) -> list[dict[str, str]]:
    """The versions in the package's own ecosystem order (1.0.2 before 1.0.10)."""
    fmt = _format_of(label)
    if fmt not in ecosystems.ECOSYSTEMS:
        return sorted(items, key=lambda c: c["version"])
    key = ecosystems.sort_key(fmt)
    return sorted(items, key=lambda c: key(c["version"]))


def _groups(items: list[dict[str, str]], label: str = "") -> dict[tuple[str, str], list[dict[str, str]]]:
    groups: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for c in in_version_order(label, items):
        groups[(c["from"], c["to"])].append(c)
    return dict(sorted(groups.items()))


def _header(changes: dict[str, list[dict[str, str]]], stack: str) -> list[str]:
    total = sum(len(v) for v in changes.values())
    disposals = sum(1 for v in changes.values() for c in v if c["to"] == "Disposed")
    lines = [f"## CodeArtifact package version status{f' ({stack})' if stack else ''}", ""]
    if not total:
        return lines + ["No status changes: the repositories match the specs.", ""]
    return lines + [f"**{total} version status change(s)** in {len(changes)} package(s)"
                    + (f" · **{disposals} disposal(s): irreversible, assets deleted**" if disposals else ""), ""]


def _table(changes: dict[str, list[dict[str, str]]], shown: int) -> list[str]:
    head = "| package | change | count | versions | decided by |" if shown else "| package | change | count |"
    lines = [head, "|---|---|---|---|---|" if shown else "|---|---|---|"]
    for label in sorted(changes):
        for (frm, to), items in _groups(changes[label], label).items():
            flag = " ⚠️ **DISPOSE**" if to == "Disposed" else ""
            if not shown:
                lines.append(f"| {code(label)} | {md(frm)} → {md(to)}{flag} | {len(items)} |")
                continue
            listed = ", ".join(md(c["version"]) for c in items[:shown])
            more = f" … (+{len(items) - shown})" if len(items) > shown else ""
            rules = ", ".join(f"{md(r)} ({n})" for r, n in Counter(c["rule"] or "?" for c in items).most_common())
            lines.append(f"| {code(label)} | {md(frm)} → {md(to)}{flag} | {len(items)} | {listed}{more} | {rules} |")
    return lines + [""]


def _details(changes: dict[str, list[dict[str, str]]]) -> list[str]:
    lines: list[str] = []
    for label in sorted(changes):
        lines += [f"<details><summary><code>{html.escape(label)}</code>: {len(changes[label])} change(s)</summary>",
                  "", "| version | from | to | decided by |", "|---|---|---|---|"]
        lines += [f"| {md(c['version'])} | {md(c['from'])} | {md(c['to'])} | {md(c['rule'])} |"
                  for c in in_version_order(label, changes[label])]
        lines += ["", "</details>", ""]
    return lines


def _compact(changes: dict[str, list[dict[str, str]]], budget: int) -> list[str]:
    """One line per package with its transition counts, as many packages as the budget holds."""
    lines: list[str] = []
    used = 0
    labels = sorted(changes)
    for n, label in enumerate(labels):
        counts = ", ".join(f"{frm} → {to}{' ⚠️ DISPOSE' if to == 'Disposed' else ''}: {len(items)}"
                           for (frm, to), items in _groups(changes[label], label).items())
        line = f"- {code(label)}: {counts}"
        if used + len(line) + 200 > budget:
            rest = labels[n:]
            lines.append(f"- … and {len(rest)} more package(s) with {sum(len(changes[x]) for x in rest)} change(s)")
            break
        lines.append(line)
        used += len(line) + 1
    return lines + [""]


def render(changes: dict[str, list[dict[str, str]]], stack: str = "", budget: int = BUDGET) -> str:
    """The Markdown comment. It always fits GitHub's 65,536-character limit: when the full
    per-version detail does not fit, it folds to a table per package and transition, then to
    counts only, then to one line per package, and says where the full detail is."""
    head = _header(changes, stack)
    if not any(changes.values()):
        return "\n".join(head)
    levels = (_table(changes, SHOWN_VERSIONS) + _details(changes), _table(changes, SHOWN_VERSIONS), _table(changes, 0))
    for level, body in enumerate(levels):
        text = "\n".join(head + body)
        if level == 0 and len(text) <= budget:
            return text
        if len(text) + len(FOLDED) + 2 <= budget:
            return text + "\n" + FOLDED + "\n"
    return "\n".join(head + _compact(changes, budget - len("\n".join(head)) - len(FOLDED)) + [FOLDED, ""])


def render_detail(changes: dict[str, list[dict[str, str]]], stack: str = "") -> str:
    """Every version, for the CI artifact (no size limit)."""
    return "\n".join(_header(changes, stack) + _table(changes, SHOWN_VERSIONS) + _details(changes))


def render_failed(failed: dict[str, list[str]]) -> str:
    """Packages the stack program could not plan this run (each fails alone; the others apply)."""
    if not failed:
        return ""
    lines = [f"**⛔ {len(failed)} package(s) cannot be planned this run** (nothing is written for them; the "
             f"other packages are applied):", ""]
    for label in sorted(failed):
        lines += [f"- {code(label)}: " + md("; ".join(failed[label])[:1000])]
    return "\n".join(lines + [""])


def render_warnings(warnings: list[str]) -> str:
    """Spec entries that select nothing (e.g. a `protected` pattern that protects nothing)."""
    if not warnings:
        return ""
    lines = [f"**⚠️ {len(warnings)} spec warning(s)**:", ""] + [f"- {md(w)}" for w in warnings[:50]]
    if len(warnings) > 50:
        lines.append(f"- … (+{len(warnings) - 50})")
    return "\n".join(lines + [""])


def render_kept(kept: dict[str, dict[str, list[str]]]) -> str:
    """Versions a rule would have changed that stay as they are because a consumer uses them
    (`in_use`): per package, the count per consumer file and the versions."""
    if not kept:
        return ""
    n = sum(len(v) for v in kept.values())
    lines = [f"**🛡️ {n} version(s) kept: in use** (a rule would change them; consumers' SBOMs or lockfiles "
             f"reference them):", ""]
    for label in sorted(kept):
        per_file = Counter(f for files in kept[label].values() for f in files)
        versions = list(kept[label])
        versions = ecosystems.sort_versions(_format_of(label), versions) \
            if _format_of(label) in ecosystems.ECOSYSTEMS else sorted(versions)
        lines.append(f"- {code(label)}: {len(versions)} kept: in use by "
                     + ", ".join(f"{md(f)} ({c})" for f, c in sorted(per_file.items())[:SHOWN_VERSIONS])
                     + (f" … (+{len(per_file) - SHOWN_VERSIONS} files)" if len(per_file) > SHOWN_VERSIONS else "")
                     + " — " + ", ".join(md(v) for v in versions[:SHOWN_VERSIONS])
                     + (f" … (+{len(versions) - SHOWN_VERSIONS})" if len(versions) > SHOWN_VERSIONS else ""))
    return "\n".join(lines + [""])


def _per_version(title: str, per_label: dict[str, dict[str, str]]) -> str:
    if not per_label:
        return ""
    n = sum(len(v) for v in per_label.values())
    lines = [title.format(n=n), ""]
    for label in sorted(per_label):
        order = ecosystems.sort_key(_format_of(label)) if _format_of(label) in ecosystems.ECOSYSTEMS else str
        items = sorted(per_label[label].items(), key=lambda kv: order(kv[0]))
        lines.append(f"- {code(label)}: " + "; ".join(f"{md(v)}: {md(why)}" for v, why in items[:SHOWN_VERSIONS])
                     + (f" … (+{len(items) - SHOWN_VERSIONS})" if len(items) > SHOWN_VERSIONS else ""))
    return "\n".join(lines + [""])


def render_not_restored(not_restored: dict[str, dict[str, str]]) -> str:
    """The versions leaving management that this run leaves alone instead of restoring (a
    pending restore is listed on every run until it resolves)."""
    return _per_version("**{n} version(s) leaving management are not restored** (left exactly as they are):",
                        not_restored)


def render_awaiting(awaiting: dict[str, dict[str, str]]) -> str:
    """Changes the rules would make now that the reviewed plan did not list (strict review mode)."""
    return _per_version("**⏸️ {n} change(s) awaiting review** (not in the reviewed plan, so not made; the next "
                        "preview lists them):", awaiting)


def render_evidence(plan: dict[str, Any]) -> str:
    """Why each change a rule reading evidence decided was made (last download or time in status,
    and the evidence window), the versions kept because they were downloaded within the window, and
    those whose time in status is only counted from when this stack first saw it."""
    parts = [_per_version("**🔎 {n} change(s) decided by download or status-time evidence:**",
                          plan.get("evidence") or {}),
             _per_version("**{n} version(s) kept: downloaded recently** (within their rule's window):",
                          plan.get("recent_downloads") or {}),
             _per_version("**⏳ {n} version(s) wait for their status time** (no record of when their status changed; "
                          "counted from when this stack first saw it):", plan.get("waiting") or {})]
    windows = plan.get("evidence_windows") or {}
    if windows and any(parts):
        parts.append("Evidence windows: " + "; ".join(f"{code(f)}: {md(w)}" for f, w in sorted(windows.items())) + "\n")
    return "\n".join(p for p in parts if p)


def summarize(preview_json: str, plan_json: Optional[str] = None, stack: str = "",
              detail: Optional[list[str]] = None) -> str:
    """The PR comment (within GitHub's limit); with ``detail`` (a list), the full per-version
    Markdown is appended to it for the artifact."""
    preview = json.loads(preview_json)
    plan = json.loads(plan_json) if plan_json else None
    changes = collect(preview, plan)
    # Every section is a block of its own, separated by a blank line: a line right after an HTML
    # block (`</details>`) would otherwise belong to it and GitHub would show its Markdown literally.
    sections = [x for x in (render_failed((plan or {}).get("failed_packages") or {}),
                            render_warnings((plan or {}).get("warnings") or []),
                            render_kept((plan or {}).get("kept_in_use") or {}),
                            render_evidence(plan or {}),
                            render_not_restored((plan or {}).get("not_restored") or {}),
                            render_awaiting((plan or {}).get("awaiting_review") or {})) if x]
    not_restored = "".join("\n" + x.strip("\n") + "\n" for x in sections)
    if detail is not None:
        detail.append(_block(render_detail(changes, stack)) + not_restored)
    if len(not_restored) > 4000:
        not_restored = not_restored[:not_restored.rfind("\n", 0, 3900)] + "\n- … (the rest is in the artifact)\n"
    return _block(render(changes, stack, BUDGET - len(not_restored))) + not_restored


def _block(text: str) -> str:
    return text.rstrip("\n") + "\n"

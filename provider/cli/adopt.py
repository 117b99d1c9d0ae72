"""Onboarding: write a spec reflecting the live statuses of a repository (or one package).

The spec pins every existing version to its current status (explicit `versions:` entries), so the
first `pulumi up` adopts the versions without changing anything, with no `pulumi import`. Replace
entries with rules afterwards and review the effect in `pulumi preview`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import yaml
from botocore.exceptions import BotoCoreError, ClientError

from provider._core import api, config
from provider._core.errors import ProviderError, VersionFailure
from provider._core.model import DESIRED_STATUSES, PackageArgs, RepositoryArgs
from provider.rules import spec
from provider.rules.ecosystems import sort_versions
from provider.rules.evidence import EvidenceError


def _packages(client: Any, a: argparse.Namespace) -> list[dict[str, Any]]:
    if a.package:
        if not a.format:
            raise SystemExit("adopt: --package needs --format")
        return [{"format": a.format, "namespace": a.namespace, "package": a.package}]
    kwargs: dict[str, Any] = {"domain": a.domain, "repository": a.repository}
    if a.domain_owner:
        kwargs["domainOwner"] = a.domain_owner
    if a.format:
        kwargs["format"] = a.format
    if a.namespace:
        kwargs["namespace"] = a.namespace
    out = []
    try:
        for page in client.get_paginator("list_packages").paginate(**kwargs):
            for p in page.get("packages", []):
                restrictions = (p.get("originConfiguration") or {}).get("restrictions") or {}
                out.append({"format": p["format"], "namespace": p.get("namespace"), "package": p["package"],
                            "publish": restrictions.get("publish"), "upstream": restrictions.get("upstream")})
    except BotoCoreError:
        raise  # a missing setting (region, credentials): the CLI says what to set, in one line
    except ClientError as exc:
        err = getattr(exc, "response", {}).get("Error", {})
        raise ProviderError("listing packages of", [VersionFailure(
            f"{a.domain}/{a.repository}", err.get("Code", type(exc).__name__), err.get("Message", str(exc)))]) from None
    return out


def in_use_entries(paths: list[str], output: str | None) -> list[str]:
    """`in_use` entries for the adopted spec: each path relative to the spec's folder, after
    checking that it names files and that every file reads as evidence (SpecError otherwise)."""
    spec_dir = Path(output).resolve().parent if output else Path.cwd()
    entries: list[str] = []
    problems: list[str] = []
    for p in paths:
        entry = os.path.relpath(os.path.abspath(p), spec_dir)
        files = spec.evidence_files(spec_dir, entry)
        if not files:
            problems.append(f"--in-use {p}: names no file")
        for f in files:
            try:
                spec.read_evidence(f, os.path.relpath(f))
            except EvidenceError as e:
                problems.append(f"--in-use {p}: {e}")
        entries.append(entry)
    if problems:
        raise spec.SpecError(problems)
    return entries


# Rules that keep every version in the status it has: with them, a policy adopts a whole repository
# without changing anything (each version's original is recorded by the first `up`).
KEEP_RULES = [{"name": f"keep-{s.lower()}", "status": s, "match": {"status": [s]}}
              for s in ("Published", "Unlisted", "Archived")]


def adopted_policy(a: argparse.Namespace, packages: list[dict[str, Any]]) -> dict[str, Any]:
    """One policy over what was asked for (the formats found, the namespace/package given)."""
    select: dict[str, Any] = {}
    formats = sorted({p["format"] for p in packages}) if not a.format else [a.format]
    if formats:
        select["formats"] = formats
    if a.namespace:
        select["namespaces"] = [a.namespace]
    if a.package:
        select["include"] = [a.package]
    return {"name": "adopted", "select": select, "rules": KEEP_RULES}


def adopt(a: argparse.Namespace) -> str:
    in_use = in_use_entries(list(getattr(a, "in_use", None) or []), getattr(a, "output", None))
    config.set_stack_config(config.StackConfig(region=a.region, endpoint_url=a.endpoint_url, profile=a.profile))
    base = RepositoryArgs(domain=a.domain, domain_owner=a.domain_owner, repository=a.repository)
    client = config.client_for(base)
    packages = []
    if getattr(a, "policy", False):
        found = _packages(client, a)
        doc: dict[str, Any] = {"domain": a.domain, **({"domain_owner": a.domain_owner} if a.domain_owner else {}),
                               "repository": a.repository, **({"in_use": in_use} if in_use else {}),
                               "policies": [adopted_policy(a, found)], "packages": []}
        header = ("# yaml-language-server: $schema=../docs/spec.schema.json\n"
                  f"# Adopted from {a.domain}/{a.repository} ({len(found)} packages now) by `python -m provider adopt "
                  f"--policy`.\n# Every package the policy selects, published later too, is kept in its current "
                  f"status: applying it changes nothing.\n# Replace the keep-* rules with your own (see docs/specs.md, "
                  f"Repository policies), then review `pulumi preview`.\n")
        return header + yaml.safe_dump(doc, sort_keys=False, width=120)
    for p in _packages(client, a):
        args = PackageArgs(domain=a.domain, domain_owner=a.domain_owner, repository=a.repository,
                           **{k: p.get(k) for k in ("format", "namespace", "package")})
        observed = api.observe(args)
        versions = {v: observed[v].status for v in sort_versions(args.format, list(observed))
                    if observed[v].status in DESIRED_STATUSES}
        if not versions:
            continue
        entry: dict[str, Any] = {"format": args.format}
        if args.namespace:
            entry["namespace"] = args.namespace
        entry["package"] = args.package
        # An already-Disposed version declared Disposed is settled: it needs no opt-in.
        entry["versions"] = versions
        packages.append(entry)
    doc = {"domain": a.domain}
    if a.domain_owner:
        doc["domain_owner"] = a.domain_owner
    doc["repository"] = a.repository
    if in_use:
        doc["in_use"] = in_use
    doc["packages"] = packages
    header = ("# yaml-language-server: $schema=../docs/spec.schema.json\n"
              f"# Adopted from the live statuses of {a.domain}/{a.repository} by `python -m provider adopt`.\n"
              "# Applying it changes nothing; replace entries with rules, then review `pulumi preview`.\n")
    return header + yaml.safe_dump(doc, sort_keys=False, width=120)

"""Reads at the physical minimum for age rules (real engine, emulator): a 2,000-version package
with an `older_than_days` rule costs at most ⌈log2 2001⌉ = 11 DescribePackageVersion calls per
`pulumi` command (the program's runs and the provider share them), never one per version; the
listing is sorted by publish time; `keep_latest: {by: published}` costs no read; `match.origin`
leaves upstream-cached versions alone."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from emulator.testing import ROOT, EmulatorProcess
from tests.pulumi_harness import new_stack, pulumi_available

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]

DAY = 86400.0


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def test_age_rule_on_2000_versions_costs_log2_describes(emulator: EmulatorProcess, tmp_path: Path) -> None:
    now = time.time()
    versions = [{"version": f"1.{i // 100}.{i % 100}", "published": iso(now - (2000 - i) * DAY),
                 "origin": "EXTERNAL" if i % 10 == 0 else "INTERNAL"} for i in range(2000)]
    emulator.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": "big", "versions": versions}]}]}]})
    spec = """domain: dom
repository: repo
packages:
  - format: npm
    package: big
    rules:
      - {name: ancient, status: Archived, match: {older_than_days: 1995.5, origin: [INTERNAL]}}
      - name: all-but-newest-published
        status: Unlisted
        match: {range: ">=1.19.90"}
        keep_latest: {count: 3, by: published}
"""
    s = new_stack(tmp_path, (ROOT / "__main__.py").read_text(), files={"specs/big.yaml": spec}, refresh_always=True)
    s.config("codeartifact:endpointUrl", emulator.url)
    s.config("codeartifact:region", "us-east-1")
    emulator.admin("counters/reset", {})
    s.run("up", "--yes", "--skip-preview")
    ops = emulator.counters()["operations"]
    assert ops["DescribePackageVersion"]["requests"] <= 11, ops
    statuses = {v["version"]: v["status"] for v in emulator.admin("versions")["versions"]}
    # older than 1995.5 days: i = 0..4, minus the EXTERNAL one (i = 0)
    assert sorted(v for v, st in statuses.items() if st == "Archived") == ["1.0.1", "1.0.2", "1.0.3", "1.0.4"]
    # 1.19.90..1.19.99 are the newest by publish time; the 3 newest are kept
    assert sorted(v for v, st in statuses.items() if st == "Unlisted") == [f"1.19.{i}" for i in range(90, 97)]
    emulator.admin("counters/reset", {})
    s.run("preview", "--expect-no-changes")
    ops = emulator.counters()["operations"]
    assert ops["DescribePackageVersion"]["requests"] <= 11, ops
    assert not any(ops.get(o, {}).get("requests") for o in ("UpdatePackageVersionsStatus", "DisposePackageVersions"))

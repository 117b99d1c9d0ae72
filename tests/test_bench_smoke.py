"""A fast smoke run of the benchmark (bench/run.py --smoke): the batched path writes at the
physical minimum, an age rule reads at the minimum too (a binary search's describes, as the
hand-optimal script makes), and a no-change refresh lists no more than the pages. Counts, not timings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.testing import ROOT
from tests.pulumi_harness import pulumi_available

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]


def test_bench_smoke_calls_at_the_minimum(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    proc = subprocess.run([sys.executable, "bench/run.py", "--smoke", "--scenarios", "hand,batched,refresh,age-hand,age-batched",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {r["scenario"]: r for r in json.loads(out.with_suffix(".json").read_text())}
    for scenario in ("hand", "batched", "age-hand", "age-batched"):
        r = rows[scenario]
        writes = r["calls"].get("UpdatePackageVersionsStatus", 0)
        assert writes == r["minimum"]["writes"], (scenario, r["calls"])
        assert r["calls"]["ListPackageVersions"] == r["minimum"]["ListPackageVersions"], (scenario, r["calls"])
        assert r["calls"].get("DescribePackageVersion", 0) == r["minimum"].get("DescribePackageVersion", 0), \
            (scenario, r["calls"])
    refresh = rows["refresh"]["calls"]
    assert refresh.get("ListPackageVersions") == rows["refresh"]["minimum"]["ListPackageVersions"]
    assert "UpdatePackageVersionsStatus" not in refresh
    assert "| batched |" in out.read_text()


def test_policy_bench_smoke_calls_at_the_minimum(tmp_path: Path) -> None:
    """bench/policies.py --smoke: a repository policy's up and no-change preview make exactly the
    hand-optimal script's calls (one ListPackages page, one listing and one write per package)."""
    out = tmp_path / "policies.md"
    proc = subprocess.run([sys.executable, "bench/policies.py", "--smoke", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {r["scenario"]: r for r in json.loads(out.with_suffix(".json").read_text())}
    for scenario in ("hand", "hand-list", "up", "preview"):
        r = rows[scenario]
        assert {op: r["calls"].get(op, 0) for op in r["minimum"]} == r["minimum"], (scenario, r["calls"])
        assert r["calls"].get("UpdatePackageVersionsStatus", 0) == r["minimum"].get("UpdatePackageVersionsStatus", 0)
    assert rows["up"]["calls"]["resources"] <= 16 + 4, "the shards, the ledger, the stack and its provider"


def test_evidence_bench_smoke_finds_everything_it_generated(tmp_path: Path) -> None:
    """bench/evidence.py --smoke: the trail reader finds every generated file and the SBOM reader
    every component (the bench itself refuses to report otherwise)."""
    out = tmp_path / "evidence.md"
    proc = subprocess.run([sys.executable, "bench/evidence.py", "--smoke", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert "| CloudTrail log files (DuckDB) |" in text and "2,000 references" in text

"""`plan --live SNAPSHOT --state FILE` predicts exactly what `pulumi preview` lists and `pulumi up`
writes (real engine, emulator), restores included, on generated data with equal published times
(ties are broken as the service lists them, live and offline); a rule that needs data the
snapshot lacks is an error naming the rule and the flag."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from emulator.testing import ROOT, EmulatorProcess, aws_env
from tests.pulumi_harness import pulumi_available
from tests.test_reviewed_writes_e2e import make_stack, reviewed, set_spec, statuses

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "provider", *args], cwd=ROOT, capture_output=True, text=True,
                          env=aws_env({"PYTHONPATH": str(ROOT)}), timeout=120)


def generated(rng: random.Random) -> dict[str, object]:
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    pkgs = []
    for name in ("a", "b", "c"):
        versions = []
        for i in range(rng.randrange(6, 12)):
            day = rng.choice([0, 5, 5, 40, 40, 200])  # many equal published times
            versions.append({"version": f"1.{i}.0", "published": (base + timedelta(days=day)).isoformat()})
        pkgs.append({"format": "npm", "name": name, "versions": versions})
    return {"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": pkgs}]}]}


SPEC = """domain: dom
repository: repo
packages:
  - format: npm
    package: a
    restore_on_delete: true
    rules:
      - {name: keep-newest, status: Archived, keep_latest: {count: 2, by: published}}
  - format: npm
    package: b
    restore_on_delete: true
    rules:
      - {name: old, status: Unlisted, match: {older_than_days: 300}, keep_latest: {count: 1, by: published}}
  - format: npm
    package: c
    restore_on_delete: true
    rules:
      - {name: all, status: Archived, match: {range: ">=1.2.0"}}
"""
NOW = "2026-12-01T00:00:00+00:00"


def offline(tmp_path: Path, emu: EmulatorProcess, specs: Path, state: Path | None) -> set[tuple[str, str, str, str]]:
    snap = tmp_path / "snap.json"
    r = cli("snapshot", "--domain", "dom", "--repository", "repo", "--region", "us-east-1", "--endpoint-url",
            emu.url, "--output", str(snap))
    assert r.returncode == 0, r.stderr
    args = ["plan", "--live", str(snap), "--specs", str(specs), "--json", "--now", NOW]
    r = cli(*args, *(["--state", str(state)] if state else []))
    assert r.returncode == 0, r.stderr
    return {(p["package"].split("/")[-1], v["version"], v["current"], v["decided"])
            for p in json.loads(r.stdout)["packages"] for v in p["versions"] if v["change"]}


@pytest.mark.parametrize("seed", [3, 11])
def test_plan_live_predicts_the_preview_and_the_writes_restores_included(emulator: EmulatorProcess,
                                                                        tmp_path: Path, seed: int) -> None:
    emulator.seed(generated(random.Random(seed)))
    s = make_stack(tmp_path, emulator, SPEC)
    specs = s.workdir / "specs"
    # The stack's clock is the real one; fix "now" for both sides by choosing thresholds far from it.
    predicted = offline(tmp_path, emulator, specs, None)
    assert predicted == reviewed(s)
    before = statuses(emulator)
    s.run("up", "--yes", "--skip-preview")
    after = statuses(emulator)
    assert {(p, v, before[(p, v)], after[(p, v)]) for (p, v) in after if before[(p, v)] != after[(p, v)]} == predicted

    # Restores: package c leaves the specs and a's rule narrows; the state says what to put back.
    set_spec(s, SPEC.split("  - format: npm\n    package: c")[0].replace("count: 2", "count: 4"))
    state = tmp_path / "state.json"
    state.write_text(json.dumps(s.export()))
    predicted = offline(tmp_path, emulator, specs, state)
    assert any(t == "Published" for *_, t in predicted)  # restores are predicted
    assert predicted == reviewed(s)
    before = statuses(emulator)
    s.run("up", "--yes", "--skip-preview")
    after = statuses(emulator)
    assert {(p, v, before[(p, v)], after[(p, v)]) for (p, v) in after if before[(p, v)] != after[(p, v)]} == predicted


def test_a_rule_that_needs_data_the_snapshot_lacks_is_an_error_naming_it(emulator: EmulatorProcess,
                                                                        tmp_path: Path) -> None:
    emulator.seed(generated(random.Random(5)))
    snap = tmp_path / "snap.json"
    r = cli("snapshot", "--domain", "dom", "--repository", "repo", "--region", "us-east-1", "--endpoint-url",
            emulator.url, "--no-published-time", "--output", str(snap))
    assert r.returncode == 0, r.stderr
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "repo.yaml").write_text(SPEC)
    r = cli("plan", "--live", str(snap), "--specs", str(specs))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "repo.yaml:13: packages[1].rules[0] (old): older_than_days needs each version's published time" in r.stderr
    assert "--no-published-time" in r.stderr
    # keep_latest by: published works from the recorded publish order alone.
    assert "(keep-newest)" not in r.stderr
    doc = json.loads(snap.read_text())
    for pkg in doc["repositories"][0]["packages"]:
        for v in pkg["versions"]:
            v.pop("publish_rank")
    snap.write_text(json.dumps(doc))
    r = cli("plan", "--live", str(snap), "--specs", str(specs))
    assert "packages[0].rules[0] (keep-newest): keep_latest by: published needs the publish order" in r.stderr

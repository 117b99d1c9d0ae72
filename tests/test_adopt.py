"""Onboarding: `python -m provider adopt` writes a spec equal to the live statuses of a
repository, which validates, and which the stack program plans with zero changes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from emulator.testing import ROOT, EmulatorProcess, aws_env
from provider.stack import program
from tests.pulumi_harness import new_stack, pulumi_available

pytestmark = pytest.mark.emulator


def test_adopted_spec_reflects_live_statuses_and_changes_nothing(provider_env: EmulatorProcess,
                                                                 tmp_path: Path) -> None:
    provider_env.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "namespace": "acme", "name": "ui", "versions": [
            "1.0.0", {"version": "1.10.0", "status": "Unlisted"}, {"version": "1.2.0", "status": "Archived"}]},
        {"format": "pypi", "name": "sdk", "versions": ["1.0", {"version": "0.9", "status": "Disposed"}]},
    ]}]}]})
    specs = tmp_path / "specs"
    specs.mkdir()
    out = specs / "repo.yaml"
    subprocess.run([sys.executable, "-m", "provider", "adopt", "--domain", "dom", "--repository", "repo",
                    "--endpoint-url", provider_env.url, "--region", "us-east-1", "-o", str(out)],
                   cwd=ROOT, env=aws_env(), check=True, capture_output=True, text=True)
    doc = yaml.safe_load(out.read_text())
    by_name = {p["package"]: p for p in doc["packages"]}
    assert by_name["ui"]["namespace"] == "acme"
    assert by_name["ui"]["versions"] == {"1.0.0": "Published", "1.2.0": "Archived", "1.10.0": "Unlisted"}
    assert list(by_name["ui"]["versions"]) == ["1.0.0", "1.2.0", "1.10.0"]  # ecosystem order
    assert by_name["sdk"]["versions"] == {"0.9": "Disposed", "1.0": "Published"}
    assert "allow_dispose" not in by_name["sdk"]  # already disposed: declaring it so needs no opt-in
    plans = program.plan(specs)
    assert sum(len(p.changes()) for p in plans) == 0
    assert sum(len(p.decisions) for p in plans) == 5


@pytest.mark.e2e
@pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")
def test_adopt_round_trips_through_the_engine_without_enabling_disposal(emulator: EmulatorProcess,
                                                                         tmp_path: Path) -> None:
    """adopt -> validate -> up changes nothing -> preview --expect-no-changes, on a repository with
    Disposed, Unfinished and Archived versions, and the stack's allowDispose left off."""
    emulator.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "pypi", "name": "sdk", "versions": [
            "1.0", {"version": "0.9", "status": "Disposed"}, {"version": "1.1", "status": "Unfinished"},
            {"version": "0.8", "status": "Archived"}, {"version": "0.7", "status": "Unlisted"}]},
    ]}]}]})
    spec_text = subprocess.run([sys.executable, "-m", "provider", "adopt", "--domain", "dom", "--repository", "repo",
                                "--endpoint-url", emulator.url, "--region", "us-east-1"],
                               cwd=ROOT, env=aws_env(), check=True, capture_output=True, text=True).stdout
    s = new_stack(tmp_path, (ROOT / "__main__.py").read_text(), files={"specs/repo.yaml": spec_text},
                  refresh_always=True)
    valid = subprocess.run([sys.executable, "-m", "provider", "validate", str(s.workdir / "specs")], cwd=ROOT,
                           capture_output=True, text=True)
    assert valid.returncode == 0, valid.stderr
    s.config("codeartifact:endpointUrl", emulator.url)
    s.config("codeartifact:region", "us-east-1")
    emulator.admin("counters/reset", {})
    s.run("up", "--yes", "--skip-preview")
    ops = emulator.counters()["operations"]
    assert not any(ops.get(o, {}).get("requests") for o in ("UpdatePackageVersionsStatus", "DisposePackageVersions"))
    s.run("preview", "--expect-no-changes")


def test_adopt_points_the_spec_at_a_folder_of_sboms_and_refuses_bad_ones(provider_env: EmulatorProcess,
                                                                           tmp_path: Path) -> None:
    provider_env.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": "chalk", "versions": ["4.1.2", {"version": "4.0.0", "status": "Archived"}]}]}]}]})
    sboms = tmp_path / "sboms"
    sboms.mkdir()
    (sboms / "web.spdx.json").write_text((ROOT / "tests/fixtures/in_use/npm/checkout.spdx.json").read_text())
    specs = tmp_path / "specs"
    specs.mkdir()
    out = specs / "repo.yaml"
    cmd = [sys.executable, "-m", "provider", "adopt", "--domain", "dom", "--repository", "repo",
           "--endpoint-url", provider_env.url, "--region", "us-east-1", "-o", str(out), "--in-use", str(sboms)]
    subprocess.run(cmd, cwd=ROOT, env=aws_env(), check=True, capture_output=True, text=True)
    assert yaml.safe_load(out.read_text())["in_use"] == ["../sboms"]
    plans = program.plan(specs)
    assert sum(len(p.changes()) for p in plans) == 0
    assert plans[0].in_use == {"4.1.2": ("sboms/web.spdx.json",)}
    (sboms / "broken.cdx.json").write_text("{")
    out.unlink()
    r = subprocess.run(cmd, cwd=ROOT, env=aws_env(), capture_output=True, text=True)
    assert r.returncode == 1 and "broken.cdx.json: not valid JSON" in r.stderr and not out.exists()


def test_adopting_with_a_policy_writes_one_policy_that_changes_nothing(provider_env: EmulatorProcess,
                                                                      tmp_path: Path) -> None:
    """`adopt --policy`: one policy instead of an entry per package; it validates, plans zero
    changes and manages every version (so every original is recorded by the first `up`)."""
    provider_env.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": f"p{i:03d}", "versions": [
            "1.0.0", {"version": "1.1.0", "status": "Unlisted"}, {"version": "1.2.0", "status": "Archived"},
            {"version": "0.9.0", "status": "Disposed"}]} for i in range(120)]}]}]})
    specs = tmp_path / "specs"
    specs.mkdir()
    out = specs / "repo.yaml"
    subprocess.run([sys.executable, "-m", "provider", "adopt", "--policy", "--domain", "dom", "--repository", "repo",
                    "--endpoint-url", provider_env.url, "--region", "us-east-1", "-o", str(out)],
                   cwd=ROOT, env=aws_env(), check=True, capture_output=True, text=True)
    doc = yaml.safe_load(out.read_text())
    assert doc["packages"] == [] and len(doc["policies"]) == 1
    assert doc["policies"][0]["select"] == {"formats": ["npm"]}
    assert len(out.read_text().splitlines()) < 30, "one policy, not an entry per package"
    plans = program.plan(specs)
    assert len(plans) == 120 and all(p.shape == "repository" for p in plans)
    assert sum(len(p.changes()) for p in plans) == 0
    assert sum(len(p.decisions) for p in plans) == 120 * 3  # a Disposed version is settled: never managed

"""Onboarding: `python -m provider adopt` writes a spec equal to the live statuses of a
repository, which validates, and which the stack program plans with zero changes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from provider import program
from tests.emulator_harness import ROOT, EmulatorProcess, aws_env

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
    assert by_name["sdk"]["allow_dispose"] is True  # already disposed: declaring it is no new disposal
    plans = program.plan(specs)
    assert sum(len(p.changes()) for p in plans) == 0
    assert sum(len(p.decisions) for p in plans) == 5

"""Offline evaluation: `python -m provider snapshot` saves live versions from the emulator
(status, revision, published time, origin) and `python -m provider plan --live` evaluates specs
against the snapshot with no credentials and no service, giving the same decisions as the stack
program; bad snapshots and bad specs are errors naming the file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.testing import ROOT, EmulatorProcess, aws_env
from provider.stack import program

SPEC = """\
domain: dom
repository: repo
packages:
  - format: npm
    package: ui
    versions: {"1.0.0": Archived}
    rules:
      - name: old
        status: Unlisted
        match: {range: "<2", older_than_days: 30}
      - name: pre
        status: Archived
        match: {range: "^2.0.0-0", prerelease: true}
  - format: maven
    namespace: com.acme
    package: lib
    rules:
      - {name: rcs, status: Archived, match: {prerelease: true}}
"""


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "provider", *args], cwd=ROOT, env=env or {"PATH": "/usr/bin"},
                          capture_output=True, text=True)


@pytest.mark.emulator
def test_snapshot_then_offline_plan_matches_the_stack_programs_decisions(provider_env: EmulatorProcess,
                                                                          tmp_path: Path) -> None:
    provider_env.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": "ui", "versions": [
            {"version": "1.0.0", "published": "2026-01-01T00:00:00Z"},
            {"version": "1.5.0", "published": "2026-06-01T00:00:00Z", "origin": "EXTERNAL"},
            {"version": "1.9.0", "published": "2026-11-29T00:00:00Z"},
            {"version": "2.0.0-rc.1", "published": "2026-11-01T00:00:00Z", "status": "Unlisted"},
            {"version": "2.0.0", "published": "2026-11-02T00:00:00Z"}]},
        {"format": "maven", "namespace": "com.acme", "name": "lib", "versions": [
            "1.0", "1.0-rc1", "5.3.0.RELEASE", "1.1-SNAPSHOT"]},
    ]}]}]})
    snap = tmp_path / "snap.json"
    r = cli("snapshot", "--domain", "dom", "--repository", "repo", "--endpoint-url", provider_env.url,
            "--region", "us-east-1", "-o", str(snap), env=aws_env())
    assert r.returncode == 0, r.stderr
    doc = json.loads(snap.read_text())
    ui = next(p for p in doc["repositories"][0]["packages"] if p["package"] == "ui")
    by_version = {v["version"]: v for v in ui["versions"]}
    assert by_version["1.5.0"]["origin"] == "EXTERNAL" and by_version["1.0.0"]["origin"] == "INTERNAL"
    assert by_version["2.0.0-rc.1"]["status"] == "Unlisted" and by_version["1.0.0"]["revision"]
    assert by_version["1.0.0"]["published_time"].startswith("2026-01-01")

    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "repo.yaml").write_text(SPEC)
    now = "2026-11-30T00:00:00Z"
    r = cli("plan", "--live", str(snap), "--specs", str(specs), "--now", now, "--json")  # no AWS env at all
    assert r.returncode == 0, r.stderr
    got = {(p["package"], v["version"]): (v["current"], v["decided"], v["by"])
           for p in json.loads(r.stdout)["packages"] for v in p["versions"]}
    assert got == {
        ("dom/repo/npm/ui", "1.0.0"): ("Published", "Archived", "explicit"),
        ("dom/repo/npm/ui", "1.5.0"): ("Published", "Unlisted", "rule:old"),  # 1.9.0 is too young
        ("dom/repo/npm/ui", "2.0.0-rc.1"): ("Unlisted", "Archived", "rule:pre"),
        ("dom/repo/maven/com.acme/lib", "1.0-rc1"): ("Published", "Archived", "rule:rcs"),
        ("dom/repo/maven/com.acme/lib", "1.1-SNAPSHOT"): ("Published", "Archived", "rule:rcs"),
    }
    # The same decisions as the stack program reading the service.
    from datetime import datetime
    live = program.plan(specs, datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp())
    assert {(p.label, v): (p.live[v].status, d.status, d.rule) for p in live for v, d in p.decisions.items()} == got
    text = cli("plan", "--live", str(snap), "--specs", str(specs), "--now", now).stdout
    assert "1.5.0: Published -> Unlisted  [rule:old]" in text and "5 status change(s) in 2 package(s)" in text


def test_plan_errors_name_the_file_and_apply_nothing(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "repo.yaml").write_text(SPEC)
    bad = tmp_path / "bad.json"
    bad.write_text('{"repositories": [\n  {"domain": "dom"}\n')
    r = cli("plan", "--live", str(bad), "--specs", str(specs))
    assert r.returncode == 1 and f"{bad}:3: not valid JSON" in r.stderr
    bad.write_text(json.dumps({"repositories": [{"domain": "dom", "repository": "repo", "packages": [
        {"format": "npm", "package": "ui", "versions": [{"version": "1.0.0", "status": "Gone"}]}]}]}))
    r = cli("plan", "--live", str(bad), "--specs", str(specs))
    assert r.returncode == 1 and "repositories.0.packages.0.versions.0.status" in r.stderr
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"repositories": [{"domain": "dom", "repository": "repo", "packages": []}]}))
    r = cli("plan", "--live", str(empty), "--specs", str(specs))
    assert r.returncode == 1
    assert "specs/repo.yaml:4: packages[0]: NOT_FOUND: the snapshot has no package dom/repo/npm/ui" in r.stderr
    (specs / "repo.yaml").write_text(SPEC.replace('range: "<2"', 'range: ""'))
    r = cli("plan", "--live", str(empty), "--specs", str(specs))
    assert r.returncode == 1 and "specs/repo.yaml:10: packages[0].rules[0].match.range: '': an empty range is refused" \
        in r.stderr

"""`in_use` with the real engine and the emulator: a rule never retires a version that a consumer's
lockfile or SBOM references; the preview's diagnostics and the PR summary say "kept: in use by
<file>" and list exactly the changes `up` then makes; when the consumer stops using the version,
the next reviewed `up` retires it; an explicit status that would retire a used version fails that
package alone, naming the consumer, while the others apply; unreadable evidence fails the run
before anything is registered, naming the file, and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.testing import ROOT, EmulatorProcess
from provider.cli.summary import collect, summarize
from tests.pulumi_harness import Stack, new_stack, pulumi_available

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]

FIX = ROOT / "tests" / "fixtures" / "in_use"
SEED = {"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
    {"format": "npm", "name": "chalk", "versions": ["4.0.0", "4.1.0", "4.1.2", "5.0.0"]},
    {"format": "pypi", "name": "flask-login", "versions": ["0.6.2", "0.6.3", "0.7.0"]},
]}]}]}
SPEC = """domain: dom
repository: repo
in_use: [../services]
packages:
  - format: npm
    package: chalk
    resource: per-version
    rules:
      - {name: old, status: Archived, match: {range: "<5"}}
  - format: pypi
    package: Flask_Login
    rules:
      - {name: old, status: Unlisted, keep_latest: 1}
"""


def statuses(emu: EmulatorProcess) -> dict[tuple[str, str], str]:
    return {(v["package"], v["version"]): v["status"] for v in emu.admin("versions")["versions"]}


def writes(emu: EmulatorProcess) -> int:
    ops = emu.counters()["operations"]
    return sum(ops.get(o, {}).get("requests", 0) for o in ("UpdatePackageVersionsStatus", "DisposePackageVersions"))


def reviewed(s: Stack) -> tuple[set[tuple[str, str, str]], str, str, dict[str, object]]:
    plan = s.workdir.parent / "plan.json"
    code, preview, err = s.json("preview", env={"CODEARTIFACT_STATUS_PLAN": str(plan)})
    assert code == 0, err
    plan_doc = json.loads(plan.read_text())
    # Package names as the emulator lists them (the spec spells flask-login as `Flask_Login`).
    changes = {(label.split("/")[-1].lower().replace("_", "-"), c["version"], c["to"])
               for label, cs in collect(preview, plan_doc).items() for c in cs}
    return changes, summarize(json.dumps(preview), plan.read_text()), json.dumps(preview), plan_doc


def test_versions_in_use_are_kept_reviewed_and_released_when_no_longer_used(emulator: EmulatorProcess,
                                                                            tmp_path: Path) -> None:
    emulator.seed(SEED)
    s = new_stack(tmp_path, (ROOT / "__main__.py").read_text(), files={
        "specs/repo.yaml": SPEC,
        "services/web/package-lock.json": (FIX / "npm" / "package-lock.json").read_text(),     # chalk 4.1.2
        "services/billing/poetry.lock": (FIX / "pypi" / "poetry.lock").read_text(),             # Flask-Login 0.6.3
    }, refresh_always=True)
    s.config("codeartifact:endpointUrl", emulator.url)
    s.config("codeartifact:region", "us-east-1")

    changes, summary, preview_json, _ = reviewed(s)
    assert changes == {("chalk", "4.0.0", "Archived"), ("chalk", "4.1.0", "Archived"),
                       ("flask-login", "0.6.2", "Unlisted")}
    assert "`dom/repo/npm/chalk`: 1 kept: in use by services/web/package-lock.json (1) — 4.1.2" in summary
    assert "`dom/repo/pypi/Flask_Login`: 1 kept: in use by services/billing/poetry.lock (1) — 0.6.3" in summary
    assert "kept: 1 version(s) in use, which no rule changes: 4.1.2 (in use by services/web/package-lock.json)" \
        in preview_json
    before = statuses(emulator)
    s.run("up", "--yes", "--skip-preview")
    after = statuses(emulator)
    assert {(p, v, after[(p, v)]) for (p, v) in after if before[(p, v)] != after[(p, v)]} == changes
    assert after[("chalk", "4.1.2")] == "Published" and after[("flask-login", "0.6.3")] == "Published"

    # The web service moves off chalk 4: its lockfile no longer pins 4.1.2, so the rule takes it, reviewed.
    (s.workdir / "services" / "web" / "package-lock.json").unlink()
    (s.workdir / "services" / "web" / "sbom.cdx.json").write_text(json.dumps(
        {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
            {"type": "library", "name": "chalk", "version": "5.0.0", "purl": "pkg:npm/chalk@5.0.0"}]}))
    changes, summary, _, _ = reviewed(s)
    assert changes == {("chalk", "4.1.2", "Archived")} and "kept: in use by services/billing/poetry.lock" in summary
    s.run("up", "--yes", "--skip-preview")
    assert statuses(emulator)[("chalk", "4.1.2")] == "Archived"


def test_retiring_a_used_version_explicitly_fails_that_package_alone_and_bad_evidence_writes_nothing(
        emulator: EmulatorProcess, tmp_path: Path) -> None:
    emulator.seed(SEED)
    spec = SPEC.replace("      - {name: old, status: Unlisted, keep_latest: 1}",
                        "      - {name: old, status: Unlisted, keep_latest: 1}\n    versions: {\"0.6.3\": Archived}")
    s = new_stack(tmp_path, (ROOT / "__main__.py").read_text(), files={
        "specs/repo.yaml": spec,
        "services/billing/poetry.lock": (FIX / "pypi" / "poetry.lock").read_text()}, refresh_always=True)
    s.config("codeartifact:endpointUrl", emulator.url)
    s.config("codeartifact:region", "us-east-1")
    changes, _, _, plan = reviewed(s)
    assert changes == {("chalk", "4.0.0", "Archived"), ("chalk", "4.1.0", "Archived"), ("chalk", "4.1.2", "Archived")}
    failed = plan["failed_packages"]
    assert isinstance(failed, dict) and list(failed) == ["dom/repo/pypi/Flask_Login"]
    assert "0.6.3 is in use by services/billing/poetry.lock (`in_use`); it cannot become Archived" in \
        str(failed["dom/repo/pypi/Flask_Login"])
    r = s.run("up", "--yes", "--skip-preview", expect=None)
    assert r.returncode != 0
    got = statuses(emulator)
    assert got[("flask-login", "0.6.3")] == "Published" and got[("flask-login", "0.6.2")] == "Published"
    assert got[("chalk", "4.0.0")] == "Archived"

    # Unreadable evidence: the whole run fails before registering anything, naming the file.
    (s.workdir / "specs" / "repo.yaml").write_text(SPEC)
    (s.workdir / "services" / "billing" / "poetry.lock").write_text("[[package]\nname = ")
    n = writes(emulator)
    r = s.run("up", "--yes", expect=None)
    assert r.returncode != 0
    assert "specs/repo.yaml:3: in_use[0]: services/billing/poetry.lock: not valid TOML" in r.stdout + r.stderr
    assert writes(emulator) == n

"""The stack program (specs/ -> resources) under the real engine: the README's demo command end to
end; invalid specs, a change count above the cap and Disposed without the stack opt-in all fail the
preview with a clear message and send zero writes; the PR summary built from a real
`pulumi preview --json`; deterministic expansion (same live data -> same resources)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from emulator.testing import ROOT, EmulatorProcess, aws_env, client
from provider.cli.summary import summarize
from tests.pulumi_harness import new_stack, pulumi_available

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]

PROGRAM = (ROOT / "__main__.py").read_text()
SPEC = """domain: dom
repository: repo
packages:
  - format: npm
    package: chalk
    allow_dispose: {dispose}
    rules:
      - name: old-majors
        status: {status}
        match: {{range: "<4.0.0"}}
      - name: prereleases
        status: Unlisted
        priority: 1
        match: {{prerelease: true}}
"""
WRITES = ("UpdatePackageVersionsStatus", "DisposePackageVersions")


def writes(emu: EmulatorProcess) -> int:
    ops = emu.counters()["operations"]
    return sum(ops.get(o, {}).get("requests", 0) for o in WRITES)


@pytest.fixture
def seeded(emulator: EmulatorProcess) -> EmulatorProcess:
    emulator.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": "chalk", "versions": [
            "2.0.0", "2.4.2", "3.0.0", "3.0.1-beta.1", "4.0.0", "4.1.0", "5.0.0-rc.1"]}]}]}]})
    emulator.admin("counters/reset", {})
    return emulator


def stack_with(tmp_path: Path, emu: EmulatorProcess, spec_text: str) -> Any:
    s = new_stack(tmp_path, PROGRAM, files={"specs/chalk.yaml": spec_text})
    s.config("codeartifact:endpointUrl", emu.url)
    s.config("codeartifact:region", "us-east-1")
    return s


def test_program_applies_rules_and_summary_reads_a_real_preview(seeded: EmulatorProcess, tmp_path: Path) -> None:
    s = stack_with(tmp_path, seeded, SPEC.format(dispose="false", status="Archived"))
    s.run("up", "--yes", "--skip-preview", "--refresh")
    live = {v["version"]: v["status"] for v in client(seeded.url).list_package_versions(
        domain="dom", repository="repo", format="npm", package="chalk")["versions"]}
    assert live == {"2.0.0": "Archived", "2.4.2": "Archived", "3.0.0": "Archived", "3.0.1-beta.1": "Unlisted",
                    "4.0.0": "Published", "4.1.0": "Published", "5.0.0-rc.1": "Unlisted"}
    assert writes(seeded) == 2  # Published->Archived (3 versions), Published->Unlisted (2): one call each
    res = s.resources("PackageVersionsStatus")[0]
    assert res["outputs"]["decided_by"]["3.0.1-beta.1"] == "rule:prereleases"
    assert s.outputs()["summary"] == {"packages": 1, "managed_versions": 5, "planned_changes": 5}

    # A rule change plus someone's manual change: the PR summary shows both transitions.
    client(seeded.url).update_package_versions_status(domain="dom", repository="repo", format="npm",
                                                      package="chalk", versions=["4.1.0"], targetStatus="Unlisted")
    (s.workdir / "specs/chalk.yaml").write_text(
        SPEC.format(dispose="false", status="Unlisted").replace('"<4.0.0"', '"<5.0.0"'))
    preview = s.run("preview", "--refresh", "--json", env={"CODEARTIFACT_STATUS_PLAN": str(tmp_path / "plan.json")})
    md = summarize(preview.stdout, (tmp_path / "plan.json").read_text(), "test")
    assert "| `dom/repo/npm/chalk` | Archived → Unlisted | 3 | 2.0.0, 2.4.2, 3.0.0 | rule:old-majors (3) |" in md
    assert "| `dom/repo/npm/chalk` | Published → Unlisted | 1 | 4.0.0 | rule:old-majors (1) |" in md
    assert "4.1.0" not in md.split("<details>")[0]  # already Unlisted by hand: no change needed
    assert "**4 version status change(s)** in 1 package(s)" in md
    # Deterministic: the same live data gives the same resources, so no changes after applying.
    s.run("up", "--yes", "--skip-preview", "--refresh")
    s.run("preview", "--refresh", "--expect-no-changes")


def test_invalid_spec_fails_preview_with_file_line_and_no_writes(seeded: EmulatorProcess, tmp_path: Path) -> None:
    s = stack_with(tmp_path, seeded, SPEC.format(dispose="false", status="Unfinished"))
    up = s.run("up", "--yes", "--skip-preview", expect=None)
    assert up.returncode != 0
    assert "specs/chalk.yaml:9: packages[0].rules[0].status: Unfinished is never a target status" in up.stdout + up.stderr
    assert writes(seeded) == 0


def test_change_cap_fails_with_the_count(seeded: EmulatorProcess, tmp_path: Path) -> None:
    s = stack_with(tmp_path, seeded, SPEC.format(dispose="false", status="Archived"))
    s.config("codeartifact:maxChanges", "4")
    pre = s.run("preview", expect=None)
    assert pre.returncode != 0 and "5 status changes planned, above the per-run cap of 4" in pre.stdout + pre.stderr
    s.run("up", "--yes", "--skip-preview", expect=None)
    assert writes(seeded) == 0


def test_dispose_needs_the_stack_opt_in_too(seeded: EmulatorProcess, tmp_path: Path) -> None:
    s = stack_with(tmp_path, seeded, SPEC.format(dispose="true", status="Disposed"))
    up = s.run("up", "--yes", "--skip-preview", expect=None)
    assert up.returncode != 0 and "disposing is irreversible" in up.stdout + up.stderr
    assert writes(seeded) == 0


def test_readme_demo_command(tmp_path: Path) -> None:
    """The first command a newcomer types."""
    proc = subprocess.run(["./scripts/demo"], cwd=ROOT, env=aws_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "version status change(s)" in out and "@acme/ui-kit" not in out  # scoped names shown as labels
    assert "acme/releases/npm/acme/ui-kit" in out and "acme/releases/maven/com.acme.platform/core-lib" in out
    assert "rule:archive-undownloaded-2x" in out  # the demo's download evidence decides some versions
    assert "9 unchanged" in out  # converged: preview --expect-no-changes after up

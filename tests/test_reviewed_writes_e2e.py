"""Nothing is written that the reviewer did not see (real engine, the real stack program, the
emulator): over a sequence of spec edits, the status changes each `pulumi up` makes are exactly
the ones the preceding preview listed in the PR summary, restores included; restores never
overwrite someone else's change; re-shaping a package or making a version protected changes no
status; removing packages restores their originals within the change cap; a rule filtered by
status is a fixed point; an interrupted first adoption keeps the true originals; a config change
takes effect at once; a bad specs directory removes nothing; a Disposed version never blocks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from emulator.testing import ROOT, EmulatorProcess, client, start_emulator
from provider.cli.summary import collect, summarize
from tests.pulumi_harness import Stack, new_stack, pulumi_available

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]

PROGRAM = (ROOT / "__main__.py").read_text()
LOC = {"domain": "dom", "repository": "repo"}


def statuses(emu: EmulatorProcess) -> dict[tuple[str, str], str]:
    return {(v["package"], v["version"]): v["status"] for v in emu.admin("versions")["versions"]}


def writes(emu: EmulatorProcess) -> int:
    ops = emu.counters()["operations"]
    return sum(ops.get(o, {}).get("requests", 0) for o in ("UpdatePackageVersionsStatus", "DisposePackageVersions"))


def make_stack(tmp_path: Path, emu: EmulatorProcess, spec: str, name: str = "test") -> Stack:
    s = new_stack(tmp_path / name, PROGRAM, name=name, files={"specs/repo.yaml": spec}, refresh_always=True)
    s.config("codeartifact:endpointUrl", emu.url)
    s.config("codeartifact:region", "us-east-1")
    return s


def set_spec(s: Stack, spec: str) -> None:
    (s.workdir / "specs" / "repo.yaml").write_text(spec)


def reviewed(s: Stack) -> set[tuple[str, str, str, str]]:
    """What the reviewer sees: the PR summary's changes, built from a real `pulumi preview --json`."""
    plan = s.workdir.parent / "plan.json"
    code, preview, err = s.json("preview", env={"CODEARTIFACT_STATUS_PLAN": str(plan)})
    assert code == 0, err
    changes = collect(preview, json.loads(plan.read_text()))
    s.last_summary = summarize(json.dumps(preview), plan.read_text())  # type: ignore[attr-defined]
    return {(label.split("/")[-1], c["version"], c["from"], c["to"]) for label, cs in changes.items() for c in cs}


def up_and_diff(s: Stack, emu: EmulatorProcess) -> set[tuple[str, str, str, str]]:
    before = statuses(emu)
    s.last_up = s.run("up", "--yes", "--skip-preview").stdout  # type: ignore[attr-defined]
    after = statuses(emu)
    return {(p, v, before[(p, v)], after[(p, v)]) for (p, v) in after if before.get((p, v)) != after[(p, v)]}


SEED = {"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
    {"format": "npm", "name": "a", "versions": ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4", "2.0.0-rc.1"]},
    {"format": "npm", "name": "b", "versions": ["1.0.0", "1.1.0"]},
    {"format": "pypi", "name": "c", "versions": ["1.0", "2.0"]},
]}]}]}

V1 = """domain: dom
repository: repo
packages:
  - format: npm
    package: a
    restore_on_delete: true
    rules:
      - {name: old, status: Archived, match: {range: "<1.0.3"}}
  - format: npm
    package: b
    restore_on_delete: true
    versions: {"1.0.0": Unlisted}
  - format: pypi
    package: c
    restore_on_delete: true
    versions: {"1.0": Archived}
"""
# a: the range narrows (1.0.2 leaves: restore) and 1.0.1 becomes protected (never changed);
# b: removed from the specs, but someone else changed its managed version (left alone);
# c: re-shaped to one resource per version (no status change, originals kept).
V2 = """domain: dom
repository: repo
packages:
  - format: npm
    package: a
    restore_on_delete: true
    protected: ["1.0.1"]
    rules:
      - {name: old, status: Archived, match: {range: "<1.0.2"}}
"""
# c also moves to a file of its own (and its name is spelled as PyPI normalizes it anyway).
V2_OTHER = """domain: dom
repository: repo
packages:
  - format: pypi
    package: c
    resource: per-version
    restore_on_delete: true
    versions: {"1.0": Archived}
"""
V3 = "domain: dom\nrepository: repo\npackages: []\n"


def test_every_up_makes_exactly_the_reviewed_changes_restores_included(emulator: EmulatorProcess,
                                                                          tmp_path: Path) -> None:
    emulator.seed(SEED)
    s = make_stack(tmp_path, emulator, V1)

    first = reviewed(s)
    assert first == {("a", "1.0.0", "Published", "Archived"), ("a", "1.0.1", "Published", "Archived"),
                     ("a", "1.0.2", "Published", "Archived"), ("b", "1.0.0", "Published", "Unlisted"),
                     ("c", "1.0", "Published", "Archived")}
    assert up_and_diff(s, emulator) == first

    # Someone else archives a.1.0.4 (not managed) and archives b.1.0.0 (managed by us).
    ca = client(emulator.url)
    ca.update_package_versions_status(**LOC, format="npm", package="a", versions=["1.0.4"], targetStatus="Archived")
    ca.update_package_versions_status(**LOC, format="npm", package="b", versions=["1.0.0"], targetStatus="Archived")

    set_spec(s, V2)
    (s.workdir / "specs" / "other.yaml").write_text(V2_OTHER)
    second = reviewed(s)
    assert second == {("a", "1.0.2", "Archived", "Published")}  # the restore, and only it
    assert "restore (no longer selected) (1)" in s.last_summary  # type: ignore[attr-defined]
    assert "`dom/repo/npm/b`: 1.0.0: changed by someone else" in s.last_summary  # type: ignore[attr-defined]
    assert up_and_diff(s, emulator) == second
    now = statuses(emulator)
    assert now[("b", "1.0.0")] == "Archived"  # someone else's change: never overwritten by a restore
    assert now[("a", "1.0.1")] == "Archived"  # protected: "never changed", so not restored either
    assert now[("a", "1.0.4")] == "Archived"
    warned = " ".join(s.last_up.split())  # type: ignore[attr-defined]
    assert "dom/repo/npm/b: 1 version(s) leaving management are not restored: 1.0.0: changed by someone else" in warned
    assert "dom/repo/npm/a: 1 version(s) leaving management are not restored: 1.0.1: now protected" in warned
    s.run("preview", "--expect-no-changes")  # restored a.1.0.2 left state with its write; c re-shaped

    # Every package removed: the restores are reviewed, capped, then applied.
    set_spec(s, V3)
    (s.workdir / "specs" / "other.yaml").unlink()
    third = reviewed(s)
    assert third == {("a", "1.0.0", "Archived", "Published"), ("c", "1.0", "Archived", "Published")}
    s.config("codeartifact:maxChanges", "1")
    capped = s.run("preview", expect=None)
    assert capped.returncode != 0 and "2 status changes planned, above the per-run cap of 1" in capped.stdout
    assert "2 of the changes are restores" in capped.stdout
    s.config("codeartifact:maxChanges", "2")
    assert up_and_diff(s, emulator) == third
    assert reviewed(s) == set()
    assert up_and_diff(s, emulator) == set()  # the restore-only resources go away, writing nothing
    assert statuses(emulator)[("c", "1.0")] == "Published"  # c's true original survived the re-shape


FILTERED = """domain: dom
repository: repo
packages:
  - format: npm
    package: a
    restore_on_delete: true
    rules:
      - {{name: unlist-published, status: Unlisted, match: {{status: [Published]{extra}}}}}
"""


def test_a_rule_filtered_by_status_does_not_flip_on_the_next_up(emulator: EmulatorProcess, tmp_path: Path) -> None:
    emulator.seed(SEED)
    s = make_stack(tmp_path, emulator, FILTERED.format(extra=""))
    assert len(up_and_diff(s, emulator)) == 6
    n = writes(emulator)
    assert reviewed(s) == set()
    assert up_and_diff(s, emulator) == set() and writes(emulator) == n
    s.run("preview", "--expect-no-changes")


def test_interrupted_first_adoption_keeps_the_true_originals(emulator: EmulatorProcess, tmp_path: Path) -> None:
    from tests.test_adversarial import _provider_pids, _recover, _wait_for_writes

    emulator.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": "p0", "versions": [f"1.0.{j}" for j in range(4500)]}]}]}]})
    spec = ("domain: dom\nrepository: repo\npackages:\n"
            "  - {format: npm, package: p0, restore_on_delete: true, rules: [{name: all, status: Archived}]}\n")
    s = make_stack(tmp_path, emulator, spec)
    s.config("codeartifact:maxChanges", "4500")
    # 45 writes of 100 versions, at most WRITE_WORKERS (8) of them in flight: six rounds of 0.5 s. A
    # kill after the first 2 land lets at most the next two rounds finish, even on a loaded machine
    # where the kill lands a round late (one package, so the rounds cannot run side by side).
    from provider._core.api import WRITE_WORKERS
    assert 45 > 2 + 3 * WRITE_WORKERS
    emulator.faults(latency_ms=500)
    with open(tmp_path / "up.log", "w") as log:
        proc = subprocess.Popen(["pulumi", "up", "--yes", "--skip-preview", "--non-interactive"], cwd=s.workdir,
                                env=s.env, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        _wait_for_writes(emulator, 2, proc)
        os.killpg(proc.pid, signal.SIGKILL)
        for pid in _provider_pids(s.workdir):
            os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=300)
    emulator.faults()
    time.sleep(0.5)
    archived = sum(1 for st in statuses(emulator).values() if st == "Archived")
    assert 0 < archived < 4500  # killed part-way through the first adoption
    _recover(s)
    s.run("up", "--yes", "--skip-preview")
    assert set(statuses(emulator).values()) == {"Archived"}
    set_spec(s, "domain: dom\nrepository: repo\npackages: []\n")
    plan = reviewed(s)
    assert len(plan) == 4500 and {c[3] for c in plan} == {"Published"}
    s.run("up", "--yes", "--skip-preview")
    assert set(statuses(emulator).values()) == {"Published"}  # every true original, none "Archived"


def test_endpoint_change_takes_effect_at_once(emulator: EmulatorProcess, tmp_path: Path) -> None:
    other = start_emulator()
    try:
        for emu in (emulator, other):
            emu.seed(SEED)
        s = make_stack(tmp_path, emulator, V1)
        s.run("up", "--yes", "--skip-preview")
        emulator.admin("counters/reset", {})
        s.config("codeartifact:endpointUrl", other.url)
        s.run("up", "--yes", "--skip-preview")
        assert emulator.counters()["operations"] == {} or \
            sum(op.get("requests", 0) for op in emulator.counters()["operations"].values()) == 0
        assert statuses(other)[("a", "1.0.0")] == "Archived" and statuses(other)[("c", "1.0")] == "Archived"
        s.run("preview", "--expect-no-changes")
    finally:
        other.stop()


def test_missing_or_empty_specs_directory_removes_nothing(emulator: EmulatorProcess, tmp_path: Path) -> None:
    emulator.seed(SEED)
    s = make_stack(tmp_path, emulator, V1)
    s.run("up", "--yes", "--skip-preview")
    resources = len(s.export()["deployment"]["resources"])
    s.config("codeartifact:specsDir", "spec")  # a typo
    out = s.run("up", "--yes", "--skip-preview", expect=None)
    assert out.returncode != 0 and "spec: the specs directory does not exist" in out.stdout
    (s.workdir / "empty").mkdir()
    (s.workdir / "empty" / "README.md").write_text("no specs here")
    s.config("codeartifact:specsDir", "empty")
    out = s.run("up", "--yes", "--skip-preview", expect=None)
    assert out.returncode != 0 and "no spec file" in out.stdout
    assert len(s.export()["deployment"]["resources"]) == resources
    s.config("codeartifact:specsDir", "specs")
    (s.workdir / "specs" / "nested").mkdir()
    (s.workdir / "specs" / "repo.yaml").rename(s.workdir / "specs" / "nested" / "REPO.YAML")
    s.run("preview", "--expect-no-changes")  # found in the subdirectory, whatever the case of its suffix


def test_a_disposed_version_never_blocks_removal_or_destroy(emulator: EmulatorProcess, tmp_path: Path) -> None:
    emulator.seed(SEED)
    spec = V1.replace("    versions: {\"1.0\": Archived}", "    allow_dispose: true\n    versions: {\"1.0\": Disposed}")
    s = make_stack(tmp_path, emulator, spec)
    s.config("codeartifact:allowDispose", "true")
    s.run("up", "--yes", "--skip-preview")
    assert statuses(emulator)[("c", "1.0")] == "Disposed"
    set_spec(s, V1.split("  - format: pypi")[0])
    assert reviewed(s) == set()
    out = " ".join(s.run("up", "--yes", "--skip-preview").stdout.split())
    assert "dom/repo/pypi/c: 1 version(s) leaving management are not restored: 1.0: it is Disposed" in out
    # destroy is refused while the ledger holds originals of versions we changed (a and b), never
    # because of the Disposed one; released, it proceeds and writes nothing.
    refused = " ".join(s.run("destroy", "--yes", "--skip-preview", expect=None).stdout.split())
    assert "ORIGINALS_PENDING" in refused and "dom/repo/npm/a@1.0.0" in refused and "pypi/c" not in refused
    s.config("codeartifact:releaseOriginals", "*")
    s.run("destroy", "--yes", "--skip-preview")
    assert statuses(emulator)[("c", "1.0")] == "Disposed"

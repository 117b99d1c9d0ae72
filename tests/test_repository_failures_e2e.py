"""Failure paths of the repository shape (a policy's RepositoryVersionsStatus shards) through the
real engine: `kill -9` of `pulumi up` mid-write, `--target` of a shard without the ledger, and 5xx
with lost responses. After each fault, run again: every version's original is still in the ledger,
nothing someone else changed is overwritten, the stack converges, and removing the policy puts every
version back (nothing the tool promised to restore was forgotten)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from emulator.testing import ROOT, EmulatorProcess, client
from tests.pulumi_harness import Stack, new_stack, pulumi_available

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]

PROGRAM = (ROOT / "__main__.py").read_text()
POLICY = """domain: dom
repository: repo
policies:
  - name: retire
    restore_on_delete: true
    rules:
      - {name: old, status: Archived, keep_latest: 1}
"""
NONE = "domain: dom\nrepository: repo\npackages: []\n"


def seed(emu: EmulatorProcess, packages: int, versions: int) -> None:
    emu.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": f"p{i:03d}", "versions": [f"1.0.{j}" for j in range(versions)]}
        for i in range(packages)]}]}]})
    emu.admin("counters/reset", {})


def stack(tmp_path: Path, emu: EmulatorProcess, text: str = POLICY) -> Stack:
    s = new_stack(tmp_path, PROGRAM, files={"specs/repo.yaml": text}, refresh_always=True)
    s.config("codeartifact:endpointUrl", emu.url)
    s.config("codeartifact:region", "us-east-1")
    return s


def live(emu: EmulatorProcess) -> dict[tuple[str, str], str]:
    return {(v["package"], v["version"]): v["status"] for v in emu.admin("versions")["versions"]}


def writes_ok(emu: EmulatorProcess) -> int:
    return int(emu.counters()["operations"].get("UpdatePackageVersionsStatus", {}).get("ok", 0))


def retired(before: dict[tuple[str, str], str], newest: str) -> dict[tuple[str, str], str]:
    """The versions the policy manages (all but each package's newest, which `keep_latest: 1` keeps
    out of management), with their statuses in ``before``."""
    return {k: st for k, st in before.items() if k[1] != newest}


def originals(s: Stack) -> dict[tuple[str, str], str]:
    return {(label.rsplit("/", 1)[1], v): st for label, vs in s.ledger().get("originals", {}).items()
            for v, st in vs.items()}


def assert_everything_restored_after_the_policy_leaves(s: Stack, emu: EmulatorProcess,
                                                       before: dict[tuple[str, str], str], settle: bool = True) -> None:
    (s.workdir / "specs" / "repo.yaml").write_text(NONE)
    s.run("up", "--yes", "--skip-preview")
    assert live(emu) == before, "every version is back at its original"
    if settle:
        s.run("up", "--yes", "--skip-preview")  # observes them restored (docs/resources.md, "The ledger")
        assert live(emu) == before and s.ledger().get("originals", {}) == {}, "restored originals leave the ledger"
        s.run("preview", "--expect-no-changes")


def test_kill_9_of_a_policy_up_mid_write_loses_no_original(emulator: EmulatorProcess, tmp_path: Path) -> None:
    seed(emulator, 60, 4)  # 180 changes in 60 writes over 16 shards
    before = live(emulator)
    s = stack(tmp_path, emulator)
    emulator.faults(latency_ms=100, operations=["UpdatePackageVersionsStatus"])
    log = open(tmp_path / "up.log", "w")
    proc = subprocess.Popen(["pulumi", "up", "--yes", "--skip-preview", "--non-interactive"], cwd=s.workdir,
                            env=s.env, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + 300
    while writes_ok(emulator) < 10 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the up ended before the kill point"
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its process group, as a CI cancel does
    proc.wait(timeout=60)
    log.close()
    emulator.faults()
    time.sleep(6)  # the orphaned provider finishes the writes it had in flight, then exits
    mid = live(emulator)
    written = {k for k, st in mid.items() if st != before[k]}
    assert written and set(mid.values()) <= {"Published", "Archived"}
    # The recovery the README gives; the ledger was written before any shard, so each version the
    # killed run changed has its original, whatever the checkpoint of its shard says.
    s.run("cancel", "--yes", expect=None)
    s.run("refresh", "--yes", "--skip-preview", "--clear-pending-creates")
    assert {k: before[k] for k in written} == {k: originals(s)[k] for k in written}
    s.run("up", "--yes", "--skip-preview")
    assert {k for k, st in live(emulator).items() if st == "Archived"} == \
        {(f"p{i:03d}", f"1.0.{j}") for i in range(60) for j in range(3)}
    assert originals(s) == retired(before, "1.0.3")
    assert_everything_restored_after_the_policy_leaves(s, emulator, before, settle=False)


def test_a_targeted_shard_without_the_ledger_writes_nothing(emulator: EmulatorProcess, tmp_path: Path) -> None:
    seed(emulator, 8, 3)
    before = live(emulator)
    s = stack(tmp_path, emulator)
    s.run("up", "--yes", "--skip-preview")
    shards = s.resources("RepositoryVersionsStatus")
    assert shards and set(live(emulator).values()) == {"Published", "Archived"}
    (s.workdir / "specs" / "repo.yaml").write_text(POLICY.replace("status: Archived", "status: Unlisted"))
    emulator.admin("counters/reset", {})
    targeted = s.run("up", "--yes", "--skip-preview", "--target", shards[0]["urn"], expect=None)
    assert targeted.returncode != 0 and "NOT_RECORDED" in targeted.stdout + targeted.stderr
    assert writes_ok(emulator) == 0, "nothing the ledger has not recorded is written"
    assert originals(s) == retired(before, "1.0.2")
    s.run("up", "--yes", "--skip-preview")
    assert set(live(emulator).values()) == {"Published", "Unlisted"}
    assert_everything_restored_after_the_policy_leaves(s, emulator, before)


def test_5xx_and_lost_responses_under_a_policy_converge_and_overwrite_nothing(emulator: EmulatorProcess,
                                                                             tmp_path: Path) -> None:
    seed(emulator, 40, 3)
    before = live(emulator)
    s = stack(tmp_path, emulator)
    # Someone unlists p007@1.0.0 right before our write of p007: it must fail closed, alone.
    emulator.admin("triggers", {"triggers": [{"operation": "UpdatePackageVersionsStatus", "package": "p007", "action": {
        "kind": "set-status", "domain": "dom", "repository": "repo", "format": "npm", "package": "p007",
        "version": "1.0.0", "status": "Unlisted"}}]})
    emulator.faults(error_probability=0.1, error_after_probability=0.1, drop_after_probability=0.1, seed=7,
                    operations=["UpdatePackageVersionsStatus"])
    up = s.run("up", "--yes", "--skip-preview", expect=None)
    emulator.faults()
    out = up.stdout + up.stderr
    assert up.returncode != 0 and "(dom/repo/npm/p007@1.0.0): MISMATCHED_STATUS" in out, out[-3000:]
    now = live(emulator)
    assert now[("p007", "1.0.0")] == "Unlisted", "the concurrent change is not overwritten"
    assert all(now[(f"p{i:03d}", "1.0.0")] == "Archived" for i in range(40) if i != 7), "the others were written"
    assert {k: v for k, v in originals(s).items() if k != ("p007", "1.0.0")} == \
        {k: v for k, v in retired(before, "1.0.2").items() if k != ("p007", "1.0.0")}
    # Someone else's status is now the version's status: the next run converges to the policy.
    s.run("up", "--yes", "--skip-preview")
    assert live(emulator)[("p007", "1.0.0")] == "Archived"
    s.run("preview", "--expect-no-changes")
    restored = dict(before)
    restored[("p007", "1.0.0")] = originals(s)[("p007", "1.0.0")]
    assert_everything_restored_after_the_policy_leaves(s, emulator, restored)

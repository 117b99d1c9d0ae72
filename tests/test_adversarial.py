"""The worst day, with the emulator's fault injection and the real engine: a throttling storm,
5xx and dropped connections (with a concurrent change racing the apply), kill -9 of `pulumi up`
and of the provider process mid-run, out-of-band changes between review and apply, two stacks
fighting over one version, denied packages, and credentials never leaking. The figures each test
measures are appended to .cache/reliability.json (the README's reliability section quotes them).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from emulator.testing import ACCESS_KEY, ROOT, SECRET_KEY, SESSION_TOKEN, EmulatorProcess, client
from tests.pulumi_harness import Stack, new_stack, pulumi_available

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]

PROGRAM = (ROOT / "__main__.py").read_text()
WRITES = ("UpdatePackageVersionsStatus", "DisposePackageVersions")


def record(scenario: str, **figures: Any) -> None:
    path = ROOT / ".cache" / "reliability.json"
    path.parent.mkdir(exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    data[scenario] = figures
    path.write_text(json.dumps(data, indent=1, sort_keys=True))


def seed(emu: EmulatorProcess, packages: int, versions: int) -> None:
    emu.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": f"p{i:03d}", "versions": [f"1.0.{j}" for j in range(versions)]}
        for i in range(packages)]}]}]})
    emu.admin("counters/reset", {})


def spec(packages: int, status: str = "Archived", skip: tuple[int, ...] = ()) -> str:
    lines = ["domain: dom", "repository: repo", "packages:"]
    for i in range(packages):
        lines += [f"  - format: npm", f"    package: p{i:03d}", "    rules:",
                  f"      - {{name: all, status: {'Published' if i in skip else status}}}"]
    return "\n".join(lines) + "\n"


def stack(tmp_path: Path, emu: EmulatorProcess, packages: int, name: str = "test", **kw: Any) -> Stack:
    s = new_stack(tmp_path / name, PROGRAM, name=name, files={"specs/s.yaml": spec(packages)}, refresh_always=True,
                  **kw)
    s.config("codeartifact:endpointUrl", emu.url)
    s.config("codeartifact:region", "us-east-1")
    return s


def live(emu: EmulatorProcess) -> dict[tuple[str, str], str]:
    return {(v["package"], v["version"]): v["status"] for v in emu.admin("versions")["versions"]}


def counts(emu: EmulatorProcess) -> dict[str, dict[str, int]]:
    return emu.counters()["operations"]  # type: ignore[no-any-return]


def test_throttling_storm_converges(emulator: EmulatorProcess, tmp_path: Path) -> None:
    seed(emulator, 10, 100)
    s = stack(tmp_path, emulator, 10)
    emulator.faults(throttle_probability=0.3, retry_after_seconds=1, seed=30)
    t0 = time.monotonic()
    s.run("up", "--yes", "--skip-preview")
    wall = time.monotonic() - t0
    emulator.faults()
    assert set(live(emulator).values()) == {"Archived"}  # all 1,000 versions in their desired status
    ops = counts(emulator)
    throttled = sum(o.get("throttled", 0) for o in ops.values())
    assert throttled > 0
    record("throttling_30pct", changes=1000, requests=sum(o["requests"] for o in ops.values()),
           throttled_and_retried=throttled, writes_ok=ops["UpdatePackageVersionsStatus"]["ok"], wall_seconds=round(wall, 1))
    s.run("preview", "--expect-no-changes")


def test_5xx_and_dropped_connections_converge_without_hiding_a_conflict(emulator: EmulatorProcess,
                                                                       tmp_path: Path) -> None:
    seed(emulator, 10, 100)
    s = stack(tmp_path, emulator, 10)
    # A concurrent change races the apply of p003: someone unlists 1.0.5 right before our write.
    emulator.admin("triggers", {"triggers": [{"operation": "UpdatePackageVersionsStatus", "package": "p003", "action": {
        "kind": "set-status", "domain": "dom", "repository": "repo", "format": "npm", "package": "p003",
        "version": "1.0.5", "status": "Unlisted"}}]})
    emulator.faults(error_probability=0.05, drop_probability=0.05, error_after_probability=0.05,
                    drop_after_probability=0.05, seed=10)
    up = s.run("up", "--yes", "--skip-preview", expect=None)
    emulator.faults()
    ops = counts(emulator)
    out = up.stdout + up.stderr
    assert up.returncode != 0
    assert ("(dom/repo/npm/p003@1.0.5): MISMATCHED_STATUS: expected status Published (last read), actual Unlisted"
            in out)
    now = live(emulator)
    assert now[("p003", "1.0.5")] == "Unlisted"  # the concurrent change was not overwritten
    others = {k: v for k, v in now.items() if k != ("p003", "1.0.5")}
    assert set(others.values()) == {"Archived"}  # everything else converged, p003's other versions included
    faulted = {k: sum(o.get(k, 0) for o in ops.values()) for k in ("faulted", "dropped")}
    assert faulted["faulted"] + faulted["dropped"] > 0
    # Accepting the change (refresh is part of up here) and applying again converges, since the
    # spec still wants Archived.
    s.run("up", "--yes", "--skip-preview")
    assert set(live(emulator).values()) == {"Archived"}
    record("faults_10pct_5xx_and_drops", requests=sum(o["requests"] for o in ops.values()),
           server_errors=faulted["faulted"], dropped_connections=faulted["dropped"],
           concurrent_change_failed_closed=1, converged_after_second_up=True)


def _wait_for_writes(emu: EmulatorProcess, n: int, proc: subprocess.Popen[str], timeout: float = 300) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        done = counts(emu).get("UpdatePackageVersionsStatus", {}).get("ok", 0)
        if done >= n:
            return done
        time.sleep(0.05)
    raise AssertionError("pulumi up finished (or hung) before the kill point")


def _provider_pids(workdir: Path) -> list[int]:
    pids = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if b"pulumi.dynamic" in Path(f"/proc/{pid}/cmdline").read_bytes() and \
                        os.readlink(f"/proc/{pid}/cwd") == str(workdir):
                    pids.append(int(pid))
            except OSError:
                continue
    return pids


def _program_pids(workdir: Path) -> list[int]:
    """The language host (tools/pulumi_host) and the program it runs (Pulumi's own executor), for this
    stack's directory."""
    pids = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                if (b"pulumi_host" in cmd or b"pulumi-language-python-exec" in cmd) \
                        and os.readlink(f"/proc/{pid}/cwd") == str(workdir):
                    pids.append(int(pid))
            except OSError:
                continue
    return pids


def _recover(s: Stack) -> None:
    """What a person does after a crashed update with the file backend (see README)."""
    s.run("cancel", "--yes", expect=None)  # removes the stale lock
    r = s.run("refresh", "--yes", "--skip-preview", "--clear-pending-creates", expect=None)
    if r.returncode != 0 and "failed to load checkpoint: EOF" in r.stdout + r.stderr:
        # The kill landed while the file backend wrote the state's metadata sidecar (`.attrs`):
        # the state itself is intact; the README's recovery removes the empty sidecar.
        for attrs in Path(s.env["PULUMI_BACKEND_URL"].removeprefix("file://")).rglob("*.json.attrs"):
            if attrs.stat().st_size == 0:
                attrs.unlink()
        r = s.run("refresh", "--yes", "--skip-preview", "--clear-pending-creates")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]


@pytest.mark.parametrize("victim", ["pulumi", "provider"])
def test_kill_9_mid_run_then_refresh_and_up_converge(emulator: EmulatorProcess, tmp_path: Path, victim: str) -> None:
    seed(emulator, 100, 10)  # 1,000 changes over 100 resources
    s = stack(tmp_path, emulator, 100)
    emulator.faults(latency_ms=60)
    log = open(tmp_path / "up.log", "w")  # a file, not a pipe: nobody reads while it runs
    proc = subprocess.Popen(["pulumi", "up", "--yes", "--skip-preview", "--non-interactive"], cwd=s.workdir,
                            env=s.env, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    at = _wait_for_writes(emulator, 25, proc)
    if victim == "pulumi":
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its process group, as a CI cancel does
    else:
        for pid in _provider_pids(s.workdir):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=300)
    log.close()
    assert proc.returncode != 0
    if victim == "pulumi":
        # The engine starts plugins in their own process group, so they outlive the killed CLI, but
        # only until they find the engine gone: the provider (two refused health checks, 5 s apart)
        # after finishing the writes it had in flight, the language host (its parent gone) with its
        # program.
        deadline = time.monotonic() + 60
        while (_program_pids(s.workdir) or _provider_pids(s.workdir)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _program_pids(s.workdir) == [] and _provider_pids(s.workdir) == []
    emulator.faults()
    time.sleep(0.5)
    mid = live(emulator)
    assert set(mid.values()) <= {"Published", "Archived"}  # only the original or the desired status
    applied_before_recovery = sum(1 for v in mid.values() if v == "Archived")
    assert 0 < applied_before_recovery < 1000
    _recover(s)
    s.run("up", "--yes", "--skip-preview")
    assert set(live(emulator).values()) == {"Archived"}
    s.run("preview", "--expect-no-changes")
    record(f"kill_9_{victim}", killed_after_writes=at, versions_archived_before_recovery=applied_before_recovery,
           converged=True)


def test_change_between_review_and_apply_fails_closed(emulator: EmulatorProcess, tmp_path: Path) -> None:
    """Strict flow: `pulumi refresh` + `pulumi preview` at review, `pulumi up --refresh=false` at apply."""
    seed(emulator, 4, 5)
    s = stack(tmp_path, emulator, 4)
    s.run("up", "--yes", "--skip-preview")  # adopted: every version Archived
    ca = client(emulator.url)
    # Review at state S (refresh + preview), someone changes two versions, then apply the review.
    (s.workdir / "specs/s.yaml").write_text(spec(4, status="Unlisted"))
    s.run("refresh", "--yes", "--skip-preview")
    s.run("preview")
    ca.update_package_versions_status(domain="dom", repository="repo", format="npm", package="p001",
                                      versions=["1.0.2"], targetStatus="Published")
    new_rev = emulator.admin("republish", {"domain": "dom", "repository": "repo", "format": "npm", "package": "p002",
                                           "version": "1.0.0"})["revision"]
    up = s.run("up", "--yes", "--skip-preview", "--refresh=false", expect=None)
    out = up.stdout + up.stderr
    assert up.returncode != 0
    assert ("(dom/repo/npm/p001@1.0.2): MISMATCHED_STATUS: expected status Archived (last read), actual Published"
            in out)
    assert "(dom/repo/npm/p002@1.0.0): MISMATCHED_REVISION" in out and new_rev in out
    now = live(emulator)
    assert now[("p001", "1.0.2")] == "Published" and now[("p002", "1.0.0")] == "Archived"  # not overwritten
    assert now[("p000", "1.0.0")] == "Unlisted" and now[("p003", "1.0.4")] == "Unlisted"  # others proceeded
    assert now[("p001", "1.0.0")] == "Unlisted"  # skipped only because of 1.0.2: retried alone
    # The spec no longer wants p001 changed: refresh + up accepts the manual status, touches nothing else.
    (s.workdir / "specs/s.yaml").write_text(spec(4, status="Unlisted").replace(
        "package: p001\n    rules:\n      - {name: all, status: Unlisted}",
        "package: p001\n    versions: {\"1.0.2\": Published}\n    rules:\n      - {name: all, status: Unlisted}"))
    s.run("up", "--yes", "--skip-preview")
    now = live(emulator)
    assert now[("p001", "1.0.2")] == "Published" and now[("p002", "1.0.0")] == "Unlisted"
    s.run("preview", "--expect-no-changes")


def test_two_stacks_declaring_one_version_differently(emulator: EmulatorProcess, tmp_path: Path) -> None:
    """A and B both manage p000; A wants Archived, B Unlisted. After A reviews (refresh), B applies;
    A's apply of its reviewed plan then fails closed instead of flipping the version back."""
    seed(emulator, 1, 3)
    a = stack(tmp_path, emulator, 1, name="a")
    b = new_stack(tmp_path / "b", PROGRAM, name="b", files={"specs/s.yaml": spec(1, status="Unlisted")},
                  refresh_always=True)
    b.config("codeartifact:endpointUrl", emulator.url)
    b.config("codeartifact:region", "us-east-1")
    a.run("up", "--yes", "--skip-preview")
    a.run("refresh", "--yes", "--skip-preview")   # A reviews: Archived, no changes
    b.run("up", "--yes", "--skip-preview")         # B applies its declaration
    assert set(live(emulator).values()) == {"Unlisted"}
    (a.workdir / "specs/s.yaml").write_text(spec(1, status="Archived").replace("all, status: Archived",
                                                                              "all, status: Published"))
    up = a.run("up", "--yes", "--skip-preview", "--refresh=false", expect=None)
    assert up.returncode != 0 and "MISMATCHED_STATUS: expected status Archived (last read), actual Unlisted" in \
        up.stdout + up.stderr
    assert set(live(emulator).values()) == {"Unlisted"}
    # The drift check in CI flags the fight on both stacks.
    assert a.run("preview", "--expect-no-changes", expect=None).returncode != 0


def test_denied_package_fails_alone_naming_arn_and_action(emulator: EmulatorProcess, tmp_path: Path) -> None:
    seed(emulator, 3, 5)
    emulator.admin("deny", {"rules": [{"action": "codeartifact:UpdatePackageVersionsStatus",
                                       "resource": "arn:aws:codeartifact:*:package/dom/repo/npm//p001"}]})
    s = stack(tmp_path, emulator, 3)
    up = s.run("up", "--yes", "--skip-preview", expect=None)
    out = up.stdout + up.stderr
    assert up.returncode != 0 and "AccessDeniedException" in out
    assert "codeartifact:UpdatePackageVersionsStatus" in out
    assert "arn:aws:codeartifact:us-east-1:111122223333:package/dom/repo/npm//p001" in out
    now = live(emulator)
    assert {v for (p, _), v in now.items() if p == "p001"} == {"Published"}
    assert {v for (p, _), v in now.items() if p != "p001"} == {"Archived"}


def test_no_credentials_anywhere_after_a_full_demo_data_run(emulator: EmulatorProcess, tmp_path: Path) -> None:
    demo = subprocess.run([os.environ.get("PYTHON", "python"), "-m", "emulator.demo_data"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout
    emulator.admin("seed", demo.encode())
    s = new_stack(tmp_path, PROGRAM, files={f"specs/{p.name}": p.read_text() for p in (ROOT / "specs").glob("*.yaml")},
                  refresh_always=True)
    emulator.export_trail(str(s.workdir / "specs" / "evidence" / "cloudtrail"))  # the demo's download evidence
    s.config("codeartifact:endpointUrl", emulator.url)
    s.config("codeartifact:region", "us-east-1")
    logs = s.run("up", "--yes", "--skip-preview", "--debug").stdout
    logs += s.run("preview", "--diff").stdout
    state = s.run("stack", "export", "--show-secrets").stdout
    outputs = s.run("stack", "output", "--json", "--show-secrets").stdout
    history = s.run("stack", "history", "--json", "--show-secrets").stdout
    assert json.loads(outputs)["summary"]["planned_changes"] > 100
    for secret in (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN):
        for name, text in (("state", state), ("outputs", outputs), ("logs", logs), ("history", history)):
            assert secret not in text, f"{secret[:6]}... found in {name}"
        for f in (s.workdir.parent / "state").rglob("*"):
            if f.is_file():
                assert secret.encode() not in f.read_bytes(), f

"""Download evidence and time in status through the real engine and the HTTP emulator: the
emulator's own CloudTrail (every call, package-manager reads as ReadFromRepository), written as log
files in the S3 layout, decides `not_downloaded_for_days` (a version fetched yesterday stays, one
unfetched for the window is archived, a scanner's read does not count; the preview, plan file and
summary show both) and `in_status_for_days` (a status someone set 200 days ago, seen in the trail,
lets the version go further; one whose change nobody recorded waits, and says so). Evidence that
does not cover the window refuses the run before anything is written, naming the first day missing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from emulator.testing import ROOT, EmulatorProcess, client
from provider.cli.summary import summarize
from tests.pulumi_harness import Stack, json_documents, new_stack, pulumi_available

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]

PROGRAM = (ROOT / "__main__.py").read_text()
DAY = 86400.0
CI = "arn:aws:sts::111122223333:assumed-role/ci-build/run-1"
V4 = ["1.0.0", "1.1.0", "1.2.0", "1.3.0"]


def live(emu: EmulatorProcess) -> dict[tuple[str, str], str]:
    return {(v["package"], v["version"]): v["status"] for v in emu.admin("versions")["versions"]}


def published(days_ago: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def history(emu: EmulatorProcess, days: range, events: dict[int, Any]) -> None:
    """One API call by someone else on each of ``days`` ago (what keeps an account's trail
    continuous), and ``events[d]()`` on day d, all stamped by the emulator's clock."""
    ca = client(emu.url)
    for d in days:
        emu.clock(-d * DAY)
        ca.list_domains()
        if d in events:
            events[d]()
        if d > 0:  # and half a day later: consecutive records stay well under a day apart however slow the loop
            emu.clock(-(d - 0.5) * DAY)
            ca.list_domains()
    emu.clock(0)


def stack(tmp_path: Path, emu: EmulatorProcess, text: str) -> Stack:
    s = new_stack(tmp_path, PROGRAM, files={"specs/repo.yaml": text}, refresh_always=True)
    s.config("codeartifact:endpointUrl", emu.url)
    s.config("codeartifact:region", "us-east-1")
    return s


SPEC = """domain: dom
repository: repo
downloads:
  files: [../evidence/trail]
packages:
  - format: npm
    package: lib
    rules:
      - {name: unused, status: Archived, keep_latest: 1, match: {not_downloaded_for_days: 30}}
"""


def test_a_version_fetched_yesterday_stays_and_one_unfetched_for_the_window_is_archived(
        emulator: EmulatorProcess, tmp_path: Path) -> None:
    emulator.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": "lib", "versions": [{"version": v, "published": published(90 - i)}
                                                        for i, v in enumerate(V4)]}]}]}]})
    dl = emulator.download
    history(emulator, range(45, -1, -1), {
        40: lambda: dl("dom", "repo", "npm", "lib", "1.0.0", principal=CI),  # before the window
        10: lambda: dl("dom", "repo", "npm", "lib", "1.2.0", principal="arn:aws:sts::111122223333:assumed-role/"
                       "AWSServiceRoleForAmazonInspector2/scan", invoked_by="inspector2.amazonaws.com"),
        1: lambda: dl("dom", "repo", "npm", "lib", "1.1.0", principal=CI),  # yesterday
    })
    s = stack(tmp_path, emulator, SPEC)
    files = emulator.export_trail(str(s.workdir / "evidence" / "trail"))
    assert any("/AWSLogs/111122223333/CloudTrail/us-east-1/" in f and f.endswith(".json.gz") for f in files)

    plan = tmp_path / "plan.json"
    pre = s.run("preview", "--json", env={"CODEARTIFACT_STATUS_PLAN": str(plan)})
    doc = json.loads(plan.read_text())
    changes = doc["changes"]["dom/repo/npm/lib"]
    assert set(changes) == {"1.0.0", "1.2.0"}, "1.1.0 was downloaded yesterday; 1.3.0 is the newest kept"
    said = doc["evidence"]["dom/repo/npm/lib"]
    assert said["1.0.0"].startswith("last downloaded ") and "(1 counted)" in said["1.0.0"]
    assert said["1.2.0"].startswith("no download since "), "an AWS service's scan is not a download"
    assert "1.1.0" in doc["recent_downloads"]["dom/repo/npm/lib"]
    assert "evidence " in said["1.0.0"]
    comment = summarize(json.dumps(json_documents(pre.stdout)[-1]), plan.read_text())
    assert "no download since" in comment and "downloaded recently" in comment and "1.1.0" in comment, comment

    s.run("up", "--yes", "--skip-preview")
    now = live(emulator)
    assert [now[("lib", v)] for v in V4] == ["Archived", "Published", "Archived", "Published"]
    since = s.ledger()["since"]["dom/repo/npm/lib"]
    assert since["1.0.0"][0] == "Archived" and since["1.0.0"][2] == "our write", "the ledger keeps our write's time"
    s.run("preview", "--expect-no-changes")


def test_evidence_that_starts_late_or_has_a_gap_refuses_the_run_naming_the_first_day_missing(
        emulator: EmulatorProcess, tmp_path: Path) -> None:
    emulator.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": "lib", "versions": [{"version": v, "published": published(90)} for v in V4]}]}]}]})
    history(emulator, range(20, -1, -1), {})  # only 20 days of logs for a 30-day rule
    s = stack(tmp_path, emulator, SPEC)
    emulator.export_trail(str(s.workdir / "evidence" / "trail"))
    emulator.admin("counters/reset", {})
    out = s.run("preview", expect=None)
    text = " ".join((out.stdout + out.stderr).split())
    assert out.returncode != 0
    first = (datetime.now(timezone.utc) - timedelta(days=30)).strftime("%Y-%m-%d")
    assert f"first day missing: {first}" in text, text[-3000:]
    assert "specs/repo.yaml:9" in text and "rule 'unused'" in text
    # a gap: 40 days of logs with days 15-13 missing
    emulator.admin("reset", {})
    emulator.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": "lib", "versions": [{"version": v, "published": published(90)} for v in V4]}]}]}]})
    history(emulator, range(40, 15, -1), {})
    history(emulator, range(12, -1, -1), {})
    trail = s.workdir / "evidence" / "trail"
    for f in trail.rglob("*.json.gz"):
        f.unlink()
    emulator.export_trail(str(trail))
    out = s.run("up", "--yes", "--skip-preview", expect=None)
    text = " ".join((out.stdout + out.stderr).split())
    assert out.returncode != 0 and "first day missing: " in text and "a gap of more than a day" in text, text[-3000:]
    ops = emulator.counters()["operations"]
    assert not ops.get("UpdatePackageVersionsStatus"), "nothing is written on doubt"
    assert {st for st in live(emulator).values()} == {"Published"}


TIMED = """domain: dom
repository: repo
downloads:
  files: [../evidence/trail]
packages:
  - format: npm
    package: old
    allow_dispose: true
    rules:
      - {name: expire, status: Disposed, match: {status: [Archived], in_status_for_days: 180}}
"""


def test_time_in_status_comes_from_the_trail_and_an_unknown_one_waits(emulator: EmulatorProcess,
                                                                       tmp_path: Path) -> None:
    emulator.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": "old", "versions": [{"version": v, "published": published(400)} for v in V4[:3]]}]}]}]})
    ca = client(emulator.url)

    def archive(v: str) -> Any:
        return lambda: ca.update_package_versions_status(domain="dom", repository="repo", format="npm", package="old",
                                                         versions=[v], targetStatus="Archived")
    history(emulator, range(210, 0, -7), {203: archive("1.0.0"), 98: archive("1.1.0")})
    emulator.admin("set-status", {"domain": "dom", "repository": "repo", "format": "npm", "package": "old",
                                  "version": "1.2.0", "status": "Archived"})  # no record of when
    s = stack(tmp_path, emulator, TIMED)
    s.config("codeartifact:allowDispose", "true")
    emulator.export_trail(str(s.workdir / "evidence" / "trail"))
    plan = tmp_path / "plan.json"
    pre = s.run("preview", "--json", env={"CODEARTIFACT_STATUS_PLAN": str(plan)})
    doc = json.loads(plan.read_text())
    assert set(doc["changes"]["dom/repo/npm/old"]) == {"1.0.0"}, "archived 203 days ago, by the trail"
    assert "(CloudTrail)" in doc["evidence"]["dom/repo/npm/old"]["1.0.0"]
    assert "first seen" in doc["waiting"]["dom/repo/npm/old"]["1.2.0"], "unknown: counted from first seen"
    comment = summarize(json.dumps(json_documents(pre.stdout)[-1]), plan.read_text())
    assert "1.2.0" in comment and "first seen" in comment, comment
    s.run("up", "--yes", "--skip-preview")
    now = live(emulator)
    assert (now[("old", "1.0.0")], now[("old", "1.1.0")], now[("old", "1.2.0")]) == ("Disposed", "Archived", "Archived")
    since = s.ledger()["since"]["dom/repo/npm/old"]
    assert since["1.2.0"][2] == "first seen" and since["1.1.0"][2] == "CloudTrail"
    # The next run settles the Disposed version (nothing can change it: it needs no resource), then
    # nothing changes: the "first seen" clock is kept, not restarted.
    s.run("up", "--yes", "--skip-preview")
    s.run("preview", "--expect-no-changes")
    assert s.ledger()["since"]["dom/repo/npm/old"]["1.2.0"] == since["1.2.0"]


STEPPED = """domain: dom
repository: repo
downloads:
  files: [../evidence/trail]
packages:
  - format: npm
    package: a
    rules:
      - {name: unlist, status: Unlisted, match: {status: [Published]}}
      - {name: then-archive, status: Archived, match: {status: [Unlisted], in_status_for_days: 30}}
  - format: npm
    package: b
    rules:
      - {name: unlist, status: Unlisted, match: {status: [Published]}}
      - {name: then-archive, status: Archived, match: {status: [Unlisted], in_status_for_days: 30}}
"""


def test_a_denied_or_lost_write_never_starts_or_ages_a_status_clock(emulator: EmulatorProcess,
                                                                     tmp_path: Path) -> None:
    """The ledger's `since` clock of a version starts with the run whose write the service took: a
    denied write leaves the version's clock to the next attempt (the other package's write is kept),
    a write whose response was lost starts it no earlier than that run, and no failure lets a version
    reach the next step early."""
    emulator.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": p, "versions": [{"version": v, "published": published(400)} for v in V4[:2]]}
        for p in ("a", "b")]}]}]})
    history(emulator, range(3, -1, -1), {})
    s = stack(tmp_path, emulator, STEPPED)
    emulator.export_trail(str(s.workdir / "evidence" / "trail"))
    emulator.admin("deny", {"rules": [{"action": "codeartifact:UpdatePackageVersionsStatus",
                                       "resource": "arn:aws:codeartifact:us-east-1:111122223333:package/dom/repo/npm//b"}]})
    before = datetime.now(timezone.utc).timestamp()
    out = s.run("up", "--yes", "--skip-preview", expect=None)
    assert out.returncode != 0 and "AccessDenied" in out.stdout + out.stderr
    assert {v: st for (p, v), st in live(emulator).items() if p == "a"} == {"1.0.0": "Unlisted", "1.1.0": "Unlisted"}
    assert {st for (p, _), st in live(emulator).items() if p == "b"} == {"Published"}
    since = s.ledger()["since"]
    assert all(since["dom/repo/npm/a"][v][:1] == ["Unlisted"] and since["dom/repo/npm/a"][v][2] == "our write"
               for v in V4[:2])
    # b's entry is written with the planned write; it counts only once b is seen Unlisted, and the
    # next planned write replaces it, so the denied attempt's time is never what b's clock reads.
    assert all(e[0] == "Unlisted" and e[1] >= before - 1 for e in since.get("dom/repo/npm/b", {}).values()), since

    # The deny is lifted, but every write's response is lost after the service applied it.
    emulator.admin("deny", {"rules": []})
    emulator.faults(drop_after_probability=1.0, operations=["UpdatePackageVersionsStatus"])
    lifted = datetime.now(timezone.utc).timestamp()
    s.run("up", "--yes", "--skip-preview", expect=None)
    emulator.faults()
    assert {st for (p, _), st in live(emulator).items() if p == "b"} == {"Unlisted"}
    s.run("up", "--yes", "--skip-preview")  # settles what the lost responses left unknown
    since = s.ledger()["since"]
    for v in V4[:2]:
        status, when, _how = since["dom/repo/npm/b"][v]
        assert status == "Unlisted" and when >= lifted - 1, \
            (v, since["dom/repo/npm/b"][v], "the clock starts when the write was taken, not at the denied attempt")
        assert before - 1 <= since["dom/repo/npm/a"][v][1] < lifted, "a's write, taken in the first run, keeps its time"
    assert set(live(emulator).values()) == {"Unlisted"}, "no failure lets a version reach the 30-day step early"
    s.run("preview", "--expect-no-changes")

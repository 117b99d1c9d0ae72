"""The originals survive every failure (real engine, the real stack program, the emulator).

Each test injects a fault on a path that writes or restores (a denied restore write, a denied
listing of a removed package, a conflict part-way through an update or a first adoption,
`pulumi up --target`, a restore of a version in use, evidence that changed since the review,
`pulumi destroy` and re-adoption), runs again, and checks that no original was lost: the pending
restore is planned again, or reported, on every later run until it resolves, and then the version
is back at its true original.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.testing import EmulatorProcess
from tests.pulumi_harness import Stack, pulumi_available
from tests.test_reviewed_writes_e2e import make_stack, reviewed, set_spec, statuses, up_and_diff

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]

SEED = {"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
    {"format": "npm", "name": "a", "versions": ["1.0.0", "1.0.1", "1.0.2"]},
    {"format": "npm", "name": "b", "versions": ["1.0.0", "1.0.1"]},
]}]}]}

BOTH = """domain: dom
repository: repo
packages:
  - format: npm
    package: a
    restore_on_delete: true
    rules:
      - {name: all, status: Archived}
  - format: npm
    package: b
    restore_on_delete: true
    versions: {"1.0.0": Unlisted}
"""
ONLY_B = """domain: dom
repository: repo
packages:
  - format: npm
    package: b
    restore_on_delete: true
    versions: {"1.0.0": Unlisted}
"""
NONE = "domain: dom\nrepository: repo\npackages: []\n"
A_ARN = "arn:aws:codeartifact:*:package/dom/repo/npm//a"


def ledger(s: Stack) -> dict[str, dict[str, str]]:
    return s.ledger()["originals"]  # type: ignore[no-any-return]


def a_statuses(emu: EmulatorProcess) -> dict[str, str]:
    return {v: st for (p, v), st in statuses(emu).items() if p == "a"}


def test_a_failed_restore_write_keeps_the_originals_and_is_planned_again(emulator: EmulatorProcess,
                                                                        tmp_path: Path) -> None:
    emulator.seed(SEED)
    s = make_stack(tmp_path, emulator, BOTH)
    s.run("up", "--yes", "--skip-preview")
    assert set(a_statuses(emulator).values()) == {"Archived"}
    set_spec(s, ONLY_B)
    # The IAM policy was regenerated from the new specs before the restore ran: writes to a denied.
    emulator.admin("deny", {"rules": [{"action": "codeartifact:UpdatePackageVersionsStatus", "resource": A_ARN}]})
    failed = s.run("up", "--yes", "--skip-preview", expect=None)
    assert failed.returncode != 0 and "AccessDeniedException" in failed.stdout
    assert set(a_statuses(emulator).values()) == {"Archived"}
    assert ledger(s)["dom/repo/npm/a"] == {"1.0.0": "Published", "1.0.1": "Published", "1.0.2": "Published"}
    # Still planned on every later preview, until it resolves.
    for _ in range(2):
        assert {c for c in reviewed(s) if c[0] == "a"} == {("a", v, "Archived", "Published")
                                                           for v in ("1.0.0", "1.0.1", "1.0.2")}
    emulator.admin("deny", {"rules": []})
    s.run("up", "--yes", "--skip-preview")
    assert set(a_statuses(emulator).values()) == {"Published"}
    assert reviewed(s) == set()
    assert up_and_diff(s, emulator) == set()  # the restore-only resource goes away, writing nothing
    assert "dom/repo/npm/a" not in ledger(s)  # resolved: observed back at its original, it left the ledger
    s.run("preview", "--expect-no-changes")


def test_a_removed_package_that_cannot_be_read_stays_pending_until_it_can(emulator: EmulatorProcess,
                                                                          tmp_path: Path) -> None:
    emulator.seed(SEED)
    s = make_stack(tmp_path, emulator, BOTH)
    s.run("up", "--yes", "--skip-preview")
    set_spec(s, ONLY_B)
    emulator.admin("deny", {"rules": [{"action": "codeartifact:ListPackageVersions", "resource": A_ARN}]})
    out = " ".join(s.run("up", "--yes", "--skip-preview", expect=None).stdout.split())
    assert "not restored yet: cannot read the package" in out
    assert ledger(s)["dom/repo/npm/a"] == {"1.0.0": "Published", "1.0.1": "Published", "1.0.2": "Published"}
    again = " ".join(s.run("preview", expect=None).stdout.split())
    assert "dom/repo/npm/a: 3 version(s) leaving management are not restored" in again  # reported every run
    emulator.admin("deny", {"rules": []})
    assert {c for c in reviewed(s) if c[0] == "a"} == {("a", v, "Archived", "Published")
                                                       for v in ("1.0.0", "1.0.1", "1.0.2")}
    s.run("up", "--yes", "--skip-preview")
    assert set(a_statuses(emulator).values()) == {"Published"}
    assert up_and_diff(s, emulator) == set()  # the restore-only resource goes away, writing nothing
    s.run("preview", "--expect-no-changes")


def _race_one_version(emu: EmulatorProcess, version: str, status: str) -> None:
    """Someone else changes ``a@version`` just before our next write to a."""
    emu.admin("triggers", {"triggers": [{"operation": "UpdatePackageVersionsStatus", "package": "a", "action": {
        "kind": "set-status", "domain": "dom", "repository": "repo", "format": "npm", "package": "a",
        "version": version, "status": status}}]})


UNLISTED = BOTH.replace("status: Archived}", "status: Unlisted}")


def test_a_partly_failed_update_leaves_no_false_conflict_and_everything_is_restored(emulator: EmulatorProcess,
                                                                                   tmp_path: Path) -> None:
    emulator.seed(SEED)
    s = make_stack(tmp_path, emulator, UNLISTED)
    s.run("up", "--yes", "--skip-preview")
    assert set(a_statuses(emulator).values()) == {"Unlisted"}
    set_spec(s, BOTH)  # Unlisted -> Archived; someone publishes 1.0.2 right before our write
    _race_one_version(emulator, "1.0.2", "Published")
    failed = s.run("up", "--yes", "--skip-preview", expect=None)
    assert failed.returncode != 0 and "MISMATCHED_STATUS" in failed.stdout
    assert a_statuses(emulator) == {"1.0.0": "Archived", "1.0.1": "Archived", "1.0.2": "Published"}
    # The state records what was written (a partial failure), not the statuses from before the run.
    a = next(r for r in s.resources("PackageVersionsStatus") if r["urn"].endswith("dom/repo/npm/a"))
    assert a["outputs"]["versions"] == {"1.0.0": "Archived", "1.0.1": "Archived", "1.0.2": "Unlisted"}
    assert {v: st for v, (st, _) in a["outputs"]["owned"].items()} == a["outputs"]["versions"]
    set_spec(s, ONLY_B)
    plan = {c for c in reviewed(s) if c[0] == "a"}
    assert plan == {("a", "1.0.0", "Archived", "Published"), ("a", "1.0.1", "Archived", "Published")}
    assert "changed by someone else" not in s.last_summary  # type: ignore[attr-defined]
    s.run("up", "--yes", "--skip-preview")
    assert set(a_statuses(emulator).values()) == {"Published"}


def test_a_first_adoption_that_fails_part_way_is_restored_after_removal(emulator: EmulatorProcess,
                                                                        tmp_path: Path) -> None:
    emulator.seed(SEED)
    _race_one_version(emulator, "1.0.2", "Unlisted")
    s = make_stack(tmp_path, emulator, BOTH)
    failed = s.run("up", "--yes", "--skip-preview", expect=None)
    assert failed.returncode != 0 and "MISMATCHED_STATUS" in failed.stdout
    assert a_statuses(emulator) == {"1.0.0": "Archived", "1.0.1": "Archived", "1.0.2": "Unlisted"}
    a = next(r for r in s.resources("PackageVersionsStatus") if r["urn"].endswith("dom/repo/npm/a"))
    assert {v: a["outputs"]["versions"][v] for v in ("1.0.0", "1.0.1")} == {"1.0.0": "Archived", "1.0.1": "Archived"}
    set_spec(s, ONLY_B)
    assert {c for c in reviewed(s) if c[0] == "a"} == {("a", "1.0.0", "Archived", "Published"),
                                                       ("a", "1.0.1", "Archived", "Published")}
    assert "1.0.2: changed by someone else" in s.last_summary  # type: ignore[attr-defined]
    s.run("up", "--yes", "--skip-preview")
    assert a_statuses(emulator) == {"1.0.0": "Published", "1.0.1": "Published", "1.0.2": "Unlisted"}


def test_a_targeted_up_never_writes_what_the_ledger_has_not_recorded(emulator: EmulatorProcess,
                                                                     tmp_path: Path) -> None:
    emulator.seed(SEED)
    s = make_stack(tmp_path, emulator, ONLY_B)
    s.run("up", "--yes", "--skip-preview")
    set_spec(s, BOTH)
    urn = next(r["urn"] for r in s.export()["deployment"]["resources"] if r["type"].endswith("StatusLedger"))
    a_urn = urn.replace("codeartifact:StatusLedger::codeartifact-status-ledger",
                        "codeartifact:PackageVersionsStatus::dom/repo/npm/a")
    targeted = s.run("up", "--yes", "--skip-preview", "--target", a_urn, expect=None)
    assert targeted.returncode != 0 and "NOT_RECORDED" in targeted.stdout
    assert set(a_statuses(emulator).values()) == {"Published"}  # nothing written without its original
    # With the ledger among the targets, the originals are recorded first and the write is made.
    s.run("up", "--yes", "--skip-preview", "--target", a_urn, "--target", urn)
    assert set(a_statuses(emulator).values()) == {"Archived"}
    s.run("up", "--yes", "--skip-preview")
    set_spec(s, ONLY_B)
    assert {c for c in reviewed(s) if c[0] == "a"} == {("a", v, "Archived", "Published")
                                                       for v in ("1.0.0", "1.0.1", "1.0.2")}
    s.run("up", "--yes", "--skip-preview")
    assert set(a_statuses(emulator).values()) == {"Published"}


def test_a_restore_never_retires_a_version_in_use(emulator: EmulatorProcess, tmp_path: Path) -> None:
    emulator.seed(SEED)
    for v in ("1.0.0", "1.0.1"):
        emulator.admin("set-status", {"domain": "dom", "repository": "repo", "format": "npm", "package": "a",
                                      "version": v, "status": "Archived"})
    spec = BOTH.replace("repository: repo\n", "repository: repo\nin_use: [../locks]\n", 1).replace(
        "rules:\n      - {name: all, status: Archived}", 'versions: {"1.0.0": Published, "1.0.1": Published}')
    s = make_stack(tmp_path, emulator, spec)
    locks = s.workdir / "locks"
    locks.mkdir()
    (locks / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "packages": {
        "": {"name": "svc"}, "node_modules/a": {"version": "1.0.0"}}}))
    s.run("up", "--yes", "--skip-preview")
    assert a_statuses(emulator) == {"1.0.0": "Published", "1.0.1": "Published", "1.0.2": "Published"}
    set_spec(s, spec.split("  - format: npm\n    package: b")[0].replace("package: a", "package: b").replace(
        'versions: {"1.0.0": Published, "1.0.1": Published}', 'versions: {"1.0.0": Unlisted}'))
    assert {c for c in reviewed(s) if c[0] == "a"} == {("a", "1.0.1", "Published", "Archived")}
    assert "1.0.0: in use by locks/package-lock.json" in s.last_summary  # type: ignore[attr-defined]
    s.run("up", "--yes", "--skip-preview")
    assert a_statuses(emulator) == {"1.0.0": "Published", "1.0.1": "Archived", "1.0.2": "Published"}
    assert up_and_diff(s, emulator) == set()
    assert ledger(s)["dom/repo/npm/a"] == {"1.0.0": "Archived"}  # still pending: restored once out of use
    (locks / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "packages": {"": {"name": "svc"}}}))
    assert {c for c in reviewed(s) if c[0] == "a"} == {("a", "1.0.0", "Published", "Archived")}


def test_destroy_keeps_the_originals_until_they_are_released_and_readoption_keeps_them(
        emulator: EmulatorProcess, tmp_path: Path) -> None:
    emulator.seed(SEED)
    s = make_stack(tmp_path, emulator, BOTH)
    s.run("up", "--yes", "--skip-preview")
    destroyed = s.run("destroy", "--yes", "--skip-preview", expect=None)
    assert destroyed.returncode != 0 and "ORIGINALS_PENDING" in destroyed.stdout
    assert "dom/repo/npm/a@1.0.0" in " ".join(destroyed.stdout.split())
    assert ledger(s)["dom/repo/npm/a"] == {"1.0.0": "Published", "1.0.1": "Published", "1.0.2": "Published"}
    # Re-adopted after the destroy: the true originals, not our own writes, come back.
    s.run("up", "--yes", "--skip-preview")
    set_spec(s, NONE)
    plan = reviewed(s)
    assert {c for c in plan if c[0] == "a"} == {("a", v, "Archived", "Published") for v in ("1.0.0", "1.0.1", "1.0.2")}
    assert ("b", "1.0.0", "Unlisted", "Published") in plan
    assert up_and_diff(s, emulator) == plan
    assert up_and_diff(s, emulator) == set()  # observed back at their originals: resolved
    s.run("destroy", "--yes", "--skip-preview")  # nothing pending any more


def test_released_originals_leave_the_ledger_and_destroy_proceeds(emulator: EmulatorProcess,
                                                                  tmp_path: Path) -> None:
    emulator.seed(SEED)
    s = make_stack(tmp_path, emulator, BOTH)
    s.run("up", "--yes", "--skip-preview")
    s.config("codeartifact:releaseOriginals", "*")
    s.run("destroy", "--yes", "--skip-preview")
    assert set(a_statuses(emulator).values()) == {"Archived"}  # destroy never writes


PUBLISHED_LATER = {"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
    {"format": "npm", "name": "a", "versions": ["1.0.3"]}]}]}]}


@pytest.mark.parametrize("strict", [True, False])
def test_a_version_published_after_the_review_is_changed_only_without_strict_review(
        emulator: EmulatorProcess, tmp_path: Path, strict: bool) -> None:
    emulator.seed(SEED)
    s = make_stack(tmp_path, emulator, BOTH)
    plan_file = tmp_path / "reviewed.json"
    code, _, err = s.json("preview", env={"CODEARTIFACT_STATUS_PLAN": str(plan_file)})
    assert code == 0, err
    emulator.seed(PUBLISHED_LATER)  # published between the review and the merge; the rule matches it
    env = {"CODEARTIFACT_STATUS_REVIEWED": str(plan_file)} if strict else {}
    # (the default mode's apply is shown as the workflow runs it, with --diff; the display then
    # leaves out the program's messages, which the strict mode's check reads)
    out = " ".join(s.run("up", "--yes", "--skip-preview", *([] if strict else ["--diff"]), env=env).stdout.split())
    now = a_statuses(emulator)
    assert {now[v] for v in ("1.0.0", "1.0.1", "1.0.2")} == {"Archived"}  # what was reviewed is applied
    if strict:
        assert now["1.0.3"] == "Published"
        assert "dom/repo/npm/a: 1 change(s) awaiting review, not made" in out and "1.0.3: Published -> Archived" in out
        assert ("a", "1.0.3", "Published", "Archived") in reviewed(s)  # the next preview shows it
    else:
        assert now["1.0.3"] == "Archived"
        assert '1.0.3: "Archived"' in out  # in the apply's own output (its diff of the versions it changes)


def test_evidence_that_changed_since_the_review_fails_the_package_closed(emulator: EmulatorProcess,
                                                                         tmp_path: Path) -> None:
    emulator.seed(SEED)
    spec = BOTH.replace("repository: repo\n", "repository: repo\nin_use: [../locks]\n", 1)
    s = make_stack(tmp_path, emulator, spec)
    locks = s.workdir / "locks"
    locks.mkdir()
    (locks / "requirements.txt").write_text("")  # the folder stays evidence when the lockfile goes
    (locks / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "packages": {
        "": {"name": "svc"}, "node_modules/a": {"version": "1.0.1"}}}))
    plan_file = tmp_path / "reviewed.json"
    code, _, err = s.json("preview", env={"CODEARTIFACT_STATUS_PLAN": str(plan_file)})
    assert code == 0, err
    assert json.loads(plan_file.read_text())["kept_in_use"] == {"dom/repo/npm/a": {"1.0.1": ["locks/package-lock.json"]}}
    (locks / "package-lock.json").unlink()  # the consumer file disappears between the review and the up
    up = s.run("up", "--yes", "--skip-preview", expect=None, env={"CODEARTIFACT_STATUS_REVIEWED": str(plan_file)})
    assert up.returncode != 0
    assert "the `in_use` evidence changed since the review" in " ".join(up.stdout.split())
    assert set(a_statuses(emulator).values()) == {"Published"}  # nothing applied for a, 1.0.1 not retired
    assert statuses(emulator)[("b", "1.0.0")] == "Unlisted"  # the other package is applied

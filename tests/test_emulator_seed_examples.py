"""Every example of the CodeArtifact guide page on updating package version status
(../shared/seeds), replayed with the real `aws` CLI against the emulator over HTTP.

Same codes, statuses and message texts as the page; revisions are the emulator's own (the page's
are from another account, and one of them is even mistyped), read back before each call.
"""

from __future__ import annotations

from typing import Any

import pytest

from emulator.testing import EmulatorProcess, run_aws

pytestmark = pytest.mark.emulator

COMMON = ["--domain", "my_domain", "--domain-owner", "111122223333", "--repository", "my_repo"]
CHALK = [*COMMON, "--format", "npm", "--package", "chalk"]


@pytest.fixture
def guide(emulator: EmulatorProcess) -> EmulatorProcess:
    emulator.seed({"domains": [{"name": "my_domain", "owner": "111122223333", "repositories": [{
        "name": "my_repo", "packages": [
            {"format": "npm", "name": "chalk", "versions": ["4.0.0", "4.1.0", "4.1.1"]},
            {"format": "npm", "namespace": "nestjs", "name": "core", "versions": ["8.0.0"]},
            {"format": "maven", "namespace": "org.apache.logging.log4j", "name": "log4j", "versions": ["2.13.1"]},
        ]}]}]})
    return emulator


def versions(emu: EmulatorProcess, *args: str) -> dict[str, Any]:
    code, out, err = run_aws(emu.url, "list-package-versions", *args)
    assert code == 0, err
    return {v["version"]: v for v in out["versions"]}


def test_archive_one_version(guide: EmulatorProcess) -> None:
    rev = versions(guide, *CHALK)["4.1.0"]["revision"]
    code, out, err = run_aws(guide.url, "update-package-versions-status", *CHALK,
                             "--versions", "4.1.0", "--target-status", "Archived")
    assert code == 0, err
    assert out == {"successfulVersions": {"4.1.0": {"revision": rev, "status": "Archived"}}, "failedVersions": {}}
    assert versions(guide, *CHALK)["4.1.0"]["status"] == "Archived"


def test_archive_several_versions_in_one_call(guide: EmulatorProcess) -> None:
    before = versions(guide, *CHALK)
    code, out, err = run_aws(guide.url, "update-package-versions-status", *CHALK,
                             "--versions", "4.1.0", "4.1.1", "--target-status", "Archived")
    assert code == 0, err
    assert out["failedVersions"] == {}
    assert out["successfulVersions"] == {
        v: {"revision": before[v]["revision"], "status": "Archived"} for v in ("4.1.0", "4.1.1")}
    assert versions(guide, *CHALK)["4.0.0"]["status"] == "Published"


def test_unlist_scoped_npm_package(guide: EmulatorProcess) -> None:
    code, out, err = run_aws(guide.url, "update-package-versions-status", *COMMON, "--format", "npm",
                             "--namespace", "nestjs", "--package", "core", "--versions", "8.0.0",
                             "--target-status", "Unlisted")
    assert code == 0, err
    assert out["successfulVersions"]["8.0.0"]["status"] == "Unlisted"
    assert versions(guide, *COMMON, "--format", "npm", "--namespace", "nestjs",
                    "--package", "core")["8.0.0"]["status"] == "Unlisted"


def test_archive_maven_package_by_group_id(guide: EmulatorProcess) -> None:
    maven = [*COMMON, "--format", "maven", "--namespace", "org.apache.logging.log4j", "--package", "log4j"]
    code, out, err = run_aws(guide.url, "update-package-versions-status", *maven,
                             "--versions", "2.13.1", "--target-status", "Archived")
    assert code == 0, err
    assert out["successfulVersions"]["2.13.1"]["status"] == "Archived"
    assert versions(guide, *maven)["2.13.1"]["status"] == "Archived"


def test_matching_revision_updates(guide: EmulatorProcess) -> None:
    rev = versions(guide, *CHALK)["4.1.0"]["revision"]
    code, out, err = run_aws(guide.url, "update-package-versions-status", *CHALK,
                             "--version-revisions", f"4.1.0={rev}", "--versions", "4.1.0",
                             "--target-status", "Archived")
    assert code == 0, err
    assert out == {"successfulVersions": {"4.1.0": {"revision": rev, "status": "Archived"}}, "failedVersions": {}}


def test_two_revision_pairs_back_to_published(guide: EmulatorProcess) -> None:
    run_aws(guide.url, "update-package-versions-status", *CHALK, "--versions", "4.1.0", "4.0.0",
            "--target-status", "Archived")
    before = versions(guide, *CHALK)
    pairs = f"4.1.0={before['4.1.0']['revision']},4.0.0={before['4.0.0']['revision']}"
    code, out, err = run_aws(guide.url, "update-package-versions-status", *CHALK, "--version-revisions", pairs,
                             "--versions", "4.1.0", "4.0.0", "--target-status", "Published")
    assert code == 0, err
    assert out == {"successfulVersions": {
        "4.0.0": {"revision": before["4.0.0"]["revision"], "status": "Published"},
        "4.1.0": {"revision": before["4.1.0"]["revision"], "status": "Published"}}, "failedVersions": {}}


def test_expected_status_mismatch_fails_every_version(guide: EmulatorProcess) -> None:
    code, out, err = run_aws(guide.url, "update-package-versions-status", *CHALK, "--versions", "4.1.0", "4.0.0",
                             "--target-status", "Archived", "--expected-status", "Unlisted")
    assert code == 0, err
    assert out == {"successfulVersions": {}, "failedVersions": {
        "4.0.0": {"errorCode": "MISMATCHED_STATUS", "errorMessage": "current status: Published, expected status: Unlisted"},
        "4.1.0": {"errorCode": "MISMATCHED_STATUS", "errorMessage": "current status: Published, expected status: Unlisted"},
    }}
    assert {v["status"] for v in versions(guide, *CHALK).values()} == {"Published"}


def test_mismatched_revision_skips_the_other_version(guide: EmulatorProcess) -> None:
    before = versions(guide, *CHALK)
    good, wrong = before["4.0.0"]["revision"], before["4.1.0"]["revision"][:-3] + "="
    code, out, err = run_aws(guide.url, "update-package-versions-status", *CHALK,
                             "--version-revisions", f"4.1.0={wrong},4.0.0={good}",
                             "--versions", "4.1.0", "4.0.0", "--target-status", "Archived")
    assert code == 0, err
    assert out == {"successfulVersions": {}, "failedVersions": {
        "4.0.0": {"errorCode": "SKIPPED", "errorMessage": "version 4.0.0 is skipped"},
        "4.1.0": {"errorCode": "MISMATCHED_REVISION",
                  "errorMessage": f"current revision: {before['4.1.0']['revision']}, expected revision: {wrong}"},
    }}
    assert versions(guide, *CHALK) == before  # all or nothing: nothing changed


def test_unfinished_is_not_a_target_status(guide: EmulatorProcess) -> None:
    code, out, err = run_aws(guide.url, "update-package-versions-status", *CHALK, "--versions", "4.1.0",
                             "--target-status", "Unfinished")
    assert code != 0 and "ValidationException" in err
    code, out, err = run_aws(guide.url, "update-package-versions-status", *CHALK, "--versions", "4.1.0",
                             "--target-status", "Disposed")
    assert code != 0 and "ValidationException" in err and "DisposePackageVersions" in err
    assert versions(guide, *CHALK)["4.1.0"]["status"] == "Published"


def test_dispose_with_expected_status(guide: EmulatorProcess) -> None:
    rev = versions(guide, *CHALK)["4.0.0"]["revision"]
    code, out, err = run_aws(guide.url, "dispose-package-versions", *CHALK, "--versions", "4.0.0",
                             "--expected-status", "Unlisted")
    assert code == 0, err
    assert out == {"successfulVersions": {}, "failedVersions": {
        "4.0.0": {"errorCode": "MISMATCHED_STATUS", "errorMessage": "current status: Published, expected status: Unlisted"}}}
    code, out, err = run_aws(guide.url, "dispose-package-versions", *CHALK, "--versions", "4.0.0",
                             "--expected-status", "Published")
    assert code == 0, err
    assert out == {"successfulVersions": {"4.0.0": {"revision": rev, "status": "Disposed"}}, "failedVersions": {}}
    # Disposing deletes the assets.
    code, assets, err = run_aws(guide.url, "list-package-version-assets", *CHALK, "--package-version", "4.0.0")
    assert code == 0, err
    assert assets["assets"] == []


def test_disposed_version_can_only_be_deleted(guide: EmulatorProcess) -> None:
    run_aws(guide.url, "dispose-package-versions", *CHALK, "--versions", "4.0.0")
    for target in ("Archived", "Unlisted", "Published"):
        code, out, err = run_aws(guide.url, "update-package-versions-status", *CHALK, "--versions", "4.0.0",
                                 "--target-status", target)
        assert code == 0, err
        assert out["failedVersions"]["4.0.0"]["errorCode"] == "NOT_ALLOWED"
    code, out, err = run_aws(guide.url, "delete-package-versions", *CHALK, "--versions", "4.0.0")
    assert code == 0, err
    assert out["successfulVersions"]["4.0.0"]["status"] == "Deleted"
    assert "4.0.0" not in versions(guide, *CHALK)

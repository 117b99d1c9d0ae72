"""The provider under the real engine: drift shown by `preview --refresh --diff` and restored by
`up`; an out-of-band republish between refresh and up failing closed; Disposed refused without both
opt-ins with nothing applied; and no credential in state, outputs or logs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from emulator.testing import ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, EmulatorProcess, client
from tests.pulumi_harness import new_stack, pulumi_available

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]

PROGRAM = '''
import pulumi
from provider import PackageVersionStatus, PackageVersionsStatus

cfg = pulumi.Config("t")
single = PackageVersionStatus("core-8", domain="dom", repository="repo", format="npm", namespace="nestjs",
                              package="core", version="8.0.0", status=cfg.get("single") or "Unlisted",
                              allow_dispose=cfg.get_bool("allowDispose") or False)
batch = PackageVersionsStatus("chalk", domain="dom", repository="repo", format="npm", package="chalk",
                              versions={v: cfg.get("batch") or "Archived" for v in ["4.0.0", "4.1.0", "4.1.1"]})
pulumi.export("single", single.status)
pulumi.export("batch", batch.versions)
'''
LOC = {"domain": "dom", "repository": "repo"}


@pytest.fixture
def stack(emulator: EmulatorProcess, tmp_path: Path) -> Any:
    emulator.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": "chalk", "versions": ["4.0.0", "4.1.0", "4.1.1", "5.0.0"]},
        {"format": "npm", "namespace": "nestjs", "name": "core", "versions": ["8.0.0"]},
    ]}]}]})
    s = new_stack(tmp_path, PROGRAM)
    s.config("codeartifact:endpointUrl", emulator.url)
    s.config("codeartifact:region", "us-east-1")
    return s


def statuses(emulator: EmulatorProcess) -> dict[str, str]:
    ca = client(emulator.url)
    out = {v["version"]: v["status"] for v in
           ca.list_package_versions(**LOC, format="npm", package="chalk")["versions"]}
    out["core@8.0.0"] = ca.list_package_versions(**LOC, format="npm", namespace="nestjs",
                                                 package="core")["versions"][0]["status"]
    return out


def test_drift_is_shown_then_restored(stack: Any, emulator: EmulatorProcess) -> None:
    stack.run("up", "--yes", "--skip-preview")
    assert statuses(emulator) == {"4.0.0": "Archived", "4.1.0": "Archived", "4.1.1": "Archived",
                                  "5.0.0": "Published", "core@8.0.0": "Unlisted"}
    # Someone changes two versions by hand.
    ca = client(emulator.url)
    ca.update_package_versions_status(**LOC, format="npm", package="chalk", versions=["4.1.0"],
                                      targetStatus="Published")
    ca.update_package_versions_status(**LOC, format="npm", namespace="nestjs", package="core",
                                      versions=["8.0.0"], targetStatus="Archived")
    drift = stack.run("preview", "--refresh", "--diff", "--expect-no-changes", expect=None)
    assert drift.returncode != 0
    assert re.search(r'~ 4\.1\.0: "Published" => "Archived"', drift.stdout), drift.stdout
    assert re.search(r'status\s*: "Archived" => "Unlisted"', drift.stdout), drift.stdout
    stack.run("up", "--yes", "--skip-preview", "--refresh")
    assert statuses(emulator)["4.1.0"] == "Archived" and statuses(emulator)["core@8.0.0"] == "Unlisted"
    stack.run("preview", "--refresh", "--expect-no-changes")


def test_republish_between_refresh_and_up_fails_closed(stack: Any, emulator: EmulatorProcess) -> None:
    stack.run("up", "--yes", "--skip-preview")
    stack.config("t:batch", "Unlisted")
    stack.config("t:single", "Published")
    stack.run("refresh", "--yes", "--skip-preview")
    old = {v["version"]: v["revision"] for v in client(emulator.url).list_package_versions(
        **LOC, format="npm", package="chalk")["versions"]}
    new_rev = emulator.admin("republish", {**LOC, "format": "npm", "package": "chalk", "version": "4.1.0"})["revision"]
    assert new_rev != old["4.1.0"]
    up = stack.run("up", "--yes", "--skip-preview", "--refresh=false", expect=None)
    assert up.returncode != 0
    out = up.stdout + up.stderr
    assert "updating CodeArtifact package version (dom/repo/npm/chalk@4.1.0): MISMATCHED_REVISION" in out
    assert f"expected revision {old['4.1.0']} (last read), actual {new_rev}" in out
    now = statuses(emulator)
    assert now["4.1.0"] == "Archived"  # not overwritten
    # The versions that were only skipped because of 4.1.0 were retried on their own and applied,
    # and the other resource proceeded.
    assert now["4.0.0"] == "Unlisted" and now["4.1.1"] == "Unlisted" and now["core@8.0.0"] == "Published"
    # Accepting the republish (refresh) and applying again converges, since the spec still wants it.
    stack.run("up", "--yes", "--skip-preview", "--refresh")
    assert statuses(emulator)["4.1.0"] == "Unlisted"


def test_disposed_needs_both_opt_ins_and_nothing_is_applied(stack: Any, emulator: EmulatorProcess) -> None:
    stack.config("t:single", "Disposed")
    stack.config("t:allowDispose", "true")  # the resource's opt-in only
    emulator.admin("counters/reset", {})
    up = stack.run("up", "--yes", "--skip-preview", expect=None)
    assert up.returncode != 0 and "Disposed is irreversible" in up.stdout + up.stderr
    # The refused resource sends nothing (the other resource in the program may proceed).
    assert "DisposePackageVersions" not in emulator.counters()["operations"]
    assert statuses(emulator)["core@8.0.0"] == "Published"
    stack.config("codeartifact:allowDispose", "true")  # and the stack's
    stack.run("up", "--yes", "--skip-preview")
    assert statuses(emulator)["core@8.0.0"] == "Disposed"
    stack.config("t:single", "Published")
    back = stack.run("preview", expect=None)
    assert back.returncode != 0 and "irreversible" in back.stdout + back.stderr


def test_no_credentials_in_state_outputs_or_logs(stack: Any) -> None:
    up = stack.run("up", "--yes", "--skip-preview")
    logs = up.stdout + up.stderr + stack.run("refresh", "--yes", "--skip-preview").stdout
    state = stack.run("stack", "export", "--show-secrets").stdout
    outputs = stack.run("stack", "output", "--json", "--show-secrets").stdout
    for secret in (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN):
        assert secret not in state and secret not in outputs and secret not in logs

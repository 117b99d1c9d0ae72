"""The real Pulumi engine, as users run it: preview, up, preview --expect-no-changes, refresh and
destroy on a throw-away stack holding one dynamic resource, asserting exit codes and --json output;
and the pinned versions of CLI and SDK agreeing."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pulumi
import pytest

from emulator.testing import ROOT, EmulatorProcess, client
from tests.pulumi_harness import new_stack, pulumi_available

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]

PROGRAM = '''
import pulumi
from provider import PackageVersionStatus

cfg = pulumi.Config("t")
r = PackageVersionStatus("chalk-4-1-0", domain="dom", repository="repo", format="npm", package="chalk",
                         version="4.1.0", status=cfg.get("status") or "Archived",
                         restore_on_delete=cfg.get_bool("restore") or False)
pulumi.export("status", r.status)
pulumi.export("original", r.original_status)
'''


def summary(docs: list[Any]) -> dict[str, int]:
    for d in reversed(docs):
        if "summaryEvent" in d:
            return d["summaryEvent"]["resourceChanges"]  # type: ignore[no-any-return]
    raise AssertionError("no summaryEvent in the --json output")


@pytest.fixture
def stack(emulator: EmulatorProcess, tmp_path: Path) -> Any:
    emulator.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": "chalk", "versions": ["4.0.0", "4.1.0"]}]}]}]})
    s = new_stack(tmp_path, PROGRAM)
    s.config("codeartifact:endpointUrl", emulator.url)
    s.config("codeartifact:region", "us-east-1")
    return s


def status_of(emulator: EmulatorProcess, version: str = "4.1.0") -> str:
    return client(emulator.url).describe_package_version(  # type: ignore[no-any-return]
        domain="dom", repository="repo", format="npm", package="chalk",
        packageVersion=version)["packageVersion"]["status"]


def test_preview_up_refresh_destroy_lifecycle(stack: Any, emulator: EmulatorProcess) -> None:
    code, preview, _ = stack.json("preview")
    assert code == 0
    assert preview["changeSummary"] == {"create": 2}
    assert status_of(emulator) == "Published"  # a preview applies nothing

    code, _, _ = stack.json("up", "--yes", "--skip-preview")
    assert code == 0 and summary(stack.docs) == {"create": 2}
    assert status_of(emulator) == "Archived"
    assert stack.outputs() == {"status": "Archived", "original": "Published"}

    code, preview, _ = stack.json("preview", "--expect-no-changes")
    assert code == 0 and preview["changeSummary"] == {"same": 2}

    code, _, _ = stack.json("refresh", "--yes", "--skip-preview")
    assert code == 0 and summary(stack.docs) == {"same": 2}

    code, _, _ = stack.json("destroy", "--yes", "--skip-preview")
    ops = summary(stack.docs)  # with PULUMI_RUN_PROGRAM the program also runs (its resources: "same")
    assert code == 0 and ops["delete"] == 2 and set(ops) <= {"delete", "same"}
    assert status_of(emulator) == "Archived"  # a status is not deleted: the version is left as it is


def test_destroy_never_writes_even_with_restore_on_delete(stack: Any, emulator: EmulatorProcess) -> None:
    """A restore is a change the stack program plans and the preview shows; deleting a resource
    (its preview says only "delete") never changes a status."""
    stack.config("t:restore", "true")
    stack.run("up", "--yes", "--skip-preview")
    assert status_of(emulator) == "Archived"
    ops = emulator.counters()["operations"]
    before = ops.get("UpdatePackageVersionsStatus", {}).get("requests", 0)
    stack.run("destroy", "--yes", "--skip-preview")
    assert status_of(emulator) == "Archived"
    after = emulator.counters()["operations"].get("UpdatePackageVersionsStatus", {}).get("requests", 0)
    assert after == before


def test_cli_language_host_and_sdk_share_one_pinned_version() -> None:
    pinned = re.search(r"PULUMI_VERSION=(v[\d.]+)", (ROOT / "scripts/versions.env").read_text())
    assert pinned is not None
    cli = subprocess.run(["pulumi", "version"], capture_output=True, text=True, check=True).stdout.strip()
    assert cli == pinned.group(1)
    assert f"pulumi=={pinned.group(1)[1:]}" in (ROOT / "requirements.txt").read_text()
    from pulumi._version import _VERSION  # type: ignore[attr-defined]

    assert str(_VERSION) == pinned.group(1)[1:]

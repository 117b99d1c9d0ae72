"""Users' state keeps working: stacks exported by earlier releases (both resource types, provider
classes pickled by their import paths) are imported into a new stack; the current code's first
`up` writes no status and then `pulumi preview --expect-no-changes` passes. 9d0d4af predates the
`owned` outputs and the StatusLedger; ed9feea is the release before the modules moved into the
layers of ../shared/LAYOUT.md; 3817799 (with a repository policy) is the last release that stored the
ledger and the repository resources' outputs as nested mappings, not per-package JSON text: its
originals must all survive. See tools/make_state_fixture.py for how they were made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.testing import ROOT, EmulatorProcess
from tests.pulumi_harness import ledger_of, new_stack, pulumi_available

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]

FIXTURES = ROOT / "tests" / "fixtures" / "state"


@pytest.mark.parametrize("release", ["9d0d4af", "ed9feea", "3817799"])
def test_state_from_an_earlier_release_is_taken_over_without_a_write(emulator: EmulatorProcess, tmp_path: Path,
                                                                     release: str) -> None:
    made = json.loads((FIXTURES / f"release-{release}.seed.json").read_text())
    seed = made["seed"]
    after = made["statuses_after_up"]
    for pkg in seed["domains"][0]["repositories"][0]["packages"]:
        pkg["versions"] = [{"version": v, "status": after[f"{pkg['name']}@{v}"]} for v in pkg["versions"]]
    emulator.seed(seed)
    s = new_stack(tmp_path, (ROOT / "__main__.py").read_text(),
                  files={"specs/repo.yaml": (FIXTURES / f"release-{release}.specs.yaml").read_text()},
                  refresh_always=True)
    s.run("stack", "import", "--file", str(FIXTURES / f"release-{release}.stack.json"))
    s.config("codeartifact:endpointUrl", emulator.url)
    s.config("codeartifact:region", "us-east-1")
    emulator.admin("counters/reset", {})
    s.run("up", "--yes", "--skip-preview")
    ops = emulator.counters()["operations"]
    assert not any(ops.get(o, {}).get("requests") for o in ("UpdatePackageVersionsStatus", "DisposePackageVersions"))
    assert {f'{v["package"]}@{v["version"]}': v["status"] for v in emulator.admin("versions")["versions"]} == after
    s.run("preview", "--expect-no-changes")
    types = {r["type"].split(":")[-1] for r in s.export()["deployment"]["resources"]}
    assert {"PackageVersionsStatus", "PackageVersionStatus", "StatusLedger"} <= types
    # The originals the earlier release recorded are all still there, whatever form it stored them in.
    before = ledger_of(json.loads((FIXTURES / f"release-{release}.stack.json").read_text())).get("originals") or {}
    now = s.ledger()["originals"]
    assert {label: now.get(label) for label in before} == before

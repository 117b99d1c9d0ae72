"""Per-version resources through the real engine (one `PackageVersionStatus` per version, as users
who pin versions in code declare them): the engine's creates, arriving one by one between its
checkpoints, leave as the physical minimum of write calls, each resource records what the service
reported, and its state does not carry the program's whole Python stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.testing import EmulatorProcess
from tests.pulumi_harness import pulumi_available
from tests.test_reviewed_writes_e2e import make_stack, statuses, writes

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]


def test_per_version_creates_leave_as_the_minimum_number_of_writes(emulator: EmulatorProcess,
                                                                   tmp_path: Path) -> None:
    sizes = {"big": 150, "small": 30}
    emulator.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": name, "versions": [f"1.0.{j}" for j in range(n)]}
        for name, n in sizes.items()]}]}]})
    spec = "domain: dom\nrepository: repo\npackages:\n" + "".join(
        f"  - {{format: npm, package: {name}, resource: per-version, rules: [{{name: all, status: Archived}}]}}\n"
        for name in sizes)
    s = make_stack(tmp_path, emulator, spec)
    s.config("codeartifact:maxChanges", "500")
    emulator.admin("counters/reset", {})
    s.run("up", "--yes", "--skip-preview")
    assert set(statuses(emulator).values()) == {"Archived"}
    # The minimum is ceil(150/100) + ceil(30/100) = 3; the bound is 2x that (the batches
    # follow the engine's timing); one write per version would be 180, PULUMI_PARALLEL=8 gives 24.
    assert 3 <= writes(emulator) <= 6
    outputs = {r["outputs"]["version"]: r["outputs"] for r in s.export()["deployment"]["resources"]
               if r["type"].endswith("PackageVersionStatus") and r["outputs"]["package"] == "big"}
    assert len(outputs) == 150 and {o["status"] for o in outputs.values()} == {"Archived"}
    assert all(o["original_status"] == "Published" and o["revision"] for o in outputs.values())
    # State per resource: the engine records the innermost frame only (not the whole Python stack
    # of the program, language host and asyncio, ~1.4 KB a resource)
    ours = [r for r in s.export()["deployment"]["resources"] if r["type"].endswith("PackageVersionStatus")]
    assert all(len(r.get("stackTrace", [])) <= 1 for r in ours)
    assert any(r.get("sourcePosition") for r in ours)
    s.run("preview", "--expect-no-changes")

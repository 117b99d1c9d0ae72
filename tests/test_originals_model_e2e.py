"""Model-based: random, seeded sequences of spec edits, out-of-band changes, faults and runs
through the real engine keep the originals (the invariants of docs/resources.md, "The ledger").

Each step is one of: a spec edit (a package added or removed, a rule's status changed, a package
re-shaped batched <-> per-version), an out-of-band status change, a fault for the next `up`
(writes or reads of one package denied, a concurrent change racing our write, `--target` on one
package without the ledger), or a reviewed `up` (preview with the PR plan file, then `up`).
After every step:
- every status write of an `up` was in its preview (same version, from, to);
- a restore never overwrote a change someone else made since our last write;
- every version we wrote that left management and has not been back at its true original (its
  status before our first write) since still has that original in the ledger.

CI runs a short configuration (CODEARTIFACT_MODEL_SEEDS / CODEARTIFACT_MODEL_STEPS override it:
`CODEARTIFACT_MODEL_SEEDS=1,2,3,4,5 CODEARTIFACT_MODEL_STEPS=40 ./scripts/test tests/test_originals_model_e2e.py`).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from emulator.testing import EmulatorProcess, client
from provider.cli.summary import collect
from tests.pulumi_harness import ledger_of as harness_ledger_of
from tests.pulumi_harness import pulumi_available
from tests.test_reviewed_writes_e2e import make_stack, set_spec, statuses

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]

SEEDS = [int(x) for x in os.environ.get("CODEARTIFACT_MODEL_SEEDS", "7").split(",")]
STEPS = int(os.environ.get("CODEARTIFACT_MODEL_STEPS", "14"))
PACKAGES = {"a": ["1.0.0", "1.0.1", "1.0.2"], "b": ["2.0.0", "2.0.1"], "c": ["3.0.0", "3.0.1"]}
ARN = "arn:aws:codeartifact:*:package/dom/repo/npm//{}"


def spec_text(model: dict[str, Any]) -> str:
    lines = ["domain: dom", "repository: repo", "packages:"]
    for p in sorted(model["in_spec"]):
        lines += [f"  - format: npm", f"    package: {p}", "    restore_on_delete: true"]
        if model["shape"].get(p) == "per-version":
            lines.append("    resource: per-version")
        keep = model["keep"].get(p, 0)
        lines.append(f"    rules: [{{name: r, status: {model['status'][p]}, match: {{range: '>={PACKAGES[p][keep]}'}}}}]")
    if not model["in_spec"]:
        lines[-1] = "packages: []"
    return "\n".join(lines) + "\n"


def ledger_of(export: dict[str, Any]) -> dict[str, dict[str, str]]:
    return harness_ledger_of(export).get("originals") or {}  # type: ignore[no-any-return]


@pytest.mark.parametrize("seed", SEEDS)
def test_random_sequences_keep_every_original(emulator: EmulatorProcess, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    emulator.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": p, "versions": vs} for p, vs in PACKAGES.items()]}]}]})
    model: dict[str, Any] = {"in_spec": {"a"}, "status": {p: "Archived" for p in PACKAGES}, "shape": {}, "keep": {}}
    s = make_stack(tmp_path, emulator, spec_text(model))
    ca = client(emulator.url)
    written: dict[tuple[str, str], str] = {}  # version -> its status before our first write (the original)
    oob: set[tuple[str, str]] = set()  # changed by someone else since our last write
    log: list[str] = []
    fault: dict[str, Any] = {}
    for step in range(STEPS):
        kind = rng.choice(["edit", "edit", "oob", "fault", "up", "up", "up"])
        if kind == "edit":
            p = rng.choice(sorted(PACKAGES))
            what = rng.choice(["toggle", "status", "shape", "range"])
            if what == "toggle":
                model["in_spec"] ^= {p}
            elif what == "status":
                model["status"][p] = rng.choice(["Archived", "Unlisted"])
            elif what == "shape":
                model["shape"][p] = "per-version" if model["shape"].get(p) != "per-version" else "batched"
            else:
                model["keep"][p] = rng.randrange(len(PACKAGES[p]))
            set_spec(s, spec_text(model))
            log.append(f"{step}: edit {what} {p}")
            continue
        if kind == "oob":
            p = rng.choice(sorted(PACKAGES))
            v = rng.choice(PACKAGES[p])
            target = rng.choice(["Published", "Unlisted", "Archived"])
            if statuses(emulator)[(p, v)] != target:  # setting the status it has is no change
                oob.add((p, v))
            ca.update_package_versions_status(domain="dom", repository="repo", format="npm", package=p,
                                              versions=[v], targetStatus=target)
            log.append(f"{step}: someone sets {p}@{v} {target}")
            continue
        if kind == "fault":
            p = rng.choice(sorted(PACKAGES))
            fault = rng.choice([{"deny": "codeartifact:UpdatePackageVersionsStatus", "package": p},
                                {"deny": "codeartifact:ListPackageVersions", "package": p},
                                {"race": p}, {"target": p}])
            log.append(f"{step}: fault {fault}")
            continue
        # A reviewed up: the preview's plan, then the up under the pending fault.
        plan_file = tmp_path / "plan.json"
        code, preview, err = s.json("preview", expect=None, env={"CODEARTIFACT_STATUS_PLAN": str(plan_file)})
        reviewed = set()
        if code == 0 and plan_file.exists():
            reviewed = {(label.split("/")[-1], c["version"], c["from"], c["to"])
                        for label, cs in collect(preview, json.loads(plan_file.read_text())).items() for c in cs}
        if "deny" in fault:
            emulator.admin("deny", {"rules": [{"action": fault["deny"], "resource": ARN.format(fault["package"])}]})
        if "race" in fault:
            v = PACKAGES[fault["race"]][-1]
            emulator.admin("triggers", {"triggers": [{"operation": "UpdatePackageVersionsStatus",
                                                      "package": fault["race"], "action": {
                "kind": "set-status", "domain": "dom", "repository": "repo", "format": "npm",
                "package": fault["race"], "version": v, "status": "Unlisted"}}]})
        args = ["up", "--yes", "--skip-preview"]
        if "target" in fault:
            export = s.export()
            urns = [r["urn"] for r in export["deployment"].get("resources", [])
                    if f"/npm/{fault['target']}" in r["urn"]]
            if urns:
                args += [f"--target={u}" for u in urns]
        before = statuses(emulator)
        s.run(*args, expect=None)
        after = statuses(emulator)
        emulator.admin("deny", {"rules": []})
        fired = "race" in fault and not emulator.admin("triggers")["triggers"]
        emulator.admin("triggers", {"clear": True})
        raced = {(fault["race"], PACKAGES[fault["race"]][-1])} if fired else set()
        raced = {pv for pv in raced if before[pv] != "Unlisted"}  # the race set Unlisted: a change only if it was not
        oob |= raced
        fault = {}
        applied = {(p, v, before[(p, v)], after[(p, v)]) for (p, v) in after
                   if before[(p, v)] != after[(p, v)] and (p, v) not in raced}
        where = f"seed {seed}, step {step}; steps so far:\n" + "\n".join(log)
        assert applied <= reviewed, f"writes not in the preview: {applied - reviewed}\n{where}"
        managed_now = set()
        for p in model["in_spec"]:
            keep = model["keep"].get(p, 0)
            managed_now |= {(p, v) for v in PACKAGES[p][keep:]}
        for (p, v, frm, to) in applied:
            if (p, v) in oob and (p, v) not in managed_now and to == written.get((p, v)):
                raise AssertionError(f"a restore overwrote someone else's change of {p}@{v}\n{where}")
            oob.discard((p, v))
            written.setdefault((p, v), frm)
        led = ledger_of(s.export())
        for (p, v), original in sorted(written.items()):
            if (p, v) not in managed_now and after[(p, v)] == original:
                del written[(p, v)]  # back at its original: resolved, no longer ours to keep
            elif (p, v) not in managed_now:
                got = led.get(f"dom/repo/npm/{p}", {}).get(v)
                assert got == original, (f"{p}@{v} left management at {after[(p, v)]} and the ledger says "
                                         f"{got!r}, not its true original {original}\n{where}")
        log.append(f"{step}: up ({len(applied)} writes)")

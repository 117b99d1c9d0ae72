"""Repository policies through the real engine and the HTTP emulator: packages are discovered with
ListPackages on every run (a package published later is managed from its next run, one deleted is
reported, not an error), selected by origin controls and name patterns, extended by per-package
entries; they live in a fixed number of repository resources whatever their count (500+ packages
converge in one `up`, the next preview is empty, every listing is made once per command); a broken
package inside a repository resource fails alone; switching from per-package resources to a policy
writes nothing and keeps every original."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.testing import ROOT, EmulatorProcess, client
from provider.cli.summary import summarize
from tests.pulumi_harness import Stack, json_documents, new_stack, pulumi_available

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]

PROGRAM = (ROOT / "__main__.py").read_text()
WRITES = ("UpdatePackageVersionsStatus", "DisposePackageVersions")


def live(emu: EmulatorProcess) -> dict[tuple[str, str], str]:
    return {(v["package"], v["version"]): v["status"] for v in emu.admin("versions")["versions"]}


def ops(emu: EmulatorProcess) -> dict[str, int]:
    return {k: v.get("ok", 0) for k, v in emu.counters()["operations"].items()}


def writes(emu: EmulatorProcess) -> int:
    o = ops(emu)
    return sum(o.get(k, 0) for k in WRITES)


def stack(tmp_path: Path, emu: EmulatorProcess, text: str, name: str = "test") -> Stack:
    s = new_stack(tmp_path / name, PROGRAM, name=name, files={"specs/repo.yaml": text}, refresh_always=True)
    s.config("codeartifact:endpointUrl", emu.url)
    s.config("codeartifact:region", "us-east-1")
    return s


def ledger(s: Stack) -> dict[str, Any]:
    return s.ledger()


def pkg(name: str, versions: list[str], fmt: str = "npm", **kw: Any) -> dict[str, Any]:
    return {"format": fmt, "name": name, "versions": versions, **kw}


def seed(emu: EmulatorProcess, packages: list[dict[str, Any]]) -> None:
    emu.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": packages}]}]})
    emu.admin("counters/reset", {})


POLICIES = """domain: dom
repository: repo
policies:
  - name: upstream-cache
    select: {publish: BLOCK, upstream: ALLOW}
    rules:
      - {name: old-cached, status: Archived, keep_latest: 1}
  - name: internal
    select: {publish: ALLOW, upstream: BLOCK, exclude: ["legacy-*"]}
    rules:
      - {name: superseded, status: Unlisted, keep_latest: 2}
packages:
  - format: npm
    package: app
    protected: ["1.0.0"]
    rules:
      - {name: superseded, status: Archived, keep_latest: 2}
"""

V4 = ["1.0.0", "1.1.0", "1.2.0", "1.3.0"]
CACHED = {"publish": "BLOCK", "upstream": "ALLOW"}
INTERNAL = {"publish": "ALLOW", "upstream": "BLOCK"}


def test_a_policy_follows_the_repository_as_packages_come_and_go(emulator: EmulatorProcess, tmp_path: Path) -> None:
    seed(emulator, [pkg("lodash", V4, **CACHED), pkg("react", V4, **CACHED), pkg("app", V4, **INTERNAL),
                    pkg("lib", V4, **INTERNAL), pkg("legacy-tool", V4, **INTERNAL),
                    pkg("Acme_SDK", ["1.0", "2.0", "3.0"], fmt="pypi", **INTERNAL)])
    s = stack(tmp_path, emulator, POLICIES)
    s.run("up", "--yes", "--skip-preview")
    now = live(emulator)
    # upstream cache: everything but the newest archived
    assert [now[("lodash", v)] for v in V4] == ["Archived", "Archived", "Archived", "Published"]
    # internal: the two newest stay, the rest unlisted; `app`'s entry overrides the rule's status
    # and protects 1.0.0; `legacy-*` is excluded; the PyPI package is selected as listed (acme-sdk)
    assert [now[("lib", v)] for v in V4] == ["Unlisted", "Unlisted", "Published", "Published"]
    assert [now[("app", v)] for v in V4] == ["Published", "Archived", "Published", "Published"]
    assert {now[("legacy-tool", v)] for v in V4} == {"Published"}
    assert now[("acme-sdk", "1.0")] == "Unlisted" and now[("acme-sdk", "2.0")] == "Published"
    shards = s.resources("RepositoryVersionsStatus")
    assert 1 <= len(shards) <= 5 and not s.resources(":PackageVersionsStatus")
    managed = {k for r in shards for k in r["outputs"]["packages"]}
    assert managed == {"npm/lodash", "npm/react", "npm/app", "npm/lib", "pypi/acme-sdk"}
    s.run("preview", "--expect-no-changes")

    # A package published since is managed from the next run; one deleted since is reported.
    emulator.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        pkg("vue", V4, **CACHED)]}]}]})
    client(emulator.url).delete_package(domain="dom", repository="repo", format="npm", package="react")
    emulator.admin("counters/reset", {})
    plan = tmp_path / "plan.json"
    pre = s.run("preview", "--json", env={"CODEARTIFACT_STATUS_PLAN": str(plan)})
    changes = json.loads(plan.read_text())["changes"]
    assert set(changes) == {"dom/repo/npm/vue"} and len(changes["dom/repo/npm/vue"]) == 3
    assert "dom/repo/npm/react: no longer in the repository" in pre.stdout, "the vanished package is reported"
    comment = summarize(json.dumps(json_documents(pre.stdout)[-1]), plan.read_text())
    assert "| `dom/repo/npm/vue` | Published → Archived | 3 |" in comment, comment
    assert "no longer in the repository" in comment
    assert ops(emulator).get("ListPackages") == 1  # one page for the repository, however many policies
    before = live(emulator)
    up = s.run("up", "--yes", "--skip-preview")
    after = live(emulator)
    # every write of the up was in the preview's plan, and nothing else was written
    written = {(p, v): (before[(p, v)], s_) for (p, v), s_ in after.items() if before.get((p, v)) != s_}
    assert written == {("vue", v): (c["from"], c["to"]) for v, c in changes["dom/repo/npm/vue"].items()}
    assert [after[("vue", v)] for v in V4] == ["Archived", "Archived", "Archived", "Published"]
    assert "no longer in the repository" in " ".join(up.stdout.split())
    assert not any(label.endswith("/react") for label in ledger(s)["originals"]), "a deleted package leaves the ledger"
    s.run("preview", "--expect-no-changes")


def test_switching_from_package_resources_to_a_policy_writes_nothing(emulator: EmulatorProcess,
                                                                     tmp_path: Path) -> None:
    names = [f"p{i:02d}" for i in range(30)]
    seed(emulator, [pkg(n, V4) for n in names] + [pkg("flask-login", ["0.1", "0.2", "0.3"], fmt="pypi")])
    per_package = "domain: dom\nrepository: repo\npackages:\n" + "".join(
        f"  - format: npm\n    package: {n}\n    restore_on_delete: true\n    rules:\n"
        f"      - {{name: old, status: Archived, keep_latest: 2}}\n" for n in names) + (
        "  - format: pypi\n    package: Flask_Login\n    restore_on_delete: true\n    rules:\n"
        "      - {name: old, status: Archived, keep_latest: 2}\n")
    s = stack(tmp_path, emulator, per_package)
    s.run("up", "--yes", "--skip-preview")
    before = live(emulator)
    originals = ledger(s)["originals"]
    assert "dom/repo/pypi/Flask_Login" in originals and len(s.resources(":PackageVersionsStatus")) == 31
    w = writes(emulator)

    policy = ("domain: dom\nrepository: repo\npolicies:\n  - name: all\n    restore_on_delete: true\n    rules:\n"
              "      - {name: old, status: Archived, keep_latest: 2}\n")
    (s.workdir / "specs/repo.yaml").write_text(policy)
    s.run("up", "--yes", "--skip-preview")
    assert writes(emulator) == w, "re-shaping changed a status"
    assert live(emulator) == before
    assert ledger(s)["originals"] == originals, "the originals survive the change of shape"
    assert not s.resources(":PackageVersionsStatus") and s.resources("RepositoryVersionsStatus")
    s.run("preview", "--expect-no-changes")

    # The originals are still ours to restore: the policy leaving restores every version.
    (s.workdir / "specs/repo.yaml").write_text("domain: dom\nrepository: repo\npackages: []\n")
    s.run("up", "--yes", "--skip-preview")
    assert set(live(emulator).values()) == {"Published"}
    w = writes(emulator)
    s.run("up", "--yes", "--skip-preview")  # observed back at their originals: resolved, resources removed
    assert writes(emulator) == w and not ledger(s)["originals"]
    s.run("preview", "--expect-no-changes")


def test_a_broken_package_inside_a_repository_resource_fails_alone(emulator: EmulatorProcess,
                                                                   tmp_path: Path) -> None:
    names = [f"p{i:02d}" for i in range(40)]
    seed(emulator, [pkg(n, ["1.0.0", "1.0.1", "1.0.2"]) for n in names])
    text = ("domain: dom\nrepository: repo\npolicies:\n  - name: all\n    rules:\n"
            "      - {name: every, status: STATUS}\n")
    s = stack(tmp_path, emulator, text.replace("STATUS", "Archived"))
    s.run("up", "--yes", "--skip-preview")
    assert set(live(emulator).values()) == {"Archived"}

    # Someone restores one version after the last refresh; the next apply of the reviewed state
    # (no refresh) fails closed for that package only, and records what the others wrote.
    (s.workdir / "specs/repo.yaml").write_text(text.replace("STATUS", "Unlisted"))
    client(emulator.url).update_package_versions_status(domain="dom", repository="repo", format="npm",
                                                        package="p07", versions=["1.0.1"], targetStatus="Published")
    up = s.run("up", "--yes", "--skip-preview", "--refresh=false", expect=None)
    out = " ".join((up.stdout + up.stderr).split())
    assert up.returncode != 0
    assert "(dom/repo/npm/p07@1.0.1): MISMATCHED_STATUS" in out, out[-3000:]
    now = live(emulator)
    assert now[("p07", "1.0.1")] == "Published", "the concurrent change was not overwritten"
    assert {v for (p, _), v in now.items() if p != "p07"} == {"Unlisted"}, "every other package was applied"
    recorded = {k: v for r in s.resources("RepositoryVersionsStatus") for k, v in r["outputs"]["packages"].items()}
    assert recorded["npm/p03"] == {"1.0.0": "Unlisted", "1.0.1": "Unlisted", "1.0.2": "Unlisted"}, \
        "the state records what was written"
    # within p07, only the changed version failed (its neighbours were retried alone and written)
    assert recorded["npm/p07"] == {"1.0.0": "Unlisted", "1.0.1": "Archived", "1.0.2": "Unlisted"}

    # A package two policies select cannot be planned: it alone is left as it is.
    (s.workdir / "specs/repo.yaml").write_text(
        text.replace("STATUS", "Archived") + "  - name: p1x\n    select: {include: [\"p1?\"], exclude: [\"p10\"]}\n"
        "    rules:\n      - {name: every, status: Archived}\n")
    up = s.run("up", "--yes", "--skip-preview", expect=None)
    out = " ".join((up.stdout + up.stderr).split())
    assert up.returncode != 0 and "selected by more than one policy" in out and "dom/repo/npm/p11" in out
    now = live(emulator)
    assert now[("p11", "1.0.0")] == "Unlisted" and now[("p20", "1.0.0")] == "Archived"
    assert now[("p07", "1.0.1")] == "Archived"  # refresh accepted the manual change; the spec still wants Archived
    (s.workdir / "specs/repo.yaml").write_text(text.replace("STATUS", "Archived"))
    s.run("up", "--yes", "--skip-preview")
    assert set(live(emulator).values()) == {"Archived"}
    s.run("preview", "--expect-no-changes")


def test_five_hundred_packages_converge_in_one_up_at_the_minimum_of_calls(emulator: EmulatorProcess,
                                                                          tmp_path: Path) -> None:
    n = 520
    seed(emulator, [pkg(f"p{i:03d}", ["1.0.0", "1.0.1", "1.0.2"]) for i in range(n)])
    s = stack(tmp_path, emulator, "domain: dom\nrepository: repo\npolicies:\n  - name: all\n    rules:\n"
                                  "      - {name: old, status: Archived, keep_latest: 1}\n")
    s.config("codeartifact:maxChanges", str(2 * n))
    s.run("up", "--yes")  # with its preview: the preview and the update are one command each
    now = live(emulator)
    assert sum(1 for v in now.values() if v == "Archived") == 2 * n
    o = ops(emulator)
    # The preview and the update of one `pulumi up` share each listing: every package is listed
    # once per command, the repository once; one write per package.
    assert o.get("ListPackages") == 1 and o.get("ListPackageVersions") == n, o
    assert writes(emulator) == n
    assert len(s.resources("RepositoryVersionsStatus")) <= 16
    emulator.admin("counters/reset", {})
    s.run("preview", "--expect-no-changes")
    o = ops(emulator)
    assert o.get("ListPackageVersions") == n and o.get("ListPackages") == 1, o  # refresh lists, the program reuses
    assert writes(emulator) == 0

"""One bad package cannot block the others (real engine, real stack program): a version deleted
out of band, a misspelled package and a missing dispose opt-in each fail their own package,
visibly, naming the spec file and line, while every other package is previewed and applied; a
`protected` entry that matches nothing is a warning (or this package's error where the spec says
so). Spec-wide problems still stop everything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.testing import ROOT, EmulatorProcess, client
from provider.cli.summary import summarize
from tests.pulumi_harness import json_documents, ledger_of, new_stack, pulumi_available

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]

SPEC = """domain: dom
repository: repo
packages:
  - format: npm
    package: good
    protected: ["1.0"]
    versions: {"1.0.0": Archived}
  - format: npm
    package: gone
    versions: {"1.0.0": Archived, "1.0.1": Unlisted}
  - format: npm
    package: typo-pkg
    versions: {"1.0.0": Archived}
  - format: pypi
    package: also-good
    versions: {"2.0": Unlisted}
"""


def statuses(emu: EmulatorProcess) -> dict[tuple[str, str], str]:
    return {(v["package"], v["version"]): v["status"] for v in emu.admin("versions")["versions"]}


def test_broken_packages_fail_alone_and_the_others_converge(emulator: EmulatorProcess, tmp_path: Path) -> None:
    emulator.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": "good", "versions": ["1.0.0", "1.1.0"]},
        {"format": "npm", "name": "gone", "versions": ["1.0.0", "1.0.1"]},
        {"format": "npm", "name": "typo_pkg", "versions": ["1.0.0"]},
        {"format": "pypi", "name": "also-good", "versions": ["1.0", "2.0"]},
    ]}]}]})
    fine = SPEC.replace("typo-pkg", "typo_pkg")
    s = new_stack(tmp_path, (ROOT / "__main__.py").read_text(), files={"specs/repo.yaml": fine}, refresh_always=True)
    s.config("codeartifact:endpointUrl", emulator.url)
    s.config("codeartifact:region", "us-east-1")
    s.run("up", "--yes", "--skip-preview")  # every package converges (a warning for protected "1.0")
    assert statuses(emulator)[("gone", "1.0.1")] == "Unlisted"

    client(emulator.url).delete_package_versions(domain="dom", repository="repo", format="npm", package="gone",
                                                 versions=["1.0.1"])
    (s.workdir / "specs" / "repo.yaml").write_text(SPEC.replace('"1.0.0": Archived}\n  - format: pypi',
                                                               '"1.0.0": Archived}\n  - format: pypi')
                                                   .replace('{"2.0": Unlisted}', '{"2.0": Archived}')
                                                   .replace('package: good\n    protected: ["1.0"]\n    versions: '
                                                            '{"1.0.0": Archived}',
                                                            'package: good\n    protected: ["1.0"]\n    versions: '
                                                            '{"1.0.0": Archived, "1.1.0": Unlisted}'))
    plan = tmp_path / "plan.json"
    pre = s.run("preview", "--json", expect=None, env={"CODEARTIFACT_STATUS_PLAN": str(plan)})
    text = " ".join(pre.stdout.split()).replace("\\n", " ")
    comment = summarize(json_documents(pre.stdout)[-1] and json.dumps(json_documents(pre.stdout)[-1]),
                        plan.read_text())
    assert "2 package(s) cannot be planned this run" in comment and "specs/repo.yaml:10" in comment
    assert "spec warning(s)" in comment and "'1.0' matches no version of the package" in comment
    assert "specs/repo.yaml:10: packages[1].versions.1.0.1: version 1.0.1 does not exist in the repository" in text
    assert "specs/repo.yaml:11: packages[2]: ResourceNotFoundException" in text
    assert "specs/repo.yaml:6: packages[0].protected[0]: '1.0' matches no version of the package" in text
    up = s.run("up", "--yes", "--skip-preview", expect=None)
    assert up.returncode != 0
    now = statuses(emulator)
    assert now[("good", "1.1.0")] == "Unlisted" and now[("also-good", "2.0")] == "Archived", up.stdout[-6000:]
    assert now[("typo_pkg", "1.0.0")] == "Archived"  # from the first up; the typo'd package wrote nothing
    assert "Traceback" not in up.stdout + up.stderr and "KeyboardInterrupt" not in up.stdout + up.stderr, \
        (tmp_path / "up.out").write_text(up.stdout)
    resources = s.export()["deployment"]["resources"]
    kinds = {r["urn"].split("::")[-1] for r in resources if r["type"].endswith("PackageVersionsStatus")}
    assert "dom/repo/npm/gone" in kinds  # its state is kept, not deleted, while it cannot be planned
    ledger = ledger_of({"deployment": {"resources": resources}})["originals"]
    assert ledger["dom/repo/npm/gone"] == {"1.0.0": "Published", "1.0.1": "Published"}  # originals kept too

    # Fixed in the spec: the next up converges everything.
    (s.workdir / "specs" / "repo.yaml").write_text(SPEC.replace(', "1.0.1": Unlisted', "")
                                                   .replace("typo-pkg", "typo_pkg"))
    s.run("up", "--yes", "--skip-preview")
    assert statuses(emulator)[("gone", "1.0.0")] == "Archived"
    s.run("preview", "--expect-no-changes")


def test_unmatched_protected_entry_is_an_error_where_the_spec_says_so(emulator: EmulatorProcess,
                                                                     tmp_path: Path) -> None:
    emulator.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": "good", "versions": ["1.0.0", "1.1.0"]},
        {"format": "pypi", "name": "also-good", "versions": ["1.0", "2.0"]}]}]}]})
    spec = SPEC.split("  - format: npm\n    package: gone")[0].replace(
        '    protected: ["1.0"]', '    protected: ["1.0"]\n    unmatched_patterns: error') + \
        '  - format: pypi\n    package: also-good\n    versions: {"2.0": Unlisted}\n'
    s = new_stack(tmp_path, (ROOT / "__main__.py").read_text(), files={"specs/repo.yaml": spec}, refresh_always=True)
    s.config("codeartifact:endpointUrl", emulator.url)
    s.config("codeartifact:region", "us-east-1")
    up = s.run("up", "--yes", "--skip-preview", expect=None)
    assert up.returncode != 0 and "'1.0' matches no version of the package" in up.stdout
    now = statuses(emulator)
    assert now[("good", "1.0.0")] == "Published" and now[("also-good", "2.0")] == "Unlisted"

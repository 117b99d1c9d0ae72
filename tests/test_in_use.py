"""`in_use` protection from consumers' SBOMs and lockfiles, without the engine: each reader on real
files written by the ecosystems' own tools (tests/fixtures/in_use, made by
scripts/refresh-usage-fixtures), independent producers agreeing on one project, references mapped
to CodeArtifact coordinates, bad evidence refused naming the file, rules keeping used versions,
explicit retirement of a used version refused naming the consumer, restores that would retire a
used version skipped, and the offline `plan --live` and PR summary reporting "kept: in use"."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.testing import ROOT
from provider._core.batching import Observed
from provider.cli.summary import summarize
from provider.rules import evidence as usage, spec
from provider.rules.expand import LiveVersion, expand, kept_in_use
from provider.stack.previous import PreviousResource, PreviousState
from provider.stack.restores import Current, plan_restores

FIX = ROOT / "tests" / "fixtures" / "in_use"


def refs(path: str) -> set[tuple[str, str, str, str]]:
    return {(r.format, r.namespace, r.name, r.version) for r in usage.read(FIX / path, path)}


@pytest.mark.parametrize("path, expected, absent", [
    ("npm/package-lock.json", ("npm", "nestjs", "common", "10.3.0"), ("npm", "", "checkout-service", "1.0.0")),
    ("npm/checkout.cdx.json", ("npm", "lukeed", "csprng", "1.1.0"), ("npm", "", "checkout-service", "1.0.0")),
    ("npm/checkout.spdx.json", ("npm", "", "chalk", "4.1.2"), ("npm", "", "checkout-service", "1.0.0")),
    ("pypi/uv.lock", ("pypi", "", "flask-login", "0.6.3"), ("pypi", "", "billing-service", "1.0.0")),
    ("pypi/requirements.txt", ("pypi", "", "zope-interface", "8.7"), ("pypi", "", "billing-service", "1.0.0")),
    ("pypi/billing.cdx.json", ("pypi", "", "requests", "2.32.3"), ("pypi", "", "billing-service", "1.0.0")),
    ("pypi/poetry.lock", ("pypi", "", "flask-login", "0.6.3"), ("pypi", "", "local-lib", "0.1.0")),
    ("cargo/Cargo.lock", ("cargo", "", "semver", "1.0.20"), ("cargo", "", "local-helper", "0.1.0")),
    ("ruby/Gemfile.lock", ("ruby", "", "rack", "2.2.22"), ("ruby", "", "bundler", "2.3.15")),
    ("maven/orders.cdx.json", ("maven", "com.google.guava", "guava", "33.0.0-jre"),
     ("maven", "com.acme", "orders-service", "1.0.0")),
    ("nuget/packages.lock.json", ("nuget", "", "newtonsoft.json", "12.0.3"), ("nuget", "", "acme.shared", "")),
    ("gradle/gradle.lockfile", ("maven", "org.apache.commons", "commons-lang3", "3.14.0"),
     ("maven", "", "empty", "")),
])
def test_each_reader_maps_a_real_file_to_codeartifact_coordinates_and_skips_the_consumers_own_code(
        path: str, expected: tuple[str, str, str, str], absent: tuple[str, str, str, str]) -> None:
    got = refs(path)
    assert expected in got
    assert absent not in got and not any(r[2] == absent[2] for r in got)


def test_independent_producers_agree_on_one_project() -> None:
    """npm's lockfile, npm's CycloneDX and npm's SPDX; uv.lock, `uv export` and cyclonedx-py."""
    npm = {r[1:] for r in refs("npm/package-lock.json")}
    assert len(npm) == 14 and npm == {r[1:] for r in refs("npm/checkout.cdx.json")} \
        == {r[1:] for r in refs("npm/checkout.spdx.json")}
    pypi = refs("pypi/uv.lock")
    assert len(pypi) == 14 and pypi == refs("pypi/requirements.txt") == refs("pypi/billing.cdx.json")


@pytest.mark.parametrize("name, content, message", [
    ("x.cdx.json", '{"bomFormat": "CycloneDX", "specVersion": "1.5",\n "components": [', "not valid JSON"),
    ("report.json", '{"hello": 1}', "neither a CycloneDX SBOM"),
    ("notes.md", "# hi", "not a recognised SBOM or lockfile"),
    ("requirements.txt", "requests==2.32.3\nurllib3>=2\n", "line 2: 'urllib3>=2' is not pinned"),
    ("requirements-dev.txt", "requests==2.*\n", "line 1: 'requests==2.*' is not pinned"),
    ("requirements.txt", "-r missing.txt\n", "line 1: -r missing.txt: no such file"),
    ("a.cdx.json", json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
        {"type": "library", "name": "x", "version": "1"}]}), "none of its 1 components has a package URL"),
    ("b.cdx.json", json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
        {"type": "library", "name": "x", "purl": "npm:x@1"}]}), "not a valid CycloneDX SBOM"),
    ("c.spdx.json", json.dumps({"spdxVersion": "SPDX-2.3"}), "not a valid SPDX SBOM"),
    ("d.spdx.json", json.dumps({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "packages": [
        {"SPDXID": "SPDXRef-a", "externalRefs": {"referenceType": "purl"}}]}),
     "not a valid SPDX SBOM: package SPDXRef-a: `externalRefs` must be a list"),
    ("e.spdx.json", json.dumps({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "packages": [
        {"SPDXID": "SPDXRef-a", "externalRefs": [{"referenceType": "purl", "referenceLocator": "npm:x@1"}]}]}),
     "purl 'npm:x@1' does not parse"),
    ("Gemfile.lock", "GEM\n  remote: https://rubygems.org/\n  specs:\n    rack 2.2\n", "line 4: expected"),
    ("gradle.lockfile", "com.acme:lib=runtimeClasspath\n", "line 1: expected `group:artifact:version=...`"),
    ("Cargo.lock", "[[package]\nname = 1", "not valid TOML"),
    ("package-lock.json", '{"name": "x"}', "not an npm lockfile"),
    ("packages.lock.json", '{"version": 1, "dependencies": {"net8.0": {"A": {"type": "Direct"}}}}',
     "dependencies.net8.0.A: no `resolved`"),
])
def test_bad_evidence_is_an_error_naming_the_file_never_nothing_in_use(tmp_path: Path, name: str, content: str,
                                                                       message: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(usage.EvidenceError) as e:
        usage.read(tmp_path / name, f"sboms/{name}")
    assert str(e.value).startswith(f"sboms/{name}: ") and message in str(e.value)


def test_requirements_follow_includes_and_skip_editable_and_url_requirements(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("Zope.Interface==8.7 ; python_version >= '3.9' \\\n    --hash=sha256:00\n")
    (tmp_path / "requirements.txt").write_text(
        "# pinned\n-r base.txt\n--index-url https://example.invalid/simple\n-e ./local\n"
        "mylib @ https://example.invalid/mylib.whl\nRequests===2.32.3  # exact\n")
    assert {(r.name, r.version) for r in usage.read(tmp_path / "requirements.txt", "r")} == {
        ("zope-interface", "8.7"), ("requests", "2.32.3")}


def test_same_version_follows_the_ecosystems_equality() -> None:
    assert usage.same_version("pypi", "1.0", "1.0.0") and usage.same_version("pypi", "1.0", "1.0")
    assert not usage.same_version("npm", "1.0.0", "1.0.0-0") and not usage.same_version("pypi", "1.0", "1.0.1")
    u = usage.Usage({"2.0": ("a.lock",), "2.0.0": ("b.lock",)})
    assert u.in_use("pypi", ["2.0", "2.1"]) == {"2.0": ("a.lock", "b.lock")}


def live_of(versions: dict[str, str]) -> dict[str, LiveVersion]:
    return {v: LiveVersion(v, s, f"r-{v}") for v, s in versions.items()}


def test_rules_keep_versions_in_use_and_report_them_kept() -> None:
    pkg = spec.PackageSpec.model_validate({"format": "npm", "package": "chalk", "rules": [
        {"name": "old", "status": "Archived", "match": {"range": "<5"}}]})
    live = live_of({"4.1.0": "Published", "4.1.2": "Published", "4.0.0": "Archived", "5.0.0": "Published"})
    in_use = {"4.1.2": ("services/web/package-lock.json",), "4.0.0": ("services/old/sbom.cdx.json",)}
    decisions = expand(pkg, live, 0.0, in_use=in_use)
    assert {v: d.status for v, d in decisions.items()} == {"4.1.0": "Archived"}
    # 4.0.0 is already Archived: nothing was prevented, so it is not "kept".
    assert kept_in_use(pkg, live, 0.0, in_use) == {"4.1.2": ("services/web/package-lock.json",)}


def test_an_explicit_status_that_retires_a_version_in_use_is_an_error_naming_the_consumer() -> None:
    pkg = spec.PackageSpec.model_validate({"format": "npm", "package": "chalk",
                                           "versions": {"4.1.2": "Unlisted", "4.1.0": "Published"}})
    live = live_of({"4.1.0": "Archived", "4.1.2": "Published"})
    in_use = {"4.1.2": ("services/web/package-lock.json",), "4.1.0": ("services/old/package-lock.json",)}
    from provider.rules.expand import ExpansionError
    with pytest.raises(ExpansionError) as e:
        expand(pkg, live, 0.0, lambda loc: "specs/a.yaml:9: ", in_use)
    assert e.value.problems == [
        "specs/a.yaml:9: versions.4.1.2: 4.1.2 is in use by services/web/package-lock.json (`in_use`); it cannot "
        "become Unlisted. Remove the entry, or retire it once no consumer references it"]
    # Publishing a used version (4.1.0) is allowed.
    pkg.versions.pop("4.1.2")
    assert expand(pkg, live, 0.0, in_use=in_use)["4.1.0"].status == "Published"


def test_a_restore_that_would_retire_a_version_in_use_is_left_alone_and_reported() -> None:
    live = live_of({"1.0.0": "Published", "1.1.0": "Published"})
    prev = PreviousResource(kind="batched", name="dom/repo/npm/a", inputs={
        "domain": "dom", "repository": "repo", "format": "npm", "package": "a", "restore_on_delete": True,
        "versions": {"1.0.0": "Published", "1.1.0": "Published"}},
        owned={v: Observed("Published", "r-" + v) for v in live}, original={})
    state = PreviousState([prev], {"dom/repo/npm/a": {"1.0.0": "Archived", "1.1.0": "Archived"}}, True)
    cur = Current("dom/repo/npm/a", True, lambda v: False, live, {}, {"1.0.0": ("svc/package-lock.json",)})
    restores, orphans, skipped = plan_restores([cur], state, lambda a: live)
    assert {v: d.status for v, d in restores["dom/repo/npm/a"].items()} == {"1.1.0": "Archived"}
    assert skipped == {"dom/repo/npm/a": {"1.0.0": "in use by svc/package-lock.json: not restored to Archived"}}


SNAPSHOT = {"repositories": [{"domain": "dom", "repository": "repo", "packages": [
    {"format": "npm", "package": "chalk", "versions": [
        {"version": v, "status": "Published", "revision": "r"} for v in ("4.0.0", "4.1.0", "4.1.2", "5.0.0")]},
    {"format": "pypi", "package": "Flask_Login", "versions": [
        {"version": v, "status": "Published", "revision": "r"} for v in ("0.6.2", "0.6.3", "0.7.0")]},
]}]}

SPEC = """\
domain: dom
repository: repo
in_use: [../services]
packages:
  - format: npm
    package: chalk
    rules:
      - {name: old, status: Archived, match: {range: "<5"}}
  - format: pypi
    package: flask-login
    in_use: ["../extra/*.lock"]
    rules:
      - {name: old, status: Unlisted, keep_latest: 1}
"""


def offline(tmp_path: Path, spec_text: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "specs").mkdir(exist_ok=True)
    (tmp_path / "specs" / "repo.yaml").write_text(spec_text)
    (tmp_path / "snap.json").write_text(json.dumps(SNAPSHOT))
    return subprocess.run([sys.executable, "-m", "provider", "plan", "--live", str(tmp_path / "snap.json"),
                           "--specs", str(tmp_path / "specs"), "--json"], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin"})


def consumers(tmp_path: Path) -> None:
    (tmp_path / "services" / "web").mkdir(parents=True)
    shutil.copy(FIX / "npm" / "package-lock.json", tmp_path / "services" / "web")   # chalk 4.1.2
    shutil.copy(FIX / "npm" / "checkout.spdx.json", tmp_path / "services" / "web.spdx.json")
    (tmp_path / "extra").mkdir()
    shutil.copy(FIX / "pypi" / "poetry.lock", tmp_path / "extra" / "poetry.lock")  # Flask-Login 0.6.3


def test_offline_plan_keeps_versions_in_use_and_names_the_consumers(tmp_path: Path) -> None:
    consumers(tmp_path)
    r = offline(tmp_path, SPEC)
    assert r.returncode == 0, r.stderr
    report = {p["package"]: p for p in json.loads(r.stdout)["packages"]}
    chalk = report["dom/repo/npm/chalk"]
    assert {v["version"]: v["decided"] for v in chalk["versions"]} == {"4.0.0": "Archived", "4.1.0": "Archived"}
    assert chalk["kept_in_use"] == {"4.1.2": ["services/web.spdx.json", "services/web/package-lock.json"]}
    flask = report["dom/repo/pypi/flask-login"]
    assert {v["version"]: v["decided"] for v in flask["versions"]} == {"0.6.2": "Unlisted"}
    assert flask["kept_in_use"] == {"0.6.3": ["extra/poetry.lock"]}


def test_offline_plan_refuses_bad_or_missing_evidence_naming_spec_line_and_file(tmp_path: Path) -> None:
    consumers(tmp_path)
    (tmp_path / "services" / "notes.txt").write_text("hello")
    r = offline(tmp_path, SPEC)
    assert r.returncode == 1 and r.stdout == ""
    assert "specs/repo.yaml:3: in_use[0]: services/notes.txt: not a recognised SBOM or lockfile" in r.stderr
    (tmp_path / "services" / "notes.txt").unlink()
    r = offline(tmp_path, SPEC.replace("../extra/*.lock", "../extra/*.lck"))
    assert r.returncode == 1
    assert "specs/repo.yaml:11: packages[1].in_use[0]: '../extra/*.lck' names no file" in r.stderr
    r = offline(tmp_path, SPEC.replace("    rules:\n      - {name: old, status: Archived",
                                       "    versions: {\"4.1.2\": Archived}\n    rules:\n      - {name: old, "
                                       "status: Archived", 1))
    assert r.returncode == 1
    assert ("specs/repo.yaml:7: packages[0].versions.4.1.2: 4.1.2 is in use by services/web.spdx.json, "
            "services/web/package-lock.json (`in_use`); it cannot become Archived") in r.stderr


def test_the_pr_summary_says_kept_in_use_with_counts_per_consumer() -> None:
    plan = {"changes": {}, "kept_in_use": {"dom/repo/npm/chalk": {
        "4.1.2": ["services/web/package-lock.json", "services/web.spdx.json"],
        "4.1.1": ["services/web/package-lock.json"]}}}
    text = summarize(json.dumps({"steps": []}), json.dumps(plan))
    assert "**🛡️ 2 version(s) kept: in use**" in text
    assert ("- `dom/repo/npm/chalk`: 2 kept: in use by services/web.spdx.json (1), services/web/package-lock.json "
            "(2) — 4.1.1, 4.1.2") in text  # in version order

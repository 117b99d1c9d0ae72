"""`python -m provider iam-policy` gives exactly the permissions the stack needs (real engine, the
emulator evaluating the caller's identity-based policy as IAM does, implicit deny included): with
the generated policy `pulumi up` converges every package; with any one statement removed, the
package it covered fails with AccessDenied naming the action and the package's ARN, and every
other package still converges."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from emulator.testing import ROOT, EmulatorProcess
from tests.pulumi_harness import Stack, new_stack, pulumi_available

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")]

SEED = {"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
    {"format": "npm", "name": "chalk", "versions": ["1.0.0", "2.0.0"]},
    {"format": "pypi", "name": "Flask_Login", "versions": ["0.6.2", "0.6.3"]},
    {"format": "maven", "namespace": "com.acme", "name": "lib", "versions": ["1.0", "2.0"]},
]}]}]}
SPEC = """domain: dom
domain_owner: "111122223333"
repository: repo
packages:
  - format: npm
    package: chalk
    rules:
      - {name: old, status: Archived, match: {range: "<2", older_than_days: 0}}
  - format: pypi
    package: flask_login
    resource: per-version
    versions: {"0.6.2": Unlisted}
  - format: maven
    namespace: com.acme
    package: lib
    allow_dispose: true
    versions: {"1.0": Disposed}
"""
CONVERGED = {("chalk", "1.0.0"): "Archived", ("flask-login", "0.6.2"): "Unlisted", ("lib", "1.0"): "Disposed"}
ARNS = {"chalk": "arn:aws:codeartifact:us-east-1:111122223333:package/dom/repo/npm//chalk",
        "flask-login": "arn:aws:codeartifact:us-east-1:111122223333:package/dom/repo/pypi//flask-login",
        "lib": "arn:aws:codeartifact:us-east-1:111122223333:package/dom/repo/maven/com.acme/lib"}


def generated_policy(tmp_path: Path) -> dict[str, Any]:
    specs = tmp_path / "policy-specs"
    specs.mkdir(exist_ok=True)
    (specs / "repo.yaml").write_text(SPEC)
    r = subprocess.run([sys.executable, "-m", "provider", "iam-policy", "--specs", str(specs), "--region", "us-east-1"],
                       cwd=ROOT, capture_output=True, text=True, env={"PATH": "/usr/bin"})
    assert r.returncode == 0, r.stderr
    doc: dict[str, Any] = json.loads(r.stdout)
    return doc


def fresh_up(emu: EmulatorProcess, tmp_path: Path, name: str, policy: dict[str, Any]) -> tuple[int, str]:
    emu.reset()
    emu.seed(SEED)
    emu.admin("policy", policy)
    s: Stack = new_stack(tmp_path / name, (ROOT / "__main__.py").read_text(), files={"specs/repo.yaml": SPEC},
                         refresh_always=True)
    for k, v in (("endpointUrl", emu.url), ("region", "us-east-1"), ("allowDispose", "true")):
        s.config(f"codeartifact:{k}", v)
    r = s.run("up", "--yes", "--skip-preview", expect=None)
    return r.returncode, r.stdout + r.stderr


def statuses(emu: EmulatorProcess) -> dict[tuple[str, str], str]:
    return {(v["package"], v["version"]): v["status"] for v in emu.admin("versions")["versions"]}


def without(policy: dict[str, Any], i: int, arn: str) -> dict[str, Any]:
    """The policy with one ARN taken out of statement ``i``."""
    statements = [dict(st, Resource=[a for a in st["Resource"] if not (n == i and a == arn)])
                  for n, st in enumerate(policy["Statement"])]
    return {**policy, "Statement": [st for st in statements if st["Resource"]]}


def test_the_generated_policy_is_exactly_enough(emulator: EmulatorProcess, tmp_path: Path) -> None:
    policy = generated_policy(tmp_path)
    statements = policy["Statement"]
    # Read+update for every package, DescribePackageVersion only where an age condition reads it,
    # dispose only for the opted-in one; one statement per action set.
    read_update = ("codeartifact:ListPackageVersions", "codeartifact:UpdatePackageVersionsStatus")
    assert sorted((arn, tuple(s["Action"])) for s in statements for arn in s["Resource"]) == sorted(
        [(ARNS["chalk"], ("codeartifact:ListPackageVersions", "codeartifact:DescribePackageVersion",
                          "codeartifact:UpdatePackageVersionsStatus")),
         (ARNS["flask-login"], read_update), (ARNS["lib"], read_update),
         (ARNS["lib"], ("codeartifact:DisposePackageVersions",))])
    assert len(statements) == 3

    code, out = fresh_up(emulator, tmp_path, "full", policy)
    assert code == 0, out[-3000:]
    got = statuses(emulator)
    assert {k: got[k] for k in CONVERGED} == CONVERGED

    n = 0
    for i, removed in enumerate(statements):
        for arn in removed["Resource"]:
            code, out = fresh_up(emulator, tmp_path, f"without-{n}", without(policy, i, arn))
            n += 1
            assert code != 0
            affected = next(p for p, a in ARNS.items() if a == arn)
            action = "codeartifact:DisposePackageVersions" if removed["Action"] == ["codeartifact:DisposePackageVersions"] \
                else "codeartifact:ListPackageVersions"
            assert f"not authorized to perform: {action} on resource: {arn}" in out, (removed, out[-3000:])
            got = statuses(emulator)
            for (pkg, version), status in CONVERGED.items():
                if pkg == affected:
                    assert got[(pkg, version)] != status, (removed, got)
                else:
                    assert got[(pkg, version)] == status, (removed, got)


POLICY_SPEC = """domain: dom
domain_owner: "111122223333"
repository: repo
policies:
  - name: npm-releases
    select: {formats: [npm], include: ["ch*"]}
    rules:
      - {name: old, status: Archived, match: {range: "<2"}}
"""


def test_a_repository_policy_is_granted_discovery_and_its_package_patterns(emulator: EmulatorProcess,
                                                                          tmp_path: Path) -> None:
    specs = tmp_path / "policy-specs"
    specs.mkdir()
    (specs / "repo.yaml").write_text(POLICY_SPEC)
    r = subprocess.run([sys.executable, "-m", "provider", "iam-policy", "--specs", str(specs), "--region", "us-east-1"],
                       cwd=ROOT, capture_output=True, text=True, env={"PATH": "/usr/bin"})
    assert r.returncode == 0, r.stderr
    policy = json.loads(r.stdout)
    grants = sorted((arn, tuple(s["Action"])) for s in policy["Statement"] for arn in s["Resource"])
    assert grants == [
        ("arn:aws:codeartifact:us-east-1:111122223333:package/dom/repo/npm/*/ch*",
         ("codeartifact:ListPackageVersions", "codeartifact:UpdatePackageVersionsStatus")),
        ("arn:aws:codeartifact:us-east-1:111122223333:repository/dom/repo", ("codeartifact:ListPackages",))]

    def up(name: str, doc: dict[str, Any]) -> tuple[int, str]:
        emulator.reset()
        emulator.seed(SEED)
        emulator.admin("policy", doc)
        s = new_stack(tmp_path / name, (ROOT / "__main__.py").read_text(), files={"specs/repo.yaml": POLICY_SPEC},
                      refresh_always=True)
        for k, v in (("endpointUrl", emulator.url), ("region", "us-east-1")):
            s.config(f"codeartifact:{k}", v)
        p = s.run("up", "--yes", "--skip-preview", expect=None)
        return p.returncode, p.stdout + p.stderr

    code, out = up("full", policy)
    assert code == 0, out[-3000:]
    assert statuses(emulator)[("chalk", "1.0.0")] == "Archived"
    discovery = next(i for i, st in enumerate(policy["Statement"]) if st["Action"] == ["codeartifact:ListPackages"])
    code, out = up("no-discovery", without(policy, discovery,
                                           "arn:aws:codeartifact:us-east-1:111122223333:repository/dom/repo"))
    assert code != 0 and "not authorized to perform: codeartifact:ListPackages" in out
    assert statuses(emulator)[("chalk", "1.0.0")] == "Published", "nothing is applied when discovery is denied"

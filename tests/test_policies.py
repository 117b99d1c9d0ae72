"""Repository policies offline: which packages a `select` takes (formats, namespaces, include and
exclude globs compared as CodeArtifact compares names, origin controls), how a package's own entry
extends its policy, the errors a bad policy gets (file:line), planning against a snapshot's
package list (two policies on one package fail that package alone), the shard a package lands in,
and the client-side pacing's token buckets (a fake clock: no timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.testing import ROOT
from provider._core.model import PackageArgs
from provider._core.pacing import LIST_VERSIONS_QUOTA, Pacer, TokenBucket
from provider.rules import spec
from provider.stack import program, snapshot

ALLOWED = {"publish": "ALLOW", "upstream": "BLOCK"}


def select(**kw: object) -> spec.PackageSelect:
    return spec.PackageSelect.model_validate(kw)


def test_select_compares_names_and_namespaces_as_the_service_does() -> None:
    s = select(formats=["pypi"], include=["acme_*"], exclude=["acme-legacy*"])
    assert s.selects("pypi", None, "Acme.SDK", ALLOWED)  # acme-sdk matches acme-*
    assert not s.selects("pypi", None, "acme_legacy_tools", ALLOWED)  # exclude beats include
    assert not s.selects("npm", None, "acme_sdk", ALLOWED)
    ns = select(namespaces=["acme", ""])
    assert ns.selects("npm", "acme", "ui", ALLOWED) and ns.selects("npm", None, "lodash", ALLOWED)
    assert not ns.selects("npm", "other", "ui", ALLOWED)
    assert not select(namespaces=["acme"]).selects("npm", None, "lodash", ALLOWED)


def test_select_by_origin_controls() -> None:
    cache = select(upstream="ALLOW")
    assert cache.selects("npm", None, "lodash", {"publish": "BLOCK", "upstream": "ALLOW"})
    assert not cache.selects("npm", None, "app", {"publish": "ALLOW", "upstream": "BLOCK"})
    assert not cache.selects("npm", None, "app", {"publish": None, "upstream": None}), "unknown is not a match"


def test_an_entry_extends_its_policy() -> None:
    pol = spec.PolicySpec.model_validate({
        "name": "p", "protected": ["1.*"], "allow_dispose": False, "rules": [
            {"name": "a", "status": "Archived"}, {"name": "b", "status": "Unlisted", "match": {"prerelease": True}}]})
    entry = spec.PackageSpec.model_validate({
        "format": "npm", "package": "x", "protected": ["2.0.0"], "allow_dispose": True,
        "versions": {"3.0.0": "Disposed"}, "rules": [{"name": "a", "status": "Unlisted", "keep_latest": 2},
                                                     {"name": "c", "status": "Archived", "priority": 5}]})
    pkg, origins = spec.effective_package(pol, ("policies", 0), "npm", None, "x", entry, ("packages", 3))
    assert [(r.name, r.status) for r in pkg.rules] == [("b", "Unlisted"), ("a", "Unlisted"), ("c", "Archived")]
    assert pkg.protected == ["1.*", "2.0.0"] and pkg.allow_dispose and pkg.versions == {"3.0.0": "Disposed"}
    assert pkg.resource == "repository"  # the policy's shape: the entry did not say otherwise
    assert origins[("rules", 0)] == ("policies", 0, "rules", 1)
    assert origins[("rules", 1)] == ("packages", 3, "rules", 0)
    assert origins[("protected", 1)] == ("packages", 3, "protected", 0)
    alone, _ = spec.effective_package(pol, ("policies", 0), "npm", None, "y")
    assert [r.name for r in alone.rules] == ["a", "b"] and not alone.allow_dispose


@pytest.mark.parametrize("body, where", [
    ("policies:\n  - name: a\n  - name: a\n", "repo.yaml:3: policies: policy names must be unique"),
    ("policies:\n  - name: a\n    select: {formats: [maven]}\n    rules:\n"
     "      - {name: r, status: Archived, match: {range: \"^1.0\"}}\n", "repo.yaml:7: policies[0].rules[0].match.range"),
    ("policies:\n  - name: a\n    select: {include: 7}\n", "repo.yaml:5: policies[0].select.include"),
    ("policies:\n  - name: a\n    select: {publish: allow}\n", "repo.yaml:5: policies[0].select.publish"),
    ("policies:\n  - name: a\n    rules:\n      - {name: x, status: Archived}\n      - {name: x, status: Unlisted}\n",
     "repo.yaml:5: policies[0].rules: rule names must be unique in a policy (x)"),
])
def test_a_bad_policy_is_an_error_naming_file_and_line(tmp_path: Path, body: str, where: str) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "repo.yaml").write_text("domain: dom\nrepository: repo\n" + body)
    with pytest.raises(spec.SpecError) as e:
        spec.load_dir(tmp_path / "specs")
    assert any(p.startswith("specs/" + where) for p in e.value.problems), e.value.problems


def snap(packages: list[dict[str, object]]) -> snapshot.Snapshot:
    return snapshot.Snapshot.model_validate({"repositories": [{"domain": "dom", "repository": "repo", "packages": [
        {**p, "publish": "ALLOW", "upstream": "BLOCK",
         "versions": [{"version": v, "status": "Published", "publish_rank": i} for i, v in enumerate(p["versions"])]}
        for p in packages]}]})


SNAP = [{"format": "npm", "package": n, "versions": ["1.0.2", "1.0.1", "1.0.0"]} for n in ("a", "b", "c11", "c12")]


def plans(tmp_path: Path, text: str, extra: dict[str, str] = {}) -> list[program.PackagePlan]:
    d = tmp_path / "specs"
    d.mkdir(exist_ok=True)
    (d / "repo.yaml").write_text(text)
    for name, body in extra.items():
        (d / name).write_text(body)
    s = snap(SNAP)
    return program.plan(d, 0.0, snapshot.listing(s), isolate=True, discovery=snapshot.discovery(s),
                        default_owner="", describing=program.no_describe)


def test_two_policies_on_one_package_fail_that_package_alone(tmp_path: Path) -> None:
    out = plans(tmp_path, "domain: dom\nrepository: repo\npolicies:\n  - name: all\n    rules:\n"
                          "      - {name: old, status: Archived, keep_latest: 1}\n"
                          "  - name: cs\n    select: {include: [\"c1?\"]}\n")
    by = {p.label: p for p in out}
    assert set(by) == {f"dom/repo/npm/{n}" for n in ("a", "b", "c11", "c12")}
    assert by["dom/repo/npm/a"].changes() == {v: {"from": "Published", "to": "Archived", "rule": "rule:old"}
                                              for v in ("1.0.0", "1.0.1")}
    problem = by["dom/repo/npm/c11"].problems[0]
    assert problem.startswith("specs/repo.yaml:4: dom/repo/npm/c11: selected by more than one policy")
    assert "'all' (specs/repo.yaml:4)" in problem and "'cs' (specs/repo.yaml:7)" in problem
    assert not by["dom/repo/npm/c11"].decisions


def test_an_entry_in_another_file_cannot_extend_a_policy(tmp_path: Path) -> None:
    out = plans(tmp_path, "domain: dom\nrepository: repo\npolicies:\n  - name: all\n",
                {"more.yaml": "domain: dom\nrepository: repo\npackages:\n  - {format: npm, package: b}\n"})
    (b,) = [p for p in out if p.label == "dom/repo/npm/b"]
    assert b.problems and "specs/more.yaml:4" in b.problems[0] and "another file" in b.problems[0]


def test_policy_rules_errors_name_the_policy_line(tmp_path: Path) -> None:
    out = plans(tmp_path, "domain: dom\nrepository: repo\npolicies:\n  - name: all\n    rules:\n"
                          "      - {name: x, status: Archived}\n      - {name: y, status: Unlisted}\n")
    problem = next(p for p in out if p.label == "dom/repo/npm/a").problems[0]
    assert problem.startswith("specs/repo.yaml:6: dom/repo/npm/a: rules[0]: version"), problem


def test_the_offline_plan_discovers_packages_from_the_snapshot(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "repo.yaml").write_text(
        "domain: dom\nrepository: repo\npolicies:\n  - name: all\n    select: {exclude: [\"c*\"]}\n    rules:\n"
        "      - {name: old, status: Archived, keep_latest: 2}\n")
    (tmp_path / "live.json").write_text(snap(SNAP).model_dump_json())
    r = subprocess.run([sys.executable, "-m", "provider", "plan", "--specs", str(tmp_path / "specs"), "--live",
                        str(tmp_path / "live.json"), "--json"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    report = {p["package"]: p for p in json.loads(r.stdout)["packages"]}
    assert set(report) == {"dom/repo/npm/a", "dom/repo/npm/b"}
    assert [v["version"] for v in report["dom/repo/npm/a"]["versions"] if v["change"]] == ["1.0.0"]
    assert report["dom/repo/npm/a"]["spec"] == "specs/repo.yaml:4"


def test_a_package_lands_in_the_same_shard_whatever_its_spelling() -> None:
    def args(name: str) -> PackageArgs:
        return PackageArgs(domain="dom", repository="repo", format="pypi", package=name)
    assert program.shard_of(args("Flask_Login")) == program.shard_of(args("flask-login"))
    spread = {program.shard_of(args(f"pkg{i}")) for i in range(400)}
    assert spread == set(range(program.SHARDS)), "packages spread over every shard"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_token_bucket_never_exceeds_its_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(200.0, clock, clock.sleep)
    for _ in range(1000):
        bucket.take()
    # 1,000 requests at 200/s: the first 40 are the burst, the rest wait for tokens
    assert clock.now == pytest.approx((1000 - bucket.capacity) / 200.0)
    assert bucket.capacity == 40.0


def test_the_pacer_routes_actions_to_their_quotas() -> None:
    clock = FakeClock()
    pacer = Pacer(500.0, 20.0, clock, clock.sleep)
    assert pacer.list_versions.rate == LIST_VERSIONS_QUOTA, "never above the documented quota"
    assert pacer.buckets("UpdatePackageVersionsStatus") == (pacer.writes,)
    assert pacer.buckets("ListPackageVersions") == (pacer.list_versions, pacer.reads)
    assert pacer.buckets("DescribePackageVersion") == (pacer.reads,)
    for _ in range(24):
        pacer.before_send(event_name="before-send.codeartifact.DisposePackageVersions")
    assert clock.now == pytest.approx(20 / 20.0), "20 writes after the burst of 4 take a second at 20/s"

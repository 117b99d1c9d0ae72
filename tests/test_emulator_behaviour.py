"""The emulator's service behaviour through boto3 over HTTP: validation the SDK does not do
client-side, not-found paths with their resourceType, namespaces and name normalization per format,
pagination, publishing, SigV4, deny rules, fault injection, counters, SQLite persistence and
transactional concurrent updates."""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.testing import ACCESS_KEY, EmulatorProcess, client, start_emulator

pytestmark = pytest.mark.emulator

LOC = {"domain": "dom", "repository": "repo"}


def seed_packages(emu: EmulatorProcess, packages: list[dict[str, Any]]) -> None:
    emu.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": packages}]}]})


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    return exc.value.response["Error"] | {"status": exc.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def raw_post(url: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
    """A correctly signed request that bypasses boto3's client-side parameter validation."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from emulator.testing import SECRET_KEY

    req = AWSRequest("POST", url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "codeartifact", "us-east-1").add_auth(req)
    prepared = urllib.request.Request(req.url, data=req.body, headers=dict(req.headers), method="POST")
    try:
        with urllib.request.urlopen(prepared) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


class TestValidation:
    def test_more_than_100_versions_is_a_validation_error(self, emulator: EmulatorProcess, ca: Any) -> None:
        seed_packages(emulator, [{"format": "npm", "name": "a", "versions": ["1.0.0"]}])
        with pytest.raises(ClientError) as e:
            ca.update_package_versions_status(**LOC, format="npm", package="a", targetStatus="Archived",
                                              versions=[f"1.0.{i}" for i in range(101)])
        assert error_of(e)["Code"] == "ValidationException" and error_of(e)["status"] == 400

    def test_unknown_enum_values_are_rejected_by_the_service(self, emulator: EmulatorProcess) -> None:
        seed_packages(emulator, [{"format": "npm", "name": "a", "versions": ["1.0.0"]}])
        status, headers, body = raw_post(
            emulator.url, "/v1/package/versions/update_status?domain=dom&repository=repo&format=npm&package=a",
            {"versions": ["1.0.0"], "targetStatus": "Gone"})
        assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException"
        assert "targetStatus" in body["message"] and "enum" in body["message"]
        status, headers, body = raw_post(
            emulator.url, "/v1/package/versions/update_status?domain=dom&repository=repo&format=rpm&package=a",
            {"versions": ["1.0.0"], "targetStatus": "Archived"})
        assert status == 400 and "format" in body["message"]

    def test_version_revisions_must_name_the_same_versions(self, emulator: EmulatorProcess, ca: Any) -> None:
        seed_packages(emulator, [{"format": "npm", "name": "a", "versions": ["1.0.0", "2.0.0"]}])
        with pytest.raises(ClientError) as e:
            ca.update_package_versions_status(**LOC, format="npm", package="a", targetStatus="Archived",
                                              versions=["1.0.0", "2.0.0"], versionRevisions={"1.0.0": "x"})
        assert error_of(e)["Code"] == "ValidationException"

    def test_name_patterns_are_enforced(self, emulator: EmulatorProcess, ca: Any) -> None:
        seed_packages(emulator, [{"format": "npm", "name": "a", "versions": ["1.0.0"]}])
        with pytest.raises(ClientError) as e:
            ca.list_package_versions(**LOC, format="npm", package="bad name")
        assert error_of(e)["Code"] == "ValidationException"
        with pytest.raises(ClientError) as e:
            ca.describe_domain(domain="Bad-Domain")
        assert error_of(e)["Code"] == "ValidationException"

    def test_max_results_range_and_forged_tokens(self, emulator: EmulatorProcess, ca: Any) -> None:
        seed_packages(emulator, [{"format": "npm", "name": "a", "versions": ["1.0.0"]}])
        with pytest.raises(ClientError) as e:
            ca.list_package_versions(**LOC, format="npm", package="a", maxResults=1001)
        assert error_of(e)["Code"] == "ValidationException"
        with pytest.raises(ClientError) as e:
            ca.list_package_versions(**LOC, format="npm", package="a", nextToken="forged-token")
        assert error_of(e)["Code"] == "ValidationException"


class TestNotFound:
    @pytest.mark.parametrize("kwargs,resource_type", [
        ({"domain": "nodomain", "repository": "repo"}, "domain"),
        ({"domain": "dom", "repository": "norepo"}, "repository"),
    ])
    def test_missing_containers(self, emulator: EmulatorProcess, ca: Any, kwargs: dict[str, str],
                                resource_type: str) -> None:
        seed_packages(emulator, [{"format": "npm", "name": "a", "versions": ["1.0.0"]}])
        with pytest.raises(ClientError) as e:
            ca.list_package_versions(**kwargs, format="npm", package="a")
        assert error_of(e)["Code"] == "ResourceNotFoundException"
        assert e.value.response["resourceType"] == resource_type

    def test_missing_package_and_version(self, emulator: EmulatorProcess, ca: Any) -> None:
        seed_packages(emulator, [{"format": "npm", "name": "a", "versions": ["1.0.0"]}])
        with pytest.raises(ClientError) as e:
            ca.update_package_versions_status(**LOC, format="npm", package="nope", versions=["1.0.0"],
                                              targetStatus="Archived")
        assert e.value.response["resourceType"] == "package"
        with pytest.raises(ClientError) as e:
            ca.describe_package_version(**LOC, format="npm", package="a", packageVersion="9.9.9")
        assert e.value.response["resourceType"] == "package-version"
        out = ca.update_package_versions_status(**LOC, format="npm", package="a", versions=["1.0.0", "9.9.9"],
                                                targetStatus="Archived")
        assert out["failedVersions"]["9.9.9"]["errorCode"] == "NOT_FOUND"
        assert out["failedVersions"]["1.0.0"]["errorCode"] == "SKIPPED"

    def test_wrong_domain_owner_is_not_found(self, emulator: EmulatorProcess, ca: Any) -> None:
        seed_packages(emulator, [{"format": "npm", "name": "a", "versions": ["1.0.0"]}])
        with pytest.raises(ClientError) as e:
            ca.describe_domain(domain="dom", domainOwner="999999999999")
        assert e.value.response["resourceType"] == "domain"


class TestNamespaces:
    @pytest.mark.parametrize("fmt", ["pypi", "nuget", "ruby", "cargo"])
    def test_namespace_forbidden(self, emulator: EmulatorProcess, ca: Any, fmt: str) -> None:
        seed_packages(emulator, [{"format": fmt, "name": "a", "versions": ["1.0.0"]}])
        with pytest.raises(ClientError) as e:
            ca.list_package_versions(**LOC, format=fmt, namespace="ns", package="a")
        assert error_of(e)["Code"] == "ValidationException"

    @pytest.mark.parametrize("fmt", ["maven", "swift", "generic"])
    def test_namespace_required(self, emulator: EmulatorProcess, ca: Any, fmt: str) -> None:
        seed_packages(emulator, [{"format": fmt, "namespace": "ns", "name": "a", "versions": ["1.0.0"]}])
        with pytest.raises(ClientError) as e:
            ca.list_package_versions(**LOC, format=fmt, package="a")
        assert error_of(e)["Code"] == "ValidationException"
        assert ca.list_package_versions(**LOC, format=fmt, namespace="ns", package="a")["versions"]

    def test_npm_scope_without_at(self, emulator: EmulatorProcess, ca: Any) -> None:
        seed_packages(emulator, [{"format": "npm", "namespace": "nestjs", "name": "core", "versions": ["8.0.0"]}])
        with pytest.raises(ClientError):
            ca.list_package_versions(**LOC, format="npm", namespace="@nestjs", package="core")
        assert ca.list_package_versions(**LOC, format="npm", namespace="nestjs", package="core")["versions"]

    def test_names_are_normalized(self, emulator: EmulatorProcess, ca: Any) -> None:
        seed_packages(emulator, [
            {"format": "pypi", "name": "Foo_Bar.baz", "versions": ["1.0"]},
            {"format": "nuget", "name": "Newtonsoft.Json", "versions": ["13.0.1"]},
            {"format": "swift", "namespace": "Apple", "name": "Swift-Log", "versions": ["1.5.0"]},
        ])
        assert ca.list_package_versions(**LOC, format="pypi", package="foo-bar-baz")["package"] == "foo-bar-baz"
        assert ca.list_package_versions(**LOC, format="pypi", package="FOO.bar_BAZ")["versions"][0]["version"] == "1.0"
        assert ca.list_package_versions(**LOC, format="nuget", package="NEWTONSOFT.JSON")["package"] == "newtonsoft.json"
        out = ca.list_package_versions(**LOC, format="swift", namespace="apple", package="swift-log")
        assert out["namespace"] == "apple" and out["package"] == "swift-log"


class TestListing:
    def test_pagination_returns_every_version_once(self, emulator: EmulatorProcess, ca: Any) -> None:
        seed_packages(emulator, [{"format": "npm", "name": "a", "versions": [f"1.0.{i}" for i in range(120)]}])
        pages = list(ca.get_paginator("list_package_versions").paginate(
            **LOC, format="npm", package="a", PaginationConfig={"PageSize": 50}))
        assert [len(p["versions"]) for p in pages] == [50, 50, 20]
        seen = [v["version"] for p in pages for v in p["versions"]]
        assert sorted(seen) == sorted(f"1.0.{i}" for i in range(120))
        assert len(ca.list_package_versions(**LOC, format="npm", package="a")["versions"]) == 50  # default

    def test_status_filter_and_published_time_sort(self, emulator: EmulatorProcess, ca: Any) -> None:
        seed_packages(emulator, [{"format": "npm", "name": "a", "versions": [
            {"version": "1.0.0", "published": "2020-01-01T00:00:00Z"},
            {"version": "2.0.0", "published": "2022-01-01T00:00:00Z", "status": "Archived"},
            {"version": "1.5.0", "published": "2021-01-01T00:00:00Z", "origin": "EXTERNAL"},
        ]}])
        out = ca.list_package_versions(**LOC, format="npm", package="a", sortBy="PUBLISHED_TIME")
        assert [v["version"] for v in out["versions"]] == ["2.0.0", "1.5.0", "1.0.0"]
        out = ca.list_package_versions(**LOC, format="npm", package="a", status="Archived")
        assert [v["version"] for v in out["versions"]] == ["2.0.0"]
        out = ca.list_package_versions(**LOC, format="npm", package="a", originType="EXTERNAL")
        assert [v["version"] for v in out["versions"]] == ["1.5.0"]
        desc = ca.describe_package_version(**LOC, format="npm", package="a", packageVersion="1.0.0")
        assert desc["packageVersion"]["publishedTime"].year == 2020

    def test_domains_repositories_packages(self, emulator: EmulatorProcess, ca: Any) -> None:
        ca.create_domain(domain="made-here")
        ca.create_repository(domain="made-here", repository="r1", description="d")
        with pytest.raises(ClientError) as e:
            ca.create_domain(domain="made-here")
        assert error_of(e)["Code"] == "ConflictException"
        assert ca.describe_repository(domain="made-here", repository="r1")["repository"]["description"] == "d"
        assert [r["name"] for r in ca.list_repositories_in_domain(domain="made-here")["repositories"]] == ["r1"]
        assert "made-here" in [d["name"] for d in ca.list_domains()["domains"]]
        assert any(r["name"] == "r1" for r in ca.list_repositories()["repositories"])
        seed_packages(emulator, [{"format": "npm", "name": "a", "versions": ["1"]},
                                 {"format": "pypi", "name": "b", "versions": ["1"]}])
        assert [p["package"] for p in ca.list_packages(**LOC, format="pypi")["packages"]] == ["b"]
        assert ca.describe_package(**LOC, format="npm", package="a")["package"]["name"] == "a"


class TestPublish:
    def test_publish_generic_checks_sha_and_tracks_revisions(self, emulator: EmulatorProcess, ca: Any) -> None:
        ca.create_domain(domain="dom")
        ca.create_repository(domain="dom", repository="repo")
        pub = dict(**LOC, format="generic", namespace="tools", package="cli", packageVersion="1.0.0")
        with pytest.raises(ClientError) as e:
            ca.publish_package_version(**pub, assetContent=b"abc", assetName="a.bin", assetSHA256="0" * 64)
        assert error_of(e)["Code"] == "ValidationException"
        first = ca.publish_package_version(**pub, assetContent=b"abc", assetName="a.bin", unfinished=True,
                                           assetSHA256=hashlib.sha256(b"abc").hexdigest())
        assert first["status"] == "Unfinished"
        second = ca.publish_package_version(**pub, assetContent=b"xyz", assetName="b.bin",
                                            assetSHA256=hashlib.sha256(b"xyz").hexdigest())
        assert second["status"] == "Published" and second["versionRevision"] != first["versionRevision"]
        with pytest.raises(ClientError) as e:
            ca.publish_package_version(**pub, assetContent=b"q", assetName="c.bin",
                                       assetSHA256=hashlib.sha256(b"q").hexdigest())
        assert error_of(e)["Code"] == "ConflictException"
        assets = ca.list_package_version_assets(**{k: v for k, v in pub.items()})["assets"]
        assert sorted(a["name"] for a in assets) == ["a.bin", "b.bin"]

    def test_status_change_keeps_revision_and_republish_changes_it(self, emulator: EmulatorProcess, ca: Any) -> None:
        seed_packages(emulator, [{"format": "npm", "name": "a", "versions": ["1.0.0"]}])
        rev = ca.list_package_versions(**LOC, format="npm", package="a")["versions"][0]["revision"]
        ca.update_package_versions_status(**LOC, format="npm", package="a", versions=["1.0.0"], targetStatus="Unlisted")
        assert ca.list_package_versions(**LOC, format="npm", package="a")["versions"][0]["revision"] == rev
        new = emulator.admin("republish", {**LOC, "format": "npm", "package": "a", "version": "1.0.0"})["revision"]
        assert new != rev


class TestAuth:
    def test_unsigned_request_is_refused(self, emulator: EmulatorProcess) -> None:
        req = urllib.request.Request(emulator.url + "/v1/domains", data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req)
        assert e.value.code == 403

    def test_wrong_secret_fails_signature_check(self, emulator: EmulatorProcess) -> None:
        import boto3

        bad = boto3.session.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key="wrong",
                                    region_name="us-east-1").client("codeartifact", endpoint_url=emulator.url)
        with pytest.raises(ClientError) as e:
            bad.list_domains()
        assert error_of(e)["Code"] == "InvalidSignatureException" and error_of(e)["status"] == 403

    def test_deny_rule_names_action_and_package_arn(self, emulator: EmulatorProcess, ca: Any) -> None:
        seed_packages(emulator, [{"format": "npm", "name": "a", "versions": ["1.0.0"]},
                                 {"format": "npm", "name": "b", "versions": ["1.0.0"]}])
        emulator.admin("deny", {"rules": [{"action": "codeartifact:UpdatePackageVersionsStatus",
                                           "resource": "arn:aws:codeartifact:*:package/dom/repo/npm//a"}]})
        with pytest.raises(ClientError) as e:
            ca.update_package_versions_status(**LOC, format="npm", package="a", versions=["1.0.0"],
                                              targetStatus="Archived")
        msg = error_of(e)["Message"]
        assert error_of(e)["Code"] == "AccessDeniedException"
        assert "codeartifact:UpdatePackageVersionsStatus" in msg
        assert "arn:aws:codeartifact:us-east-1:111122223333:package/dom/repo/npm//a" in msg
        ok = ca.update_package_versions_status(**LOC, format="npm", package="b", versions=["1.0.0"],
                                               targetStatus="Archived")
        assert ok["successfulVersions"]["1.0.0"]["status"] == "Archived"


class TestFaultsAndCounters:
    def test_throttling_carries_retry_after_and_is_counted(self, emulator: EmulatorProcess, ca: Any) -> None:
        seed_packages(emulator, [{"format": "npm", "name": "a", "versions": ["1.0.0"]}])
        emulator.faults(throttle_probability=1.0, retry_after_seconds=3)
        with pytest.raises(ClientError) as e:
            ca.list_package_versions(**LOC, format="npm", package="a")
        assert error_of(e)["Code"] == "ThrottlingException"
        assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "3"
        emulator.faults()
        ca.list_package_versions(**LOC, format="npm", package="a")
        ops = emulator.counters()["operations"]["ListPackageVersions"]
        assert ops["requests"] == 2 and ops["throttled"] == 1 and ops["ok"] == 1

    def test_sdk_retries_transient_faults(self, emulator: EmulatorProcess) -> None:
        seed_packages(emulator, [{"format": "npm", "name": "a", "versions": ["1.0.0"]}])
        emulator.faults(error_probability=0.5, drop_probability=0.2, seed=7)
        retrying = client(emulator.url, retries=20)
        for _ in range(10):
            assert retrying.list_package_versions(**LOC, format="npm", package="a")["versions"]
        ops = emulator.counters()["operations"]["ListPackageVersions"]
        assert ops["ok"] == 10 and ops["requests"] > 10

    def test_error_after_apply_really_applied(self, emulator: EmulatorProcess, ca: Any) -> None:
        seed_packages(emulator, [{"format": "npm", "name": "a", "versions": ["1.0.0"]}])
        emulator.faults(error_after_probability=1.0, operations=["UpdatePackageVersionsStatus"])
        with pytest.raises(ClientError):
            ca.update_package_versions_status(**LOC, format="npm", package="a", versions=["1.0.0"],
                                              targetStatus="Archived")
        assert ca.list_package_versions(**LOC, format="npm", package="a")["versions"][0]["status"] == "Archived"


def test_sqlite_state_survives_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "ca.sqlite")
    emu = start_emulator(db=db)
    try:
        seed_packages(emu, [{"format": "npm", "name": "a", "versions": ["1.0.0"]}])
        client(emu.url).update_package_versions_status(**LOC, format="npm", package="a", versions=["1.0.0"],
                                                       targetStatus="Unlisted")
    finally:
        emu.stop()
    emu = start_emulator(db=db)
    try:
        out = client(emu.url).list_package_versions(**LOC, format="npm", package="a")
        assert out["versions"][0]["status"] == "Unlisted"
    finally:
        emu.stop()


def test_concurrent_conflicting_updates_apply_exactly_one(emulator: EmulatorProcess) -> None:
    """Eight writers race, each expecting Published; the all-or-nothing check is transactional, so
    exactly one wins and the others see MISMATCHED_STATUS."""
    seed_packages(emulator, [{"format": "npm", "name": "a", "versions": [f"1.0.{i}" for i in range(50)]}])
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def writer(target: str) -> None:
        out = client(emulator.url).update_package_versions_status(
            **LOC, format="npm", package="a", versions=[f"1.0.{i}" for i in range(50)],
            expectedStatus="Published", targetStatus=target)
        with lock:
            results.append(out)

    threads = [threading.Thread(target=writer, args=(t,)) for t in ["Archived", "Unlisted"] * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r["successfulVersions"]]
    assert len(winners) == 1
    assert all(len(r["failedVersions"]) == 50 for r in results if r is not winners[0])
    final = {v["status"] for v in client(emulator.url).list_package_versions(
        **LOC, format="npm", package="a", maxResults=100)["versions"]}
    assert final == {next(iter(winners[0]["successfulVersions"].values()))["status"]}


def test_keep_alive_responses_are_not_held_back(emulator: EmulatorProcess, ca: Any) -> None:
    """One write per response: 20 sequential calls on one keep-alive connection each answer in
    milliseconds (two writes would wait ~40 ms each for the client's delayed ACK), and the
    emulator counts exactly the calls the client made (none re-sent)."""
    import statistics
    import time

    seed_packages(emulator, [{"format": "npm", "name": "a", "versions": ["1.0.0"]}])
    ca.list_package_versions(**LOC, format="npm", package="a")  # opens the connection
    emulator.admin("counters/reset", {})
    took = []
    for _ in range(20):
        started = time.perf_counter()
        ca.list_package_versions(**LOC, format="npm", package="a")
        took.append(time.perf_counter() - started)
    assert statistics.median(took) < 0.010, took
    assert emulator.counters()["operations"]["ListPackageVersions"]["requests"] == 20

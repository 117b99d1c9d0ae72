"""Download evidence and hostile evidence files, offline: what the coverage check accepts and refuses
(properties over generated spans), that a version downloaded within the window is never selected,
exported tables (window, gaps, bad rows named by line), CloudTrail log files read by DuckDB, and
hostile files (deep nesting, huge numbers, numeric versions, symlink loops, broken gzip) each ending
in one EvidenceError naming the file, in bounded time."""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provider.rules import evidence
from provider.rules.conditions import downloads as cond
from provider.rules.evidence import downloads, files, trail
from provider.rules.evidence._refs import EvidenceError
from provider.rules.live import DAY, LiveVersion
from provider.rules.spec import Rule

NOW = 1_800_000_000.0


def ev(spans: list[tuple[float, float]]) -> downloads.Downloads:
    return downloads.Downloads(("x",), downloads._merge(spans))


@settings(max_examples=300, deadline=None)
@given(days=st.integers(1, 400), start=st.floats(0, 500),
       gap=st.one_of(st.none(), st.tuples(st.floats(0, 450), st.floats(1.01, 40))))
def test_a_window_is_covered_only_by_evidence_without_a_gap_of_more_than_a_day(
        days: int, start: float, gap: tuple[float, float] | None) -> None:
    """Logs from `start` days ago to now; `gap`: (days ago it ends, its length in days), no record inside."""
    spans = [(NOW - start * DAY, NOW)]
    if gap is not None:
        a, b = NOW - (gap[0] + gap[1]) * DAY, NOW - gap[0] * DAY
        spans = [(s, e) for s, e in ((spans[0][0], min(NOW, a)), (max(spans[0][0], b), NOW)) if e > s]
    problem = ev(spans).coverage_problem(days, NOW)
    if start < days:
        assert problem is not None and "first day missing" in problem
    elif gap is None:
        assert problem is None
    else:
        a, b = NOW - (gap[0] + gap[1]) * DAY, NOW - gap[0] * DAY
        if a >= NOW - days * DAY and b <= NOW - DAY and a > spans[0][0]:
            assert problem is not None and "first day missing" in problem, (spans, days)
        if b <= NOW - days * DAY or a >= NOW - DAY:
            assert problem is None, (spans, days, problem)


def live(version: str, downloaded: float | None, published_days: float) -> LiveVersion:
    return LiveVersion(version, "Published", "r", published=NOW - published_days * DAY, downloaded=downloaded,
                       downloads=1 if downloaded else 0, evidence_from=NOW - 400 * DAY)


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 365), ago=st.one_of(st.none(), st.floats(0, 800)), published_days=st.floats(0, 900))
def test_a_version_downloaded_within_the_window_is_never_selected(n: int, ago: float | None,
                                                                  published_days: float) -> None:
    v = live("1.0.0", None if ago is None else NOW - ago * DAY, published_days)
    matched = cond._matches("npm", n, None, v, NOW)
    if ago is not None and ago <= n:
        assert not matched
    if matched:
        assert published_days > n, "published within the window: too young to judge"
    assert not cond._matches("npm", n, None, LiveVersion("1.0.0", "Published", "r", published=0.0), NOW), \
        "no evidence attached: never 'not downloaded'"


def test_a_download_rule_can_only_unlist_or_archive() -> None:
    with pytest.raises(ValueError, match="can only decide Archived or Unlisted, not Disposed"):
        from provider.rules.spec import PackageSpec
        PackageSpec.model_validate({"format": "npm", "package": "x", "rules": [
            {"name": "gone", "status": "Disposed", "match": {"not_downloaded_for_days": 90}}]})
    assert Rule.model_validate({"name": "a", "status": "Archived", "match": {"not_downloaded_for_days": 90}})


def table(tmp_path: Path, rows: list[str], name: str = "last.csv") -> Path:
    p = tmp_path / name
    p.write_text(",".join(downloads.TABLE_COLUMNS) + "\n" + "".join(r + "\n" for r in rows))
    return p


def test_an_exported_table_gives_downloads_and_its_window(tmp_path: Path) -> None:
    w = "2026-06-01T00:00:00Z,2026-12-01T00:00:00Z,184"
    p = table(tmp_path, [f"npm,,lodash,4.17.21,2026-11-30T10:00:00Z,12,{w}", f"pypi,,Flask_Login,0.6.3,2026-07-01,3,{w}",
                         f",,,,,,{w}"])
    got = downloads.load([(p, "last.csv")], "d", "r", None)
    assert got.of("npm", None, "lodash")[0]["4.17.21"].count == 12
    assert got.of("pypi", None, "flask-login")[0]["0.6.3"].count == 3, "names compare as CodeArtifact compares them"
    assert got.coverage_problem(90, downloads._time("2026-12-01T12:00:00Z", "", "", "")) is None


def test_a_table_whose_window_has_days_without_records_is_refused(tmp_path: Path) -> None:
    p = table(tmp_path, ["npm,,a,1.0.0,2026-11-30T10:00:00Z,1,2026-06-01,2026-12-01,150"])
    with pytest.raises(EvidenceError, match=r"last.csv: the window 2026-06-01 .. 2026-12-01 spans 184 days but only 150"):
        downloads.load([(p, "last.csv")], "d", "r", None)


@pytest.mark.parametrize("row, message", [
    ("npm,,a,1.0.0,yesterday,1,2026-06-01,2026-12-01,184", "line 2: `last_downloaded` 'yesterday'"),
    ("npmx,,a,1.0.0,2026-11-01,1,2026-06-01,2026-12-01,184", "line 2: `format` 'npmx'"),
    ("npm,,a,1.0.0,2026-11-01,many,2026-06-01,2026-12-01,184", "line 2: `downloads` 'many'"),
    ("npm,,a,1.0.0,2026-11-01,1,,2026-12-01,184", "line 2: `window_start` is empty"),
])
def test_a_bad_table_row_is_named_by_file_and_line(tmp_path: Path, row: str, message: str) -> None:
    p = table(tmp_path, [row])
    with pytest.raises(EvidenceError) as e:
        downloads.load([(p, "last.csv")], "d", "r", None)
    assert str(e.value).startswith("last.csv: ") and message in str(e.value)


def record(when: str, name: str = "ReadFromRepository", **params: str) -> dict[str, object]:
    return {"eventTime": when, "eventSource": "codeartifact.amazonaws.com", "eventName": name,
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/ci/x"},
            "requestParameters": params}


def test_cloudtrail_files_give_downloads_status_writes_and_their_gaps(tmp_path: Path) -> None:
    recs = [record("2026-11-01T00:00:00Z", "ListDomains"), record("2026-11-02T00:00:00Z", domainName="d",
            repositoryName="r", packageFormat="npm", packageName="a", packageVersion="1.0.0"),
            record("2026-11-02T01:00:00Z", "UpdatePackageVersionsStatus", domain="d", repository="r", format="npm",
                   package="a", targetStatus="Archived") | {"responseElements": {"successfulVersions": {
                       "1.1.0": {"status": "Archived", "revision": "x"}}, "failedVersions": {}}},
            record("2026-11-02T02:00:00Z", domainName="other", repositoryName="r", packageFormat="npm",
                   packageName="a", packageVersion="9.9.9"),
            record("2026-11-05T00:00:00Z", "ListDomains")]
    f = tmp_path / "a.json.gz"
    with gzip.open(f, "wt") as out:
        json.dump({"Records": recs}, out)
    got = downloads.load([(f, "a.json.gz")], "d", "r", None)
    dl, writes = got.of("npm", None, "a")
    assert set(dl) == {"1.0.0"}, "another domain's read is not this repository's"
    assert writes["1.1.0"].status == "Archived"
    assert len(got.spans) == 2, "three days without a record split the coverage"


def write_trail(path: Path, recs: list[dict[str, object]]) -> Path:
    with gzip.open(path, "wt") as out:
        json.dump({"Records": recs}, out)
    return path


def test_a_package_manager_fetch_shaped_as_the_user_guide_documents_it_is_a_download(tmp_path: Path) -> None:
    """The user guide's example of an npm fetch: `requestParameters` {domainName, domainOwner,
    repositoryName, packageName, packageFormat, packageVersion}, the URL in additionalEventData."""
    rec = record("2026-11-02T00:00:00Z", domainName="d", domainOwner="111122223333", repositoryName="r",
                 packageName="left-pad", packageFormat="npm", packageVersion="1.3.0")
    rec |= {"readOnly": True, "eventType": "AwsApiCall", "responseElements": None,
            "additionalEventData": {"httpMethod": "GET", "requestUri": "/npm/left-pad/-/left-pad-1.3.0.tgz"}}
    f = write_trail(tmp_path / "a.json.gz", [rec])
    dl, _ = downloads.load([(f, "a.json.gz")], "d", "r", "111122223333").of("npm", None, "left-pad")
    assert set(dl) == {"1.3.0"} and dl["1.3.0"].count == 1
    other_owner, _ = downloads.load([(f, "a.json.gz")], "d", "r", "999999999999").of("npm", None, "left-pad")
    assert other_owner == {}, "a read in another account's domain of the same name is not this repository's"


def test_a_package_managers_read_without_a_namespace_counts_for_every_namespace_of_that_name(tmp_path: Path) -> None:
    """Where the trail may spell a namespace in a way this tool does not read, the read keeps the
    version in every namespace (a download can only keep a version, never retire one); an API call
    (`GetPackageVersionAsset`) names its namespace, so it counts for that namespace alone."""
    recs = [record("2026-11-02T00:00:00Z", domainName="d", repositoryName="r", packageFormat="maven",
                   packageName="core", packageVersion="1.0.0"),
            record("2026-11-02T00:01:00Z", domainName="d", repositoryName="r", packageFormat="npm",
                   packageName="@acme/ui", packageVersion="2.0.0"),
            record("2026-11-02T00:02:00Z", "GetPackageVersionAsset", domain="d", repository="r", format="maven",
                   namespace="org.other", package="util", packageVersion="3.0.0")]
    got = downloads.load([(write_trail(tmp_path / "a.json.gz", recs), "a.json.gz")], "d", "r", None)
    assert set(got.of("maven", "com.acme", "core")[0]) == {"1.0.0"}
    assert set(got.of("maven", "org.other", "core")[0]) == {"1.0.0"}
    assert set(got.of("npm", "acme", "ui")[0]) == {"2.0.0"}, "npm's `@scope/name` is that scope's package"
    assert got.of("npm", None, "ui")[0] == {}
    assert set(got.of("maven", "org.other", "util")[0]) == {"3.0.0"}
    assert got.of("maven", "com.acme", "util")[0] == {}, "an API call's namespace is its own"


def test_a_trail_whose_reads_name_no_version_is_refused_not_read_as_no_downloads(tmp_path: Path) -> None:
    recs = [record("2026-11-02T00:00:00Z", domainName="d", repositoryName="r", packageFormat="npm",
                   packageName="a", version="1.0.0"),  # a field name this tool does not read
            record("2026-11-02T00:05:00Z", domainName="d", repositoryName="r", packageFormat="npm", packageName="a")]
    f = write_trail(tmp_path / "a.json.gz", recs)
    with pytest.raises(EvidenceError, match=r"^a.json.gz: 2 ReadFromRepository record\(s\) of d/r and none names a "
                                            r"package version"):
        downloads.load([(f, "a.json.gz")], "d", "r", None)
    # metadata reads beside real fetches are normal (`npm install` reads the packument first)
    recs.append(record("2026-11-02T00:06:00Z", domainName="d", repositoryName="r", packageFormat="npm",
                       packageName="a", packageVersion="1.0.0"))
    ok = downloads.load([(write_trail(tmp_path / "b.json.gz", recs), "b.json.gz")], "d", "r", None)
    assert set(ok.of("npm", None, "a")[0]) == {"1.0.0"}


HOSTILE_JSON = {
    "deep.cdx.json": b'{"bomFormat": "CycloneDX", "components": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "package-lock.json": b'{"lockfileVersion": 3, "packages": ' + b'{"a":' * 100_000 + b"1" + b"}" * 100_001,
    "deep.spdx.json": b'{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "packages": [{"SPDXID": "a", '
                      b'"externalRefs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]}",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_JSON))
def test_json_nested_100k_deep_is_one_error_naming_the_file(tmp_path: Path, name: str) -> None:
    p = tmp_path / name
    p.write_bytes(HOSTILE_JSON[name])
    t = time.monotonic()
    with pytest.raises(EvidenceError) as e:
        evidence.read(p, name)
    assert str(e.value).startswith(f"{name}: ") and "\n" not in str(e.value)
    assert time.monotonic() - t < 10


def test_a_5000_digit_integer_and_toml_nested_5k_deep_are_errors_naming_the_file(tmp_path: Path) -> None:
    lock = tmp_path / "package-lock.json"
    lock.write_text('{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0.0", "size": '
                    + "9" * 5000 + "}}}")
    with pytest.raises(EvidenceError, match=r"^package-lock.json: not usable JSON: Exceeds the limit"):
        evidence.read(lock, "package-lock.json")
    uv = tmp_path / "uv.lock"
    uv.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(EvidenceError, match=r"^uv.lock: "):
        evidence.read(uv, "uv.lock")
    big = tmp_path / "Cargo.lock"
    big.write_text("x = " + "9" * 5000 + "\n")
    with pytest.raises(EvidenceError, match=r"^Cargo.lock: not usable TOML"):
        evidence.read(big, "Cargo.lock")


def test_a_numeric_version_in_a_package_lock_is_an_error_not_a_skip(tmp_path: Path) -> None:
    lock = tmp_path / "package-lock.json"
    lock.write_text('{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": 1.0}}}')
    with pytest.raises(EvidenceError, match=r"node_modules/a'\]: `version` is 1.0, not a string"):
        evidence.read(lock, "package-lock.json")


def test_a_glob_over_symlinks_to_a_parent_folder_ends_in_bounded_time(tmp_path: Path) -> None:
    root = tmp_path / "evidence"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "sbom.cdx.json").write_text('{"bomFormat": "CycloneDX", "components": []}')
    os.symlink(root, root / "a" / "loop1")
    os.symlink(root / "a", root / "a" / "b" / "loop2")
    t = time.monotonic()
    found = files.files_of(tmp_path, "evidence/**/*.json")
    assert time.monotonic() - t < 5
    assert [p.name for p in found] == ["sbom.cdx.json"], "symlinked folders are not entered"


@pytest.mark.parametrize("name, data, message", [
    ("x.json.gz", b"not gzip", "Input is not a GZIP stream"),
    ("deep.json", b'{"Records": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "recursion depth"),
    ("none.json", b'{"x": 1}', "no `Records` list"),
    ("notime.json", b'{"Records": [{"eventName": "x"}]}', "without a valid `eventTime`"),
])
def test_a_hostile_trail_file_is_one_error_naming_it(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    p = tmp_path / name
    p.write_bytes(data)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"Records": [record("2026-11-01T00:00:00Z", "ListDomains")]}))
    with pytest.raises(EvidenceError) as e:
        trail.read([(good, "good.json"), (p, name)], "d", "r", None)
    assert str(e.value).startswith(f"{name}: ") and message in str(e.value)


def test_iam_policy_grants_the_evidence_reads_only_when_a_spec_uses_downloads(tmp_path: Path) -> None:
    from provider.cli.iam_policy import policy
    specs = tmp_path / "specs"
    specs.mkdir()
    (tmp_path / "trail.json").write_text(json.dumps({"Records": [record("2026-11-01T00:00:00Z", "ListDomains")]}))
    base = "domain: dom\nrepository: repo\ndomain_owner: '111122223333'\npackages:\n  - {format: npm, package: a}\n"
    (specs / "a.yaml").write_text(base)
    plain = policy(specs, "us-east-1", None, evidence_bucket="trail-bucket/AWSLogs")
    assert not any(a.startswith("s3:") for st in plain["Statement"] for a in st["Action"]), "not used: not granted"
    (specs / "a.yaml").write_text(base.replace("packages:", "downloads: {files: [../trail.json]}\npackages:"))
    doc = policy(specs, "us-east-1", None, evidence_bucket="trail-bucket/AWSLogs")
    by_sid = {st["Sid"]: st for st in doc["Statement"]}
    assert by_sid["ListDownloadEvidence"]["Resource"] == ["arn:aws:s3:::trail-bucket"]
    assert by_sid["ReadDownloadEvidence"]["Resource"] == ["arn:aws:s3:::trail-bucket/AWSLogs/*"]


def test_iam_policy_statement_ids_are_unique_as_iam_requires(tmp_path: Path) -> None:
    """Packages with and without a condition that reads published times need different action
    sets, hence two statements; IAM refuses a policy whose Sids repeat (MalformedPolicyDocument)."""
    from emulator.testing import example_specs
    from provider.cli.iam_policy import policy
    sids = [st["Sid"] for st in policy(example_specs(tmp_path), "us-east-1", "111122223333")["Statement"]]
    assert len(sids) > 1 and len(set(sids)) == len(sids), sids


@pytest.mark.emulator
def test_demo_data_downloads_drive_the_demo_specs_download_rule(provider_env: Any, tmp_path: Path) -> None:
    """The demo: the emulator seeded with the demo data records its builds' fetches; its exported
    trail is what specs/ reads. core-lib's 2.x releases fetched in the last 60 days stay, the
    others are archived by `archive-undownloaded-2x`, each shown with its last download."""
    import subprocess
    import sys
    from datetime import datetime, timezone

    import yaml

    from emulator.demo_data import build
    from emulator.testing import ROOT, aws_env, example_specs

    seed = build(datetime.now(timezone.utc))
    provider_env.seed(seed)
    specs = example_specs(tmp_path, trail=False)  # the trail comes from the running emulator
    assert provider_env.export_trail(str(specs / "evidence" / "cloudtrail"))
    snap = tmp_path / "snap.json"
    cli = [sys.executable, "-m", "provider"]
    r = subprocess.run(cli + ["snapshot", "--domain", "acme", "--repository", "releases", "--endpoint-url",
                              provider_env.url, "--region", "us-east-1", "-o", str(snap)], cwd=ROOT, env=aws_env(),
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(cli + ["plan", "--live", str(snap), "--specs", str(specs), "--json"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    core = next(p for p in json.loads(r.stdout)["packages"] if p["package"].endswith("/core-lib"))
    decided = {v["version"]: v for v in core["versions"]}
    seeded = next(p for p in seed["domains"][0]["repositories"][0]["packages"] if p["name"] == "core-lib")
    now = time.time()
    checked = 0
    for v in seeded["versions"]:
        ver = v["version"]
        if not ver.startswith("2.") or not ver.replace(".", "").isdigit() or v["status"] != "Published":
            continue
        recent = any(now - datetime.fromisoformat(t).timestamp() < 60 * 86400 for t in v.get("downloads", []))
        got = decided.get(ver, {}).get("by")
        if recent:
            assert got != "rule:archive-undownloaded-2x", (ver, decided.get(ver))
        else:
            assert got == "rule:archive-undownloaded-2x" and decided[ver]["decided"] == "Archived", (ver, decided.get(ver))
        checked += 1
    assert checked >= 10
    assert yaml.safe_load((specs / "acme-releases-other.yaml").read_text())["downloads"]["files"] == ["evidence/cloudtrail"]

"""Provider lifecycle methods called directly against the running emulator (over HTTP, no mocks):
adoption, writes at the physical minimum, revision/status locks failing closed, SKIPPED retried
once, lost responses converging without hiding conflicts, throttling retried by botocore, denial
naming the package ARN, vanished versions, restore on delete, and check failures."""

from __future__ import annotations

import os
from typing import Any

import pytest

from emulator.testing import EmulatorProcess, client
from provider._core import coalesce, config, reads, testing
from provider._core.errors import AccessDenied, ConflictError, NotAllowed, NotFound, ProviderError
from provider.package_version_status import PackageVersionStatusProvider
from provider.package_versions_status import PackageVersionsStatusProvider

pytestmark = pytest.mark.emulator
LOC = {"domain": "dom", "repository": "repo"}
PKG = {**LOC, "format": "npm", "package": "a"}


@pytest.fixture
def live(provider_env: EmulatorProcess) -> EmulatorProcess:
    config.set_stack_config(config.StackConfig(endpoint_url=provider_env.url, region="us-east-1", max_attempts=8,
                                               cache_ttl_seconds=0))
    provider_env.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": "a", "versions": [f"1.0.{i}" for i in range(250)]},
        {"format": "npm", "name": "b", "versions": ["1.0.0"]}]}]}]})
    provider_env.admin("counters/reset", {})
    return provider_env


def batch(versions: dict[str, str], **extra: Any) -> dict[str, Any]:
    p = PackageVersionsStatusProvider()
    res = p.check({}, {**PKG, "versions": versions, **extra})
    assert not res.failures, [(f.property, f.reason) for f in res.failures]
    return res.inputs  # type: ignore[no-any-return]


def writes(emu: EmulatorProcess) -> int:
    ops = emu.counters()["operations"]
    return sum(ops.get(o, {}).get("requests", 0) for o in ("UpdatePackageVersionsStatus", "DisposePackageVersions"))


def live_statuses(emu: EmulatorProcess, package: str = "a") -> dict[str, str]:
    pages = client(emu.url).get_paginator("list_package_versions").paginate(**LOC, format="npm", package=package)
    return {v["version"]: v["status"] for p in pages for v in p["versions"]}


def test_create_adopts_and_writes_at_the_physical_minimum(live: EmulatorProcess) -> None:
    desired = {f"1.0.{i}": "Archived" for i in range(201)} | {f"1.0.{i}": "Unlisted" for i in range(201, 240)}
    out = PackageVersionsStatusProvider().create(batch(desired)).outs
    assert writes(live) == 3 + 1  # ceil(201/100) Published->Archived, ceil(39/100) Published->Unlisted
    assert live.counters()["operations"]["ListPackageVersions"]["requests"] == 1  # 250 versions: one page
    assert out["original"] == {v: "Published" for v in desired}
    assert out["versions"] == desired
    assert {v: s for v, s in live_statuses(live).items() if v in desired} == desired


def test_create_of_missing_versions_names_them_and_applies_nothing(live: EmulatorProcess) -> None:
    with pytest.raises(NotFound) as e:
        PackageVersionsStatusProvider().create(batch({"1.0.0": "Archived", "9.9.9": "Archived", "9.9.8": "Unlisted"}))
    assert "(dom/repo/npm/a@9.9.9): NOT_FOUND" in str(e.value) and "a@9.9.8" in str(e.value)
    assert writes(live) == 0


def test_single_create_of_missing_package_names_it(live: EmulatorProcess) -> None:
    p = PackageVersionStatusProvider()
    inputs = p.check({}, {**LOC, "format": "npm", "package": "nope", "version": "1.0.0", "status": "Archived"}).inputs
    with pytest.raises(NotFound) as e:
        p.create(inputs)
    assert "dom/repo/npm/nope@1.0.0" in str(e.value)


def test_mismatched_revision_fails_closed(live: EmulatorProcess) -> None:
    p = PackageVersionsStatusProvider()
    state = p.create(batch({"1.0.0": "Archived", "1.0.1": "Archived"})).outs
    live.admin("republish", {**PKG, "version": "1.0.1"})
    with pytest.raises(ConflictError) as e:
        p.update("id", state, {**state, "versions": {"1.0.0": "Unlisted", "1.0.1": "Unlisted"}})
    msg = str(e.value)
    assert "updating CodeArtifact package version (dom/repo/npm/a@1.0.1): MISMATCHED_REVISION" in msg
    assert "a@1.0.0" not in msg  # only SKIPPED: retried on its own and applied
    assert live_statuses(live)["1.0.1"] == "Archived" and live_statuses(live)["1.0.0"] == "Unlisted"


def test_mismatched_status_fails_closed_naming_expected_and_actual(live: EmulatorProcess) -> None:
    p = PackageVersionStatusProvider()
    state = p.create(p.check({}, {**PKG, "version": "1.0.5", "status": "Unlisted"}).inputs).outs
    client(live.url).update_package_versions_status(**PKG, versions=["1.0.5"], targetStatus="Archived")
    with pytest.raises(ConflictError) as e:
        p.update("id", state, {**state, "status": "Published"})
    assert ("updating CodeArtifact package version (dom/repo/npm/a@1.0.5): MISMATCHED_STATUS: expected status "
            "Unlisted (last read), actual Archived") in str(e.value)
    assert live_statuses(live)["1.0.5"] == "Archived"


def test_lost_responses_converge_without_hiding_conflicts(live: EmulatorProcess) -> None:
    """Every write is applied but its response is replaced by a 500; botocore retries, the retry sees
    MISMATCHED_STATUS with the version already at the target and the locked revision: converged."""
    live.faults(error_after_probability=0.5, operations=["UpdatePackageVersionsStatus"], seed=11)
    p = PackageVersionsStatusProvider()
    out = p.create(batch({f"1.0.{i}": "Archived" for i in range(150)})).outs
    assert set(out["versions"].values()) == {"Archived"}
    assert all(s == "Archived" for v, s in live_statuses(live).items() if int(v.split(".")[2]) < 150)
    assert live.counters()["operations"]["UpdatePackageVersionsStatus"]["faulted"] > 0


def test_throttling_storm_is_retried_by_botocore(live: EmulatorProcess) -> None:
    live.faults(throttle_probability=0.3, retry_after_seconds=0, seed=3)
    out = PackageVersionsStatusProvider().create(batch({f"1.0.{i}": "Unlisted" for i in range(250)})).outs
    assert set(out["versions"].values()) == {"Unlisted"}
    ops = live.counters()["operations"]
    assert ops["UpdatePackageVersionsStatus"]["ok"] == 3
    assert sum(o.get("throttled", 0) for o in ops.values()) > 0


def test_denied_package_names_arn_and_action(live: EmulatorProcess) -> None:
    live.admin("deny", {"rules": [{"action": "codeartifact:UpdatePackageVersionsStatus",
                                   "resource": "arn:aws:codeartifact:*:package/dom/repo/npm//a"}]})
    with pytest.raises(AccessDenied) as e:
        PackageVersionsStatusProvider().create(batch({"1.0.0": "Archived"}))
    assert "codeartifact:UpdatePackageVersionsStatus" in str(e.value)
    assert "arn:aws:codeartifact:us-east-1:111122223333:package/dom/repo/npm//a" in str(e.value)


def test_not_allowed_names_version_and_reason(live: EmulatorProcess) -> None:
    client(live.url).dispose_package_versions(**PKG, versions=["1.0.3"])
    p = PackageVersionStatusProvider()
    inputs = p.check({}, {**PKG, "version": "1.0.3", "status": "Archived"}).inputs
    with pytest.raises(NotAllowed) as e:
        p.create(inputs)
    assert "(dom/repo/npm/a@1.0.3): NOT_ALLOWED" in str(e.value)


def test_refresh_of_vanished_version_returns_empty_id(live: EmulatorProcess) -> None:
    p = PackageVersionStatusProvider()
    state = p.create(p.check({}, {**PKG, "version": "1.0.7", "status": "Unlisted"}).inputs).outs
    client(live.url).delete_package_versions(**PKG, versions=["1.0.7"])
    assert p.read("dom/repo/npm/a@1.0.7", state).id == ""


def test_delete_writes_nothing_and_owned_survives_refresh(live: EmulatorProcess) -> None:
    """Restores are planned by the stack program; delete never writes. `owned` records how our
    last write left each version, and a refresh (which reads someone else's change) keeps it."""
    p = PackageVersionsStatusProvider()
    state = p.create(batch({"1.0.0": "Archived", "1.0.1": "Archived"}, restore_on_delete=True)).outs
    ours = state["owned"]["1.0.1"]
    assert ours[0] == "Archived" and ours[1] == state["revisions"]["1.0.1"]
    client(live.url).update_package_versions_status(**PKG, versions=["1.0.1"], targetStatus="Unlisted")
    testing.reset(keep_config=True)
    refreshed = p.read("id", state).outs
    assert refreshed["versions"]["1.0.1"] == "Unlisted" and refreshed["owned"]["1.0.1"] == ours
    writes = live.counters()["operations"]["UpdatePackageVersionsStatus"]["requests"]
    p.delete("id", refreshed)
    assert live_statuses(live)["1.0.0"] == "Archived" and live_statuses(live)["1.0.1"] == "Unlisted"
    assert live.counters()["operations"]["UpdatePackageVersionsStatus"]["requests"] == writes


def test_dispose_is_refused_without_stack_opt_in_even_if_check_is_skipped(live: EmulatorProcess) -> None:
    p = PackageVersionsStatusProvider()
    inputs = {**batch({"1.0.0": "Archived"}), "versions": {"1.0.0": "Disposed"}, "allow_dispose": True}
    with pytest.raises(ProviderError) as e:
        p.create(inputs)
    assert "DISPOSE_NOT_ALLOWED" in str(e.value)
    assert writes(live) == 0


def test_check_reports_one_failure_per_bad_property(live: EmulatorProcess) -> None:
    p = PackageVersionStatusProvider()
    res = p.check({}, {"domain": "Bad_Domain", "repository": "r", "format": "rpm", "package": "a b",
                       "version": "1.0", "status": "Unfinished"})
    props = {f.property for f in res.failures}
    assert {"domain", "repository", "format", "package", "status"} <= props
    res = p.check({}, {**LOC, "format": "pypi", "namespace": "x", "package": "a", "version": "1", "status": "Archived"})
    assert [f.property for f in res.failures] == ["namespace"]
    res = p.check({}, {**LOC, "format": "npm", "namespace": "@nestjs", "package": "core", "version": "8.0.0",
                       "status": "Archived"})
    assert "without '@'" in res.failures[0].reason
    res = p.check({"status": "Disposed"}, {**PKG, "version": "1.0.0", "status": "Archived"})
    assert any("irreversible" in f.reason for f in res.failures)


def test_concurrent_single_version_writes_are_coalesced(live: EmulatorProcess) -> None:
    """Eight per-version resources of one package created at once (as the provider server's
    threads do): fewer writes than versions, and each resource gets its own result, including one
    adopted from a different current status (its own (current, target) group)."""
    import threading

    p = PackageVersionStatusProvider()
    client(live.url).update_package_versions_status(**PKG, versions=["1.0.7"], targetStatus="Unlisted")
    inputs = [p.check({}, {**PKG, "version": f"1.0.{i}", "status": "Archived"}).inputs for i in range(8)]
    results: dict[str, Any] = {}

    def create(i: int) -> None:
        try:
            results[f"1.0.{i}"] = p.create(inputs[i]).outs["status"]
        except ProviderError as e:
            results[f"1.0.{i}"] = e

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[f"1.0.{i}"] == "Archived" for i in range(8))
    assert writes(live) < 8
    assert {v: s for v, s in live_statuses(live).items() if v in results} == {f"1.0.{i}": "Archived" for i in range(8)}


def _create_spread(p: PackageVersionStatusProvider, versions: list[str], gap: float) -> dict[str, Any]:
    """Creates one per-version resource per version, each from its own thread (as the provider
    host's threads do), the requests arriving ``gap`` seconds apart."""
    import threading
    import time

    inputs = {v: p.check({}, {**PKG, "version": v, "status": "Archived"}).inputs for v in versions}
    results: dict[str, Any] = {}

    def create(v: str) -> None:
        try:
            results[v] = p.create(inputs[v]).outs["status"]
        except ProviderError as e:
            results[v] = e

    threads = []
    for v in versions:
        threads.append(threading.Thread(target=create, args=(v,)))
        threads[-1].start()
        time.sleep(gap)
    for t in threads:
        t.join()
    return results


@pytest.mark.parametrize("count,gap,expected", [
    (30, 0.04, 1),  # arriving 40 ms apart (the engine's pace between checkpoints): one write, not 30
    (130, 0.002, 2),  # a batch leaves as soon as it holds 100 (one full call); the other 30 follow
])
def test_single_version_writes_spread_over_time_leave_at_the_minimum(
        live: EmulatorProcess, monkeypatch: pytest.MonkeyPatch, count: int, gap: float, expected: int) -> None:
    """Creates of one package arriving one by one, as the engine sends them: the physical minimum
    of writes, and every resource reports its own result."""
    monkeypatch.setenv("PULUMI_PARALLEL", "256")
    # A quiet period well above the gaps, so a loaded machine's thread scheduling cannot split them
    monkeypatch.setattr(coalesce, "QUIET_MIN", 1.0)
    versions = [f"1.0.{i}" for i in range(count)]
    results = _create_spread(PackageVersionStatusProvider(), versions, gap)
    assert results == {v: "Archived" for v in versions}
    assert writes(live) == expected


def test_a_full_batch_takes_no_more_changes_even_before_its_leader_wakes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 101st change of a package opens a new batch at once, even while the full batch's leader
    has not yet been scheduled: a late joiner would otherwise make that batch a 100-version call
    plus a tiny one (CI saw 3 writes for 130 changes on a loaded machine)."""
    from provider._core.batching import Change
    from provider._core.model import PackageArgs

    monkeypatch.setattr(coalesce, "_batches", {})
    monkeypatch.setattr(coalesce, "_held", 0)
    args = PackageArgs(**{k: PKG[k] for k in ("domain", "repository", "format", "package")})
    key = reads.key(args)
    joined = [coalesce._join(key, Change(f"1.0.{i}", "Published", "r", "Archived")) for i in range(coalesce.BATCH_SIZE + 1)]
    first, late = joined[0][0], joined[-1]
    assert joined[0][1] and not any(leader for _, leader in joined[1:-1])
    assert len(first.changes) == coalesce.BATCH_SIZE
    assert late[1] and late[0] is not first and late[0].changes == [Change("1.0.100", "Published", "r", "Archived")]


def test_batches_leave_at_once_when_every_engine_step_is_waiting(live: EmulatorProcess,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """With the engine running 6 steps at once (PULUMI_PARALLEL), 6 waiting creates are all it can
    send: they are written without waiting out the quiet period."""
    import time

    monkeypatch.setenv("PULUMI_PARALLEL", "6")
    monkeypatch.setattr(coalesce, "QUIET_MIN", 20.0)
    t0 = time.monotonic()
    results = _create_spread(PackageVersionStatusProvider(), [f"1.0.{i}" for i in range(6)], 0.01)
    assert time.monotonic() - t0 < 10
    assert set(results.values()) == {"Archived"} and writes(live) == 1


def test_the_provider_host_serves_more_than_four_requests_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stock host's gRPC pool has 4 workers; called from one of its threads, the provider
    raises the limit, and later requests run concurrently beyond 4."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from provider._core import host

    monkeypatch.setattr(host, "_widened", None)
    pool = ThreadPoolExecutor(max_workers=4)
    try:
        assert pool.submit(host.widen_request_pool, 64).result() == 64
        running, peak, lock = 0, 0, threading.Lock()

        def request() -> None:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.3)
            with lock:
                running -= 1

        for f in [pool.submit(request) for _ in range(20)]:
            f.result()
        assert peak == 20
    finally:
        pool.shutdown()
    monkeypatch.setattr(host, "_widened", None)
    assert host.widen_request_pool() is None  # not a pool's thread: nothing to widen, no error


def test_coalesced_conflict_fails_only_its_own_version(live: EmulatorProcess) -> None:
    import threading

    p = PackageVersionStatusProvider()
    states = [p.create(p.check({}, {**PKG, "version": f"1.0.{i}", "status": "Unlisted"}).inputs).outs
              for i in range(4)]
    client(live.url).update_package_versions_status(**PKG, versions=["1.0.2"], targetStatus="Archived")
    results: dict[int, Any] = {}

    def update(i: int) -> None:
        try:
            results[i] = p.update("id", states[i], {**states[i], "status": "Published"}).outs["status"]
        except ProviderError as e:
            results[i] = e

    threads = [threading.Thread(target=update, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert isinstance(results[2], ConflictError) and "a@1.0.2" in str(results[2])
    assert "a@1.0.1" not in str(results[2])
    assert [results[i] for i in (0, 1, 3)] == ["Published"] * 3
    assert live_statuses(live)["1.0.2"] == "Archived"


def test_refresh_errors_name_the_stored_target_and_how_to_use_the_new_config(live: EmulatorProcess) -> None:
    """Without --run-program, refresh runs with the connection stored in state: when it fails,
    the error says which target it read and how to refresh with the stack's current config."""
    p = PackageVersionsStatusProvider()
    state = p.create(batch({"1.0.0": "Archived"})).outs
    config.set_stack_config(config.StackConfig(endpoint_url="http://127.0.0.1:9", region="us-east-1",
                                               max_attempts=1, cache_ttl_seconds=0))
    testing.reset(keep_config=True)
    with pytest.raises(ProviderError) as e:
        p.read("id", state)
    msg = str(e.value)
    assert "refresh read the target stored in this stack's state (endpoint_url=http://127.0.0.1:9, region=us-east-1)" \
           in msg and "PULUMI_RUN_PROGRAM=true" in msg


def test_dispose_refusals_name_the_missing_half(live: EmulatorProcess) -> None:
    p = PackageVersionsStatusProvider()
    spec_half = p.check({}, {**PKG, "versions": {"1.0.0": "Disposed"}, "allow_dispose": True}).failures
    assert "missing: `pulumi config set codeartifact:allowDispose true` on the stack" in spec_half[0].reason
    assert "allow_dispose=True on the resource" not in spec_half[0].reason.split("missing:")[1]
    config.set_stack_config(config.StackConfig(endpoint_url=live.url, region="us-east-1", allow_dispose=True))
    stack_half = p.check({}, {**PKG, "versions": {"1.0.0": "Disposed"}}).failures
    assert stack_half[0].reason.split("missing:")[1].strip().startswith("allow_dispose=True on the resource")
    assert "codeartifact:allowDispose" not in stack_half[0].reason.split("missing:")[1]

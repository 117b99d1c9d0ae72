"""Talking to CodeArtifact: finders (observe) and the applier (apply), shared by both resources.

Reads: one paginated ListPackageVersions per package (1000 versions a page), cached for a short
TTL and shared by concurrent callers (single flight), so a refresh of many resources of one
package costs its pages, not one call per version. A cached observation can only be stale by the
TTL; it never weakens a write, because every write carries its own locks.

Writes: grouped by (current, target) in chunks of <=100, each carrying `versionRevisions` and
`expectedStatus` from the last observation, so a change we did not see makes the call fail
(fail closed) instead of being overwritten. Throttling and 5xx are retried by botocore's retry
mode inside the client; conflicts are never retried into an overwrite.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn, Optional

from botocore.exceptions import BotoCoreError, ClientError

from provider._core import config, host, listing_cache
from provider._core.batching import Change, Observed, group
from provider._core.errors import (
    AccessDenied,
    ConflictError,
    InvalidResponse,
    NotAllowed,
    NotFound,
    ProviderError,
    TemporaryError,
    VersionFailure,
)
from provider._core.model import STATUSES, PackageArgs, Status
from provider._core.single_flight import Flight

KNOWN_ERROR_CODES = frozenset({"ALREADY_EXISTS", "MISMATCHED_REVISION", "MISMATCHED_STATUS", "NOT_ALLOWED",
                               "NOT_FOUND", "SKIPPED"})
TEMPORARY_CODES = frozenset({"ThrottlingException", "InternalServerException", "ServiceUnavailable",
                             "RequestTimeout", "RequestTimeoutException", "Throttling", "TooManyRequestsException"})


def _raise_client_error(exc: Exception, args: PackageArgs, versions: list[str], action: str) -> NoReturn:
    """Maps a botocore error to ours, naming each package version concerned. Always raises."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        message = exc.response.get("Error", {}).get("Message", str(exc))
        failures = [VersionFailure(args.label(v), code, message) for v in versions]
        if code == "ResourceNotFoundException":
            raise NotFound(action, failures) from None
        if code == "AccessDeniedException":
            raise AccessDenied(action, failures) from None
        if code in TEMPORARY_CODES:
            raise TemporaryError(action, failures) from None
        raise ProviderError(action, failures) from None
    from botocore.exceptions import NoCredentialsError, NoRegionError
    if isinstance(exc, (NoCredentialsError, NoRegionError)):  # a setting is missing: retrying cannot help
        hint = ("set codeartifact:region (or AWS_REGION)" if isinstance(exc, NoRegionError) else
                "no AWS credentials were found: set a profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a role")
        raise ProviderError(action, [VersionFailure(args.label(v), type(exc).__name__, f"{exc}; {hint}")
                                     for v in versions]) from None
    raise TemporaryError(action, [VersionFailure(args.label(v), type(exc).__name__, str(exc)) for v in versions]) from None


# -- observation cache -------------------------------------------------------------------------




_cache_lock = threading.Lock()
_cache: dict[tuple[Any, ...], tuple[float, dict[str, Observed]]] = {}
_flights: dict[tuple[Any, ...], Flight[dict[str, Observed]]] = {}


def _key(args: PackageArgs) -> tuple[Any, ...]:
    return (tuple(sorted(config.effective(args).items())), args.package_key())


def _list_all(args: PackageArgs) -> dict[str, Observed]:
    client = config.client_for(args)
    out: dict[str, Observed] = {}
    try:
        # Newest first by publish time (the service's documented sort): age rules find their
        # boundary in this order by binary search, keep_latest `by: published` reads it directly.
        for page in client.get_paginator("list_package_versions").paginate(
                **args.coordinates(), sortBy="PUBLISHED_TIME", PaginationConfig={"PageSize": 1000}):
            for item in page.get("versions", []):
                version, status, revision = item.get("version"), item.get("status"), item.get("revision")
                if not version or status not in STATUSES or not revision:
                    raise InvalidResponse("reading", [VersionFailure(
                        args.label(str(version)), "InvalidResponse",
                        f"ListPackageVersions returned an unusable entry {item!r}")])
                out[version] = Observed(status, revision, (item.get("origin") or {}).get("originType"))
    except (ClientError, BotoCoreError) as exc:
        _raise_client_error(exc, args, ["*"], "reading")
    return out


_published_lock = threading.Lock()
_published: dict[tuple[Any, ...], dict[str, Optional[float]]] = {}


def published_times(args: PackageArgs, versions: list[str]) -> dict[str, Optional[float]]:
    """Each version's published time (epoch seconds; None when the service gives none), one
    DescribePackageVersion per version not yet known. A published time never changes, so what
    any process of this `pulumi` command described is reused (command-scoped shared cache)."""
    key = _key(args)
    shared_key = ("published", key)
    with _published_lock:
        known = _published.setdefault(key, {})
        known.update(listing_cache.get(shared_key, config.stack_config().cache_ttl_seconds) or {})
        missing = [v for v in dict.fromkeys(versions) if v not in known]
    if missing:
        client = config.client_for(args)

        def describe(v: str) -> tuple[str, Optional[float]]:
            try:
                desc = client.describe_package_version(**args.coordinates(), packageVersion=v)["packageVersion"]
            except (ClientError, BotoCoreError) as exc:
                _raise_client_error(exc, args, [v], "reading")
            when = desc.get("publishedTime")
            return v, when.timestamp() if when is not None else None

        with ThreadPoolExecutor(max_workers=8) as pool:
            found = dict(pool.map(describe, missing))
        with _published_lock:
            known.update(found)
            listing_cache.put(shared_key, dict(known))
    with _published_lock:
        return {v: known.get(v) for v in versions}


def observe(args: PackageArgs, fresh: bool = False) -> dict[str, Observed]:
    """Every version of the package with its status and revision (a copy the caller owns).
    Raises NotFound when the domain, repository or package does not exist. ``fresh`` bypasses
    the cache."""
    return dict(_observed(args, fresh))


def _observed(args: PackageArgs, fresh: bool = False) -> dict[str, Observed]:
    """`observe` without the copy: the cached listing itself, which callers must not change (a
    per-version read looks up one version; copying a 1,000-version listing for each of 1,000
    resources cost more than the lookup)."""
    key = _key(args)
    ttl = config.stack_config().cache_ttl_seconds
    leader = False
    with _cache_lock:
        hit = _cache.get(key)
        if not fresh and hit is not None and time.monotonic() - hit[0] <= ttl:
            return hit[1]
        flight = None if fresh else _flights.get(key)
        if flight is None:
            flight = Flight[dict[str, Observed]]()
            leader = True
            if not fresh:
                _flights[key] = flight
    if leader:
        started = time.monotonic()

        def list_and_share() -> dict[str, Observed]:
            try:
                shared = None if fresh else listing_cache.get(key, ttl)
                if shared is not None:  # listed moments ago by another process of this pulumi command
                    result = {v: Observed(sr[0], sr[1], sr[2] if len(sr) > 2 else None) for v, sr in shared.items()}
                else:
                    result = _list_all(args)
                    listing_cache.put(key, {v: [o.status, o.revision, o.origin] for v, o in result.items()})
                with _cache_lock:
                    _cache[key] = (started, result)
                return result
            finally:
                with _cache_lock:
                    if _flights.get(key) is flight:
                        del _flights[key]

        flight.run(list_and_share)
    return flight.outcome()


def _remember(args: PackageArgs, results: dict[str, Observed]) -> None:
    """Patches the cached observation with what a successful write reported (and drops the
    listing shared with other processes, which no longer holds)."""
    key = _key(args)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            for v, o in results.items():
                before = hit[1].get(v)
                hit[1][v] = Observed(o.status, o.revision, before.origin if before else None)
    if results:
        listing_cache.drop(key)


def forget_cache() -> None:
    """Forgets what this process observed and learned (listings; the engine's pace, see
    coalescing below). For tests that reuse one process for unrelated runs."""
    global _stall, _busy_until, _last_event, _informative
    with _cache_lock:
        _cache.clear()
    with _batch_cond:
        _stall, _busy_until, _last_event, _informative = 0.0, 0.0, 0.0, False
        _paces.clear()


def find_version(args: PackageArgs, version: str, fresh: bool = False) -> Observed:
    """The observed status and revision of one version; raises NotFound, never returns None."""
    obs = _observed(args, fresh=fresh).get(version)
    if obs is None:
        raise NotFound("reading", [VersionFailure(args.label(version), "NOT_FOUND",
                                                  "the package version does not exist")])
    return obs


# -- applying ------------------------------------------------------------------------------------

def _write(args: PackageArgs, chunk: list[Change]) -> dict[str, Any]:
    client = config.client_for(args)
    current, target = chunk[0].current, chunk[0].target
    kwargs: dict[str, Any] = {
        **args.coordinates(),
        "versions": [c.version for c in chunk],
        "versionRevisions": {c.version: c.revision for c in chunk},
        "expectedStatus": current,
    }
    try:
        with host.writing():
            if target == Status.Disposed.value:
                return client.dispose_package_versions(**kwargs)  # type: ignore[no-any-return]
            return client.update_package_versions_status(**kwargs, targetStatus=target)  # type: ignore[no-any-return]
    except (ClientError, BotoCoreError) as exc:
        _raise_client_error(exc, args, [c.version for c in chunk], _action(target))


def _action(target: str) -> str:
    return "disposing" if target == Status.Disposed.value else "updating"


def _detail(code: str, change: Change, now: Optional[Observed], message: str) -> str:
    if now is None:
        return "the package version no longer exists"
    if code == "MISMATCHED_STATUS" or (code == "MISMATCHED_REVISION" and now.revision == change.revision):
        return (f"expected status {change.current} (last read), actual {now.status}; the version was changed "
                f"by someone else: run `pulumi refresh` to accept it, then apply again if the spec still wants "
                f"{change.target}")
    if code == "MISMATCHED_REVISION":
        return (f"expected revision {change.revision} (last read), actual {now.revision}; the version was "
                f"republished: run `pulumi refresh`, review, then apply again")
    return message


def _apply_chunk(args: PackageArgs, chunk: list[Change], retry_skipped: bool,
                 done: dict[str, Observed], failures: list[tuple[str, VersionFailure]]) -> None:
    target = chunk[0].target
    resp = _write(args, chunk)
    succeeded = resp.get("successfulVersions") or {}
    failed = resp.get("failedVersions") or {}
    by_version = {c.version: c for c in chunk}
    for version, info in succeeded.items():
        if version not in by_version or info.get("status") != target or not info.get("revision"):
            raise InvalidResponse(_action(target), [VersionFailure(
                args.label(version), "InvalidResponse", f"unexpected successful entry {info!r} (target {target})")])
        done[version] = Observed(info["status"], info["revision"])
    unanswered = set(by_version) - set(succeeded) - set(failed)
    if unanswered:
        raise InvalidResponse(_action(target), [VersionFailure(
            args.label(v), "InvalidResponse", "the service reported neither success nor failure") for v in sorted(unanswered)])
    if not failed:
        return
    for version, info in failed.items():
        if version not in by_version or info.get("errorCode") not in KNOWN_ERROR_CODES:
            raise InvalidResponse(_action(target), [VersionFailure(
                args.label(version), "InvalidResponse", f"unexpected failed entry {info!r}")])
    # Read the truth once, then decide per version. A version already at its target with the
    # revision we locked to is converged (e.g. our own earlier attempt whose response was lost):
    # nothing was overwritten, so that is success, not a conflict.
    now = observe(args, fresh=True)
    skipped: list[Change] = []
    for version, info in failed.items():
        change, code = by_version[version], info["errorCode"]
        obs = now.get(version)
        if code == "SKIPPED":
            skipped.append(change)
        elif code in ("MISMATCHED_STATUS", "MISMATCHED_REVISION") and obs is not None \
                and obs.status == change.target and obs.revision == change.revision:
            done[version] = obs
        else:
            failures.append((code, VersionFailure(args.label(version), code,
                                                  _detail(code, change, obs, info.get("errorMessage", "")))))
    if skipped and retry_skipped:
        # Skipped only because another version in the call failed: try those once more on their own.
        _apply_chunk(args, skipped, False, done, failures)
    elif skipped:
        for c in skipped:
            failures.append(("SKIPPED", VersionFailure(args.label(c.version), "SKIPPED",
                                                       "skipped twice because other versions in the call failed")))


WRITE_WORKERS = 8  # concurrent write calls per package (botocore's default pool holds 10 connections)


def _apply_collect(args: PackageArgs, changes: list[Change]) -> tuple[dict[str, Observed],
                                                                       list[tuple[str, VersionFailure]]]:
    chunks = group(changes)

    def one(chunk: list[Change]) -> tuple[dict[str, Observed], list[tuple[str, VersionFailure]]]:
        done: dict[str, Observed] = {}
        failures: list[tuple[str, VersionFailure]] = []
        try:
            _apply_chunk(args, chunk, True, done, failures)
        except ProviderError as exc:
            failures.extend((type(exc).__name__, f) for f in exc.failures)
        return done, failures

    # Chunks name disjoint versions and each carries its own locks, so they are written
    # concurrently (a 10,000-version package is 100 calls: one round trip of latency per 8, not
    # per call). A failed chunk never stops the others, as before; results merge in chunk order.
    if len(chunks) > 1:
        with ThreadPoolExecutor(max_workers=min(WRITE_WORKERS, len(chunks))) as pool:
            outcomes = list(pool.map(one, chunks))
    else:
        outcomes = [one(c) for c in chunks]
    done: dict[str, Observed] = {}
    failures: list[tuple[str, VersionFailure]] = []
    for d, f in outcomes:
        done.update(d)
        failures.extend(f)
    _remember(args, done)
    return done, failures


def apply(args: PackageArgs, changes: list[Change]) -> dict[str, Observed]:
    """Applies the changes at the minimum number of writes and returns what the service reported
    for each changed version.

    Contract: on failure, raises one ProviderError naming every version that did not reach its
    target (ConflictError when any was changed by someone else, NotAllowed / NotFound otherwise);
    its ``done`` holds what the service reported for the versions that were applied (other groups
    or chunks, or the rest of a chunk after SKIPPED), so the caller can record them.
    """
    done, failures = _apply_collect(args, changes)
    if failures:
        try:
            _raise_for(changes, failures)
        except ProviderError as exc:
            exc.done = dict(done)  # what was applied before the failure: the caller's state records it
            raise
    return done


def _raise_for(changes: list[Change], failures: list[tuple[str, VersionFailure]]) -> NoReturn:
    """Raises the error class that fits the failures (conflicts first)."""
    codes = {code for code, _ in failures}
    items = [f for _, f in failures]
    action = _action(changes[0].target) if len({c.target for c in changes}) == 1 else "updating"
    if codes & {"MISMATCHED_STATUS", "MISMATCHED_REVISION"}:
        raise ConflictError(action, items)
    if codes & {"AccessDenied"}:
        raise AccessDenied(action, items)
    if codes & {"NOT_ALLOWED"}:
        raise NotAllowed(action, items)
    if codes & {"NOT_FOUND", "NotFound"}:
        raise NotFound(action, items)
    if codes & {"TemporaryError"}:
        raise TemporaryError(action, items)
    raise ProviderError(action, items)


# -- coalescing single-version writes -----------------------------------------------------------
#
# The engine creates per-version resources one request each, spread over time: with the file
# backend every step waits for a checkpoint of the whole state (one before the create, one after),
# so the creates of one package arrive tens to hundreds of milliseconds apart, and after a write of
# k changes the engine first records those k finished steps (k checkpoints, seconds) before it
# sends more. A fixed short window would write them one or two at a time. Instead a package's
# batch stays open while changes can still arrive, and leaves as soon as waiting cannot add any:
# - it holds BATCH_SIZE changes (one full write), or
# - every step the engine can run is waiting in a batch (host.engine_parallel): nothing else can
#   arrive until something is written, or
# - no change joined it for a quiet period, counted from when the engine is predicted free again
#   (after a write of k changes: k times its recent pace between arrivals). The period is
#   QUIET_STALLS times the longest unpredicted pause this process has seen the engine take and then
#   send more, within [QUIET_MIN, QUIET_MAX]: it learns the engine's pace, so a small `up` waits
#   QUIET_MIN and a large one the length of its own checkpoint stalls, or
# - it is MAX_WAIT seconds old.
# The engine is idle while we wait only when every remaining step is waiting here (the end of a
# run): that costs one quiet period per command. Waiting changes nothing about what is written or
# its locks; only how many calls carry it.

BATCH_SIZE = 100  # versions per write call (the API's limit)
QUIET_STALLS = 1.5
QUIET_MIN = 0.25
QUIET_MAX = 15.0
MAX_WAIT = 60.0


class _Batch(Flight[tuple[dict[str, Observed], list[tuple[str, VersionFailure]]]]):
    """Single-version changes of one package, written together by the first of them (the leader)."""

    def __init__(self, now: float) -> None:
        super().__init__()
        self.changes: list[Change] = []
        self.opened = now
        self.last_join = now
        self.flush = False  # every step the engine can run is waiting: leave now


_batch_cond = threading.Condition()
_batches: dict[tuple[Any, ...], _Batch] = {}
_held = 0  # changes waiting in open batches, all packages
_last_event = 0.0  # the last arrival, or the last answer to one of our writes
_informative = False  # something was waiting (or written) since _last_event: the next gap is a stall
_stall = 0.0  # the longest such gap seen in this process, beyond the predicted busy time
_paces: list[float] = []  # recent gaps between arrivals outside busy times: the engine's step pace
_busy_until = 0.0  # the engine is predicted busy recording the steps our writes finished until then


def _quiet_period() -> float:
    return min(QUIET_MAX, max(QUIET_MIN, QUIET_STALLS * _stall))


def _join(key: tuple[Any, ...], change: Change) -> tuple[_Batch, bool]:
    """Adds the change to its package's open batch (opening one: the caller leads it)."""
    global _held, _last_event, _informative, _stall
    now = time.monotonic()
    with _batch_cond:
        since = now - max(_last_event, _busy_until)
        if _informative or _held:
            _stall = max(_stall, since)
            if now > _busy_until and not _informative:
                _paces.append(since)
                del _paces[:-32]
        _last_event, _informative = now, False
        batch = _batches.get(key)
        leader = batch is None
        if batch is None:
            batch = _batches[key] = _Batch(now)
        batch.changes.append(change)
        batch.last_join = now
        if len(batch.changes) >= BATCH_SIZE:
            # Full: the next change opens a new batch. Closing it here, not when its leader wakes,
            # keeps changes that arrive meanwhile out of it (they would make a second, tiny call).
            del _batches[key]
        _held += 1
        _batch_cond.notify_all()
    return batch, leader


def _close_when_ready(key: tuple[Any, ...], batch: _Batch) -> None:
    """The leader's wait (see the rules above); afterwards the batch takes no more changes."""
    global _held
    parallel = host.engine_parallel()
    with _batch_cond:
        while True:
            now = time.monotonic()
            if _held >= parallel:
                for waiting in _batches.values():
                    waiting.flush = True
                _batch_cond.notify_all()
            deadline = min(max(batch.last_join, _busy_until) + _quiet_period(), batch.opened + MAX_WAIT)
            if batch.flush or len(batch.changes) >= BATCH_SIZE or now >= deadline:
                break
            _batch_cond.wait(deadline - now)
        if _batches.get(key) is batch:
            del _batches[key]
        _held -= len(batch.changes)


def _written(count: int) -> None:
    """One of our writes was answered: the engine records those ``count`` steps (about one step's
    pace each) before it sends more."""
    global _last_event, _informative, _busy_until
    with _batch_cond:
        now = time.monotonic()
        pace = sorted(_paces)[len(_paces) // 2] if _paces else 0.0
        _busy_until = max(_busy_until, now) + count * pace
        _last_event, _informative = now, True
        _batch_cond.notify_all()


def apply_one(args: PackageArgs, change: Change) -> Observed:
    """Applies one version's change, coalesced with the other changes of the same package that
    reach this process meanwhile (see the rules above): one call per (current, target) group and
    100 versions instead of one per version. Same locks, same all-or-nothing handling as `apply`;
    only this version's own outcome is reported to the caller (its failure raises, naming it).

    Contract: returns only after the write carrying this change was answered; raises (naming this
    version) if the change was not applied. A failure of another version in the same call never
    fails this one."""
    key = _key(args)
    batch, leader = _join(key, change)
    if leader:
        _close_when_ready(key, batch)
        try:
            batch.run(lambda: _apply_collect(args, batch.changes))
        finally:
            _written(len(batch.changes))
    results, failures = batch.outcome()
    mine = [(code, f) for code, f in failures if f.label == args.label(change.version)]
    if mine:
        _raise_for([change], mine)
    if change.version not in results:
        raise InvalidResponse(_action(change.target), [VersionFailure(
            args.label(change.version), "InvalidResponse", "the service did not report this version")])
    return results[change.version]

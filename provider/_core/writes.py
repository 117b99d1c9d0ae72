"""Writes: the applier. Changes grouped by (current, target) in chunks of <=100 versions, each
carrying `versionRevisions` and `expectedStatus` from the last observation, so a change we did not
see makes the call fail (fail closed) instead of being overwritten. Throttling and 5xx are retried
by botocore's retry mode inside the client; conflicts are never retried into an overwrite;
versions only SKIPPED because another failed are retried once on their own.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

from botocore.exceptions import BotoCoreError, ClientError

from provider._core import config, host
from provider._core.aws_errors import KNOWN_ERROR_CODES, action, raise_client_error, raise_for
from provider._core.batching import group
from provider._core.errors import InvalidResponse, ProviderError, VersionFailure
from provider._core.model import Change, Observed, PackageArgs, Status
from provider._core.reads import observe, remember

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
        raise_client_error(exc, args, [c.version for c in chunk], action(target))


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
            raise InvalidResponse(action(target), [VersionFailure(
                args.label(version), "InvalidResponse", f"unexpected successful entry {info!r} (target {target})")])
        done[version] = Observed(info["status"], info["revision"])
    unanswered = set(by_version) - set(succeeded) - set(failed)
    if unanswered:
        raise InvalidResponse(action(target), [VersionFailure(
            args.label(v), "InvalidResponse", "the service reported neither success nor failure") for v in sorted(unanswered)])
    if not failed:
        return
    for version, info in failed.items():
        if version not in by_version or info.get("errorCode") not in KNOWN_ERROR_CODES:
            raise InvalidResponse(action(target), [VersionFailure(
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


WRITE_WORKERS = 8  # concurrent write calls per package (each client pools 16 connections: config.py)


def apply_collect(args: PackageArgs, changes: list[Change]) -> tuple[dict[str, Observed],
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
    remember(args, done)
    return done, failures


def apply(args: PackageArgs, changes: list[Change]) -> dict[str, Observed]:
    """Applies the changes at the minimum number of writes and returns what the service reported
    for each changed version.

    Contract: on failure, raises one ProviderError naming every version that did not reach its
    target (ConflictError when any was changed by someone else, NotAllowed / NotFound otherwise);
    its ``done`` holds what the service reported for the versions that were applied (other groups
    or chunks, or the rest of a chunk after SKIPPED), so the caller can record them.
    """
    done, failures = apply_collect(args, changes)
    if failures:
        try:
            raise_for(changes, failures)
        except ProviderError as exc:
            exc.done = dict(done)  # what was applied before the failure: the caller's state records it
            raise
    return done

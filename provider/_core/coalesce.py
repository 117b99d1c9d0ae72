"""Coalescing: single-version writes (one `PackageVersionStatus` each) joined into shared calls."""

from __future__ import annotations

import threading
import time
from typing import Any

from provider._core import host
from provider._core.aws_errors import action, raise_for
from provider._core.errors import InvalidResponse, VersionFailure
from provider._core.model import Change, Observed, PackageArgs
from provider._core.reads import key
from provider._core.single_flight import Flight
from provider._core.writes import apply_collect

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


def forget() -> None:
    """Forgets the engine's pace this process learned (test-only: provider/_core/testing.py)."""
    global _stall, _busy_until, _last_event, _informative
    with _batch_cond:
        _stall, _busy_until, _last_event, _informative = 0.0, 0.0, 0.0, False
        _paces.clear()


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
    batch_key = key(args)
    batch, leader = _join(batch_key, change)
    if leader:
        _close_when_ready(batch_key, batch)
        try:
            batch.run(lambda: apply_collect(args, batch.changes))
        finally:
            _written(len(batch.changes))
    results, failures = batch.outcome()
    mine = [(code, f) for code, f in failures if f.label == args.label(change.version)]
    if mine:
        raise_for([change], mine)
    if change.version not in results:
        raise InvalidResponse(action(change.target), [VersionFailure(
            args.label(change.version), "InvalidResponse", "the service did not report this version")])
    return results[change.version]

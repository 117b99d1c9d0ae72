"""Client-side pacing: each process stays under CodeArtifact's documented request-rate quotas.

The quotas are per account and region (ListPackageVersions 200 requests/s; 800 reads/s and 100
writes/s over all actions), and CI publishes share the write quota, so a policy over thousands of
packages must not take all of it: botocore's retry modes recover from throttling, but a run that
throttles slows every publish of the account while it lasts. Every request attempt (retries
included) takes a token from its buckets before it is sent; when a bucket is empty the sending
thread waits. Budgets (stack config): `codeartifact:readsPerSecond` (ListPackageVersions, default
and maximum 200), `codeartifact:writesPerSecond` (UpdatePackageVersionsStatus and
DisposePackageVersions, default 50: half the account's quota, the rest left to publishes; at most
100). Other reads share an 800/s bucket. The program's reads and the provider's writes run in
different processes at different times (planning, then applying), each under its own budget.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

READ_QUOTA = 800.0  # every read action of the account, per second
LIST_VERSIONS_QUOTA = 200.0  # ListPackageVersions, per second
WRITE_QUOTA = 100.0  # every write action of the account, per second
WRITE_ACTIONS = frozenset({"UpdatePackageVersionsStatus", "DisposePackageVersions", "DeletePackageVersions",
                           "PublishPackageVersion", "CopyPackageVersions"})
BURST_SECONDS = 0.2  # a bucket holds this many seconds of its rate: bursts stay well inside any 1 s window


class TokenBucket:
    """``rate`` tokens a second, at most ``rate * BURST_SECONDS`` (>= 1) saved up. ``take`` waits
    until a token is there. Thread-safe; the clock and sleep are injectable for tests."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate * BURST_SECONDS)
        self._tokens = self.capacity
        self._clock, self._sleep = clock, sleep
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Takes one token, waiting for it if none is saved up; returns the seconds waited. A
        caller reserves its slot under the lock (the count may go below zero: a debt the next
        callers wait behind) and sleeps outside it, so concurrent callers queue in order and the
        rate holds without busy loops."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


class Pacer:
    """The buckets of one process: which a request takes from depends on its action."""

    def __init__(self, reads_per_second: float, writes_per_second: float,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.reads = TokenBucket(READ_QUOTA, clock, sleep)
        self.list_versions = TokenBucket(min(reads_per_second, LIST_VERSIONS_QUOTA), clock, sleep)
        self.writes = TokenBucket(min(writes_per_second, WRITE_QUOTA), clock, sleep)

    def buckets(self, action: str) -> tuple[TokenBucket, ...]:
        if action in WRITE_ACTIONS:
            return (self.writes,)
        if action == "ListPackageVersions":
            return (self.list_versions, self.reads)
        return (self.reads,)

    def before_send(self, event_name: str = "", **_: Any) -> None:
        """botocore's `before-send` hook: runs once per attempt, just before it goes out."""
        for bucket in self.buckets(event_name.rsplit(".", 1)[-1]):
            bucket.take()


_lock = threading.Lock()
_pacers: dict[tuple[float, float], Pacer] = {}


def pacer(reads_per_second: float, writes_per_second: float) -> Pacer:
    """The process's pacer for these budgets (one per budget pair, shared by every client)."""
    key = (reads_per_second, writes_per_second)
    with _lock:
        if key not in _pacers:
            _pacers[key] = Pacer(reads_per_second, writes_per_second)
        return _pacers[key]


def attach(client: Any, reads_per_second: float, writes_per_second: float) -> None:
    """Paces every request the client sends (retries included) under the process's budgets."""
    client.meta.events.register("before-send.codeartifact", pacer(reads_per_second, writes_per_second).before_send)

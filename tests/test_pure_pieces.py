"""Fast unit tests of the pure pieces: write grouping at the physical minimum, restore decisions
(restore, resolved, impossible, pending) and "as we left it", the ledger's write-ahead record, and
single flight (one computation, every waiter gets its result or its exception)."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provider._core.batching import MAX_VERSIONS_PER_CALL, changes_for, group
from provider._core.model import Change, Observed
from provider._core.single_flight import Flight
from provider.rules.live import LiveVersion
from provider.stack.previous import PreviousResource, PreviousState
from provider.stack.program import _left_now
from provider.stack.restores import decide

STATUSES = ["Published", "Unlisted", "Archived"]


@given(st.lists(st.tuples(st.sampled_from(STATUSES), st.sampled_from(STATUSES)), max_size=450))
def test_writes_are_grouped_at_the_physical_minimum(pairs: list[tuple[str, str]]) -> None:
    changes = [Change(f"1.0.{i}", frm, "r", to) for i, (frm, to) in enumerate(pairs)]
    chunks = group(changes)
    per_group = Counter((c.current, c.target) for c in changes)
    assert len(chunks) == sum(math.ceil(n / MAX_VERSIONS_PER_CALL) for n in per_group.values())
    assert all(0 < len(ch) <= MAX_VERSIONS_PER_CALL and len({(c.current, c.target) for c in ch}) == 1 for ch in chunks)
    assert sorted(c.version for ch in chunks for c in ch) == sorted(c.version for c in changes)


def test_changes_for_skips_versions_at_their_target_and_names_missing_ones() -> None:
    observed = {"1": Observed("Published", "a"), "2": Observed("Archived", "b")}
    changes, missing = changes_for({"1": "Archived", "2": "Archived", "3": "Unlisted"}, observed)
    assert changes == [Change("1", "Published", "a", "Archived")] and missing == ["3"]


def live(status: str, revision: str = "r1") -> LiveVersion:
    return LiveVersion("1.0.0", status, revision)


@pytest.mark.parametrize("original, left, now, verdict", [
    ("Published", {("Archived", "r1")}, live("Archived"), "restore"),
    ("Published", {("Archived", "r1")}, live("Published"), "resolved"),
    ("Published", {("Archived", "r1")}, None, "impossible"),
    ("Published", {("Archived", "r1")}, live("Disposed"), "impossible"),
    (None, {("Archived", "r1")}, live("Archived"), "impossible"),
    ("Unfinished", {("Archived", "r1")}, live("Archived"), "impossible"),
    ("Published", {("Archived", "r1")}, live("Unlisted"), "pending"),  # someone else changed it
    ("Published", {("Archived", "r1")}, live("Archived", "r2"), "pending"),  # republished
    ("Published", set(), live("Archived"), "pending"),
])
def test_restore_decisions(original: str | None, left: set[tuple[str, str]], now: LiveVersion | None,
                           verdict: str) -> None:
    out = decide("1.0.0", original, frozenset(left), now)
    assert out.verdict == verdict
    assert out.target == (original if verdict == "restore" else None)


def state(ledger_left: tuple[tuple[str, str], ...], owned: Observed | None) -> PreviousState:
    r = PreviousResource("batched", "dom/repo/npm/a", {"domain": "dom", "repository": "repo", "format": "npm",
                                                     "package": "a"}, {"1.0.0": owned}, {"1.0.0": "Published"})
    return PreviousState([r], {"dom/repo/npm/a": {"1.0.0": "Published"}}, True,
                         {"dom/repo/npm/a": {"1.0.0": ledger_left}})


def test_a_confirmed_write_makes_the_state_before_it_history() -> None:
    before, after = ("Published", "r1"), ("Archived", "r1")
    # The write may or may not have happened (failed, killed): both are ours.
    failed = state((before, after), Observed(*before))
    assert failed.ours("dom/repo/npm/a", "1.0.0", before) and failed.ours("dom/repo/npm/a", "1.0.0", after)
    # The resource confirms the write: someone setting it back to the old state is not us.
    done = state((before, after), Observed(*after))
    assert done.ours("dom/repo/npm/a", "1.0.0", after) and not done.ours("dom/repo/npm/a", "1.0.0", before)
    assert not done.ours("dom/repo/npm/a", "1.0.0", ("Unlisted", "r1"))


def test_the_write_ahead_record_is_stable_when_nothing_is_written() -> None:
    before, after = ("Published", "r1"), ("Archived", "r1")
    prev = state((before, after), Observed(*after))
    # No write planned, the version as we left it: the record is kept as it is (no ledger change).
    assert _left_now(prev, "dom/repo/npm/a", "1.0.0", LiveVersion("1.0.0", *after), "Archived") == \
        [list(before), list(after)]
    # A write planned: how it is now, then how the write leaves it.
    assert _left_now(prev, "dom/repo/npm/a", "1.0.0", LiveVersion("1.0.0", *after), "Unlisted") == \
        [list(after), ["Unlisted", "r1"]]
    # Someone else changed it and nothing is written: nothing of ours is left in it.
    assert _left_now(prev, "dom/repo/npm/a", "1.0.0", LiveVersion("1.0.0", "Unlisted", "r1"), "Unlisted") == []


def test_single_flight_runs_once_and_shares_the_result_or_the_error() -> None:
    calls = []
    flight: Flight[int] = Flight()
    results: list[object] = []

    def wait() -> None:
        try:
            results.append(flight.outcome())
        except ValueError as e:
            results.append(e)

    waiters = [threading.Thread(target=wait) for _ in range(8)]
    for t in waiters:
        t.start()
    time.sleep(0.05)
    flight.run(lambda: calls.append(1) or 42)  # type: ignore[func-returns-value]
    for t in waiters:
        t.join(5)
    assert calls == [1] and results == [42] * 8
    failing: Flight[int] = Flight()
    failing.run(lambda: (_ for _ in ()).throw(ValueError("boom")))
    with pytest.raises(ValueError, match="boom"):
        failing.outcome()

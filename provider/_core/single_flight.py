"""One computation shared by concurrent callers (single flight).

The leader runs it; every other caller that joined waits for the leader's outcome and gets the
same result, or the same exception. Used for package listings (concurrent reads of one package
cost one listing) and for coalesced writes (concurrent single-version changes of one package
leave as one call per group).
"""

from __future__ import annotations

import threading
from typing import Callable, Generic, Optional, TypeVar

T = TypeVar("T")


class Flight(Generic[T]):
    """Contract: `outcome` returns only after `run` finished; if the computation raised, every
    caller of `outcome` raises that exception (nothing is retried here)."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._result: Optional[T] = None
        self._error: Optional[BaseException] = None

    def run(self, compute: Callable[[], T]) -> None:
        """The leader's part: computes once and releases the waiters, whatever happens."""
        try:
            self._result = compute()
        except BaseException as exc:  # handed to every waiter by `outcome`
            self._error = exc
        finally:
            self._done.set()

    def outcome(self) -> T:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]

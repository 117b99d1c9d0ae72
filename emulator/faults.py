"""Fault injection and per-operation counters (set at start, changed at run time via the admin path).

Faults are drawn per API request, in this order: latency; then *before* the backend runs: a dropped
connection, throttling (probability, or a token-bucket rate), a 5xx; then *after* the backend has
applied the request: a dropped connection or a 5xx replacing the real response (the "response
lost" case that makes clients retry something that already happened).
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

Outcome = Literal["ok", "error", "throttled", "faulted", "dropped"]


class FaultConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    latency_ms: float = Field(0.0, ge=0)
    throttle_probability: float = Field(0.0, ge=0, le=1)
    throttle_rps: Optional[float] = Field(None, gt=0, description="token bucket: requests per second")
    retry_after_seconds: int = Field(1, ge=0)
    error_probability: float = Field(0.0, ge=0, le=1, description="500 before applying")
    drop_probability: float = Field(0.0, ge=0, le=1, description="connection dropped before applying")
    error_after_probability: float = Field(0.0, ge=0, le=1, description="500 after applying")
    drop_after_probability: float = Field(0.0, ge=0, le=1, description="connection dropped after applying")
    operations: Optional[list[str]] = Field(None, description="limit faults to these operations")
    seed: Optional[int] = None


class Faults:
    """Thread-safe holder of the current FaultConfig and its random source and token bucket."""

    def __init__(self, config: Optional[FaultConfig] = None) -> None:
        self._lock = threading.Lock()
        self.set(config or FaultConfig())

    def set(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)
            self._tokens = config.throttle_rps or 0.0
            self._last = time.monotonic()

    def _applies(self, operation: str) -> bool:
        ops = self.config.operations
        return ops is None or operation in ops

    def latency(self) -> float:
        return self.config.latency_ms / 1000.0

    def before(self, operation: str) -> Optional[str]:
        """'drop', 'throttle', 'error' or None."""
        with self._lock:
            c = self.config
            if not self._applies(operation):
                return None
            if c.drop_probability and self._rng.random() < c.drop_probability:
                return "drop"
            if c.throttle_rps:
                now = time.monotonic()
                self._tokens = min(c.throttle_rps, self._tokens + (now - self._last) * c.throttle_rps)
                self._last = now
                if self._tokens < 1:
                    return "throttle"
                self._tokens -= 1
            if c.throttle_probability and self._rng.random() < c.throttle_probability:
                return "throttle"
            if c.error_probability and self._rng.random() < c.error_probability:
                return "error"
            return None

    def after(self, operation: str) -> Optional[str]:
        """'drop', 'error' or None, for a request the backend has already applied."""
        with self._lock:
            c = self.config
            if not self._applies(operation):
                return None
            if c.drop_after_probability and self._rng.random() < c.drop_after_probability:
                return "drop"
            if c.error_after_probability and self._rng.random() < c.error_after_probability:
                return "error"
            return None


class Counters:
    """Requests per operation and outcome; benchmarks read these to count API calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, operation: str, outcome: Outcome) -> None:
        with self._lock:
            self._counts[operation]["requests"] += 1
            self._counts[operation][outcome] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            ops = {op: dict(c) for op, c in sorted(self._counts.items())}
        total = sum(c["requests"] for c in ops.values())
        return {"operations": ops, "total": total}

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

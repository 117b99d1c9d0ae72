"""The dynamic-provider host process: how many requests it serves at once, and how many the engine
can have in flight.

Single-version writes coalesce only across requests that are inside this process at the same
time (`api.apply_one`). Two limits decide how many that can be:

- the host: the stock host (`python -m pulumi.dynamic`, pulumi/dynamic/__main__.py) serves gRPC
  on a ThreadPoolExecutor of 4 workers, so at most 4 creates of a package ever wait together;
  `widen_request_pool` raises that pool's limit once per process;
- the engine: `pulumi up` runs at most `--parallel` steps at once (PULUMI_PARALLEL; default 4 per
  CPU). `engine_parallel` is this process's estimate of it: when every step the engine can run is
  waiting in a coalesced batch, no further request can arrive, so waiting longer is pure loss.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

# Threads are started lazily (only while that many requests are in flight), so a high limit costs
# nothing when the engine sends few requests; it must exceed the engine's parallelism, because a
# waiting create holds its thread while the engine's checks for the next resources still need one.
HOST_WORKERS = 512

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_widened: Optional[int] = None


def widen_request_pool(workers: int = HOST_WORKERS) -> Optional[int]:
    """Raises the limit of the thread pool serving the calling thread (the host's gRPC pool) to
    ``workers``; returns the limit now in force, or None when the calling thread is not one of a
    ThreadPoolExecutor's workers (not in a provider host, or a host built differently).

    Contract: best effort and safe either way: it never lowers a limit and never raises; when the
    pool is not found nothing changes and writes still succeed, only less coalesced. The search
    (one walk of the garbage collector's objects) runs once per process."""
    global _widened
    with _lock:
        if _widened is not None:
            return _widened
        me = threading.current_thread()
        try:
            for obj in gc.get_objects():
                if isinstance(obj, ThreadPoolExecutor) and me in getattr(obj, "_threads", ()):
                    limit = getattr(obj, "_max_workers", None)
                    if isinstance(limit, int):
                        # _max_workers is read by submit() each time it decides whether to start
                        # a thread (CPython 3.8-3.13): raising it takes effect for the next request.
                        obj._max_workers = max(limit, workers)
                        _widened = max(limit, workers)
                        _log.debug("provider host request pool: %d -> %d workers", limit, _widened)
                        return _widened
        except Exception as exc:  # noqa: BLE001 - never let an optimisation fail a request
            _log.debug("provider host request pool left as it is: %s", exc)
        _widened = 0
        return None


def engine_parallel() -> int:
    """How many steps the engine runs at once, as far as this process can tell: PULUMI_PARALLEL
    when set, else the engine's default (4 per CPU). The `--parallel` flag is not visible here; a
    wrong estimate costs time or extra writes, never correctness."""
    raw = os.environ.get("PULUMI_PARALLEL", "")
    if raw.strip().isdigit() and int(raw) > 0:
        return int(raw)
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return 4 * cpus

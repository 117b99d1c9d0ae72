"""The dynamic-provider host process: how many requests it serves at once, and how many the engine
can have in flight.

Single-version writes coalesce only across requests that are inside this process at the same
time (`coalesce.apply_one`). Two limits decide how many that can be:

- the host: the stock host (`python -m pulumi.dynamic`, pulumi/dynamic/__main__.py) serves gRPC
  on a ThreadPoolExecutor of 4 workers, so at most 4 creates of a package ever wait together;
  `widen_request_pool` raises that pool's limit once per process;
- the engine: `pulumi up` runs at most `--parallel` steps at once (PULUMI_PARALLEL; default 4 per
  CPU). `engine_parallel` is this process's estimate of it: when every step the engine can run is
  waiting in a coalesced batch, no further request can arrive, so waiting longer is pure loss.

And how long the process lives: the stock host waits for the engine's signal forever, so an engine
that was killed leaves it running. `exit_when_engine_gone` ends it once the engine is gone and no
write of ours is in flight.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

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


# -- the engine going away -----------------------------------------------------------------------

ENGINE_CHECK_SECONDS = 5.0  # how often the engine is asked whether it is still there
_HEALTH_CHECK = "/grpc.health.v1.Health/Check"
_in_flight = 0
_idle = threading.Condition()
_watching = False


@contextmanager
def writing() -> Iterator[None]:
    """Marks a write call to the service as in flight: the process does not exit under it."""
    global _in_flight
    with _idle:
        _in_flight += 1
    try:
        yield
    finally:
        with _idle:
            _in_flight -= 1
            _idle.notify_all()


def engine_address() -> Optional[str]:
    """The engine's address when this process is the dynamic-provider host an engine started
    (`python -m pulumi.dynamic <engine>`); None anywhere else (tests, the stack program)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if getattr(spec, "name", None) != "pulumi.dynamic.__main__":
        return None
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    return args[0] if args else None


def exit_when_idle(exit: Callable[[int], object] = os._exit) -> None:
    """Waits until no write is in flight, then ends the process. A write that was sent completes
    and its answer is read, so what the service did is what it did; nobody is left to tell."""
    with _idle:
        while _in_flight:
            _idle.wait()
        exit(0)


def exit_when_engine_gone(interval: Optional[float] = None) -> bool:
    """Once per process, in a provider host an engine started: asks the engine's gRPC health
    service every ``interval`` seconds (ENGINE_CHECK_SECONDS) whether it is there and, once it
    refused two checks in a row, ends the process when no write is in flight. Only a refused
    connection counts (a busy engine answers late; a dead one refuses at once); an engine without
    the health service (UNIMPLEMENTED) is alive, as the engine's own Go plugins treat it.
    Returns whether a watch runs. Never raises."""
    global _watching
    address = engine_address()
    with _lock:
        if _watching or not address:
            return _watching
        _watching = True
    try:
        import grpc

        channel = grpc.insecure_channel(address)
        check = channel.unary_unary(_HEALTH_CHECK)  # an empty HealthCheckRequest is zero bytes
    except Exception as exc:  # noqa: BLE001 - never let housekeeping fail a request
        _log.debug("not watching the engine: %s", exc)
        return False
    every = interval if interval is not None else ENGINE_CHECK_SECONDS

    def run() -> None:
        refused = 0
        while refused < 2:
            time.sleep(every)
            try:
                check(b"", timeout=max(every, 5.0))
                refused = 0
            except grpc.RpcError as e:
                refused = refused + 1 if e.code() == grpc.StatusCode.UNAVAILABLE else 0
        channel.close()
        exit_when_idle()

    threading.Thread(target=run, name="engine-health", daemon=True).start()
    return True


class _RpcStatus:
    """A gRPC status with details (grpc.Status is an interface of three attributes)."""

    def __init__(self, code: object, details: str, trailing_metadata: tuple[tuple[str, bytes], ...]) -> None:
        self.code, self.details, self.trailing_metadata = code, details, trailing_metadata


def _servicer_context() -> Optional[object]:
    """The gRPC context of the provider-host request this thread is serving (the `context` of
    pulumi.dynamic's servicer method that called us), or None."""
    frame = sys._getframe(1)
    while frame is not None:
        ctx = frame.f_locals.get("context") if frame.f_code.co_name in ("Create", "Update") else None
        if ctx is not None and hasattr(ctx, "abort_with_status"):
            return ctx  # type: ignore[no-any-return]
        frame = frame.f_back  # type: ignore[assignment]
    return None


def fail_partially(resource_id: str, props: dict[str, object], outputs: dict[str, object], error: Exception) -> None:
    """Fails the current Create/Update as a *partial* failure: the engine records ``outputs`` as
    the resource's state (what was actually written) and reports ``error``, instead of keeping the
    state from before the call (the stock dynamic provider has no way to say "part of this was
    applied"). Uses the provider protocol's ErrorResourceInitFailed detail, which the engine reads
    for Create and Update.

    Contract: when it cannot (not inside the host's servicer, or the protocol pieces are missing)
    it returns and the caller raises ``error`` as before: the state then stays as before the call,
    which the StatusLedger's write-ahead record covers."""
    ctx = _servicer_context()
    if ctx is None:
        return
    try:
        import asyncio

        import grpc
        from google.protobuf import any_pb2
        from google.rpc import status_pb2
        from pulumi.runtime import proto, rpc

        outs = dict(outputs)
        outs["__provider"] = props.get("__provider")
        loop = asyncio.new_event_loop()
        try:
            struct = loop.run_until_complete(rpc.serialize_properties(outs, {}))
        finally:
            loop.close()
        detail = proto.provider_pb2.ErrorResourceInitFailed(id=resource_id, properties=struct, reasons=[str(error)])
        packed = any_pb2.Any()
        packed.Pack(detail)
        message = str(error)
        status = status_pb2.Status(code=grpc.StatusCode.UNKNOWN.value[0], message=message, details=[packed])
        rich = _RpcStatus(grpc.StatusCode.UNKNOWN, message, (("grpc-status-details-bin", status.SerializeToString()),))
    except Exception as exc:  # noqa: BLE001 - fall back to the plain failure
        _log.debug("partial failure not reported to the engine: %s", exc)
        return
    ctx.abort_with_status(rich)  # type: ignore[attr-defined]  # raises: the engine gets the partial state

"""The project's language host (tools/pulumi_host) as a process: it stays up while the engine that
started it answers, and exits on its own once that engine is gone (killed, so it could not stop its
plugins), instead of waiting for a signal forever."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent import futures
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parents[1]


def _start_host(engine_address: str) -> subprocess.Popen[str]:
    code = ("import sys; from tools.pulumi_host import language_host as h; "
            "h.HEALTH_INTERVAL = 0.2; h.main(sys.argv[1:])")
    proc = subprocess.Popen([sys.executable, "-u", "-c", code, engine_address], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    port = proc.stdout.readline().strip()
    assert port.isdigit(), proc.stderr.read() if proc.stderr else port
    return proc


def test_the_host_outlives_a_busy_engine_and_exits_once_the_engine_is_gone() -> None:
    # A gRPC server without the health service: UNIMPLEMENTED, which counts as alive
    engine = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    port = engine.add_insecure_port("127.0.0.1:0")
    engine.start()
    proc = _start_host(f"127.0.0.1:{port}")
    try:
        time.sleep(1.5)  # seven checks
        assert proc.poll() is None
        engine.stop(grace=0)
        proc.wait(timeout=10)
        assert proc.returncode == 0
        assert proc.stderr is not None and f"the engine at 127.0.0.1:{port} is gone" in proc.stderr.read()
    finally:
        engine.stop(grace=0)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_host_started_without_an_engine_address_waits_for_its_signal() -> None:
    import signal

    proc = _start_host("")
    try:
        time.sleep(0.8)
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)  # how the engine stops its plugins
        proc.wait(timeout=10)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

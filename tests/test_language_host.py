"""The project's language host (tools/pulumi_host) as a process: it stays up while the engine that
started it (its parent) runs, and exits on its own once that engine is gone (killed, so it could
not stop its plugins), instead of waiting for a signal forever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = ("import sys; from tools.pulumi_host import language_host as h; "
        "h.PARENT_CHECK_SECONDS = 0.1; h.main(sys.argv[1:])")
# A stand-in engine: starts the host as its child, says the host's pid, then runs until killed.
ENGINE = ("import subprocess, sys, time; "
          "p = subprocess.Popen([sys.executable, '-u', '-c', sys.argv[1], '127.0.0.1:1'], stdout=subprocess.DEVNULL); "
          "print(p.pid, flush=True); time.sleep(600)")


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # exited, waiting to be reaped by whoever inherited it


def test_the_host_lives_with_its_engine_and_exits_once_the_engine_is_killed() -> None:
    engine = subprocess.Popen([sys.executable, "-u", "-c", ENGINE, HOST], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert engine.stdout is not None
    host = int(engine.stdout.readline())
    try:
        time.sleep(1.5)
        assert _running(host)  # fifteen checks while the engine runs
        engine.kill()
        engine.wait()
        deadline = time.monotonic() + 10
        while _running(host) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(host)
    finally:
        if _running(host):
            os.kill(host, signal.SIGKILL)
        if engine.poll() is None:
            engine.kill()


def test_the_host_stops_on_the_engines_signal() -> None:
    proc = subprocess.Popen([sys.executable, "-u", "-c", HOST, "127.0.0.1:1"], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip().isdigit()
        time.sleep(0.5)
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)  # how the engine stops its plugins
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

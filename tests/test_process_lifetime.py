"""Processes this project starts end with whoever started them, even when that one is killed and
cannot stop them: the language host (tools/pulumi_host) lives while the engine that started it
runs and exits once that engine is gone; an emulator started with `--exit-with-parent` (as the
test harness starts it) stops once the test run that started it is gone. (The provider process
ends with its engine too: tests/test_provider_grpc.py.)"""

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
# A stand-in parent (the engine, a test run): starts its child, says the child's pid, then runs
# until killed.
PARENT = ("import json, subprocess, sys, time; "
          "p = subprocess.Popen(json.loads(sys.argv[1]), stdout=subprocess.DEVNULL); "
          "print(p.pid, flush=True); time.sleep(600)")


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # exited, waiting to be reaped by whoever inherited it


def _outlives_its_killed_parent(child: list[str], deadline_s: float = 10) -> bool:
    """Starts ``child`` under a stand-in parent, checks it runs for a while, kills the parent with
    SIGKILL and says whether the child is still running ``deadline_s`` later."""
    import json

    parent = subprocess.Popen([sys.executable, "-u", "-c", PARENT, json.dumps(child)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    try:
        time.sleep(1.5)
        assert _running(pid)  # alive while its parent runs
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + deadline_s
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        return _running(pid)
    finally:
        if _running(pid):
            os.kill(pid, signal.SIGKILL)
        if parent.poll() is None:
            parent.kill()


def test_the_language_host_lives_with_its_engine_and_exits_once_the_engine_is_killed() -> None:
    assert not _outlives_its_killed_parent([sys.executable, "-u", "-c", HOST, "127.0.0.1:1"])


def test_the_language_host_stops_on_the_engines_signal() -> None:
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


def test_an_emulator_started_with_exit_with_parent_stops_when_its_test_run_is_killed() -> None:
    serve = [sys.executable, "-m", "emulator", "serve", "--port", "0"]
    assert not _outlives_its_killed_parent(serve + ["--exit-with-parent"])
    # without the flag it serves on (the demo and users may run it in the background)
    assert _outlives_its_killed_parent(serve, deadline_s=2)

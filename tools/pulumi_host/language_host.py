"""A minimal LanguageRuntime server: runs Python Pulumi programs for the real engine.

The engine starts ``pulumi-language-python <engine-address>``, reads the port from the first line
of stdout and calls GetPluginInfo, GetRequiredPackages and Run over gRPC. Run starts Pulumi's own
program executor, `pulumi-language-python-exec` of the same release (scripts/setup installs it
from the SDK module the engine is built from; `--use-executor PATH`), with the project's
virtualenv interpreter and the stock host's arguments, and waits for it: programs run here exactly
as under the stock toolchain (their output, tracebacks and exit codes included).

Contract of Run: the response is empty when the program succeeded; ``bail`` is set when the
program failed and has already reported why to the engine (exit code 32); ``error`` carries a
message for any other failure (e.g. the interpreter could not be started).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent import futures
from pathlib import Path
from typing import Any, Callable

import grpc
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

# The executor's exit code for "failed, and the error was already logged to the engine".
BAIL_EXIT_CODE = 32
# How often the host checks that the engine that started it is still its parent. The engine stops
# its plugins when it ends normally; killed (SIGKILL, OOM, a CI runner's timeout) it cannot, and
# the host would otherwise wait for a signal forever.
PARENT_CHECK_SECONDS = 1.0


def _version() -> str:
    from pulumi._version import _VERSION

    return str(_VERSION)


def python_for(options: dict[str, Any], root: str) -> str:
    """The interpreter for a program: runtime option ``virtualenv`` (relative to the project
    root), else $PULUMI_PYTHON_CMD, else the interpreter running this host."""
    venv = options.get("virtualenv")
    if venv:
        path = Path(venv) if os.path.isabs(venv) else Path(root or ".") / venv
        return str(path / "bin" / "python")
    return os.environ.get("PULUMI_PYTHON_CMD") or sys.executable


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, engine_address: str, executor: str = "") -> None:
        self.engine_address = engine_address
        self.executor = executor
        self._children: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def Handshake(self, request: Any, context: Any) -> Any:
        if request.engine_address:
            self.engine_address = request.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request: Any, context: Any) -> Any:
        return plugin_pb2.PluginInfo(version=_version())

    def GetRequiredPlugins(self, request: Any, context: Any) -> Any:
        # Dynamic providers are served by the bundled `pulumi-python` plugin; nothing to install.
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(self, request: Any, context: Any) -> Any:
        return language_pb2.GetRequiredPackagesResponse()

    def GetProgramDependencies(self, request: Any, context: Any) -> Any:
        return language_pb2.GetProgramDependenciesResponse()

    def About(self, request: Any, context: Any) -> Any:
        return language_pb2.AboutResponse(executable=sys.executable, version=sys.version.split()[0])

    def InstallDependencies(self, request: Any, context: Any) -> Any:
        # Dependencies are installed by scripts/setup into the project's virtualenv.
        return iter(())

    def Run(self, request: Any, context: Any) -> Any:
        info = request.info
        options = json_format.MessageToDict(info.options) if info.HasField("options") else {}
        root = info.root_directory or request.pwd
        program_dir = info.program_directory or request.pwd
        entry = info.entry_point or request.program or "."
        env = dict(os.environ)
        env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        if not self.executor or not os.path.isfile(self.executor):
            return language_pb2.RunResponse(error=f"no Python program executor (--use-executor={self.executor!r}): "
                                                  f"run scripts/setup, which installs Pulumi's own")
        # The stock host's command line for the stock executor.
        args = [python_for(options, root), "-u", self.executor,
                "--monitor", request.monitor_address, "--engine", self.engine_address,
                "--project", request.project, "--stack", request.stack,
                "--pwd", request.pwd or program_dir, "--dry_run", "true" if request.dryRun else "false",
                "--parallel", str(request.parallel)]
        if request.organization:
            args += ["--organization", request.organization]
        if root:
            args += ["--root_directory", root]
        args += [os.path.join(program_dir, entry), *request.args]
        try:
            child = subprocess.Popen(args, cwd=request.pwd or program_dir, env=env)
        except OSError as exc:
            return language_pb2.RunResponse(error=f"could not start the Python program: {exc}")
        with self._lock:
            self._children.add(child)
        try:
            code = child.wait()
        finally:
            with self._lock:
                self._children.discard(child)
        if code == 0:
            return language_pb2.RunResponse()
        if code == BAIL_EXIT_CODE:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(error=f"Python program exited with code {code}")

    def Cancel(self, request: Any, context: Any) -> Any:
        with self._lock:
            for child in self._children:
                child.send_signal(signal.SIGINT)
        return empty_pb2.Empty()


def watch_parent(interval: float, gone: Callable[[], None]) -> threading.Thread:
    """Calls ``gone`` once the process that started this one has ended (this process was handed to
    another parent). The engine starts the host directly (the launcher script execs), so its
    parent is the engine; a parent check needs no connection and cannot mistake a busy engine for
    a dead one."""
    parent = os.getppid()

    def run() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        gone()

    thread = threading.Thread(target=run, name="engine-watch", daemon=True)
    thread.start()
    return thread


def main(argv: list[str]) -> None:
    executor = next((a.split("=", 1)[1] for a in argv if a.startswith("--use-executor=")), "")
    positional = [a for a in argv if not a.startswith("-")]
    engine_address = positional[-1] if positional else ""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    host = LanguageHost(engine_address, executor)
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(host, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    # The engine stops plugins with SIGINT (then kills them): that is a normal shutdown here.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    def engine_gone() -> None:
        try:  # stderr was a pipe to the engine: usually gone with it
            sys.stderr.write("pulumi_host: the engine that started this host is gone; stopping the program\n")
        except OSError:
            pass
        stop.set()

    watch_parent(PARENT_CHECK_SECONDS, engine_gone)
    stop.wait()
    # A program still running has nobody left to report to; without this the host would wait for
    # it on exit (the Run handler's thread is joined).
    host.Cancel(None, None)
    server.stop(grace=1)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Runs one Python Pulumi program inside a stack, connected to the engine (started by the host).

Exit codes: 0 success; 32 the program failed and the error was logged to the engine (the
engine then shows it as the program's error, once); anything else is an unexpected crash.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import runpy
import signal
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any

BAIL_EXIT_CODE = 32


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    for flag in ("--monitor", "--engine", "--project", "--stack", "--organization", "--root",
                 "--program-dir", "--entry"):
        p.add_argument(flag, default="")
    p.add_argument("--parallel", type=int, default=0)
    p.add_argument("--dry-run", action="store_true")
    return p.parse_args(argv)


def _entry_file(program_dir: str, entry: str) -> str:
    path = os.path.normpath(os.path.join(program_dir, entry))
    if os.path.isdir(path):
        path = os.path.join(path, "__main__.py")
    return path


def main(argv: list[str]) -> int:
    a = _parse(argv)
    import pulumi
    from pulumi.runtime import settings, stack
    from pulumi.runtime.config import get_config_env, get_config_secret_keys_env, set_all_config

    settings.configure(settings.Settings(
        project=a.project, stack=a.stack, monitor=a.monitor, engine=a.engine,
        parallel=a.parallel, dry_run=a.dry_run, organization=a.organization or None,
        root_directory=a.root or None,
    ))
    set_all_config(get_config_env(), get_config_secret_keys_env())

    entry = _entry_file(a.program_dir, a.entry)
    program_dir = os.path.dirname(entry)
    if program_dir not in sys.path:
        sys.path.insert(0, program_dir)

    def program() -> None:
        runpy.run_path(entry, run_name="__main__")

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The SDK sends each RegisterResource from the loop's default executor and the call returns
    # only when the engine has finished that resource: the pool bounds how many resources are in
    # flight. Python's default pool (cpu + 4 threads) would cap the engine's --parallel at 6 here;
    # size it from --parallel as the stock language host does (4 threads per parallel step).
    pool = ThreadPoolExecutor(max_workers=max(a.parallel, 1) * 4)
    loop.set_default_executor(pool)

    def quiet_failed_registrations(lp: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # A resource whose create/update failed leaves its output futures holding the failure,
        # which asyncio would print as "Future exception was never retrieved" with a traceback;
        # the engine has already reported that resource's error, naming it.
        if type(context.get("exception")).__name__ == "ResourceRegistrationFailed":
            return
        lp.default_exception_handler(context)

    loop.set_exception_handler(quiet_failed_registrations)
    try:
        loop.run_until_complete(stack.run_in_stack(program))
    except pulumi.RunError as exc:
        pulumi.log.error(str(exc))
        return BAIL_EXIT_CODE
    except KeyboardInterrupt:  # the engine stopping the program (cancel, or after an error): not a crash
        return BAIL_EXIT_CODE
    except Exception:  # the program's own error: show its traceback once, through the engine
        pulumi.log.error("Program failed with an unhandled exception:\n" + traceback.format_exc())
        return BAIL_EXIT_CODE
    finally:
        # The program is done: an interrupt from the engine now (it stops the program after a
        # failed resource, for instance) has nothing left to stop, and must not print a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        loop.close()
    return 0


if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
    except KeyboardInterrupt:  # interrupted before the program could finish: the engine says why
        code = BAIL_EXIT_CODE
    # Every registration has been answered once main returns. Leave without the interpreter's
    # shutdown, which joins the SDK's worker threads and would print a KeyboardInterrupt
    # traceback if the engine interrupts the program meanwhile (e.g. after a failed resource).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

"""``python -m emulator serve --port 0 [--db FILE] [--seed FILE] [fault options]``
``python -m emulator export-trail DIR (--url URL | --seed FILE...)``

Prints the endpoint URL as the first line of stdout, then serves until SIGINT/SIGTERM, or with
``--exit-with-parent`` also until the process that started it has ended (the test harness: a
killed test run must not leave emulators behind).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import os
import threading
import time
import urllib.request


from .backend import DEFAULT_ACCOUNT, DEFAULT_REGION, Backend
from .faults import FaultConfig, Faults
from .seed import load_seed
from .server import Emulator, Signatures


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m emulator")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="run the emulator")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0, help="0 picks a free port")
    s.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    s.add_argument("--seed", action="append", default=[], help="seed file (YAML/JSON); repeatable")
    s.add_argument("--account", default=DEFAULT_ACCOUNT, help="the caller's and new domains' account id")
    s.add_argument("--region", default=DEFAULT_REGION)
    s.add_argument("--credentials", help='JSON {"ACCESS_KEY": "SECRET"}: signatures with these keys are verified')
    s.add_argument("--strict-auth", action="store_true", help="refuse access keys not in --credentials")
    s.add_argument("--faults", help="JSON FaultConfig, e.g. '{\"latency_ms\": 20}'")
    s.add_argument("--latency-ms", type=float, help="shortcut for faults.latency_ms")
    s.add_argument("--exit-with-parent", action="store_true",
                   help="stop when the process that started this one has ended")
    t = sub.add_parser("export-trail", help="write the trail as CloudTrail log files (S3 layout) under DIR")
    t.add_argument("directory")
    src = t.add_mutually_exclusive_group(required=True)
    src.add_argument("--url", help="a running emulator's endpoint: its whole trail")
    src.add_argument("--seed", action="append", help="seed file(s): the trail of their downloads, offline")
    a = p.parse_args(argv)
    if a.cmd == "export-trail":
        return _export_trail(a)

    backend = Backend(a.db, account=a.account, region=a.region)
    for path in a.seed:
        backend.seed(load_seed(path))
    faults = FaultConfig.model_validate(json.loads(a.faults) if a.faults else {})
    if a.latency_ms is not None:
        faults = faults.model_copy(update={"latency_ms": a.latency_ms})
    creds = json.loads(a.credentials) if a.credentials else None
    emu = Emulator(backend, Faults(faults), Signatures(creds, a.strict_auth))
    httpd = emu.serve(a.host, a.port)
    print(emu.url, flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    if a.exit_with_parent:
        threading.Thread(target=_stop_when_orphaned, args=(stop,), daemon=True).start()
    stop.wait()
    httpd.shutdown()
    backend.close()
    return 0


def _export_trail(a: argparse.Namespace) -> int:
    if a.url:
        req = urllib.request.Request(a.url.rstrip("/") + "/_emulator/trail/export", method="POST",
                                     data=json.dumps({"directory": os.path.abspath(a.directory)}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            files = json.load(r)["files"]
    else:
        backend = Backend()
        for path in a.seed:
            backend.seed(load_seed(path))
        files = backend.trail.export(a.directory)
        backend.close()
    print(f"{len(files)} CloudTrail log file(s) under {a.directory}", file=sys.stderr)
    return 0


def _stop_when_orphaned(stop: threading.Event) -> None:
    # A process whose parent ended is handed to another one (init or a subreaper).
    parent = os.getppid()
    while not stop.wait(0.5):
        if os.getppid() != parent:
            stop.set()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""``python -m emulator serve --port 0 [--db FILE] [--seed FILE] [fault options]``

Prints the endpoint URL as the first line of stdout, then serves until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from . import admin
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
    a = p.parse_args(argv)

    backend = Backend(a.db, account=a.account, region=a.region)
    for path in a.seed:
        admin.seed(backend, load_seed(path))
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
    stop.wait()
    httpd.shutdown()
    backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

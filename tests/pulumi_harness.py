"""Driving the real Pulumi engine (the CLI that scripts/setup built) on throw-away stacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from emulator.testing import ROOT, aws_env


def pulumi_available() -> Optional[str]:
    return shutil.which("pulumi")


@dataclass
class Stack:
    workdir: Path
    name: str
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 600, expect: Optional[int] = 0,
            env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(["pulumi", *args, "--non-interactive", "--color", "never"], cwd=self.workdir,
                              env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=timeout)
        if expect is not None and proc.returncode != expect:
            raise AssertionError(f"pulumi {' '.join(args)} exited {proc.returncode} (expected {expect})\n"
                                 f"--- stdout\n{proc.stdout[-8000:]}\n--- stderr\n{proc.stderr[-4000:]}")
        return proc

    def json(self, *args: str, expect: Optional[int] = 0, **kw: Any) -> tuple[int, Any, str]:
        """Runs with --json. Some commands print several JSON documents back to back (e.g. `up`
        prints its preview, then the update): the last one is returned, all in ``self.docs``."""
        proc = self.run(*args, "--json", expect=expect, **kw)
        self.docs = json_documents(proc.stdout)
        return proc.returncode, (self.docs[-1] if self.docs else None), proc.stderr

    def config(self, key: str, value: str, secret: bool = False) -> None:
        self.run("config", "set", *(["--secret"] if secret else []), key, value)

    def outputs(self) -> dict[str, Any]:
        return json.loads(self.run("stack", "output", "--json", "--show-secrets").stdout)  # type: ignore[no-any-return]

    def export(self) -> dict[str, Any]:
        return json.loads(self.run("stack", "export").stdout)  # type: ignore[no-any-return]

    def resources(self, type_suffix: str) -> list[dict[str, Any]]:
        return [r for r in self.export()["deployment"].get("resources", []) if r["type"].endswith(type_suffix)]

    def ledger(self) -> dict[str, Any]:
        """The StatusLedger's outputs, decoded (field -> label -> record), {} without a ledger."""
        return ledger_of(self.export())


def ledger_of(export: dict[str, Any]) -> dict[str, Any]:
    from provider.status_ledger import record
    for r in export.get("deployment", export).get("resources") or []:
        if r["type"].endswith("StatusLedger"):
            return record(r.get("outputs") or {})
    return {}


def json_documents(text: str) -> list[Any]:
    decoder = json.JSONDecoder()
    docs, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return docs
        if text[i] not in "{[":  # a stray line (e.g. a plain-text message): skip it
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl + 1
            continue
        doc, i = decoder.raw_decode(text, i)
        docs.append(doc)


def new_stack(tmp_path: Path, program: str, name: str = "test", files: Optional[dict[str, str]] = None,
              extra_env: Optional[dict[str, str]] = None, refresh_always: bool = False) -> Stack:
    """A project in ``tmp_path/project`` running ``program`` as __main__.py, with its own file
    backend in ``tmp_path/state``, the project's virtualenv, and test AWS credentials."""
    work = tmp_path / "project"
    work.mkdir(parents=True, exist_ok=True)
    (tmp_path / "state").mkdir(exist_ok=True)
    (work / "Pulumi.yaml").write_text(
        f"name: castest\nruntime:\n  name: python\n  options:\n    virtualenv: {ROOT / '.venv'}\n"
        + ("options:\n  refresh: always\n" if refresh_always else ""))
    (work / "__main__.py").write_text(program)
    for rel, text in (files or {}).items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)
    env = aws_env({
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "test-passphrase",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_CONTINUE_ON_ERROR": "true",  # as scripts/setup's env.sh: one failing package never stops the rest
        "PULUMI_RUN_PROGRAM": "true",  # as env.sh: refresh uses the current codeartifact:* config
        "PULUMI_PARALLEL": os.environ.get("PULUMI_PARALLEL", "256"),  # as env.sh
        "PYTHONPATH": str(ROOT),
        **(extra_env or {}),
    })
    env.pop("PULUMI_CONFIG", None)
    stack = Stack(work, name, env)
    stack.run("stack", "init", name)
    return stack



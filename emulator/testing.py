"""Starting and driving a real emulator process for tests (and benchmarks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
# Test-only credentials: the emulator verifies signatures made with them.
ACCESS_KEY = "AKIAEMULATORTEST0001"
SECRET_KEY = "emulator-test-secret-key-not-a-real-one"
SESSION_TOKEN = "emulator-test-session-token-value"
REGION = "us-east-1"


@dataclass
class EmulatorProcess:
    url: str
    proc: subprocess.Popen[str]
    db: Optional[str] = None

    def admin(self, path: str, doc: Any = None, method: Optional[str] = None) -> Any:
        data = None if doc is None else (doc if isinstance(doc, bytes) else json.dumps(doc).encode())
        req = urllib.request.Request(f"{self.url}/_emulator/{path}", data=data,
                                     method=method or ("POST" if data is not None else "GET"))
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def reset(self) -> None:
        self.admin("reset", {})

    def seed(self, doc: dict[str, Any]) -> Any:
        return self.admin("seed", json.dumps(doc).encode())

    def faults(self, **config: Any) -> Any:
        return self.admin("faults", config)

    def counters(self) -> dict[str, Any]:
        return self.admin("counters")  # type: ignore[no-any-return]

    def clock(self, offset_seconds: float) -> Any:
        """Shifts the emulator's clock (trail times, publish times) by ``offset_seconds``."""
        return self.admin("clock", {"offset_seconds": offset_seconds})

    def download(self, domain: str, repository: str, fmt: str, package: str, version: str,
                 namespace: Optional[str] = None, **who: Any) -> Any:
        """A package manager's fetch of one version (CloudTrail: ReadFromRepository)."""
        doc = {"domain": domain, "repository": repository, "format": fmt, "package": package, "version": version,
               **({"namespace": namespace} if namespace else {}), **who}
        try:
            return self.admin("package-manager/read", doc)
        except urllib.error.HTTPError as e:
            return json.loads(e.read())

    def export_trail(self, directory: str) -> list[str]:
        """Writes the trail as CloudTrail log files (S3 layout) under ``directory``."""
        return self.admin("trail/export", {"directory": directory})["files"]  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_emulator(*args: str, db: Optional[str] = None) -> EmulatorProcess:
    cmd = [sys.executable, "-m", "emulator", "serve", "--port", "0", "--exit-with-parent",
           "--credentials", json.dumps({ACCESS_KEY: SECRET_KEY}), *args]
    if db:
        cmd += ["--db", db]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://"):
        proc.kill()
        raise RuntimeError(f"emulator did not start (first line: {url!r})")
    return EmulatorProcess(url=url, proc=proc, db=db)


def aws_env(extra: Optional[dict[str, str]] = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_SESSION_TOKEN=SESSION_TOKEN,
               AWS_DEFAULT_REGION=REGION, AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    env.update(extra or {})
    return env


def client(url: str, retries: int = 0, **config: Any) -> Any:
    return boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, aws_session_token=SESSION_TOKEN,
        region_name=REGION,
    ).client("codeartifact", endpoint_url=url,
             config=Config(retries={"total_max_attempts": retries + 1, "mode": "standard"}, **config))


def run_aws(url: str, *args: str) -> tuple[int, Any, str]:
    """Runs the real `aws` CLI (awscli from PyPI) against the emulator: (exit code, JSON, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "awscli", "--endpoint-url", url, "--output", "json",
                           "codeartifact", *args], env=aws_env(), capture_output=True, text=True, timeout=60)
    out = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, out, proc.stderr


def example_specs(dest: Path, trail: bool = True) -> Path:
    """A copy of the project's specs/ under ``dest``/specs with the download evidence its
    `downloads:` entry reads: the demo data's trail as CloudTrail log files (what scripts/demo
    writes from the running emulator), made offline by a fresh backend seeded with the demo data
    (``trail=False``: the caller writes it, e.g. from a running emulator)."""
    from datetime import datetime, timezone

    from .backend import Backend
    from .demo_data import build
    from .seed import SeedDoc

    specs = dest / "specs"
    specs.mkdir(parents=True, exist_ok=True)
    for p in (ROOT / "specs").glob("*.yaml"):
        (specs / p.name).write_text(p.read_text())
    if not trail:
        return specs
    backend = Backend()
    backend.seed(SeedDoc.model_validate(build(datetime.now(timezone.utc))))
    backend.trail.export(str(specs / "evidence" / "cloudtrail"))
    backend.close()
    return specs

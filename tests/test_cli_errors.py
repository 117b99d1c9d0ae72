"""Every CLI error is one line saying what to set, never a traceback: no region, no credentials,
an invalid domain or repository name; and the `changes` stack output stays small at any size."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from emulator.testing import ROOT
from provider.stack.program import CHANGES_SHOWN, changes_output


def cli(*args: str, drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", PYTHONPATH=str(ROOT))
    if "AWS_ACCESS_KEY_ID" not in drop:
        env.update(AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret")
    return subprocess.run([sys.executable, "-m", "provider", *args], capture_output=True, text=True, env=env,
                          timeout=60)


@pytest.mark.parametrize("cmd", [["snapshot"], ["adopt"], ["init", "{tmp}/infra", "--from-live"]])
def test_no_region_is_one_line_saying_what_to_set(cmd: list[str], tmp_path: object) -> None:
    r = cli(*[c.format(tmp=tmp_path) for c in cmd], "--domain", "dom", "--repository", "repo")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [f"{cmd[0]}: no AWS region is set: pass --region (or set AWS_REGION)"]


def test_no_credentials_is_one_line_saying_what_to_set() -> None:
    r = cli("snapshot", "--domain", "dom", "--repository", "repo", "--region", "us-east-1", "--endpoint-url",
            "http://127.0.0.1:9", drop=("AWS_ACCESS_KEY_ID",))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "no AWS credentials were found: pass --profile" in r.stderr


def test_an_invalid_name_is_one_line_per_argument() -> None:
    r = cli("adopt", "--domain", "D", "--repository", "r", "--region", "us-east-1")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("adopt: --domain: 'D' is not a valid domain name")


def test_the_changes_output_stays_small_at_any_size() -> None:
    changes = {f"dom/repo/npm/p{i:05d}": {f"1.0.{j}": {"from": "Published", "to": "Archived", "rule": "rule:r"}
                                         for j in range(15)} for i in range(1000)}
    out = changes_output(changes)
    assert len(str(out)) < 5000
    assert out["dom/repo/npm/p00000"] == {"Published -> Archived": 15}
    assert out["(more packages)"] == {"packages": 1000 - CHANGES_SHOWN, "changes": (1000 - CHANGES_SHOWN) * 15}

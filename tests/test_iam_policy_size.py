"""`iam-policy` fits IAM: statements are merged per action set, the size IAM counts (no
whitespace) is checked against the managed (6,144) and inline (10,240) limits, and a policy over
the limit is split into numbered policies that together grant exactly the same, with a note."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.testing import ROOT
from provider.cli.iam_policy import LIMITS, policies, policy, size


def specs(tmp_path: Path, n: int) -> Path:
    d = tmp_path / f"specs-{n}"
    d.mkdir()
    lines = ["domain: dom", "domain_owner: '111122223333'", "repository: repo", "packages:"]
    for i in range(n):
        lines += [f"  - format: npm", f"    namespace: acme", f"    package: service-package-{i:03d}",
                  "    allow_dispose: true" if i % 10 == 0 else "    allow_dispose: false",
                  '    versions: {"1.0.0": Archived}']
    (d / "repo.yaml").write_text("\n".join(lines) + "\n")
    return d


def grants_of(docs: list[dict]) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(action, arn) for d in docs for st in d["Statement"] for action in st["Action"] for arn in st["Resource"]}


@pytest.mark.parametrize("limit", ["managed", "inline"])
def test_a_large_policy_is_split_within_the_limit_and_grants_exactly_the_same(tmp_path: Path, limit: str) -> None:
    d = specs(tmp_path, 120)
    whole = policy(d, "us-east-1", None)
    docs = policies(d, "us-east-1", None, limit=limit)
    assert size(whole) > LIMITS[limit] and len(docs) > 1
    assert all(size(doc) <= LIMITS[limit] for doc in docs)
    assert grants_of(docs) == grants_of([whole])
    assert len(grants_of([whole])) == 120 * 2 + 12  # list and update each, dispose for every tenth


def test_forty_packages_fit_one_managed_policy(tmp_path: Path) -> None:
    docs = policies(specs(tmp_path, 40), "us-east-1", None)
    assert len(docs) == 1 and size(docs[0]) <= 6144 and len(docs[0]["Statement"]) == 2


def test_the_cli_says_when_it_splits_and_prints_every_policy(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "provider", "iam-policy", "--specs", str(specs(tmp_path, 120)),
                        "--region", "us-east-1"], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    n = len(out["Policies"])
    assert n > 1 and f"split into {n} policies" in r.stderr and "over IAM's 6,144" in r.stderr
    assert all(size(p["PolicyDocument"]) <= 6144 for p in out["Policies"])

"""The GitHub workflow `init` writes (and docs/ci-workflow.yml) is valid for GitHub: actionlint,
which implements GitHub's workflow rules (contexts allowed per key, expressions, job and step
schema), finds nothing in it. scripts/setup builds actionlint from the Go module proxy."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from emulator.testing import ROOT
from provider.cli.init import workflow


def actionlint() -> str:
    found = shutil.which("actionlint")
    assert found, "actionlint is not on PATH: run the tests through ./scripts/test (scripts/setup builds it)"
    return found


@pytest.mark.parametrize("stack", ["prod", "dev-eu-west-1"])
def test_the_generated_workflow_has_no_actionlint_findings(tmp_path: Path, stack: str) -> None:
    path = tmp_path / ".github" / "workflows" / "codeartifact-status.yml"
    path.parent.mkdir(parents=True)
    path.write_text(workflow(stack))
    r = subprocess.run([actionlint(), "-no-color", str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == "", r.stdout + r.stderr


def test_the_documented_workflow_has_no_actionlint_findings() -> None:
    r = subprocess.run([actionlint(), "-no-color", str(ROOT / "docs" / "ci-workflow.yml")], capture_output=True,
                       text=True)
    assert r.returncode == 0 and r.stdout == "", r.stdout + r.stderr


def test_actionlint_rejects_what_github_rejects(tmp_path: Path) -> None:
    """The check can fail: the `env` context in `concurrency` (what the workflow used to have)."""
    bad = tmp_path / "bad.yml"
    bad.write_text(workflow("prod").replace("concurrency: codeartifact-status-prod",
                                            "concurrency: codeartifact-status-${{ env.STACK }}", 1))
    r = subprocess.run([actionlint(), "-no-color", str(bad)], capture_output=True, text=True)
    assert r.returncode != 0 and 'context "env" is not allowed here' in r.stdout

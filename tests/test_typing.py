"""The code base stays mypy-clean (strict, with the pydantic plugin; config in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

from emulator.testing import ROOT


def test_mypy_strict_is_clean() -> None:
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]

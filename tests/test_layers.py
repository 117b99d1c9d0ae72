"""The layers of ../shared/LAYOUT.md hold (`lint-imports` with the contracts in pyproject.toml):
cli > stack > the resource modules > rules > _core; the spec language uses only `_core.model`
and neither boto3 nor pulumi; `_core` imports nothing above it; the emulator never imports the
provider; boto3 is used only inside `_core`; the resource modules are independent of each other
and of the spec language, and reach `_core`'s reads/writes only through `api`. The contracts are live: an
import that crosses a layer makes the check fail."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from emulator.testing import ROOT

LINT = str(Path(shutil.which("lint-imports") or ROOT / ".venv" / "bin" / "lint-imports"))


def lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LINT, "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)})


def test_the_provider_keeps_its_layers() -> None:
    r = lint(ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "Contracts: 7 kept, 0 broken." in r.stdout


def test_an_import_across_layers_breaks_the_contract(tmp_path: Path) -> None:
    for pkg in ("provider", "emulator"):
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    expand = tmp_path / "provider" / "rules" / "expand.py"
    expand.write_text(expand.read_text().replace("from __future__ import annotations\n",
                                                 "from __future__ import annotations\n\nimport provider._core.api\n", 1))
    r = lint(tmp_path)
    assert r.returncode != 0
    assert "provider.rules.expand -> provider._core.api" in r.stdout

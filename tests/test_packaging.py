"""From `pip install` to a reviewed change in someone else's infra repo, outside this checkout:
the wheel installs next to the newest `pulumi` SDK on PyPI without changing it and adds only the
`provider` package (no `emulator`, no `tools`); the gRPC lifecycle test passes with that SDK;
`python -m provider init --from-live` writes an infra repo that, with the wheel in its own
virtualenv, previews no change against the live repository, and converges after a spec edit with
the real engine; `init` refuses to overwrite files; a copied checkout's setup points everything at
the copy."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from emulator.testing import ROOT, EmulatorProcess, aws_env
from tests.pulumi_harness import pulumi_available

NEWEST = re.search(r"^PULUMI_SDK_NEWEST=(\S+)$", (ROOT / "scripts" / "versions.env").read_text(), re.M).group(1)  # type: ignore[union-attr]


def run(*cmd: str, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 900) -> str:
    r = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT))
    (found,) = out.glob("codeartifact_status-*.whl")
    return found


def new_venv(where: Path, *packages: str) -> Path:
    base = getattr(sys, "_base_executable", sys.executable)
    run(base, "-m", "venv", str(where))
    run(str(where / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", *packages)
    return where / "bin" / "python"


def pulumi_version(python: Path) -> str:
    return run(str(python), "-c", "import importlib.metadata as m; print(m.version('pulumi'))").strip()


@pytest.fixture(scope="module")
def newest_venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Iterator[Path]:
    """A user's virtualenv: the newest pulumi SDK first, then our wheel."""
    python = new_venv(tmp_path_factory.mktemp("user") / "venv", f"pulumi=={NEWEST}")
    run(str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel))
    yield python


def test_the_wheel_keeps_the_users_pulumi_and_adds_only_the_provider(wheel: Path, newest_venv: Path) -> None:
    assert pulumi_version(newest_venv) == NEWEST
    with zipfile.ZipFile(wheel) as z:
        top = {n.split("/")[0] for n in z.namelist() if not n.split("/")[0].endswith(".dist-info")}
        meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    assert top == {"provider"}
    assert re.search(r"^Requires-Dist: pulumi<4,>=3\.259$", meta, re.M), meta
    site = run(str(newest_venv), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    assert not (Path(site) / "emulator").exists() and not (Path(site) / "tools").exists()
    # And the oldest supported SDK is what this repository pins (the whole suite runs on it).
    assert f"pulumi=={(ROOT / 'scripts' / 'versions.env').read_text().split('PULUMI_VERSION=v')[1].split()[0]}" in \
        (ROOT / "requirements.txt").read_text()


@pytest.mark.emulator
def test_the_grpc_lifecycle_holds_with_the_newest_sdk(newest_venv: Path) -> None:
    run(str(newest_venv), "-m", "pip", "install", "-q", "--disable-pip-version-check", "pytest==9.2.0")
    env = {**aws_env(), "PYTHONPATH": str(ROOT)}  # the tests' helpers; `provider` resolves to the same code
    out = run(str(newest_venv), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_provider_grpc.py",
              env=env)
    assert "passed" in out and "failed" not in out
    assert pulumi_version(newest_venv) == NEWEST


SEED = {"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
    {"format": "npm", "name": "chalk", "versions": ["1.0.0", {"version": "2.0.0", "status": "Unlisted"}]},
    {"format": "pypi", "name": "sdk", "versions": ["1.0", "1.1"]}]}]}]}


@pytest.mark.e2e
@pytest.mark.skipif(not pulumi_available(), reason="run through scripts/test")
def test_init_from_live_gives_an_infra_repo_that_previews_clean_and_converges(
        emulator: EmulatorProcess, tmp_path: Path, wheel: Path) -> None:
    emulator.seed(SEED)
    repo = tmp_path / "acme-infra"
    init = [sys.executable, "-m", "provider", "init", str(repo), "--domain", "dom", "--repository", "repo",
            "--from-live", "--endpoint-url", emulator.url, "--region", "us-east-1",
            "--requirement", f"codeartifact-status @ file://{wheel}"]
    out = run(*init, env=aws_env())
    assert "wrote Pulumi.yaml" in out
    assert {str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file()} == {
        "Pulumi.yaml", "__main__.py", "requirements.txt", ".gitignore", "specs/repo.yaml",
        ".github/workflows/codeartifact-status.yml"}
    assert (repo / ".github/workflows/codeartifact-status.yml").read_text() == \
        (ROOT / "docs" / "ci-workflow.yml").read_text()
    # Asked again, nothing differs: it changes nothing; a file it would change is refused (nothing written).
    before = {p: p.read_text() for p in repo.rglob("*") if p.is_file()}
    r = subprocess.run(init, cwd=ROOT, env=aws_env(), capture_output=True, text=True)
    assert r.returncode == 0 and "nothing to change" in r.stdout
    (repo / "__main__.py").write_text("# mine\n")
    before = {p: p.read_text() for p in repo.rglob("*") if p.is_file()}
    r = subprocess.run(init, cwd=ROOT, env=aws_env(), capture_output=True, text=True)
    assert r.returncode == 1 and "__main__.py already exist" in r.stderr
    assert {p: p.read_text() for p in repo.rglob("*") if p.is_file()} == before
    from provider.cli.init import MAIN_PY
    (repo / "__main__.py").write_text(MAIN_PY)

    # The new repo's own virtualenv: the newest pulumi SDK and our wheel, from its requirements.txt.
    python = new_venv(repo / "venv", f"pulumi=={NEWEST}", "-r", str(repo / "requirements.txt"))
    assert pulumi_version(python) == NEWEST
    engine = shutil.which("pulumi")
    assert engine is not None
    env = aws_env({
        "PATH": f"{Path(engine).parent}:/usr/bin:/bin",
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}", "PULUMI_CONFIG_PASSPHRASE": "infra-passphrase",
        "PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_HOME": os.environ.get("PULUMI_HOME", str(tmp_path / "home")), "PULUMI_RUN_PROGRAM": "true"})
    for k in ("PYTHONPATH", "VIRTUAL_ENV"):
        env.pop(k, None)
    (tmp_path / "state").mkdir()

    def pulumi(*args: str) -> str:
        return run("pulumi", *args, "--non-interactive", cwd=repo, env=env)

    pulumi("stack", "init", "prod")
    pulumi("config", "set", "codeartifact:endpointUrl", emulator.url)
    pulumi("config", "set", "codeartifact:region", "us-east-1")
    # The first preview creates the resources (adoption) and changes no status: the PR summary,
    # made by the repo's own installed provider, says so.
    env["CODEARTIFACT_STATUS_PLAN"] = str(tmp_path / "plan.json")
    (tmp_path / "preview.json").write_text(pulumi("preview", "--json"))
    del env["CODEARTIFACT_STATUS_PLAN"]
    summary = run(str(python), "-m", "provider", "summary", str(tmp_path / "preview.json"), "--plan",
                  str(tmp_path / "plan.json"), "--strict", cwd=repo, env=env)
    assert "No status changes" in summary
    writes_before = emulator.counters()["operations"].get("UpdatePackageVersionsStatus", {}).get("requests", 0)
    pulumi("up", "--yes")  # adopts: records the statuses, writes none
    assert emulator.counters()["operations"].get("UpdatePackageVersionsStatus", {}).get("requests", 0) == writes_before
    pulumi("preview", "--expect-no-changes")
    spec = (repo / "specs" / "repo.yaml").read_text()
    assert '"1.0": Published' in spec or "'1.0': Published" in spec
    (repo / "specs" / "repo.yaml").write_text(spec.replace("Published", "Archived", 1))
    pulumi("up", "--yes")
    got = {(v["package"], v["version"]): v["status"] for v in emulator.admin("versions")["versions"]}
    assert got[("chalk", "1.0.0")] == "Archived" and got[("chalk", "2.0.0")] == "Unlisted"
    pulumi("preview", "--expect-no-changes")
    # The provider that ran is the wheel in the repo's venv, under the newest SDK.
    state = json.loads(pulumi("stack", "export"))
    assert any(r["type"].endswith("PackageVersionsStatus") for r in state["deployment"]["resources"])


def test_a_copied_checkout_points_everything_at_the_copy(tmp_path: Path) -> None:
    """`cp -a` of a set-up checkout, then its setup, run from a shell where the original's env
    file is sourced (the harder case): the copy's env file, engine wrappers, editable install and
    console scripts all name the copy; the original's are untouched."""
    copy = tmp_path / "copy"
    skip = {".pulumi-state", "pulumi-home", "version-refs", "usage-samples", "__pycache__", ".pytest_cache",
            ".mypy_cache", ".hypothesis", "demo"}
    shutil.copytree(ROOT, copy, symlinks=True, ignore=lambda d, names: [n for n in names if n in skip])
    original_env = (ROOT / ".cache" / "env.sh").read_text()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env_file = run(str(copy / "scripts" / "setup"), cwd=copy, env=env, timeout=1200).strip()
    assert env_file == str(copy / ".cache" / "env.sh")
    text = Path(env_file).read_text()
    assert str(copy) in text and f"{ROOT}/" not in text
    bin_dir = next((copy / ".cache" / "pulumi-engine").glob("*/bin"))
    for wrapper in ("pulumi-language-python", "pulumi-resource-pulumi-python", "pulumi-language-python-exec"):
        body = (bin_dir / wrapper).read_text()
        assert str(copy) in body and f"{ROOT}/" not in body, (wrapper, body)
    where = run(str(copy / ".venv" / "bin" / "python"), "-c", "import provider; print(provider.__file__)",
                cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert where.strip() == str(copy / "provider" / "__init__.py")
    assert (copy / ".venv" / "bin" / "lint-imports").read_text().splitlines()[0].startswith(f"#!{copy}/.venv/bin/python")
    assert (ROOT / ".cache" / "env.sh").read_text() == original_env

"""`python -m provider init` in an empty, a missing and an existing directory: .gitignore and
requirements.txt are merged (every user line kept), only real conflicts are refused (nothing
written), `--in-use` paths resolve where the user typed them and evidence outside the new repo is
copied into its evidence/ folder, which the generated workflow (valid for actionlint) syncs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.testing import ROOT

LOCK = ROOT / "tests" / "fixtures" / "in_use" / "npm"


def init(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "provider", "init", *args, "--domain", "dom", "--repository",
                           "repo"], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def tree(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in d.rglob("*") if p.is_file()}


@pytest.mark.parametrize("exists", [False, True])
def test_init_writes_a_repo_into_a_missing_or_empty_directory(tmp_path: Path, exists: bool) -> None:
    repo = tmp_path / "infra"
    if exists:
        repo.mkdir()
    r = init(tmp_path, "infra")
    assert r.returncode == 0, r.stderr
    assert set(tree(repo)) == {"Pulumi.yaml", "__main__.py", "requirements.txt", ".gitignore", "specs/repo.yaml",
                               ".github/workflows/codeartifact-status.yml"}
    again = init(tmp_path, "infra")  # nothing differs: no conflict, nothing written
    assert again.returncode == 0 and "nothing to change" in again.stdout


def test_init_merges_into_an_existing_repo_and_keeps_every_user_line(tmp_path: Path) -> None:
    repo = tmp_path / "infra"
    repo.mkdir()
    (repo / ".gitignore").write_text(".env\nnode_modules/")  # no final newline
    (repo / "requirements.txt").write_text("requests==2.32.3\n-r other.txt\n")
    (repo / "README.md").write_text("ours\n")
    r = init(tmp_path, "infra")
    assert r.returncode == 0, r.stderr
    gitignore = (repo / ".gitignore").read_text().splitlines()
    assert gitignore[:2] == [".env", "node_modules/"] and "venv/" in gitignore and "plan.json" in gitignore
    reqs = (repo / "requirements.txt").read_text().splitlines()
    assert reqs[:2] == ["requests==2.32.3", "-r other.txt"] and any(x.startswith("codeartifact-status==") for x in reqs)
    assert (repo / "README.md").read_text() == "ours\n"
    # A requirement the user already pins is kept as it is, never duplicated.
    (repo / "requirements.txt").write_text("codeartifact-status @ git+https://example.invalid/cas@v1\n")
    assert init(tmp_path, "infra").returncode == 0
    assert (repo / "requirements.txt").read_text() == "codeartifact-status @ git+https://example.invalid/cas@v1\n"


def test_init_refuses_only_real_conflicts_and_then_writes_nothing(tmp_path: Path) -> None:
    repo = tmp_path / "infra"
    repo.mkdir()
    (repo / "Pulumi.yaml").write_text("name: mine\nruntime: python\n")
    (repo / ".gitignore").write_text(".env\n")
    before = tree(repo)
    r = init(tmp_path, "infra")
    assert r.returncode == 1 and "Pulumi.yaml already exist" in r.stderr and ".gitignore" not in r.stderr.split(" and ")[0]
    assert tree(repo) == before  # not even the mergeable files were touched
    forced = init(tmp_path, "infra", "--force")
    assert forced.returncode == 0 and (repo / ".gitignore").read_text().startswith(".env\n")


def test_in_use_paths_resolve_where_typed_and_outside_evidence_is_copied_in(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "sboms").mkdir(parents=True)
    shutil.copy(LOCK / "package-lock.json", work / "sboms" / "package-lock.json")
    r = init(work, "../infra", "--in-use", "sboms")  # relative to where it is typed; infra does not exist yet
    assert r.returncode == 0, r.stderr
    repo = tmp_path / "infra"
    assert (repo / "evidence" / "sboms" / "package-lock.json").read_bytes() == \
        (work / "sboms" / "package-lock.json").read_bytes()
    assert 'in_use: ["../evidence/sboms"]' in (repo / "specs" / "repo.yaml").read_text()
    wf = (repo / ".github" / "workflows" / "codeartifact-status.yml").read_text()
    assert "aws s3 sync" in wf and '"evidence/**"' in wf
    lint = subprocess.run([shutil.which("actionlint") or "actionlint", "-no-color", str(repo / ".github/workflows/codeartifact-status.yml")],
                          capture_output=True, text=True)
    assert lint.returncode == 0 and lint.stdout == "", lint.stdout
    # The spec validates from inside the repo: the evidence is found where the entry says.
    v = subprocess.run([sys.executable, "-m", "provider", "validate", "specs"], cwd=repo, capture_output=True,
                       text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert v.returncode == 0, v.stdout + v.stderr
    # An absolute path inside the repo is referenced where it is, not copied.
    (repo / "locks").mkdir()
    shutil.copy(LOCK / "package-lock.json", repo / "locks" / "package-lock.json")
    shutil.rmtree(repo / "evidence")
    (repo / "specs" / "repo.yaml").unlink()
    r = init(tmp_path, "infra", "--in-use", str(repo / "locks"), "--force")
    assert r.returncode == 0, r.stderr
    assert 'in_use: ["../locks"]' in (repo / "specs" / "repo.yaml").read_text() and not (repo / "evidence").exists()
    bad = init(work, "../infra2", "--in-use", "missing")
    assert bad.returncode == 1 and "--in-use missing: names no file" in bad.stderr and not (tmp_path / "infra2").exists()

"""Writes tests/fixtures/state/release-REV.*: a stack exported after `pulumi up` by release REV,
with both resource types, plus the specs and seed it was made from.

    git worktree add /tmp/oldrel-REV REV && . .cache/env.sh && python tools/make_state_fixture.py REV

(the release's code runs from the worktree; what it imports must be importable from .venv, e.g.
univers for 9d0d4af). Fixtures: 9d0d4af (before `owned` and the StatusLedger), ed9feea (the last
release before the layout of ../shared/LAYOUT.md), 3817799 with `--policy` (the last release whose ledger
and repository resources keep nested mappings instead of per-package JSON text).
tests/test_upgrade_e2e.py imports each into a new stack and checks that the current code takes it
over without writing anything."""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from emulator.testing import aws_env, start_emulator

REV = sys.argv[1]
# `--policy`: also a repository policy (RepositoryVersionsStatus shards), for releases that have them.
POLICY = "--policy" in sys.argv[2:]
OLD = Path(f"/tmp/oldrel-{REV}")
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "state"
SEED = {"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
    {"format": "npm", "name": "chalk", "versions": ["1.0.0", "2.0.0", "2.1.0", "3.0.0"]},
    {"format": "pypi", "name": "sdk", "versions": ["1.0", "1.1", "2.0"]}]
    + ([{"format": "npm", "name": f"lib{i}", "versions": ["1.0.0", "1.1.0", "1.2.0"]} for i in range(3)]
       if "--policy" in sys.argv[2:] else [])}]}]}
SPEC = """domain: dom
repository: repo
packages:
  - format: npm
    package: chalk
    restore_on_delete: true
    rules:
      - {name: old, status: Archived, match: {range: "<3.0.0"}}
  - format: pypi
    package: sdk
    resource: per-version
    versions: {"1.0": Unlisted, "1.1": Archived}
"""
if POLICY:
    SPEC += """policies:
  - name: libs
    select: {include: ["lib*"]}
    restore_on_delete: true
    rules:
      - {name: old, status: Archived, keep_latest: 1}
"""
emu = start_emulator()
try:
    emu.seed(SEED)
    tmp = Path(tempfile.mkdtemp())
    work, state = tmp / "project", tmp / "state"
    (work / "specs").mkdir(parents=True); state.mkdir()
    (work / "Pulumi.yaml").write_text("name: castest\nruntime:\n  name: python\n  options:\n    virtualenv: " + str(Path(__file__).resolve().parent.parent / ".venv") + "\noptions:\n  refresh: always\n")
    (work / "__main__.py").write_text((OLD / "__main__.py").read_text())
    (work / "specs" / "repo.yaml").write_text(SPEC)
    env = aws_env({"PULUMI_BACKEND_URL": f"file://{state}", "PULUMI_CONFIG_PASSPHRASE": "test-passphrase",
                   "PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
                   "PYTHONPATH": str(OLD)})

    def run(*a: str) -> "subprocess.CompletedProcess[str]":
        return subprocess.run(["pulumi", *a, "--non-interactive"], cwd=work, env=env, check=True,
                              capture_output=True, text=True)

    run("stack", "init", "test")
    run("config", "set", "codeartifact:endpointUrl", emu.url)
    run("config", "set", "codeartifact:region", "us-east-1")
    print(run("up", "--yes", "--skip-preview").stdout[-1500:])
    exported = json.loads(run("stack", "export").stdout)
    statuses = {f'{v["package"]}@{v["version"]}': v["status"] for v in emu.admin("versions")["versions"]}
finally:
    emu.stop()
OUT.mkdir(parents=True, exist_ok=True)
(OUT / f"release-{REV}.stack.json").write_text(json.dumps(exported, indent=1, sort_keys=True))
(OUT / f"release-{REV}.specs.yaml").write_text(SPEC)
(OUT / f"release-{REV}.seed.json").write_text(json.dumps({"seed": SEED, "statuses_after_up": statuses}, indent=1))
print({r["type"].split(":")[-1] for r in exported["deployment"]["resources"]}, statuses)

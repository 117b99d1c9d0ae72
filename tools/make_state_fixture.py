"""Writes tests/fixtures/state/: a stack exported after `pulumi up` by release 9d0d4af (before
`owned` and the StatusLedger), with both resource types, plus the specs and seed it was made from.

    git worktree add /tmp/oldrel 9d0d4af && . .cache/env.sh && python tools/make_state_fixture.py

(the release's code runs from the worktree; univers, which it needs, must be importable).
tests/test_upgrade_e2e.py imports the fixture into a new stack and checks that the current code
takes it over without writing anything."""
import json
import subprocess
import sys
import tempfile
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.emulator_harness import aws_env, start_emulator

OLD = Path("/tmp/oldrel")
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "state"
SEED = {"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
    {"format": "npm", "name": "chalk", "versions": ["1.0.0", "2.0.0", "2.1.0", "3.0.0"]},
    {"format": "pypi", "name": "sdk", "versions": ["1.0", "1.1", "2.0"]}]}]}]}
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
(OUT / "release-9d0d4af.stack.json").write_text(json.dumps(exported, indent=1, sort_keys=True))
(OUT / "release-9d0d4af.specs.yaml").write_text(SPEC)
(OUT / "release-9d0d4af.seed.json").write_text(json.dumps({"seed": SEED, "statuses_after_up": statuses}, indent=1))
print({r["type"].split(":")[-1] for r in exported["deployment"]["resources"]}, statuses)

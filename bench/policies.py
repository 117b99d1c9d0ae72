"""Benchmarks of repository policies at scale: one policy over every package of a repository.

    python bench/policies.py --sizes 1000x10,20000x5 --out bench/RESULTS-policies.md
    python bench/policies.py --smoke          # seconds: 30 packages (tests/test_bench_smoke.py runs it)

For each size (packages x versions, every version Published, the policy archiving all but the
newest `--keep` of each package) against the local emulator (20 ms per request):
  hand         the hand-optimal script: ListPackages, then per package one ListPackageVersions and
               one write per (from, to) group of <=100, from 16 threads, paced by the same quotas as
               the tool (provider/_core/pacing.py: ListPackageVersions 200/s, writes
               `--writes-per-second`), so both are held to one budget
  hand-list    the hand-optimal no-change check: the listings alone
  up           `pulumi up --yes --skip-preview` on the policy (RepositoryVersionsStatus shards)
  preview      a no-change `pulumi preview --refresh --expect-no-changes` after it
Reported per scenario: wall time, API calls against the physical minimum (⌈P/1000⌉ ListPackages
pages, P listings, one write per package), the peak RSS of each process (engine, program,
provider), and the state's size. The quota-bound minimum of an `up` is max(P / 200, W / budget)
seconds: the listings at the ListPackageVersions quota or the writes at the write budget.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.testing import EmulatorProcess, aws_env, client, start_emulator  # noqa: E402
from provider._core import pacing  # noqa: E402

LIST_RATE = 200.0
WORKERS = 16


@dataclass
class Size:
    packages: int
    versions: int
    keep: int

    @property
    def label(self) -> str:
        return f"{self.packages:,} packages x {self.versions}"

    def minimum(self, write: bool = True) -> dict[str, int]:
        m = {"ListPackages": math.ceil(self.packages / 1000), "ListPackageVersions": self.packages}
        if write and self.versions > self.keep:
            m["UpdatePackageVersionsStatus"] = self.packages
        return m

    def seed(self) -> dict[str, Any]:
        return {"domains": [{"name": "bench", "repositories": [{"name": "repo", "packages": [
            {"format": "npm", "name": f"p{i:05d}", "versions": [f"1.0.{j}" for j in range(self.versions)]}
            for i in range(self.packages)]}]}]}

    def spec(self) -> str:
        return ("domain: bench\nrepository: repo\npolicies:\n  - name: retention\n    rules:\n"
                f"      - {{name: old, status: Archived, keep_latest: {self.keep}}}\n")


@dataclass
class Run:
    scenario: str
    size: Size
    wall: float
    calls: dict[str, int]
    minimum: dict[str, int]
    rss_mb: dict[str, float] = field(default_factory=dict)
    state_mb: Optional[float] = None

    def ratio(self) -> str:
        return " ".join(f"{op.removeprefix('List').removesuffix('PackageVersionsStatus') or op}: "
                        f"{self.calls.get(op, 0) / m:.2f}" for op, m in self.minimum.items() if m)


class PeakRss:
    """Highest VmHWM per role (engine: `pulumi`, program: the language host's executor, provider:
    `pulumi.dynamic`), polled from /proc."""

    ROLES = (("provider", b"pulumi.dynamic"), ("program", b"pulumi-language-python-exec"),
             ("engine", b"pulumi\x00"))

    def __init__(self) -> None:
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "PeakRss":
        self._t.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._t.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                    role = next((r for r, m in self.ROLES if m in cmd or (r == "engine" and cmd.split(b"\x00")[0]
                                                                         .endswith(b"/pulumi"))), None)
                    if role is None:
                        continue
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak[role] = max(self.peak.get(role, 0), int(line.split()[1]))
                except OSError:
                    continue
            self._stop.wait(0.1)


class Bench:
    def __init__(self, latency_ms: float, writes_per_second: float, workdir: Path) -> None:
        self.latency_ms = latency_ms
        self.writes_per_second = writes_per_second
        self.emu: EmulatorProcess = start_emulator("--latency-ms", str(latency_ms))
        self.workdir = workdir
        self.env = aws_env({"PULUMI_CONFIG_PASSPHRASE": "bench", "PULUMI_SKIP_UPDATE_CHECK": "true",
                            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true", "PULUMI_CONTINUE_ON_ERROR": "true",
                            "PULUMI_PARALLEL": "256", "PYTHONPATH": str(ROOT)})

    def close(self) -> None:
        self.emu.stop()

    def fresh(self, size: Size) -> None:
        self.emu.reset()
        self.emu.seed(size.seed())
        self.emu.faults(latency_ms=self.latency_ms)
        self.emu.admin("counters/reset", {})

    def counted(self) -> dict[str, int]:
        return {op: c["requests"] for op, c in self.emu.counters()["operations"].items()}

    def measure(self, scenario: str, size: Size, run: Callable[[], Any], minimum: dict[str, int]) -> Run:
        self.emu.admin("counters/reset", {})
        with PeakRss() as rss:
            t0 = time.monotonic()
            run()
            wall = time.monotonic() - t0
        return Run(scenario, size, wall, self.counted(), minimum,
                   {k: v / 1024 for k, v in sorted(rss.peak.items())})

    def hand(self, size: Size, write: bool) -> None:
        """ListPackages, then every package listed and written from WORKERS threads, paced."""
        ca = client(self.emu.url, retries=9, max_pool_connections=WORKERS)
        pacing.attach(ca, LIST_RATE, self.writes_per_second)
        names = [p["package"] for page in ca.get_paginator("list_packages").paginate(
            domain="bench", repository="repo", PaginationConfig={"PageSize": 1000}) for p in page["packages"]]

        def one(name: str) -> None:
            pkg = dict(domain="bench", repository="repo", format="npm", package=name)
            versions = [v for page in ca.get_paginator("list_package_versions").paginate(
                **pkg, sortBy="PUBLISHED_TIME", PaginationConfig={"PageSize": 1000}) for v in page["versions"]]
            todo = [v for v in versions[size.keep:] if v["status"] == "Published"]
            for j in range(0, len(todo) if write else 0, 100):
                chunk = todo[j:j + 100]
                out = ca.update_package_versions_status(
                    **pkg, versions=[v["version"] for v in chunk], targetStatus="Archived", expectedStatus="Published",
                    versionRevisions={v["version"]: v["revision"] for v in chunk})
                assert not out["failedVersions"], out["failedVersions"]

        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(one, names))

    def project(self, size: Size) -> tuple[Path, dict[str, str]]:
        proj, state = self.workdir / "proj", self.workdir / "state"
        shutil.rmtree(proj, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
        (proj / "specs").mkdir(parents=True)
        state.mkdir()
        text = (ROOT / "Pulumi.yaml").read_text().replace("virtualenv: .venv", f"virtualenv: {ROOT / '.venv'}")
        (proj / "Pulumi.yaml").write_text(text)
        shutil.copy(ROOT / "__main__.py", proj / "__main__.py")
        (proj / "specs" / "bench.yaml").write_text(size.spec())
        env = {**self.env, "PULUMI_BACKEND_URL": f"file://{state}",
               "CODEARTIFACT_STATUS_CACHE_DIR": str(self.workdir / "cache")}
        return proj, env

    def pulumi(self, proj: Path, env: dict[str, str], *args: str) -> str:
        proc = subprocess.run(["pulumi", *args, "--non-interactive", "--color", "never"], cwd=proj, env=env,
                              capture_output=True, text=True, timeout=7200)
        if proc.returncode != 0:
            raise RuntimeError(f"pulumi {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
        return proc.stdout

    def size(self, size: Size) -> list[Run]:
        out: list[Run] = []
        self.fresh(size)
        out.append(self.measure("hand", size, lambda: self.hand(size, True), size.minimum()))
        out.append(self.measure("hand-list", size, lambda: self.hand(size, False), size.minimum(False)))
        self.fresh(size)
        proj, env = self.project(size)
        self.pulumi(proj, env, "stack", "init", "bench")
        for k, v in (("endpointUrl", self.emu.url), ("region", "us-east-1"),
                     ("maxChanges", str(size.packages * size.versions)), ("writesPerSecond", f"{self.writes_per_second:g}")):
            self.pulumi(proj, env, "config", "set", f"codeartifact:{k}", v)
        up = self.measure("up", size, lambda: self.pulumi(proj, env, "up", "--yes", "--skip-preview"), size.minimum())
        state = self.pulumi(proj, env, "stack", "export")
        up.state_mb = len(state.encode()) / 1e6
        doc = json.loads(state)
        up.calls["resources"] = len(doc["deployment"].get("resources") or [])
        archived = sum(1 for v in self.emu.admin("versions")["versions"] if v["status"] == "Archived")
        expected = size.packages * max(0, size.versions - size.keep)
        if archived != expected:
            raise RuntimeError(f"{archived} versions archived, not {expected}")
        out.append(up)
        out.append(self.measure("preview", size, lambda: self.pulumi(proj, env, "preview", "--refresh",
                                                                     "--expect-no-changes"), size.minimum(False)))
        return out


def table(runs: list[Run], writes_per_second: float) -> str:
    lines = ["| size | scenario | wall | vs hand | calls / minimum | peak RSS MB (engine / program / provider) | "
             "state |", "|---|---|---:|---:|---|---|---:|"]
    for r in runs:
        ref = next((h for h in runs if h.size == r.size and h.scenario == ("hand-list" if r.scenario == "preview"
                                                                             else "hand")), None)
        vs = f"{r.wall / ref.wall:.2f}x" if ref is not None and r.scenario in ("up", "preview") else ""
        rss = " / ".join(f"{r.rss_mb[k]:.0f}" for k in ("engine", "program", "provider") if k in r.rss_mb) or "-"
        state = f"{r.state_mb:.1f} MB, {r.calls.get('resources', 0)} resources" if r.state_mb is not None else ""
        lines.append(f"| {r.size.label} | {r.scenario} | {r.wall:.1f} s | {vs} | {r.ratio()} | {rss} | {state} |")
    lines.append("")
    for s in dict.fromkeys(r.size.label for r in runs):
        size = next(r.size for r in runs if r.size.label == s)
        bound = max(size.packages / LIST_RATE, size.packages / writes_per_second)
        up = next(r for r in runs if r.size.label == s and r.scenario == "up")
        lines.append(f"- {s}: quota-bound minimum of an `up` max({size.packages:,} / {LIST_RATE:g}, "
                     f"{size.packages:,} / {writes_per_second:g}) = {bound:.0f} s; `up` took {up.wall:.0f} s "
                     f"({up.wall / bound:.2f}x)")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="bench/policies.py")
    p.add_argument("--sizes", default="1000x10,20000x5", help="PACKAGESxVERSIONS, comma-separated")
    p.add_argument("--keep", type=int, default=4, help="the policy's keep_latest")
    p.add_argument("--latency-ms", type=float, default=20.0)
    p.add_argument("--writes-per-second", type=float, default=100.0,
                   help="the write budget of both contenders (codeartifact:writesPerSecond; default: the account's "
                        "whole quota, to measure the tool rather than the budget)")
    p.add_argument("--out", help="write the Markdown table here (and JSON next to it)")
    p.add_argument("--smoke", action="store_true", help="30 packages, no latency: for CI")
    a = p.parse_args(argv)
    if a.smoke:
        a.sizes, a.latency_ms = "30x5", 0.0
    sizes = [Size(int(x.split("x")[0]), int(x.split("x")[1]), a.keep) for x in a.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="cas-bench-policies-"))
    bench = Bench(a.latency_ms, a.writes_per_second, work)
    runs: list[Run] = []
    started = time.time()
    try:
        for size in sizes:
            print(f"== {size.label}", file=sys.stderr, flush=True)
            for r in bench.size(size):
                runs.append(r)
                print(f"   {r.scenario:9s} {r.wall:8.1f}s  {r.ratio()}  rss={r.rss_mb}", file=sys.stderr, flush=True)
    finally:
        bench.close()
        shutil.rmtree(work, ignore_errors=True)
    report = (f"Command: `python bench/policies.py {' '.join(argv)}`  \nMachine: {platform.machine()}, "
              f"{os.cpu_count()} cores, Python {platform.python_version()}; emulator latency {a.latency_ms:g} ms per "
              f"request; write budget {a.writes_per_second:g}/s for both; one run per cell; total "
              f"{time.time() - started:.0f} s.\n\n{table(runs, a.writes_per_second)}\n")
    print(report)
    if a.out:
        Path(a.out).write_text(report)
        Path(a.out).with_suffix(".json").write_text(json.dumps([{
            "scenario": r.scenario, "packages": r.size.packages, "versions": r.size.versions, "wall": r.wall,
            "calls": r.calls, "minimum": r.minimum, "peak_rss_mb": r.rss_mb, "state_mb": r.state_mb} for r in runs],
            indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

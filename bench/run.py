"""Benchmarks: API calls and wall time of `pulumi up` against the physical minimum.

    python bench/run.py                      # the full run written to bench/RESULTS.md
    python bench/run.py --smoke              # seconds: tiny sizes, one run (CI runs this)

Everything runs against the local emulator with an injected per-request latency (default 20 ms)
and reads its per-operation counters. Scenarios, for each (managed versions, packages):
  batched    `pulumi up` on specs using one PackageVersionsStatus per package
  per-version `pulumi up` on specs using one PackageVersionStatus per version
  hand       a hand-optimal boto3 script (list once, batch <=100 per (current, target) group)
  hand-concurrent  the same calls from 8 worker threads (one package at a time each)
  age-hand   hand-optimal for an `older_than_days` rule, 8 workers: list sorted by PUBLISHED_TIME,
             binary-search the age boundary with DescribePackageVersion, archive the older half
  age-batched `pulumi up` with that age rule (one PackageVersionsStatus per package)
  cli        what users write today: `aws codeartifact update-package-versions-status` per version
             (run on a sample and extrapolated linearly, which the report says)
  refresh    a no-change `pulumi preview --refresh` after the batched up
  per-version-refresh  the same after the per-version up
  floor      the engine's own floor: `pulumi up` and no-change `pulumi preview --refresh` of N
             resources of a dynamic provider that does nothing (bench/floor/), with the file
             backend's checkpoints on and off (--floor-sizes)
Every scenario starts from freshly seeded data where all versions are Published and archives them
(the age scenarios: the older half of each package, version j published n-j hours ago).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.testing import ACCESS_KEY, SECRET_KEY, EmulatorProcess, aws_env, client, start_emulator  # noqa: E402

PAGE = 1000
BATCH = 100
WRITE_OPS = ("UpdatePackageVersionsStatus", "DisposePackageVersions")


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


WORKERS = 8


def probes(n: int, boundary: int) -> int:
    """Reads a binary search makes to find ``boundary`` (the first index of the older suffix) in n."""
    lo, hi, count = 0, n, 0
    while lo < hi:
        mid = (lo + hi) // 2
        count += 1
        lo, hi = (lo, mid) if mid >= boundary else (mid + 1, hi)
    assert count <= math.ceil(math.log2(n + 1)) and lo == boundary
    return count


@dataclass
class Config:
    versions: int
    packages: int
    age: bool = False  # versions published an hour apart; the rule archives the older half

    @property
    def per_package(self) -> int:
        return self.versions // self.packages

    @property
    def to_archive(self) -> int:
        """Per package: every version, or (age) the older half."""
        return self.per_package // 2 if self.age else self.per_package

    @property
    def age_days(self) -> float:
        return (self.per_package // 2 + 0.5) / 24  # between two versions' times: robust for hours

    def minimum(self) -> dict[str, int]:
        """Physical minimum: one list page per 1000 versions, one write per 100 (all one group);
        with the age rule, the DescribePackageVersion calls of a binary search for the boundary in
        the listing sorted by publish time (at most ⌈log2(n+1)⌉ per package; counted exactly)."""
        m = {"ListPackageVersions": self.packages * ceil_div(self.per_package, PAGE),
             "writes": self.packages * ceil_div(self.to_archive, BATCH)}
        if self.age:
            m["DescribePackageVersion"] = self.packages * probes(self.per_package, self.per_package - self.to_archive)
        return m

    def seed(self) -> dict[str, Any]:
        now = datetime.now(timezone.utc)
        n = self.per_package

        def version(j: int) -> Any:
            if not self.age:
                return f"1.0.{j}"
            when = now - timedelta(hours=n - j)
            return {"version": f"1.0.{j}", "published": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
        return {"domains": [{"name": "bench", "repositories": [{"name": "repo", "packages": [
            {"format": "npm", "name": f"p{i:03d}", "versions": [version(j) for j in range(n)]}
            for i in range(self.packages)]}]}]}

    def spec(self, resource: str) -> str:
        rule = (f"      - {{name: archive-old, status: Archived, match: {{older_than_days: {self.age_days!r}}}}}"
                if self.age else "      - {name: archive-all, status: Archived}")
        lines = ["domain: bench", "repository: repo", "packages:"]
        for i in range(self.packages):
            lines += [f"  - format: npm", f"    package: p{i:03d}", f"    resource: {resource}",
                      "    rules:", rule]
        return "\n".join(lines) + "\n"


@dataclass
class Result:
    scenario: str
    config: Config
    walls: list[float] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    peak_rss_mb: Optional[float] = None
    state_bytes_per_version: Optional[float] = None
    extrapolated_from: Optional[int] = None

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    def writes(self) -> int:
        return sum(self.calls.get(o, 0) for o in WRITE_OPS)


class PeakRss:
    """Polls /proc for dynamic-provider processes (`python -m pulumi.dynamic`) and keeps the highest
    VmHWM (peak resident set) seen."""

    def __init__(self) -> None:
        self.peak_kb = 0
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
                    if b"pulumi.dynamic" not in cmd:
                        continue
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                except OSError:
                    continue
            self._stop.wait(0.05)


class Bench:
    def __init__(self, latency_ms: float, workdir: Path) -> None:
        self.latency_ms = latency_ms
        self.emu: EmulatorProcess = start_emulator("--latency-ms", str(latency_ms))
        self.workdir = workdir
        self.env = aws_env({"PULUMI_CONFIG_PASSPHRASE": "bench", "PULUMI_SKIP_UPDATE_CHECK": "true",
                            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
                            "PULUMI_CONTINUE_ON_ERROR": "true", "PYTHONPATH": str(ROOT)})

    def close(self) -> None:
        self.emu.stop()

    def fresh(self, cfg: Config) -> None:
        self.emu.reset()  # (a reset also clears the fault config: the latency is set again)
        self.emu.faults(latency_ms=self.latency_ms)
        self.emu.seed(cfg.seed())
        self.emu.admin("counters/reset", {})

    def counted(self) -> dict[str, int]:
        ops = self.emu.counters()["operations"]
        return {op: c["requests"] for op, c in ops.items()}

    # -- scenarios ---------------------------------------------------------------------------

    def _project(self, cfg: Config, resource: str) -> tuple[Path, dict[str, str]]:
        proj = self.workdir / f"proj-{resource}"
        state = self.workdir / f"state-{resource}"
        shutil.rmtree(proj, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
        (proj / "specs").mkdir(parents=True)
        state.mkdir()
        text = (ROOT / "Pulumi.yaml").read_text().replace("virtualenv: .venv", f"virtualenv: {ROOT / '.venv'}")
        (proj / "Pulumi.yaml").write_text(text)
        shutil.copy(ROOT / "__main__.py", proj / "__main__.py")
        (proj / "specs" / "bench.yaml").write_text(cfg.spec(resource))
        env = {**self.env, "PULUMI_BACKEND_URL": f"file://{state}"}
        return proj, env

    def _pulumi(self, proj: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(["pulumi", *args, "--non-interactive", "--color", "never"], cwd=proj, env=env,
                              capture_output=True, text=True, timeout=7200)
        if proc.returncode != 0:
            raise RuntimeError(f"pulumi {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
        return proc

    def pulumi_up(self, cfg: Config, resource: str, runs: int, then_refresh: Optional[Result] = None,
                  label: Optional[str] = None, extra_env: Optional[dict[str, str]] = None) -> Result:
        res = Result(label or resource, cfg)
        for _ in range(runs):
            self.fresh(cfg)
            proj, env = self._project(cfg, resource)
            env.update(extra_env or {})
            self._pulumi(proj, env, "stack", "init", "bench")
            for k, v in (("endpointUrl", self.emu.url), ("region", "us-east-1"), ("maxChanges", str(cfg.versions))):
                self._pulumi(proj, env, "config", "set", f"codeartifact:{k}", v)
            self._measure(res, lambda: self._pulumi(proj, env, "up", "--yes", "--skip-preview"))
            exported = self._pulumi(proj, env, "stack", "export").stdout
            res.state_bytes_per_version = len(exported.encode()) / cfg.versions
            archived = sum(1 for v in self.emu.admin("versions")["versions"] if v["status"] == "Archived")
            if archived != cfg.to_archive * cfg.packages:
                raise RuntimeError(f"{resource}: {archived} versions archived, not {cfg.to_archive * cfg.packages}")
            if then_refresh is not None:
                self._measure(then_refresh, lambda: self._pulumi(proj, env, "preview", "--refresh",
                                                                 "--expect-no-changes"))
        return res

    def _measure(self, res: Result, run: Callable[[], Any]) -> None:
        """One timed run: wall time, API calls by operation, provider peak RSS."""
        self.emu.admin("counters/reset", {})
        with PeakRss() as rss:
            t0 = time.monotonic()
            run()
            res.walls.append(time.monotonic() - t0)
        res.calls = self.counted()
        res.peak_rss_mb = max(res.peak_rss_mb or 0, rss.peak_kb / 1024)

    def hand_optimal(self, cfg: Config, runs: int) -> Result:
        res = Result("hand", cfg)
        for _ in range(runs):
            self.fresh(cfg)
            ca = client(self.emu.url, retries=9)
            t0 = time.monotonic()
            for i in range(cfg.packages):
                pkg = dict(domain="bench", repository="repo", format="npm", package=f"p{i:03d}")
                versions = [v for page in ca.get_paginator("list_package_versions").paginate(
                    **pkg, PaginationConfig={"PageSize": PAGE}) for v in page["versions"]]
                todo = [v for v in versions if v["status"] == "Published"]
                for j in range(0, len(todo), BATCH):
                    chunk = todo[j:j + BATCH]
                    out = ca.update_package_versions_status(
                        **pkg, versions=[v["version"] for v in chunk], targetStatus="Archived",
                        expectedStatus="Published", versionRevisions={v["version"]: v["revision"] for v in chunk})
                    assert not out["failedVersions"], out["failedVersions"]
            res.walls.append(time.monotonic() - t0)
            res.calls = self.counted()
        return res

    def hand_concurrent(self, cfg: Config, runs: int) -> Result:
        """The hand-optimal calls from WORKERS threads, one package per task; with ``cfg.age``,
        the age boundary is found by binary search over the listing sorted by publish time."""
        res = Result("age-hand" if cfg.age else "hand-concurrent", cfg)
        cutoff_age = timedelta(days=cfg.age_days)
        for _ in range(runs):
            self.fresh(cfg)
            ca = client(self.emu.url, retries=9, max_pool_connections=WORKERS)

            def one(i: int) -> None:
                pkg = dict(domain="bench", repository="repo", format="npm", package=f"p{i:03d}")
                extra = {"sortBy": "PUBLISHED_TIME"} if cfg.age else {}
                versions = [v for page in ca.get_paginator("list_package_versions").paginate(
                    **pkg, **extra, PaginationConfig={"PageSize": PAGE}) for v in page["versions"]]
                todo = [v for v in versions if v["status"] == "Published"]
                if cfg.age:  # newest first: "older than" holds for a suffix
                    cutoff = datetime.now(timezone.utc) - cutoff_age
                    lo, hi = 0, len(versions)
                    while lo < hi:
                        mid = (lo + hi) // 2
                        when = ca.describe_package_version(**pkg, packageVersion=versions[mid]["version"])[
                            "packageVersion"]["publishedTime"]
                        lo, hi = (lo, mid) if when < cutoff else (mid + 1, hi)
                    todo = [v for v in versions[lo:] if v["status"] == "Published"]
                for j in range(0, len(todo), BATCH):
                    chunk = todo[j:j + BATCH]
                    out = ca.update_package_versions_status(
                        **pkg, versions=[v["version"] for v in chunk], targetStatus="Archived",
                        expectedStatus="Published", versionRevisions={v["version"]: v["revision"] for v in chunk})
                    assert not out["failedVersions"], out["failedVersions"]

            t0 = time.monotonic()
            with ThreadPoolExecutor(WORKERS) as pool:
                list(pool.map(one, range(cfg.packages)))
            res.walls.append(time.monotonic() - t0)
            res.calls = self.counted()
            archived = sum(1 for v in self.emu.admin("versions")["versions"] if v["status"] == "Archived")
            assert archived == cfg.to_archive * cfg.packages, archived
        return res

    def cli_loop(self, cfg: Config, runs: int, sample: int) -> Result:
        """One `aws` CLI process per version, on the first `sample` versions; extrapolated."""
        res = Result("cli", cfg, extrapolated_from=min(sample, cfg.versions))
        n = res.extrapolated_from or 0
        env = aws_env()
        for _ in range(runs):
            self.fresh(cfg)
            t0 = time.monotonic()
            for k in range(n):
                i, j = divmod(k, cfg.per_package)
                subprocess.run([sys.executable, "-m", "awscli", "--endpoint-url", self.emu.url, "codeartifact",
                                "update-package-versions-status", "--domain", "bench", "--repository", "repo",
                                "--format", "npm", "--package", f"p{i:03d}", "--versions", f"1.0.{j}",
                                "--target-status", "Archived"], env=env, check=True, capture_output=True)
            res.walls.append((time.monotonic() - t0) * cfg.versions / max(1, n))
            res.calls = {op: c * cfg.versions // max(1, n) for op, c in self.counted().items()}
        return res


def engine_floor(sizes: list[int], runs: int, workdir: Path) -> str:
    """`pulumi up` of N no-op dynamic resources, checkpoints on and off, then a no-change
    `pulumi preview --refresh`: the wall time no provider can go below (medians of ``runs``)."""
    rows = ["| resources | checkpoints | `up` | no-change `preview --refresh` | state / resource |",
            "|---:|---|---:|---:|---:|"]
    env = aws_env({"PULUMI_CONFIG_PASSPHRASE": "bench", "PULUMI_SKIP_UPDATE_CHECK": "true",
                   "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true", "PYTHONPATH": str(ROOT / "bench" / "floor")})
    proj = workdir / "floor"
    for n in sizes:
        for checkpoints in (True, False):
            ups, previews, size = [], [], 0.0
            for _ in range(runs):
                shutil.rmtree(proj, ignore_errors=True)
                (proj / "state").mkdir(parents=True)
                (proj / "Pulumi.yaml").write_text(f"name: floor\nruntime:\n  name: python\n  options:\n"
                                                  f"    virtualenv: {ROOT / '.venv'}\n")
                shutil.copy(ROOT / "bench" / "floor" / "__main__.py", proj / "__main__.py")
                e = {**env, "PULUMI_BACKEND_URL": f"file://{proj / 'state'}", "FLOOR_RESOURCES": str(n),
                     **({} if checkpoints else {"PULUMI_SKIP_CHECKPOINTS": "true"})}

                def pulumi(*args: str) -> None:
                    subprocess.run(["pulumi", *args, "--non-interactive"], cwd=proj, env=e, check=True,
                                   capture_output=True, text=True, timeout=7200)
                pulumi("stack", "init", "floor")
                t0 = time.monotonic()
                pulumi("up", "--yes", "--skip-preview")
                ups.append(time.monotonic() - t0)
                t0 = time.monotonic()
                pulumi("preview", "--refresh", "--expect-no-changes")
                previews.append(time.monotonic() - t0)
                state = next((proj / "state").rglob("floor.json"))
                size = state.stat().st_size / n
            rows.append(f"| {n:,} | {'on' if checkpoints else 'off (PULUMI_SKIP_CHECKPOINTS)'} | "
                        f"{statistics.median(ups):.1f} s | {statistics.median(previews):.1f} s | {size:,.0f} B |")
            print("   " + rows[-1], file=sys.stderr, flush=True)
    return "\n".join(rows)


def fmt_calls(calls: dict[str, int]) -> str:
    short = {"ListPackageVersions": "List", "UpdatePackageVersionsStatus": "Update", "DisposePackageVersions": "Dispose",
             "DescribePackageVersion": "Describe"}
    return ", ".join(f"{short.get(k, k)} {v}" for k, v in sorted(calls.items())) or "-"


def table(results: list[Result], hand: dict[tuple[int, int, bool], Result]) -> str:
    rows = ["| versions | packages | scenario | wall (median) | API calls | writes / min | calls / min "
            "| vs hand-optimal | provider peak RSS | state / version |",
            "|---:|---:|---|---:|---|---:|---:|---:|---:|---:|"]
    for r in results:
        m = r.config.minimum()
        total_min = sum(m.values())
        total = sum(r.calls.values())
        is_refresh = r.scenario.startswith("refresh")
        writes_ratio = f"{r.writes() / m['writes']:.2f}" if not is_refresh else "-"
        lists = r.calls.get("ListPackageVersions", 0)
        calls_ratio = (f"{total / total_min:.2f}" if not is_refresh
                       else f"{lists / m['ListPackageVersions']:.2f} (lists/pages)")
        h = hand.get((r.config.versions, r.config.packages, r.config.age))
        vs = f"{r.wall / h.wall:.2f}×" if h and not is_refresh else "-"
        wall = f"{r.wall:.1f} s" + (f" (extrapolated from {r.extrapolated_from})" if r.extrapolated_from and
                                    r.extrapolated_from < r.config.versions else "")
        rows.append(f"| {r.config.versions:,} | {r.config.packages} | {r.scenario} | {wall} | {fmt_calls(r.calls)} | "
                    f"{writes_ratio} | {calls_ratio} | {vs} | "
                    f"{f'{r.peak_rss_mb:.0f} MiB' if r.peak_rss_mb else '-'} | "
                    f"{f'{r.state_bytes_per_version:.0f} B' if r.state_bytes_per_version else '-'} |")
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="bench/run.py")
    p.add_argument("--sizes", default="1000,10000")
    p.add_argument("--packages", default="10,100")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--latency-ms", type=float, default=20.0)
    p.add_argument("--scenarios", default="hand,hand-concurrent,batched,refresh,age-hand,age-batched,per-version,"
                                          "per-version-nockpt,cli")
    p.add_argument("--per-version-max", type=int, default=1000, help="largest size for per-version resources")
    p.add_argument("--floor-sizes", default="300,1000", help="resources in the engine-floor scenario")
    p.add_argument("--cli-sample", type=int, default=1000, help="versions run through the aws CLI loop")
    p.add_argument("--out", help="write the Markdown table here (and JSON next to it)")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, one run: for CI")
    a = p.parse_args(argv)
    if a.smoke:
        a.sizes, a.packages, a.runs, a.cli_sample, a.latency_ms = "60", "3", 1, 3, 0.0
    sizes = [int(x) for x in a.sizes.split(",")]
    pkgs = [int(x) for x in a.packages.split(",")]
    scenarios = a.scenarios.split(",")
    work = Path(tempfile.mkdtemp(prefix="cas-bench-"))
    bench = Bench(a.latency_ms, work)
    results: list[Result] = []
    hand: dict[tuple[int, int, bool], Result] = {}
    started = time.time()
    try:
        for size in sizes:
            for n in pkgs:
                cfg = Config(size, n)
                print(f"== {size} versions / {n} packages", file=sys.stderr, flush=True)
                if "hand" in scenarios:
                    results.append(bench.hand_optimal(cfg, a.runs))
                    hand[(size, n, False)] = results[-1]
                if "hand-concurrent" in scenarios:  # the contender "vs hand-optimal" compares with
                    results.append(bench.hand_concurrent(cfg, a.runs))
                    hand[(size, n, False)] = results[-1]
                age = Config(size, n, age=True)
                if "age-hand" in scenarios:
                    results.append(bench.hand_concurrent(age, a.runs))
                    hand[(size, n, True)] = results[-1]
                if "age-batched" in scenarios:
                    results.append(bench.pulumi_up(age, "batched", a.runs, label="age-batched"))
                if "batched" in scenarios:
                    refresh = Result("refresh", cfg) if "refresh" in scenarios else None
                    results.append(bench.pulumi_up(cfg, "batched", a.runs, refresh))
                    if refresh is not None:
                        results.append(refresh)
                if "batched-nockpt" in scenarios:
                    results.append(bench.pulumi_up(cfg, "batched", a.runs, label="batched-nockpt",
                                                   extra_env={"PULUMI_SKIP_CHECKPOINTS": "true"}))
                if "per-version" in scenarios and size <= a.per_version_max:
                    pv_refresh = (Result("refresh (per-version)", cfg) if "per-version-refresh" in scenarios
                                  else None)
                    results.append(bench.pulumi_up(cfg, "per-version", a.runs, pv_refresh))
                    if pv_refresh is not None:
                        results.append(pv_refresh)
                if "per-version-nockpt" in scenarios and size <= a.per_version_max:
                    # The same, with the engine's intermediate state checkpoints off: isolates the
                    # file backend's cost of rewriting the whole state after every step.
                    results.append(bench.pulumi_up(cfg, "per-version", a.runs, label="per-version-nockpt",
                                                   extra_env={"PULUMI_SKIP_CHECKPOINTS": "true"}))
                if "cli" in scenarios and size == min(sizes) and n == pkgs[0]:
                    results.append(bench.cli_loop(cfg, 1 if a.smoke else min(a.runs, 3), a.cli_sample))
                for r in results[-6:]:
                    print(f"   {r.scenario:11s} {r.wall:8.1f}s  {fmt_calls(r.calls)}", file=sys.stderr, flush=True)
        if "floor" in scenarios:
            floor_md = engine_floor([int(x) for x in a.floor_sizes.split(",")], a.runs, work)
    finally:
        bench.close()
        shutil.rmtree(work, ignore_errors=True)
    md = table(results, hand) if results else ""
    if "floor" in scenarios:
        md += "\n\nThe engine's floor (a dynamic provider that does nothing, bench/floor/):\n\n" + floor_md
    cmd = "python bench/run.py " + " ".join(argv)
    report = (f"Command: `{cmd.strip()}`  \nMachine: {platform.machine()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}; emulator latency {a.latency_ms:g} ms per request; "
              f"{a.runs} run(s) per cell; total {time.time() - started:.0f} s.\n\n{md}\n")
    print(report)
    if a.out:
        Path(a.out).write_text(report)
        Path(a.out).with_suffix(".json").write_text(json.dumps([{
            "scenario": r.scenario, "versions": r.config.versions, "packages": r.config.packages, "walls": r.walls,
            "calls": r.calls, "minimum": r.config.minimum(), "peak_rss_mb": r.peak_rss_mb,
            "state_bytes_per_version": r.state_bytes_per_version, "extrapolated_from": r.extrapolated_from}
            for r in results], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

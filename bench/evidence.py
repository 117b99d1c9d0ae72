"""Benchmarks of the evidence readers: CloudTrail log files (DuckDB) and a large CycloneDX SBOM.

    python bench/evidence.py --trail-mb 1024 --components 100000 --out bench/RESULTS-evidence.md
    python bench/evidence.py --smoke          # seconds (tests/test_bench_smoke.py runs it)

Generates, in a temporary folder: CloudTrail log files in the S3 layout (one gzipped file per
hour, 5 MB of JSON each, records of many services with 1 in 4 a CodeArtifact read of one of 20,000
package versions) until `--trail-mb` of uncompressed JSON, and a CycloneDX SBOM of `--components`
npm components. Each reader runs in a fresh process; reported: wall time, peak RSS of that process,
and what it found (so a reader that skips everything cannot look fast).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILE_BYTES = 5 * 1024 * 1024


def make_trail(folder: Path, megabytes: int, seed: int = 7) -> tuple[int, int]:
    """(files, records) written."""
    rnd = random.Random(seed)
    start = datetime(2026, 6, 1, tzinfo=timezone.utc)
    total, files, records, hour = 0, 0, 0, 0
    while total < megabytes * 1024 * 1024:
        when = start + timedelta(hours=hour)
        recs, size = [], 0
        while size < FILE_BYTES:
            t = (when + timedelta(seconds=rnd.randrange(3600))).strftime("%Y-%m-%dT%H:%M:%SZ")
            if rnd.random() < 0.25:
                i = rnd.randrange(20_000)
                rec = {"eventTime": t, "eventSource": "codeartifact.amazonaws.com", "eventName": "ReadFromRepository",
                       "userIdentity": {"type": "AssumedRole", "arn": f"arn:aws:sts::111122223333:assumed-role/ci/{i % 50}"},
                       "requestParameters": {"domainName": "acme", "domainOwner": "111122223333",
                                             "repositoryName": "releases", "packageFormat": "npm",
                                             "packageName": f"pkg{i // 10}", "packageVersion": f"1.0.{i % 10}"}}
            else:
                rec = {"eventTime": t, "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
                       "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/app/x"},
                       "requestParameters": {"bucketName": "data", "key": f"k/{rnd.randrange(10**9)}"},
                       "resources": [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::data/k/{rnd.randrange(10**9)}"}]}
            text = json.dumps(rec)
            recs.append(rec)
            size += len(text) + 1
        day = when.strftime("%Y/%m/%d")
        path = folder / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / day / f"f{hour:05d}.json.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "wt", compresslevel=1) as f:
            json.dump({"Records": recs}, f)
        total += size
        files += 1
        records += len(recs)
        hour += 1
    return files, records


def make_sbom(path: Path, components: int) -> None:
    with path.open("w") as f:
        f.write('{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": [')
        for i in range(components):
            f.write(("," if i else "") + json.dumps({"type": "library", "name": f"pkg{i}", "version": "1.0.0",
                                                      "purl": f"pkg:npm/pkg{i}@1.0.0"}))
        f.write("]}")


def make_spdx(path: Path, packages: int) -> None:
    with path.open("w") as f:
        f.write('{"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "app", '
                '"documentNamespace": "https://example.invalid/app", "creationInfo": {"created": '
                '"2026-12-01T00:00:00Z", "creators": ["Tool: bench"]}, "packages": [')
        for i in range(packages):
            f.write(("," if i else "") + json.dumps({
                "name": f"pkg{i}", "SPDXID": f"SPDXRef-Package-{i}", "versionInfo": "1.0.0",
                "downloadLocation": "NOASSERTION", "externalRefs": [{
                    "referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                    "referenceLocator": f"pkg:npm/pkg{i}@1.0.0"}]}))
        f.write('], "relationships": [')
        for i in range(packages):
            f.write(("," if i else "") + json.dumps({"spdxElementId": f"SPDXRef-Package-{i}",
                                                      "relatedSpdxElement": "SPDXRef-DOCUMENT",
                                                      "relationshipType": "DEPENDS_ON"}))
        f.write("]}")


CHILD = """
import sys, time, resource, json
sys.path.insert(0, {root!r})
from pathlib import Path
t = time.monotonic()
if {kind!r} == "trail":
    from provider.rules.evidence import downloads, files
    found = files.files_of(Path({path!r}), ".")
    ev = downloads.load([(p, str(p)) for p in found], "acme", "releases", None)
    what = {{"files": len(found), "versions": sum(len(v) for v in ev.downloads.values()), "spans": len(ev.spans)}}
else:
    from provider.rules import evidence
    refs = evidence.read(Path({path!r}), "sbom.cdx.json")
    what = {{"references": len(refs)}}
print(json.dumps({{"wall": time.monotonic() - t, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  **what}}))
"""


def run(kind: str, path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), kind=kind, path=str(path))],
                         capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="bench/evidence.py")
    p.add_argument("--trail-mb", type=int, default=1024)
    p.add_argument("--components", type=int, default=100_000)
    p.add_argument("--out")
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--sboms-only", action="store_true", help="skip the trail (prints the SBOM rows only)")
    a = p.parse_args(argv)
    if a.smoke:
        a.trail_mb, a.components = 10, 2000
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        sbom = base / "sbom.cdx.json"
        make_sbom(sbom, a.components)
        bom = run("sbom", sbom)
        spdx = base / "sbom.spdx.json"
        make_spdx(spdx, a.components)
        spdx_size = spdx.stat().st_size / 1e6
        sp = run("sbom", spdx)
        if bom["references"] != a.components or sp["references"] != a.components:
            raise RuntimeError(f"readers found {bom} / {sp}, expected {a.components} components")
        sbom_rows = [
            f"| CycloneDX SBOM (streamed) | {a.components:,} components, {sbom_size(a.components)} | {bom['wall']:.1f} s | "
            f"{bom['rss_mb']:,.0f} MB | {bom['references']:,.0f} references |",
            f"| SPDX SBOM (streamed) | {a.components:,} packages and relationships, {spdx_size:,.0f} MB | "
            f"{sp['wall']:.1f} s | {sp['rss_mb']:,.0f} MB | {sp['references']:,.0f} references |"]
        if a.sboms_only:
            print("\n".join(sbom_rows))
            return 0
        t = time.monotonic()
        files, records = make_trail(base / "trail", a.trail_mb)
        gz = sum(f.stat().st_size for f in (base / "trail").rglob("*.gz"))
        made = time.monotonic() - t
        trail = run("trail", base / "trail")
    if trail["files"] != files:
        raise RuntimeError(f"the trail reader found {trail}, expected {files} files")
    lines = [
        "# Evidence readers",
        "",
        f"Command: `python bench/evidence.py --trail-mb {a.trail_mb} --components {a.components}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        "| evidence | size | wall | peak RSS | found |",
        "|---|---|---:|---:|---|",
        f"| CloudTrail log files (DuckDB) | {a.trail_mb:,} MB of JSON in {files:,} gzipped files ({gz / 1e6:,.0f} MB), "
        f"{records:,} records | {trail['wall']:.1f} s | {trail['rss_mb']:,.0f} MB | {trail['versions']:,.0f} versions "
        f"downloaded, {trail['spans']:.0f} covered span(s) |",
        *sbom_rows,
        "",
        f"(generating the trail took {made:.0f} s, not counted)",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).write_text(text)
    _ = resource
    return 0


def sbom_size(components: int) -> str:
    return f"~{components * 100 / 1e6:.0f} MB"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

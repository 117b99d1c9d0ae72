"""Realistic demo data: ``python -m emulator.demo_data [--now ISO] > seed.yaml``.

Deterministic for a given `now`: a domain `acme` with a repository `releases` holding a scoped npm
package (@acme/ui-kit), an unscoped one (acme-cli), a Maven group (com.acme.platform:core-lib), a
PyPI package (acme-sdk), a NuGet package (Acme.Client) and a generic one (tools/installer):
about 500 versions with prereleases, a few already Unlisted/Archived/Disposed, and publish times
spread over four years.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import yaml


def _series(rng: random.Random, majors: range, minors: int, patches: int,
            pre: Callable[[int, int, int, int], str] | None) -> list[str]:
    out: list[str] = []
    for ma in majors:
        for mi in range(rng.randint(max(1, minors - 2), minors)):
            if pre is not None and rng.random() < 0.6:
                out.extend(pre(ma, mi, 0, n) for n in range(1, rng.randint(2, 4)))
            out.extend(f"{ma}.{mi}.{p}" for p in range(rng.randint(1, patches)))
    return out


def build(now: datetime) -> dict[str, Any]:
    rng = random.Random(20261122)
    packages: list[dict[str, Any]] = []

    def package(fmt: str, name: str, versions: list[str], namespace: str | None = None,
                span_days: int = 1460) -> None:
        entries = []
        for i, v in enumerate(versions):
            age = span_days * (1 - i / max(1, len(versions) - 1)) + rng.uniform(0, 3)
            status = "Published"
            roll = rng.random()
            if roll < 0.04:
                status = "Unlisted"
            elif roll < 0.06:
                status = "Archived"
            entries.append({"version": v, "status": status,
                            "published": (now - timedelta(days=age)).isoformat(),
                            "origin": "INTERNAL" if rng.random() < 0.9 else "EXTERNAL"})
        pkg: dict[str, Any] = {"format": fmt, "name": name, "versions": entries}
        if namespace:
            pkg["namespace"] = namespace
        packages.append(pkg)

    package("npm", "ui-kit", _series(rng, range(1, 5), 7, 6, lambda a, b, c, n: f"{a}.{b}.{c}-beta.{n}"),
            namespace="acme")
    package("npm", "acme-cli", _series(rng, range(0, 3), 6, 5, lambda a, b, c, n: f"{a}.{b}.{c}-rc.{n}"))
    package("maven", "core-lib", _series(rng, range(1, 4), 6, 5, lambda a, b, c, n: f"{a}.{b}.{c}-RC{n}")
            + ["3.6.0-SNAPSHOT"], namespace="com.acme.platform")
    package("pypi", "acme-sdk", _series(rng, range(0, 3), 6, 4, lambda a, b, c, n: f"{a}.{b}.{c}rc{n}")
            + ["3.0.0.dev1", "3.0.0.dev2"])
    package("nuget", "Acme.Client", _series(rng, range(1, 4), 4, 4, lambda a, b, c, n: f"{a}.{b}.{c}-beta{n}"))
    package("generic", "installer", [f"2026.{m:02d}.{d}" for m in range(1, 11) for d in (1, 15)],
            namespace="tools", span_days=300)
    # One version already disposed: final, rules never touch it.
    packages[1]["versions"][0]["status"] = "Disposed"
    return {"domains": [{"name": "acme", "owner": "111122223333", "repositories": [
        {"name": "releases", "description": "ACME release artifacts (demo data)", "packages": packages}]}]}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m emulator.demo_data")
    p.add_argument("--now", help="ISO timestamp the ages are relative to (default: now)")
    a = p.parse_args(argv)
    now = datetime.fromisoformat(a.now) if a.now else datetime.now(timezone.utc)
    doc = build(now)
    sys.stdout.write(yaml.safe_dump(doc, sort_keys=False))
    total = sum(len(pk["versions"]) for d in doc["domains"] for r in d["repositories"] for pk in r["packages"])
    print(f"# {total} versions", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

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
    _downloads(packages[2]["versions"], now)
    return {"domains": [{"name": "acme", "owner": "111122223333", "repositories": [
        {"name": "releases", "description": "ACME release artifacts (demo data)", "packages": packages}]}]}


def _is_release(v: str) -> bool:
    return all(part.isdigit() for part in v.split("."))


def _downloads(versions: list[dict[str, Any]], now: datetime, days: int = 120) -> None:
    """Download history for core-lib (the trail the demo's `not_downloaded_for_days` rule reads):
    builds fetch the newest 3.x release twice a day over the last ``days`` (so the trail has a record
    each day), the newest patch of each 2.x minor weekly over the last 60 days, and the older 2.x
    patches last 70-110 days ago. Only Published versions: the others cannot be downloaded."""
    rng = random.Random(20261202)  # its own stream: the versions and statuses above stay as they were
    published = [v for v in versions if v["status"] == "Published" and _is_release(v["version"])]

    def key(v: dict[str, Any]) -> tuple[int, ...]:
        return tuple(int(x) for x in v["version"].split("."))

    def at(days_ago: float) -> str:
        return (now - timedelta(days=days_ago, hours=rng.uniform(1, 3))).isoformat()

    threes = [v for v in published if v["version"].startswith("3.")]
    if threes:
        # Twice a day: records never more than a day apart, as a real trail's would be.
        max(threes, key=key)["downloads"] = [at(d + half) for d in range(days) for half in (0.0, 0.5)]
    minors: dict[str, list[dict[str, Any]]] = {}
    for v in published:
        if v["version"].startswith("2."):
            minors.setdefault(v["version"].rsplit(".", 1)[0], []).append(v)
    for group in minors.values():
        group.sort(key=key)
        group[-1]["downloads"] = [at(d + rng.uniform(0, 6)) for d in range(0, 60, 7)]
        for v in group[:-1]:
            if rng.random() < 0.5:
                v["downloads"] = [at(rng.uniform(70, 110))]


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

"""What the world says about package versions, one module per source, behind one interface
(`read(path, display) -> [Reference]`, `Usage`): consumers' SBOMs (sbom.py) and lockfiles
(lockfiles.py) say a version is in use; download and status history (CloudTrail, exported tables)
will be sources here too.

A spec's `in_use:` entries name files (or globs, or folders) relative to the spec. Every file is
read with the reader of its kind (`read`); each reference becomes CodeArtifact coordinates
(format, namespace, name as CodeArtifact compares them, version). A version referenced by any
file is protected: no rule changes it, and an explicit status that would retire it is an error.

Contract: a file that cannot be read, is not a recognised SBOM or lockfile, or is malformed raises
EvidenceError naming the file (and the line or entry where one is known). An unreadable file is
never taken as "nothing is in use".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from provider.rules import ecosystems
from provider.rules.evidence import lockfiles, sbom
from provider.rules.evidence._refs import EvidenceError, Reference, top_level

MAX_EVIDENCE_BYTES = 64 * 1024 * 1024

__all__ = ["EvidenceError", "Reference", "Usage", "read", "KINDS", "same_version"]

# File name -> reader. Other `*.json` files are SBOMs (CycloneDX or SPDX, told by their content).
KINDS: dict[str, Callable[[Path, str], list[Reference]]] = {
    "package-lock.json": lockfiles.npm_lock,
    "npm-shrinkwrap.json": lockfiles.npm_lock,
    "uv.lock": lockfiles.uv_lock,
    "poetry.lock": lockfiles.poetry_lock,
    "Cargo.lock": lockfiles.cargo_lock,
    "Gemfile.lock": lockfiles.gemfile_lock,
    "gems.locked": lockfiles.gemfile_lock,
    "packages.lock.json": lockfiles.nuget_lock,
}
SUPPORTED = ("CycloneDX JSON or SPDX JSON SBOMs (*.json), package-lock.json, npm-shrinkwrap.json, uv.lock, "
             "poetry.lock, requirements*.txt / constraints*.txt (pinned), Gemfile.lock, Cargo.lock, "
             "packages.lock.json, gradle.lockfile (*.lockfile)")


def reader_for(path: Path, display: str) -> Callable[[Path, str], list[Reference]]:
    name = path.name
    if name in KINDS:
        return KINDS[name]
    lower = name.lower()
    if lower.endswith(".lockfile"):
        return lockfiles.gradle_lockfile
    if lower.endswith(".txt") and (lower.startswith("requirements") or lower.startswith("constraints")):
        return lockfiles.requirements_txt
    if lower.endswith(".json"):
        return _sbom
    raise EvidenceError(display, f"not a recognised SBOM or lockfile; supported: {SUPPORTED}")


def _sbom(path: Path, name: str) -> list[Reference]:
    kind = _sbom_kind(path, name)
    if kind == "CycloneDX":
        return sbom.cyclonedx(path, name)
    if kind == "SPDX":
        return sbom.spdx(path, name)
    raise EvidenceError(name, "a JSON file that is neither a CycloneDX SBOM (`bomFormat: CycloneDX`) nor an SPDX "
                              f"SBOM (`spdxVersion`); supported: {SUPPORTED}")


def _sbom_kind(path: Path, name: str) -> str:
    """"CycloneDX", "SPDX" or "" from the document's top-level keys, read as a stream (the
    SBOM is never held whole in memory to learn what it is)."""
    with path.open("rb") as f:
        for kind, key, value in top_level(f, name, frozenset()):
            if kind == "scalar" and key == "bomFormat":
                return "CycloneDX" if value == "CycloneDX" else ""
            if kind == "scalar" and key == "spdxVersion":
                return "SPDX"
    return ""


def read(path: Path, name: str) -> list[Reference]:
    """Every package version the file references (``name`` is how errors name the file).
    Raises EvidenceError; never returns an empty list for a file it could not understand."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise EvidenceError(name, f"cannot be read: {e.strerror}") from None
    if size > MAX_EVIDENCE_BYTES:
        raise EvidenceError(name, f"{size} bytes is larger than the {MAX_EVIDENCE_BYTES} byte limit")
    try:
        return reader_for(path, name)(path, name)
    except OSError as e:
        raise EvidenceError(name, f"cannot be read: {e.strerror}") from None
    except RecursionError:  # a reader walking nested entries (npm lockfile v1 dependencies, ...)
        raise EvidenceError(name, "nested too deeply to read (no SBOM or lockfile nests that deep)") from None


def same_version(fmt: str, a: str, b: str) -> bool:
    """The same version for the ecosystem: the same text, or equal by its reference's comparison
    (PyPI `1.0` and `1.0.0`): a consumer pinning either uses the one published version."""
    if a == b:
        return True
    pa, pb = ecosystems.parse(fmt, a), ecosystems.parse(fmt, b)
    return pa is not None and pb is not None and ecosystems.ECOSYSTEMS[fmt].compare(pa, pb) == 0


@dataclass(frozen=True)
class Usage:
    """The consumers of one package's versions: version text as referenced -> consumer files."""
    references: dict[str, tuple[str, ...]]

    def consumers(self, fmt: str, version: str) -> tuple[str, ...]:
        """The files that reference ``version`` (sorted), empty when none does."""
        found = set(self.references.get(version, ()))
        for ref, files in self.references.items():
            if ref != version and same_version(fmt, ref, version):
                found.update(files)
        return tuple(sorted(found))

    def in_use(self, fmt: str, versions: list[str]) -> dict[str, tuple[str, ...]]:
        out = {}
        for v in versions:
            c = self.consumers(fmt, v)
            if c:
                out[v] = c
        return out

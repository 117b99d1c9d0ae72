"""Lockfiles, read directly: each pins exactly the versions a build uses.

Only versions that come from a package registry count (CodeArtifact is one): path, git, workspace
and link entries are the consumer's own code and are skipped. Every reader raises EvidenceError
naming the file (and the line where one is known) for anything it cannot read.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any, Optional

from packaging.requirements import InvalidRequirement, Requirement

from provider.rules.evidence._refs import EvidenceError, Reference, parse_json


def _text(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise EvidenceError(name, f"not UTF-8 text ({e.reason} at byte {e.start})") from None


def _json(path: Path, name: str) -> Any:
    return parse_json(_text(path, name), name)


def _toml(path: Path, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(_text(path, name))
    except tomllib.TOMLDecodeError as e:
        raise EvidenceError(name, f"not valid TOML: {e}") from None
    except RecursionError:
        raise EvidenceError(name, "TOML nested too deeply to read (no lockfile nests that deep)") from None
    except ValueError as e:  # e.g. an integer of more than 4300 digits
        raise EvidenceError(name, f"not usable TOML: {str(e).split(';')[0]}") from None


def _need(cond: bool, name: str, message: str) -> None:
    if not cond:
        raise EvidenceError(name, message)


def _npm_name(full: str) -> tuple[Optional[str], str]:
    if full.startswith("@") and "/" in full:
        scope, _, pkg = full[1:].partition("/")
        return scope, pkg
    return None, full


def npm_lock(path: Path, name: str) -> list[Reference]:
    """package-lock.json / npm-shrinkwrap.json, lockfile versions 1 to 3."""
    doc = _json(path, name)
    _need(isinstance(doc, dict) and ("packages" in doc or "dependencies" in doc), name,
          "not an npm lockfile (no `packages` or `dependencies`)")
    refs: list[Reference] = []
    packages = doc.get("packages")
    if isinstance(packages, dict):  # lockfileVersion 2 and 3
        for key, entry in packages.items():
            if "node_modules/" not in key or not isinstance(entry, dict):
                continue  # "" is the project itself; other keys are workspace folders
            if entry.get("link") or "version" not in entry:
                continue
            _need(isinstance(entry["version"], str), name,
                  f"packages[{key!r}]: `version` is {json.dumps(entry['version'])[:40]}, not a string: the "
                  f"lockfile cannot say which version is in use")
            resolved = str(entry.get("resolved") or "")
            if resolved.startswith(("file:", "git", "link:")):
                continue
            full = str(entry.get("name") or key.rsplit("node_modules/", 1)[1])  # `name`: the real name of an alias
            scope, pkg = _npm_name(full)
            refs.append(Reference.of("npm", scope, pkg, entry["version"]))
        return refs

    def walk(deps: Any, where: str) -> None:  # lockfileVersion 1
        _need(isinstance(deps, dict), name, f"{where}: `dependencies` is not an object")
        for dep, entry in deps.items():
            if not isinstance(entry, dict):
                continue
            _need(isinstance(entry.get("version", ""), str), name,
                  f"{where}.{dep}: `version` is {json.dumps(entry.get('version'))[:40]}, not a string: the "
                  f"lockfile cannot say which version is in use")
            version = str(entry.get("version") or "")
            full = dep
            if version.startswith("npm:"):  # alias: npm:real-name@1.2.3
                full, _, version = version[4:].rpartition("@")
            if version and ":" not in version and "/" not in version:
                scope, pkg = _npm_name(full)
                refs.append(Reference.of("npm", scope, pkg, version))
            if "dependencies" in entry:
                walk(entry["dependencies"], f"{where}.{dep}")

    walk(doc["dependencies"], "dependencies")
    return refs


def _toml_packages(path: Path, name: str) -> list[dict[str, Any]]:
    doc = _toml(path, name)
    packages = doc.get("package", [])
    _need(isinstance(packages, list) and all(isinstance(p, dict) for p in packages), name,
          "`[[package]]` entries expected")
    for i, p in enumerate(packages):
        _need(isinstance(p.get("name"), str) and isinstance(p.get("version", ""), str), name,
              f"package[{i}]: `name` and `version` must be strings")
    return list(packages)


def uv_lock(path: Path, name: str) -> list[Reference]:
    """uv.lock: packages whose `source` is a registry (not editable, virtual, path, directory or git)."""
    return [Reference.of("pypi", None, p["name"], p["version"]) for p in _toml_packages(path, name)
            if isinstance(p.get("source"), dict) and "registry" in p["source"] and p.get("version")]


def poetry_lock(path: Path, name: str) -> list[Reference]:
    """poetry.lock: packages without a `[package.source]`, or from a `legacy` (private index) source."""
    return [Reference.of("pypi", None, p["name"], p["version"]) for p in _toml_packages(path, name)
            if p.get("version") and (not isinstance(p.get("source"), dict) or p["source"].get("type") == "legacy")]


def cargo_lock(path: Path, name: str) -> list[Reference]:
    """Cargo.lock: crates from a registry (`registry+` or `sparse+` source); path and git crates are skipped."""
    return [Reference.of("cargo", None, p["name"], p["version"]) for p in _toml_packages(path, name)
            if str(p.get("source", "")).startswith(("registry+", "sparse+"))]


_GEM = re.compile(r"^    ([A-Za-z0-9_.\-]+) \(([^)\s]+)\)$")


def gemfile_lock(path: Path, name: str) -> list[Reference]:
    """Gemfile.lock: the `specs:` of GEM sections (gems from a gem server); GIT and PATH sections are
    the consumer's own sources. A platform suffix (`1.16.0-x86_64-linux`) is not part of the version."""
    refs: list[Reference] = []
    section = ""
    sections = 0
    for n, line in enumerate(_text(path, name).splitlines(), 1):
        if line and not line[0].isspace():
            section = line.strip()
            sections += 1
            continue
        if section != "GEM" or not line.startswith("    ") or line.startswith("     "):
            continue
        m = _GEM.match(line)
        _need(m is not None, name, f"line {n}: expected `    name (version)` in the GEM specs, got {line.strip()!r}")
        assert m is not None
        version = m.group(2).split("-", 1)[0]  # RubyGems versions never contain '-'; it starts the platform
        refs.append(Reference.of("ruby", None, m.group(1), version))
    _need(sections > 0, name, "not a Gemfile.lock (no sections such as GEM or DEPENDENCIES)")
    return refs


def nuget_lock(path: Path, name: str) -> list[Reference]:
    """packages.lock.json: every `resolved` version of every target framework; `Project` entries
    (project references) are skipped."""
    doc = _json(path, name)
    _need(isinstance(doc, dict) and isinstance(doc.get("dependencies"), dict), name,
          "not a NuGet packages.lock.json (no `dependencies` object)")
    refs: list[Reference] = []
    for framework, deps in doc["dependencies"].items():
        _need(isinstance(deps, dict), name, f"dependencies.{framework}: not an object")
        for pkg, entry in deps.items():
            if not isinstance(entry, dict) or entry.get("type") == "Project":
                continue
            _need(isinstance(entry.get("resolved"), str), name, f"dependencies.{framework}.{pkg}: no `resolved`")
            refs.append(Reference.of("nuget", None, pkg, entry["resolved"]))
    return refs


def gradle_lockfile(path: Path, name: str) -> list[Reference]:
    """gradle.lockfile: `group:artifact:version=configurations` lines (`empty=` lists none)."""
    refs: list[Reference] = []
    for n, line in enumerate(_text(path, name).splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#") or line.startswith("empty="):
            continue
        coords, _, _ = line.partition("=")
        parts = coords.split(":")
        _need(len(parts) == 3 and all(parts), name, f"line {n}: expected `group:artifact:version=...`, got {line!r}")
        refs.append(Reference.of("maven", parts[0], parts[1], parts[2]))
    return refs


def requirements_txt(path: Path, name: str, _seen: Optional[set[Path]] = None) -> list[Reference]:
    """A pinned requirements (or constraints) file, as `pip freeze`, `uv export` or pip-compile write
    it: every requirement must be pinned with `==` (or `===`) to one version, since a range cannot
    say which version is in use (an error names the line). `-r` / `-c` files are followed; editable
    and URL requirements are the consumer's own code and are skipped; markers are ignored (a version
    used on any platform is in use)."""
    seen = _seen if _seen is not None else set()
    seen.add(path.resolve())
    refs: list[Reference] = []
    logical: list[tuple[int, str]] = []
    pending, start = "", 0
    for n, raw in enumerate(_text(path, name).splitlines(), 1):
        if not pending:
            start = n
        if raw.endswith("\\"):
            pending += raw[:-1] + " "
            continue
        logical.append((start, pending + raw))
        pending = ""
    if pending:
        logical.append((start, pending))
    for n, line in logical:
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if not line:
            continue
        if line.startswith("-"):
            opt, _, value = line.replace("=", " ", 1).partition(" ")
            if opt in ("-r", "--requirement", "-c", "--constraint"):
                included = (path.parent / value.strip()).resolve()
                if included not in seen:
                    if not included.is_file():
                        raise EvidenceError(name, f"line {n}: {opt} {value.strip()}: no such file")
                    refs += requirements_txt(included, f"{name} -> {value.strip()}", seen)
            continue  # -e/--editable (the consumer's own code), index and install options
        line = re.split(r"\s+--", line, maxsplit=1)[0]  # per-requirement options such as --hash
        try:
            req = Requirement(line)
        except InvalidRequirement as e:
            raise EvidenceError(name, f"line {n}: not a requirement: {e}") from None
        if req.url:
            continue
        pins = [s for s in req.specifier if s.operator in ("==", "===") and not s.version.endswith(".*")]
        if len(pins) != 1 or len(req.specifier) != 1:
            raise EvidenceError(name, f"line {n}: {line!r} is not pinned to one version (`name==version`); a range "
                                      f"cannot say which version is in use. Point `in_use` at a lock or at `pip freeze` "
                                      f"/ `uv export` / pip-compile output")
        refs.append(Reference.of("pypi", None, req.name, pins[0].version))
    return refs

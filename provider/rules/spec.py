"""The spec format: files in `specs/` declaring desired statuses per repository and package.

A spec file covers one repository. Per package it declares explicit statuses, `protected`
versions and rules (see docs/specs.md for the reference and precedence). Files are validated with
pydantic; every error names the file, the line and the field, and all errors of all files are
reported together. The JSON Schema (`python -m provider schema`) lets editors validate specs.
"""

from __future__ import annotations

import gc
import glob
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator

from provider._core.model import (
    UPDATABLE_STATUSES,
    DesiredStatus,
    Format,
    PackageArgs,
    RepositoryArgs,
    SelectableStatus,
    package_key,
    validation_problems,
)
from provider.rules import conditions, ecosystems, evidence
from provider.rules.conditions.glob import patterns as glob_patterns

MAX_SPEC_BYTES = 1024 * 1024  # ~11,000 packages; the largest loads in about 2 s and 70 MB (measured)


# libyaml's parser when PyYAML has it (the wheels do): ~20x faster than the pure-Python one.
_SafeBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeBase):  # type: ignore[misc]
    """YAML without implicit ints and floats: `1.10: Archived` must stay the version "1.10", not
    become the float 1.1. Numeric fields (count, priority, older_than_days) are coerced by pydantic."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class SpecError(Exception):
    """Every problem found in the specs, one line each: ``file:line: field: message``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid specs:\n" + "\n".join(f"  {p}" for p in problems))


class MatchBase(BaseModel):
    """Which versions a rule applies to. Every condition given must hold (AND); none matches all."""

    model_config = ConfigDict(extra="forbid")

    def globs(self) -> list[str]:
        return glob_patterns(getattr(self, "glob", None))


# `Match` has one field per registered condition (provider/rules/conditions/), in their order.
_MATCH_FIELDS: dict[str, Any] = {c.field: (c.annotation, Field(c.default, description=c.doc, **c.constraints))
                                 for c in conditions.REGISTRY.values()}
if TYPE_CHECKING:
    class Match(MatchBase):
        def __getattr__(self, name: str) -> Any: ...
else:
    Match = create_model("Match", __base__=MatchBase, __doc__=MatchBase.__doc__, **_MATCH_FIELDS)


class KeepLatest(BaseModel):
    """Leave the newest `count` matching versions (per group) out of the rule."""

    model_config = ConfigDict(extra="forbid")
    count: int = Field(ge=0)
    per: Literal["all", "major", "minor"] = "all"
    by: Literal["version", "published"] = Field(
        "version", description="newest by the ecosystem's version order, or by publish time (no extra read)")


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}$")
    status: DesiredStatus
    match: Match = Field(default_factory=Match)
    keep_latest: Optional[Union[int, KeepLatest]] = None
    priority: int = Field(0, description="a higher priority wins when rules disagree on a version")

    def considers(self) -> frozenset[str]:
        """The current statuses this rule considers: `match.status` (default Published, Unlisted,
        Archived) plus its own target status, so that a version it moved stays selected by it
        (and managed) while it still wants it: applying a plan and planning again changes nothing."""
        return frozenset(self.match.status or UPDATABLE_STATUSES) | {self.status}

    def keep(self) -> Optional[KeepLatest]:
        if self.keep_latest is None:
            return None
        if isinstance(self.keep_latest, int):
            return KeepLatest(count=self.keep_latest)
        return self.keep_latest


IN_USE_DOC = ("SBOMs (CycloneDX / SPDX JSON) and lockfiles of the services that consume packages: files, globs or "
              "folders, relative to the spec. A version they reference is protected: no rule changes it, and an "
              "explicit Unlisted/Archived/Disposed for it is an error naming the consumer")


class PackageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Format
    namespace: Optional[str] = None
    package: str
    resource: Literal["batched", "per-version"] = Field(
        "batched", description="one resource for the package (default) or one per version")
    allow_dispose: bool = Field(False, description="opt-in needed (with codeartifact:allowDispose) for Disposed")
    restore_on_delete: bool = False
    protected: list[str] = Field(default_factory=list,
                                 description="versions (or globs) that no rule may change")
    unmatched_patterns: Literal["warn", "error"] = Field(
        "warn", description="a `protected` or `match.versions`/`match.glob` entry that selects no live version: "
                            "a warning in the preview and PR summary (warn), or this package fails (error)")
    in_use: list[str] = Field(default_factory=list, description=IN_USE_DOC)
    versions: dict[str, DesiredStatus] = Field(default_factory=dict, description="explicit statuses")
    rules: list[Rule] = Field(default_factory=list)

    @field_validator("versions", mode="before")
    @classmethod
    def _stringify(cls, v: Any) -> Any:
        # YAML reads `1.0: Archived` as a float key; versions are always strings.
        return {str(k): s for k, s in v.items()} if isinstance(v, dict) else v

    @field_validator("protected", mode="before")
    @classmethod
    def _stringify_list(cls, v: Any) -> Any:
        return [str(x) for x in v] if isinstance(v, list) else v

    @model_validator(mode="after")
    def _checks(self) -> "PackageSpec":
        # Namespace rules per format are PackageArgs's; reuse them rather than repeat them.
        PackageArgs(domain="xx", repository="xx", format=self.format, namespace=self.namespace, package=self.package)
        _check_chains(self.rules)
        names = [r.name for r in self.rules]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"rules: rule names must be unique in a package ({', '.join(dup)})")
        for i, r in enumerate(self.rules):
            for c in conditions.REGISTRY.values():
                value = getattr(r.match, c.field)
                if c.check is not None and c.active(value):
                    problem = c.check(self.format, value, r.match)
                    if problem:
                        raise ValueError(f"rules.{i}.match.{c.field}: {problem}")
        return self


def _check_chains(rules: list[Rule]) -> None:
    """Refuses rules that would keep moving a version: rule R moves a version to a status that
    another rule P (at R's priority or above, deciding differently) selects by `match.status` but
    did not select before. Applying the plan and planning again must change nothing."""
    for i, r in enumerate(rules):
        for j, p in enumerate(rules):
            if i == j or p.status == r.status or p.priority < r.priority:
                continue
            entering = r.considers() - p.considers() - {r.status}
            if r.status in p.considers() and entering:
                raise ValueError(
                    f"rules.{j}.match.status: rule '{p.name}' selects {r.status} versions, which rule '{r.name}' "
                    f"(rules[{i}]) makes out of {'/'.join(sorted(entering))} ones; the next up would move them "
                    f"again to {p.status}. Give '{r.name}' a higher priority than '{p.name}', or make the "
                    f"status filters agree")


class SpecFile(BaseModel):
    """One spec file: one repository."""

    model_config = ConfigDict(extra="forbid")
    domain: str
    domain_owner: Optional[str] = None
    repository: str
    in_use: list[str] = Field(default_factory=list, description=IN_USE_DOC + " (for every package of the file)")
    packages: list[PackageSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _checks(self) -> "SpecFile":
        RepositoryArgs(domain=self.domain, domain_owner=self.domain_owner, repository=self.repository)
        seen: dict[tuple[str, str, str], int] = {}
        for i, p in enumerate(self.packages):
            key = package_key(p.format, p.namespace, p.package)
            if key in seen:
                raise ValueError(f"packages.{i}: package declared twice in this file (also packages[{seen[key]}]"
                                 + (f"; {p.format} names compare as {key[2]!r}" if key[2] != p.package else "") + ")")
            seen[key] = i
        return self


@dataclass
class LoadedSpec:
    path: Path
    spec: SpecFile
    lines: dict[tuple[Any, ...], int]
    name: str = ""  # how errors name the file (e.g. specs/a.yaml)
    consumers: dict[int, evidence.Usage] = field(default_factory=dict)  # package index -> its `in_use` evidence
    shared_refs: list[tuple[evidence.Reference, str]] = field(default_factory=list)  # the file's own `in_use`

    def line(self, loc: tuple[Any, ...]) -> int:
        return _line_of(self.lines, loc)

    def usage_of(self, index: int) -> evidence.Usage:
        return self.consumers.get(index) or evidence.Usage({})

    def file_usage(self, fmt: str, namespace: Optional[str], package: str) -> evidence.Usage:
        """The file-level `in_use` evidence for any package of this file's repository, declared
        here or not (restores of packages that left the specs are checked against it)."""
        key = package_key(fmt, namespace, package)
        found: dict[str, set[str]] = {}
        for r, display in self.shared_refs:
            if (r.format, r.namespace, r.name) == key:
                found.setdefault(r.version, set()).add(display)
        return evidence.Usage({v: tuple(sorted(fs)) for v, fs in found.items()})


def _line_of(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int:
    """The line of the deepest YAML node on ``loc``'s path."""
    for n in range(len(loc), -1, -1):
        if tuple(loc[:n]) in lines:
            return lines[tuple(loc[:n])]
    return 1


def _node_lines(node: Any, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value
            out[path + (key,)] = k.start_mark.line + 1
            _node_lines(v, path + (key,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[path + (i,)] = item.start_mark.line + 1
            _node_lines(item, path + (i,), out)


def _fmt_loc(loc: tuple[Any, ...]) -> str:
    """packages[0].versions.1.0.0, or packages[0].versions["bad version"] for keys that are not plain."""
    out = ""
    for p in loc:
        if isinstance(p, int):
            out += f"[{p}]"
        elif re.fullmatch(r"[\w.\-]+", str(p)):
            out += f".{p}" if out else str(p)
        else:
            out += json.dumps(str(p)).join("[]")
    return out or "(file)"


def _refuse_anchors(text: str, name: str) -> None:
    """Anchors, aliases and merge keys are refused: a spec must read the same to every reviewer,
    and nested aliases can make a few hundred bytes expand to gigabytes. Scanning is linear."""
    for event in yaml.parse(text, Loader=_Loader):
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            kind = "alias" if isinstance(event, yaml.AliasEvent) else "anchor"
            line = event.start_mark.line + 1 if event.start_mark is not None else 1
            raise SpecError([f"{name}:{line}: (file): YAML {kind} `{anchor}` refused: "
                             f"write each value out (anchors, aliases and merge keys are not allowed in specs)"])


def _refuse_duplicate_keys(node: Any, name: str, path: tuple[Any, ...]) -> None:
    """A key given twice in one mapping is an error naming both lines (YAML would keep the last)."""
    problems: list[str] = []

    def walk(n: Any, loc: tuple[Any, ...]) -> None:
        if isinstance(n, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, v in n.value:
                key = str(k.value)
                if key in seen:
                    problems.append(f"{name}:{k.start_mark.line + 1}: {_fmt_loc(loc + (key,))}: duplicate key "
                                    f"{key!r} (also at line {seen[key]}); YAML would silently keep only the last")
                else:
                    seen[key] = k.start_mark.line + 1
                walk(v, loc + (key,))
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, loc + (i,))

    walk(node, path)
    if problems:
        raise SpecError(problems)


def load_file(path: Path, display: Optional[str] = None, base: Optional[Path] = None) -> LoadedSpec:
    """Parses and validates one spec file and reads its `in_use` evidence (consumer files are named
    relative to ``base``, default the working directory). Raises SpecError naming file:line: field."""
    name = display or str(path)
    size = path.stat().st_size
    if size > MAX_SPEC_BYTES:
        raise SpecError([f"{name}:1: (file): {size} bytes is larger than the {MAX_SPEC_BYTES} byte limit"])
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError as e:
        raise SpecError([f"{name}:1: (file): not UTF-8 text ({e.reason} at byte {e.start})"]) from None
    gc_was_on = gc.isenabled()
    gc.disable()  # parsing allocates only acyclic nodes; collecting during it makes it superlinear
    try:
        _refuse_anchors(text, name)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _refuse_duplicate_keys(node, name, ())
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise SpecError([f"{name}:{line}: (file): not valid YAML: {getattr(e, 'problem', e)}"]) from None
    finally:
        if gc_was_on:
            gc.enable()
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _node_lines(node, (), lines)
    if not isinstance(data, dict):
        raise SpecError([f"{name}:1: (file): a spec is a mapping with domain, repository and packages"])
    try:
        spec = SpecFile.model_validate(data)
    except ValidationError as e:
        problems = [f"{name}:{_line_of(lines, loc)}: {_fmt_loc(loc)}: {msg}" for loc, msg in validation_problems(e)]
        raise SpecError(problems) from None
    loaded = LoadedSpec(path, spec, lines, name)
    _resolve_usage(loaded, Path.cwd() if base is None else base)
    return loaded


_evidence_cache: dict[tuple[Path, int, int], list[evidence.Reference]] = {}


def read_evidence(path: Path, display: str) -> list[evidence.Reference]:
    """One consumer file's references, read once per process while the file is unchanged."""
    st = path.stat()
    key = (path.resolve(), st.st_mtime_ns, st.st_size)
    if key not in _evidence_cache:
        _evidence_cache[key] = evidence.read(path, display)
    return _evidence_cache[key]


def evidence_files(spec_dir: Path, entry: str) -> list[Path]:
    """The files an `in_use` entry names: a file, a folder (every file under it, hidden ones
    excepted) or a glob (`**` crosses folders), relative to the spec's folder."""
    target = spec_dir / entry
    hits = [Path(p) for p in sorted(glob.glob(str(target), recursive=True))] if glob.has_magic(entry) else \
        ([target] if target.exists() else [])
    files: list[Path] = []
    for h in hits:
        if h.is_dir():
            files += sorted(p for p in h.rglob("*") if p.is_file()
                            and not any(part.startswith(".") for part in p.relative_to(h).parts))
        elif h.is_file():
            files.append(h)
    return files


def _resolve_usage(ls: LoadedSpec, base: Path) -> None:
    """Reads the consumer files of `in_use` entries (the file's and each package's) into
    ``ls.consumers``. Raises SpecError naming the spec's file:line and the consumer file."""
    problems: list[str] = []

    def refs_of(entries: list[str], loc: tuple[Any, ...]) -> list[tuple[evidence.Reference, str]]:
        out: list[tuple[evidence.Reference, str]] = []
        for j, entry in enumerate(entries):
            where = f"{ls.name}:{ls.line(loc + (j,))}: {_fmt_loc(loc + (j,))}"
            files = evidence_files(ls.path.parent, entry)
            if not files:
                problems.append(f"{where}: {entry!r} names no file (relative to {ls.name}'s folder); `in_use` "
                                f"evidence that is missing would protect nothing")
            for f in files:
                display = os.path.relpath(f, base)
                try:
                    out += [(r, display) for r in read_evidence(f, display)]
                except evidence.EvidenceError as e:
                    problems.append(f"{where}: {e}")
                except OSError as e:
                    problems.append(f"{where}: {display}: cannot be read: {e.strerror}")
        return out

    shared = ls.shared_refs = refs_of(ls.spec.in_use, ("in_use",))
    for i, p in enumerate(ls.spec.packages):
        own = refs_of(p.in_use, ("packages", i, "in_use"))
        key = package_key(p.format, p.namespace, p.package)
        found: dict[str, set[str]] = {}
        for r, display in shared + own:
            if (r.format, r.namespace, r.name) == key:
                found.setdefault(r.version, set()).add(display)
        if found:
            ls.consumers[i] = evidence.Usage({v: tuple(sorted(fs)) for v, fs in found.items()})
    if problems:
        raise SpecError(problems)


SPEC_SUFFIXES = (".yaml", ".yml")


def spec_files(directory: Path) -> list[Path]:
    """Every `*.yaml` / `*.yml` file (any case) under the directory, subdirectories included,
    hidden files and folders (`.name`) excepted, sorted so results are deterministic. Raises
    SpecError when the directory does not exist or holds no spec file: a stack program that found
    no spec would otherwise remove every resource."""
    if not directory.is_dir():
        raise SpecError([f"{directory}: the specs directory does not exist (codeartifact:specsDir); nothing was "
                         f"registered, so nothing is removed"])
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in SPEC_SUFFIXES
                   and not any(part.startswith(".") for part in p.relative_to(directory).parts))
    if not files:
        raise SpecError([f"{directory}: no spec file (*.yaml, *.yml) in the specs directory; nothing was "
                         f"registered, so nothing is removed. To stop managing every package, keep a spec with "
                         f"`packages: []`"])
    return files


def load_dir(directory: Path) -> list[LoadedSpec]:
    """Every spec file under the directory (see `spec_files`). All files are checked before
    anything is reported; a package declared in two files is an error."""
    files = spec_files(directory)
    loaded: list[LoadedSpec] = []
    problems: list[str] = []
    for f in files:
        try:
            loaded.append(load_file(f, str(f.relative_to(directory.parent)), directory.parent))
        except SpecError as e:
            problems.extend(e.problems)
    owners: dict[tuple[Any, ...], str] = {}
    for ls in loaded:
        for i, p in enumerate(ls.spec.packages):
            key = (ls.spec.domain, ls.spec.domain_owner, ls.spec.repository, *package_key(p.format, p.namespace,
                                                                                           p.package))
            where = f"{ls.name}:{ls.line(('packages', i))}"
            if key in owners:
                same = f" ({p.format} names compare as {key[-1]!r})" if key[-1] != p.package else ""
                problems.append(f"{where}: packages[{i}]: package also declared at {owners[key]}{same}")
            owners.setdefault(key, where)
    if problems:
        raise SpecError(problems)
    return loaded


def json_schema() -> dict[str, Any]:
    schema = SpecFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "CodeArtifact package version status spec"
    return schema

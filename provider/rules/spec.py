"""The spec format: files in `specs/` declaring desired statuses per repository and package.

A spec file covers one repository. Per package it declares explicit statuses, `protected`
versions and rules (see docs/specs.md for the reference and precedence). Files are validated with
pydantic; every error names the file, the line and the field, and all errors of all files are
reported together. The JSON Schema (`python -m provider schema`) lets editors validate specs.
"""

from __future__ import annotations

import fnmatch
import gc
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Mapping, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator

from provider._core.model import (
    UPDATABLE_STATUSES,
    DesiredStatus,
    Format,
    PackageArgs,
    RepositoryArgs,
    SelectableStatus,
    normalized_name,
    package_key,
    validation_problems,
)
from provider.rules import conditions, ecosystems, evidence
from provider.rules.evidence import downloads as evidence_downloads
from provider.rules.evidence import files as evidence_paths
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


# How a package's versions are registered: one resource per package, one per version, or held by
# the few resources of its repository (a fixed number of shards: the engine's cost stays flat at
# any package count).
Shape = Literal["batched", "per-version", "repository"]

IN_USE_DOC = ("SBOMs (CycloneDX / SPDX JSON) and lockfiles of the services that consume packages: files, globs or "
              "folders, relative to the spec. A version they reference is protected: no rule changes it, and an "
              "explicit Unlisted/Archived/Disposed for it is an error naming the consumer")


class PackageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Format
    namespace: Optional[str] = None
    package: str
    resource: Shape = Field(
        "batched", description="one resource for the package (default), one per version, or the package held by "
                               "its repository's resources (the shape repository policies use)")
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
        _check_rules(self.rules, [self.format], "a package")
        return self


def _check_rules(rules: list[Rule], formats: list[str], owner: str) -> None:
    """A rule list's own checks (package or policy): no chains, unique names, and each condition's
    check for each of ``formats`` (with more than one, the message names the format)."""
    _check_chains(rules)
    names = [r.name for r in rules]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"rules: rule names must be unique in {owner} ({', '.join(dup)})")
    for i, r in enumerate(rules):
        for c in conditions.REGISTRY.values():
            if c.targets is not None and c.active(getattr(r.match, c.field)) and r.status not in c.targets:
                raise ValueError(f"rules.{i}.match.{c.field}: a rule using `{c.field}` can only decide "
                                 f"{' or '.join(sorted(c.targets))}, not {r.status}: {c.targets_why}")
    for fmt in formats:
        for i, r in enumerate(rules):
            for c in conditions.REGISTRY.values():
                value = getattr(r.match, c.field)
                if c.check is not None and c.active(value):
                    problem = c.check(fmt, value, r.match)
                    if problem:
                        where = f" (for {fmt} packages)" if owner == "a policy" else ""
                        raise ValueError(f"rules.{i}.match.{c.field}: {problem}{where}")


def _check_chains(rules: list[Rule]) -> None:
    """Refuses rules that would keep moving a version: rule R moves a version to a status that
    another rule P (at R's priority or above, deciding differently) selects by `match.status` but
    did not select before. Applying the plan and planning again must change nothing. A P that
    waits for a time in status (`in_status_for_days`) is an escalation, not a loop: the version
    enters its status with this run's write and P selects it N days later."""
    for i, r in enumerate(rules):
        for j, p in enumerate(rules):
            if i == j or p.status == r.status or p.priority < r.priority:
                continue
            if any(c.active(getattr(p.match, c.field)) and c.delays(getattr(p.match, c.field))
                   for c in conditions.REGISTRY.values()):
                continue
            entering = r.considers() - p.considers() - {r.status}
            if r.status in p.considers() and entering:
                raise ValueError(
                    f"rules.{j}.match.status: rule '{p.name}' selects {r.status} versions, which rule '{r.name}' "
                    f"(rules[{i}]) makes out of {'/'.join(sorted(entering))} ones; the next up would move them "
                    f"again to {p.status}. Give '{r.name}' a higher priority than '{p.name}', or make the "
                    f"status filters agree")


ORIGIN_CONTROL = Literal["ALLOW", "BLOCK"]


class PackageSelect(BaseModel):
    """Which packages of the repository a policy manages (every condition given must hold).
    Names and namespaces compare as CodeArtifact compares them (PyPI `Flask_Login` is `flask-login`)."""

    model_config = ConfigDict(extra="forbid")
    formats: Optional[list[Format]] = Field(None, description="only packages of these formats (default: every format)")
    namespaces: Optional[list[str]] = Field(
        None, description="namespace globs (npm scope without '@', Maven group ID); '' selects packages without one")
    include: list[str] = Field(default_factory=lambda: ["*"], description="package name globs (default: every name)")
    exclude: list[str] = Field(default_factory=list, description="package name globs left out (beats include)")
    publish: Optional[ORIGIN_CONTROL] = Field(
        None, description="only packages whose origin controls ALLOW (internal publishing) or BLOCK direct publishing "
                          "(ListPackages' `publish` origin control)")
    upstream: Optional[ORIGIN_CONTROL] = Field(
        None, description="only packages whose origin controls ALLOW or BLOCK versions from upstreams (ListPackages' "
                          "`upstream` origin control; an upstream cache ALLOWs them)")

    @field_validator("namespaces", "include", "exclude", mode="before")
    @classmethod
    def _strings(cls, v: Any) -> Any:
        return [str(x) for x in v] if isinstance(v, list) else v

    def selects(self, fmt: str, namespace: Optional[str], name: str,
                origin: Mapping[str, Optional[str]]) -> bool:
        """Whether this selection takes the package (``origin``: its ListPackages origin controls)."""
        if self.formats is not None and fmt not in self.formats:
            return False
        ns = normalized_name(fmt, namespace)
        if self.namespaces is not None and not any(
                fnmatch.fnmatchcase(ns, normalized_name(fmt, p)) if p else not ns for p in self.namespaces):
            return False
        key = normalized_name(fmt, name)
        if not any(fnmatch.fnmatchcase(key, normalized_name(fmt, p)) for p in self.include):
            return False
        if any(fnmatch.fnmatchcase(key, normalized_name(fmt, p)) for p in self.exclude):
            return False
        return all(want is None or origin.get(control) == want
                   for control, want in (("publish", self.publish), ("upstream", self.upstream)))


class PolicySpec(BaseModel):
    """Settings and rules for every package of the repository that `select` takes, discovered with
    ListPackages on every run. A `packages:` entry for a selected package extends it: its settings
    override the policy's, its rules replace the policy's rules of the same name and add the
    others, its `protected` and `in_use` add to the policy's."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}$")
    select: PackageSelect = Field(default_factory=PackageSelect)
    resource: Shape = Field("repository", description="how the selected packages are registered: held by the "
                                                      "repository's resources (default) or one resource per package")
    allow_dispose: bool = Field(False, description="opt-in needed (with codeartifact:allowDispose) for Disposed")
    restore_on_delete: bool = False
    protected: list[str] = Field(default_factory=list, description="versions (or globs) that no rule may change, "
                                                                   "in every selected package")
    in_use: list[str] = Field(default_factory=list, description=IN_USE_DOC)
    rules: list[Rule] = Field(default_factory=list)

    @field_validator("protected", mode="before")
    @classmethod
    def _stringify_list(cls, v: Any) -> Any:
        return [str(x) for x in v] if isinstance(v, list) else v

    @model_validator(mode="after")
    def _checks(self) -> "PolicySpec":
        # Format-specific conditions (e.g. `range`) are checked for each format the policy selects;
        # a policy over every format is checked per package when it is planned.
        _check_rules(self.rules, list(self.select.formats or []), "a policy")
        return self


# Where each part of a package's effective spec was written: ("rules", i) -> the location of the
# rule it came from, e.g. ("policies", 0, "rules", 2) or ("packages", 5, "rules", 0).
Origins = dict[tuple[Any, ...], tuple[Any, ...]]


def effective_package(policy: PolicySpec, policy_loc: tuple[Any, ...], fmt: str, namespace: Optional[str],
                      name: str, entry: Optional[PackageSpec] = None,
                      entry_loc: tuple[Any, ...] = ()) -> tuple[PackageSpec, Origins]:
    """The spec a policy gives one selected package, extended by the package's own entry (see
    PolicySpec), and where each rule and `protected` entry of it was written. Raises
    ValidationError / ValueError when the result is not a valid package spec (e.g. a condition
    that does not apply to this package's format)."""
    own = entry.model_fields_set if entry is not None else set()
    overridden = {r.name for r in entry.rules} if entry is not None else set()
    rules: list[Rule] = []
    origins: Origins = {}
    for i, r in enumerate(policy.rules):
        if r.name not in overridden:
            origins[("rules", len(rules))] = (*policy_loc, "rules", i)
            rules.append(r)
    for i, r in enumerate(entry.rules if entry is not None else []):
        origins[("rules", len(rules))] = (*entry_loc, "rules", i)
        rules.append(r)
    protected = list(policy.protected)
    for i in range(len(protected)):
        origins[("protected", i)] = (*policy_loc, "protected", i)
    for i, p in enumerate(entry.protected if entry is not None else []):
        if p not in protected:
            origins[("protected", len(protected))] = (*entry_loc, "protected", i)
            protected.append(p)
    settings: dict[str, Any] = {k: getattr(policy, k) for k in ("resource", "allow_dispose", "restore_on_delete")}
    if entry is not None:
        settings.update({k: getattr(entry, k) for k in ("resource", "allow_dispose", "restore_on_delete",
                                                         "unmatched_patterns") if k in own})
        for k in ("versions",):
            origins[(k,)] = (*entry_loc, k)
    pkg = PackageSpec.model_validate({
        "format": fmt, "namespace": namespace, "package": name, **settings, "protected": protected,
        "versions": dict(entry.versions) if entry is not None else {},
        "rules": [r.model_dump(exclude_unset=True) for r in rules]})
    return pkg, origins


DOWNLOADS_DOC = ("download evidence for `not_downloaded_for_days` (and status-change times for `in_status_for_days`): "
                 "CloudTrail log files as delivered to S3 (*.json.gz) or tables exported from Athena / CloudTrail Lake "
                 "(*.csv, *.jsonl); files, folders or globs relative to the spec (docs/specs.md, Download evidence)")


class DownloadsSpec(BaseModel):
    """Where the download evidence is, and whose reads do not count."""

    model_config = ConfigDict(extra="forbid")
    files: list[str] = Field(min_length=1, description="log files, folders or globs, relative to the spec")
    ignore_principals: list[str] = Field(
        default_factory=lambda: list(evidence_downloads.DEFAULT_IGNORED),
        description="principal ARN globs whose reads are not downloads (scanners, mirrors); replaces the default, "
                    "AWS service-linked roles")
    count_aws_services: bool = Field(
        False, description="count reads an AWS service made on someone's behalf (userIdentity.invokedBy, e.g. "
                           "Amazon Inspector scans); off by default")


class SpecFile(BaseModel):
    """One spec file: one repository."""

    model_config = ConfigDict(extra="forbid")
    domain: str
    domain_owner: Optional[str] = None
    repository: str
    in_use: list[str] = Field(default_factory=list, description=IN_USE_DOC + " (for every package of the file)")
    downloads: Optional[DownloadsSpec] = Field(None, description=DOWNLOADS_DOC)
    policies: list[PolicySpec] = Field(
        default_factory=list, description="settings and rules for whole groups of the repository's packages, "
                                          "discovered with ListPackages on every run (docs/specs.md, Repository policies)")
    packages: list[PackageSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _checks(self) -> "SpecFile":
        RepositoryArgs(domain=self.domain, domain_owner=self.domain_owner, repository=self.repository)
        names = [p.name for p in self.policies]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"policies: policy names must be unique in a file ({', '.join(dup)})")
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
    policy_refs: dict[int, list[tuple[evidence.Reference, str]]] = field(default_factory=dict)  # policies' `in_use`
    downloads: Optional[evidence_downloads.Downloads] = None  # the file's `downloads:` evidence, read at load
    _index: dict[int, dict[tuple[str, str, str], list[tuple[evidence.Reference, str]]]] = field(
        default_factory=dict, repr=False)

    def line(self, loc: tuple[Any, ...]) -> int:
        return _line_of(self.lines, loc)

    def usage_of(self, index: int) -> evidence.Usage:
        return self.consumers.get(index) or evidence.Usage({})

    def policy_usage(self, policy: int, fmt: str, namespace: Optional[str], package: str,
                     extra: Optional[evidence.Usage] = None) -> evidence.Usage:
        """A policy-selected package's evidence: the file's `in_use`, the policy's, and ``extra``
        (its own entry's, when it has one)."""
        key = package_key(fmt, namespace, package)
        found: dict[str, set[str]] = {}
        for r, display in self._indexed(-1).get(key, []) + self._indexed(policy).get(key, []):
            found.setdefault(r.version, set()).add(display)
        for v, files in (extra.references.items() if extra is not None else ()):
            found.setdefault(v, set()).update(files)
        return evidence.Usage({v: tuple(sorted(fs)) for v, fs in found.items()})

    def file_usage(self, fmt: str, namespace: Optional[str], package: str) -> evidence.Usage:
        """The file-level `in_use` evidence for any package of this file's repository, declared
        here or not (restores of packages that left the specs are checked against it)."""
        key = package_key(fmt, namespace, package)
        found: dict[str, set[str]] = {}
        for r, display in self._indexed(-1).get(key, []):
            found.setdefault(r.version, set()).add(display)
        return evidence.Usage({v: tuple(sorted(fs)) for v, fs in found.items()})

    def _indexed(self, policy: int) -> dict[tuple[str, str, str], list[tuple[evidence.Reference, str]]]:
        """The file's (-1) or a policy's references by package, built once: thousands of packages
        look their evidence up in one SBOM."""
        if policy not in self._index:
            refs = self.shared_refs if policy < 0 else self.policy_refs.get(policy, [])
            index: dict[tuple[str, str, str], list[tuple[evidence.Reference, str]]] = {}
            for r, display in refs:
                index.setdefault((r.format, r.namespace, r.name), []).append((r, display))
            self._index[policy] = index
        return self._index[policy]


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
    _resolve_downloads(loaded, Path.cwd() if base is None else base)
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
    """The files an evidence entry names: a file, a folder (every file under it, hidden ones
    excepted) or a glob (`**` crosses folders), relative to the spec's folder, found in bounded
    time (symlinked folders are not entered; provider/rules/evidence/files.py). Raises
    evidence.EvidenceError when a bound is exceeded."""
    return evidence_paths.files_of(spec_dir, entry)


def _entry_files(ls: LoadedSpec, entry: str, where: str, why_missing: str, problems: list[str]) -> list[Path]:
    """The files an evidence entry names; a bound exceeded, or no file at all, is added to
    ``problems`` (``where``: the entry's file:line) and gives none."""
    try:
        files = evidence_files(ls.path.parent, entry)
    except evidence.EvidenceError as e:
        problems.append(f"{where}: {e}")
        return []
    if not files:
        problems.append(f"{where}: {entry!r} names no file (relative to {ls.name}'s folder); {why_missing}")
    return files


def _resolve_usage(ls: LoadedSpec, base: Path) -> None:
    """Reads the consumer files of `in_use` entries (the file's and each package's) into
    ``ls.consumers``. Raises SpecError naming the spec's file:line and the consumer file."""
    problems: list[str] = []

    def refs_of(entries: list[str], loc: tuple[Any, ...]) -> list[tuple[evidence.Reference, str]]:
        out: list[tuple[evidence.Reference, str]] = []
        for j, entry in enumerate(entries):
            where = f"{ls.name}:{ls.line(loc + (j,))}: {_fmt_loc(loc + (j,))}"
            for f in _entry_files(ls, entry, where, "`in_use` evidence that is missing would protect nothing",
                                  problems):
                display = os.path.relpath(f, base)
                try:
                    out += [(r, display) for r in read_evidence(f, display)]
                except evidence.EvidenceError as e:
                    problems.append(f"{where}: {e}")
                except OSError as e:
                    problems.append(f"{where}: {display}: cannot be read: {e.strerror}")
        return out

    shared = ls.shared_refs = refs_of(ls.spec.in_use, ("in_use",))
    for j, pol in enumerate(ls.spec.policies):
        if pol.in_use:
            ls.policy_refs[j] = refs_of(pol.in_use, ("policies", j, "in_use"))
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


def _resolve_downloads(ls: LoadedSpec, base: Path) -> None:
    """Reads the file's `downloads:` evidence into ``ls.downloads``. Raises SpecError naming the
    spec's file:line and the evidence file; a rule that needs download evidence in a file without
    any is an error too."""
    spec = ls.spec.downloads
    users = [loc for loc, c in _evidence_users(ls) if c.evidence == "downloads"]
    if spec is None:
        if users:
            loc = users[0]
            raise SpecError([f"{ls.name}:{ls.line(loc)}: {_fmt_loc(loc)}: needs download evidence, and the file has no "
                             f"`downloads:` (CloudTrail log files or an exported table; docs/specs.md)"])
        return
    files: list[tuple[Path, str]] = []
    problems: list[str] = []
    for j, entry in enumerate(spec.files):
        where = f"{ls.name}:{ls.line(('downloads', 'files', j))}: downloads.files[{j}]"
        found = _entry_files(ls, entry, where, "missing download evidence would make every version look unused",
                             problems)
        files += [(f, os.path.relpath(f, base)) for f in found]
    if problems:
        raise SpecError(problems)
    try:
        ls.downloads = evidence_downloads.load(files, ls.spec.domain, ls.spec.repository, ls.spec.domain_owner,
                                               spec.ignore_principals, spec.count_aws_services)
    except evidence.EvidenceError as e:
        raise SpecError([f"{ls.name}:{ls.line(('downloads',))}: downloads: {e}"]) from None


def _evidence_users(ls: LoadedSpec) -> list[tuple[tuple[Any, ...], conditions.Condition]]:
    """(location of the condition, condition) for every rule condition that reads spec-level evidence."""
    out = []
    groups = [(("packages", i), p.rules) for i, p in enumerate(ls.spec.packages)] + \
             [(("policies", j), p.rules) for j, p in enumerate(ls.spec.policies)]
    for loc, rules in groups:
        for k, r in enumerate(rules):
            for c in conditions.REGISTRY.values():
                if c.evidence and c.active(getattr(r.match, c.field)):
                    out.append(((*loc, "rules", k, "match", c.field), c))
    return out


def evidence_problems(loaded: list[LoadedSpec], now: float) -> list[str]:
    """Rules whose download window the evidence does not cover at ``now`` (file:line, the rule, the
    first day missing). Any such problem refuses the whole run: no version is judged on partial logs."""
    problems = []
    for ls in loaded:
        for loc, c in _evidence_users(ls):
            if ls.downloads is None:
                continue
            groups = ls.spec.packages if loc[0] == "packages" else ls.spec.policies
            rule = groups[loc[1]].rules[loc[3]]
            days = float(getattr(rule.match, c.field))
            problem = ls.downloads.coverage_problem(days, now)
            if problem:
                problems.append(f"{ls.name}:{ls.line(loc)}: {_fmt_loc(loc)}: the download evidence does not cover the "
                                f"last {days:g} days that rule '{rule.name}' needs: {problem}; nothing was applied. "
                                f"Evidence read: {ls.downloads.window()}")
    return problems


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

"""Pure CodeArtifact rules: formats, namespaces, name normalization, statuses, revisions.

Everything here is a function of its arguments (no I/O), so it is unit-tested directly
(tests/test_emulator_rules.py) and the backend stays a thin transactional shell around it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from enum import Enum
from typing import Iterable, Optional

from .errors import ValidationException


class Format(str, Enum):
    npm = "npm"
    pypi = "pypi"
    maven = "maven"
    nuget = "nuget"
    generic = "generic"
    ruby = "ruby"
    swift = "swift"
    cargo = "cargo"


class Status(str, Enum):
    Published = "Published"
    Unfinished = "Unfinished"
    Unlisted = "Unlisted"
    Archived = "Archived"
    Disposed = "Disposed"
    Deleted = "Deleted"


# Targets UpdatePackageVersionsStatus accepts (the guide: never Unfinished; Disposed only through
# DisposePackageVersions; Deleted only through DeletePackageVersions).
UPDATE_TARGETS = frozenset({Status.Published, Status.Unlisted, Status.Archived})
NAMESPACE_REQUIRED = frozenset({Format.maven, Format.swift, Format.generic})
NAMESPACE_FORBIDDEN = frozenset({Format.pypi, Format.nuget, Format.ruby, Format.cargo})

# Patterns from the service model. Domain names: the model says [a-z][a-z0-9-]{0,48}[a-z0-9], but
# the service's own guide uses `my_domain` in every example, so `_` is accepted as well.
DOMAIN_RE = re.compile(r"[a-z][a-z0-9_\-]{0,48}[a-z0-9]")
REPOSITORY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{1,99}")
ACCOUNT_RE = re.compile(r"[0-9]{12}")
NAME_RE = re.compile(r"[^#/\s]{1,255}")  # PackageName, PackageNamespace, PackageVersion
REVISION_RE = re.compile(r"\S{1,50}")


def check_pattern(field: str, value: str, pattern: re.Pattern[str]) -> None:
    if not pattern.fullmatch(value):
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {pattern.pattern}"
        )


def parse_enum(field: str, value: str, enum: type[Enum]) -> Enum:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in enum)
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{allowed}]"
        ) from None


def normalize_name(fmt: Format, name: str) -> str:
    """Names as the service stores them: PyPI per PEP 503, NuGet and Swift lowercased."""
    if fmt is Format.pypi:
        return re.sub(r"[-_.]+", "-", name).lower()
    if fmt in (Format.nuget, Format.swift):
        return name.lower()
    return name


def normalize_namespace(fmt: Format, namespace: Optional[str]) -> str:
    """Validates the namespace for the format and returns it normalized ('' for none)."""
    if namespace in (None, ""):
        if fmt in NAMESPACE_REQUIRED:
            raise ValidationException(f"namespace is required for package format {fmt.value}")
        return ""
    assert namespace is not None
    if fmt in NAMESPACE_FORBIDDEN:
        raise ValidationException(f"namespace is not allowed for package format {fmt.value}")
    if fmt is Format.npm and namespace.startswith("@"):
        raise ValidationException("npm namespace (scope) must be given without the leading '@'")
    check_pattern("namespace", namespace, NAME_RE)
    return namespace.lower() if fmt is Format.swift else namespace


def revision_of(coordinates: tuple[str, ...], assets: Iterable[tuple[str, str]], metadata: dict[str, object]) -> str:
    """A revision: SHA-256 over the version's coordinates, asset (name, sha256) pairs and
    metadata, base64-encoded (44 characters, like the service's). Status is not an input, so a
    status change never changes the revision; new assets or metadata always do."""
    doc = {
        "v": list(coordinates),
        "assets": sorted([list(a) for a in assets]),
        "metadata": metadata,
    }
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).digest()
    return base64.b64encode(digest).decode()


def package_arn(region: str, owner: str, domain: str, repo: str, fmt: str, namespace: str, package: str) -> str:
    return f"arn:aws:codeartifact:{region}:{owner}:package/{domain}/{repo}/{fmt}/{namespace}/{package}"


def display_package(fmt: str, namespace: str, package: str) -> str:
    if not namespace:
        return package
    if fmt == "npm":
        return f"@{namespace}/{package}"
    if fmt == "maven":
        return f"{namespace}:{package}"
    return f"{namespace}/{package}"

"""SBOMs: CycloneDX JSON (streamed with ijson) and SPDX JSON (spdx-tools), through package URLs.

Each component's purl (packageurl-python) maps to CodeArtifact coordinates: `npm` (scope without
`@` -> namespace), `pypi`, `maven` (group -> namespace), `nuget`, `gem` (-> ruby), `cargo`,
`generic` (namespace as is) and `swift` (the purl namespace's last segment, e.g. `github.com/acme`
-> `acme`, is the scope). Components of other ecosystems (deb, golang, ...) are not CodeArtifact
packages here and are skipped; a component without a version cannot pin one and is skipped. The
SBOM's own subject (CycloneDX `metadata.component`, what an SPDX document DESCRIBES) is the
consumer, not something it uses, so it is not a reference.
"""

from __future__ import annotations

import re
from pathlib import Path
import warnings
from typing import Any, Iterable, Optional

from packageurl import PackageURL

from provider._core.model import Format
from provider.rules.evidence._refs import MAX_DEPTH, EvidenceError, Reference, top_level

PURL_TYPES: dict[str, Format] = {"npm": "npm", "pypi": "pypi", "maven": "maven", "nuget": "nuget", "gem": "ruby",
                                 "cargo": "cargo", "generic": "generic", "swift": "swift"}


def from_purl(purl: PackageURL) -> Optional[Reference]:
    """The CodeArtifact coordinates of a package URL, or None for another ecosystem or no version."""
    fmt = PURL_TYPES.get(purl.type.lower())
    if fmt is None or not purl.version:
        return None
    namespace = purl.namespace or None
    if fmt == "npm" and namespace:
        namespace = namespace.removeprefix("@")
    elif fmt == "swift" and namespace:
        namespace = namespace.rstrip("/").rsplit("/", 1)[-1]
    return Reference.of(fmt, namespace, purl.name, purl.version)


def _parse_purl(text: str, name: str, where: str) -> PackageURL:
    try:
        return PackageURL.from_string(text)
    except ValueError as e:
        raise EvidenceError(name, f"{where}: purl {text!r} does not parse: {e}") from None


def _collect(purls: Iterable[tuple[str, str]], name: str, components: int) -> list[Reference]:
    refs: list[Reference] = []
    seen = 0
    for text, where in purls:
        seen += 1
        ref = from_purl(_parse_purl(text, name, where))
        if ref is not None:
            refs.append(ref)
    if components and not seen:
        raise EvidenceError(name, f"none of its {components} components has a package URL (purl), so it cannot say "
                                  f"which package versions are in use; generate it with purls")
    return refs


def cyclonedx(path: Path, name: str) -> list[Reference]:
    """Every component (nested ones too) with a purl, streamed (ijson): memory stays bounded by
    the largest single component, not the SBOM (100,000 components: bench/RESULTS-evidence.md).
    The checks are CycloneDX's own for what is read: `components` is a list of objects, each
    with a string `name`, nested `components` a list, `purl` a string."""
    found: list[tuple[str, str]] = []
    count = 0

    def walk(components: Any, path: str) -> None:
        nonlocal count
        stack = [(components, path, 0)]
        while stack:
            comps, where_from, depth = stack.pop()
            if not isinstance(comps, list):
                raise EvidenceError(name, f"not a valid CycloneDX SBOM: {where_from or 'components'}: `components` "
                                          f"is not a list")
            if depth > MAX_DEPTH:
                raise EvidenceError(name, f"not a valid CycloneDX SBOM: components nested more than {MAX_DEPTH} deep")
            for c in comps:
                count += 1
                if not isinstance(c, dict) or not isinstance(c.get("name"), str):
                    raise EvidenceError(name, f"not a valid CycloneDX SBOM: {where_from}component #{count} has no "
                                              f"string `name`")
                where = f"{where_from}component {c['name']!r}"
                purl = c.get("purl")
                if purl is not None:
                    if not isinstance(purl, str):
                        raise EvidenceError(name, f"not a valid CycloneDX SBOM: {where}: `purl` is not a string")
                    try:
                        PackageURL.from_string(purl)
                    except ValueError as e:
                        raise EvidenceError(name, f"not a valid CycloneDX SBOM: {where}: purl {purl!r} does not "
                                                  f"parse: {e}") from None
                    found.append((purl, where))
                if "components" in c:
                    stack.append((c["components"], f"{where} > ", depth + 1))

    with path.open("rb") as f:
        for kind, _key, component in top_level(f, name, frozenset({"components"})):
            if kind == "item":
                walk([component], "")
    return _collect(found, name, count)


# SPDX 2.3 requires `created` as YYYY-MM-DDThh:mm:ssZ; npm's `npm sbom` (11.x) writes milliseconds,
# which spdx-tools refuses. The timestamp says nothing about what is in use: drop the fraction.
_FRACTION = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+Z$")


def spdx(doc: dict[str, Any], name: str) -> list[Reference]:
    """Every package's `purl` external reference (category PACKAGE-MANAGER), read by spdx-tools."""
    from spdx_tools.spdx.model.relationship import RelationshipType
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
    info = doc.get("creationInfo")
    if isinstance(info, dict) and isinstance(info.get("created"), str):
        doc = {**doc, "creationInfo": {**info, "created": _FRACTION.sub(r"\1Z", info["created"])}}
    try:
        parsed = JsonLikeDictParser().parse(doc)  # type: ignore[no-untyped-call]
    except SPDXParsingError as e:
        messages: list[str] = e.get_messages()  # type: ignore[no-untyped-call]
        raise EvidenceError(name, "not a valid SPDX SBOM: " + "; ".join(messages)[:500]) from None
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise EvidenceError(name, f"not a valid SPDX SBOM: {e}") from None
    subjects = {r.related_spdx_element_id for r in parsed.relationships
                if r.relationship_type == RelationshipType.DESCRIBES and r.spdx_element_id == parsed.creation_info.spdx_id}
    found = [(ref.locator, f"package {p.spdx_id}") for p in parsed.packages if p.spdx_id not in subjects
             for ref in p.external_references if ref.reference_type == "purl"]
    return _collect(found, name, len([p for p in parsed.packages if p.spdx_id not in subjects]))

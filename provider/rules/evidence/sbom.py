"""SBOMs: CycloneDX JSON and SPDX JSON (both streamed with ijson), through package URLs.

Each component's purl (packageurl-python) maps to CodeArtifact coordinates: `npm` (scope without
`@` -> namespace), `pypi`, `maven` (group -> namespace), `nuget`, `gem` (-> ruby), `cargo`,
`generic` (namespace as is) and `swift` (the purl namespace's last segment, e.g. `github.com/acme`
-> `acme`, is the scope). Components of other ecosystems (deb, golang, ...) are not CodeArtifact
packages here and are skipped; a component without a version cannot pin one and is skipped. The
SBOM's own subject (CycloneDX `metadata.component`, what an SPDX document DESCRIBES) is the
consumer, not something it uses, so it is not a reference.
"""

from __future__ import annotations

from pathlib import Path
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


def spdx(path: Path, name: str) -> list[Reference]:
    """Every package's `purl` external reference, streamed (ijson) like CycloneDX: memory stays
    bounded by the largest single package, not the SBOM. SPDX's own rules for what is read: the
    document has a string `SPDXID`; `packages` is a list of objects, each with a string `SPDXID`
    and `externalRefs` (if any) a list of objects with string `referenceType` and
    `referenceLocator`. The packages the document DESCRIBES (a relationship, or SPDX 2.2's
    `documentDescribes`) are its subject, the consumer, so they are not references."""
    doc_id: Any = None
    packages: list[tuple[str, list[str]]] = []  # (SPDXID, purls): all that is kept of a package
    describes: list[tuple[Any, Any]] = []  # (spdxElementId, relatedSpdxElement) of DESCRIBES
    legacy: list[Any] = []  # documentDescribes

    def bad(why: str) -> EvidenceError:
        return EvidenceError(name, f"not a valid SPDX SBOM: {why}")

    with path.open("rb") as f:
        for kind, key, value in top_level(f, name, frozenset({"packages", "relationships", "documentDescribes"})):
            if kind == "scalar":
                if key == "SPDXID":
                    doc_id = value
            elif key == "packages":
                n = len(packages) + 1
                if not isinstance(value, dict) or not isinstance(value.get("SPDXID"), str):
                    raise bad(f"package #{n} has no string `SPDXID`")
                refs = value.get("externalRefs", [])
                if not isinstance(refs, list) or not all(
                        isinstance(r, dict) and isinstance(r.get("referenceType"), str)
                        and isinstance(r.get("referenceLocator"), str) for r in refs):
                    raise bad(f"package {value['SPDXID']}: `externalRefs` must be a list of objects with string "
                              f"`referenceType` and `referenceLocator`")
                packages.append((value["SPDXID"], [r["referenceLocator"] for r in refs if r["referenceType"] == "purl"]))
            elif key == "relationships":
                if isinstance(value, dict) and value.get("relationshipType") == "DESCRIBES":
                    describes.append((value.get("spdxElementId"), value.get("relatedSpdxElement")))
            else:
                legacy.append(value)
    if not isinstance(doc_id, str):
        raise bad("the document has no string `SPDXID`")
    subjects = {related for element, related in describes if element == doc_id} | set(legacy)
    found = [(purl, f"package {pid}") for pid, purls in packages if pid not in subjects for purl in purls]
    return _collect(found, name, len([pid for pid, _ in packages if pid not in subjects]))

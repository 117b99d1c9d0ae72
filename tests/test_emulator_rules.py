"""emulator/rules.py, unit by unit (pure functions, no server): the service model's patterns, enum
checks with the service's error wording, name and namespace normalization per format, revisions
that depend on content but never on status, and package ARNs as the service writes them."""

from __future__ import annotations

import pytest

from emulator import rules
from emulator.errors import ValidationException
from emulator.rules import Format, Status


@pytest.mark.parametrize("value, ok", [("my_domain", True), ("acme", True), ("a", False), ("Acme", False),
                                       ("acme-", False), ("9acme", False)])
def test_domain_pattern_accepts_the_guides_underscore_and_refuses_the_rest(value: str, ok: bool) -> None:
    if ok:
        rules.check_pattern("domain", value, rules.DOMAIN_RE)
    else:
        with pytest.raises(ValidationException, match=f"Value '{value}' at 'domain' failed to satisfy constraint"):
            rules.check_pattern("domain", value, rules.DOMAIN_RE)


def test_enum_errors_list_the_allowed_values() -> None:
    assert rules.parse_enum("targetStatus", "Archived", Status) is Status.Archived
    with pytest.raises(ValidationException, match=r"enum value set: \[Published, Unfinished, Unlisted"):
        rules.parse_enum("targetStatus", "Gone", Status)


@pytest.mark.parametrize("fmt, name, stored", [(Format.pypi, "Flask_Login", "flask-login"),
                                               (Format.pypi, "zope.interface", "zope-interface"),
                                               (Format.nuget, "Newtonsoft.Json", "newtonsoft.json"),
                                               (Format.swift, "SwiftNIO", "swiftnio"),
                                               (Format.npm, "Chalk", "Chalk"), (Format.maven, "Guava", "Guava")])
def test_names_are_stored_as_the_service_normalizes_them(fmt: Format, name: str, stored: str) -> None:
    assert rules.normalize_name(fmt, name) == stored


def test_namespaces_follow_each_formats_rule() -> None:
    assert rules.normalize_namespace(Format.npm, None) == ""
    assert rules.normalize_namespace(Format.swift, "Apple") == "apple"
    assert rules.normalize_namespace(Format.maven, "com.Acme") == "com.Acme"
    with pytest.raises(ValidationException, match="namespace is required for package format maven"):
        rules.normalize_namespace(Format.maven, "")
    with pytest.raises(ValidationException, match="not allowed for package format pypi"):
        rules.normalize_namespace(Format.pypi, "acme")
    with pytest.raises(ValidationException, match="without the leading '@'"):
        rules.normalize_namespace(Format.npm, "@acme")


def test_a_revision_changes_with_content_and_metadata_never_with_status() -> None:
    coords = ("dom", "repo", "npm", "", "chalk", "1.0.0")
    base = rules.revision_of(coords, [("a.tgz", "00")], {})
    assert len(base) == 44 and rules.revision_of(coords, [("a.tgz", "00")], {}) == base
    assert rules.revision_of(coords, [("a.tgz", "01")], {}) != base
    assert rules.revision_of(coords, [("a.tgz", "00")], {"republishedAt": 1}) != base
    assert "status" not in rules.revision_of.__code__.co_varnames  # status is not an input


def test_package_arns_keep_an_empty_namespace_segment() -> None:
    assert rules.package_arn("us-east-1", "111122223333", "dom", "repo", "pypi", "", "flask-login") == \
        "arn:aws:codeartifact:us-east-1:111122223333:package/dom/repo/pypi//flask-login"
    assert rules.display_package("npm", "acme", "ui") == "@acme/ui"
    assert rules.display_package("maven", "com.acme", "lib") == "com.acme:lib"

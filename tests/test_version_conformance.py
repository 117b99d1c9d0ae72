"""Version semantics against the ecosystems' own reference implementations.

The fixtures in tests/fixtures/versions/ were produced by the references themselves (npm
`semver`, `packaging`, maven-artifact, the Rust `semver` crate, RubyGems, GNU `sort -V`; see
scripts/refresh-version-fixtures), except NuGet and Swift ranges, written from their
documentation. For every version of a fixture we check validity and the prerelease flag; for every
pair, the order; for every range, validity and the versions it selects in both prerelease modes.
The only disagreements allowed are the ranges we refuse on purpose (POLICY_REFUSALS), each of
which the reference reads as "every version" or "no version".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from provider.rules import ecosystems as eco
from provider.rules.ecosystems import ECOSYSTEMS, RangeError

FIXTURES = Path(__file__).parent / "fixtures" / "versions"
GENERATED = ("npm", "pypi", "maven", "cargo", "ruby", "swift", "generic")

# Accepted by the reference but refused by us, with the reason: they select everything (or nothing).
POLICY_REFUSALS = {
    ("npm", ""), ("npm", " "), ("npm", "||"),  # semver reads them as `*`
    ("pypi", ""), ("pypi", " "),  # the empty specifier set
    ("maven", ""), ("maven", "1.0"), ("maven", "1.0,2.0"),  # empty; soft requirements (everything)
    ("ruby", ""),  # RubyGems reads it as `>= 0`
}


def load(fmt: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{fmt}.json").read_text())  # type: ignore[no-any-return]


def sign(n: int) -> str:
    return "-" if n < 0 else "+" if n > 0 else "0"


@pytest.mark.parametrize("fmt", GENERATED)
def test_validity_and_prerelease_flags_agree_with_the_reference(fmt: str) -> None:
    fx = load(fmt)
    e = ECOSYSTEMS[fmt]
    wrong = []
    for i, v in enumerate(fx["versions"]):
        parsed = e.parse(v)
        if (parsed is not None) != (fx["valid"][i] == "1"):
            wrong.append((v, "valid", fx["valid"][i]))
        elif parsed is not None and fx["prerelease"][i] != "-" and e.is_prerelease(parsed) != (fx["prerelease"][i] == "1"):
            wrong.append((v, "prerelease", fx["prerelease"][i]))
    assert not wrong, f"{fmt}: disagrees with {fx['reference']}: {wrong[:10]}"


@pytest.mark.parametrize("fmt", GENERATED)
def test_every_pair_is_ordered_as_the_reference_orders_it(fmt: str) -> None:
    fx = load(fmt)
    vs = fx["versions"]
    e = ECOSYSTEMS[fmt]
    parsed = [e.parse(v) for v in vs]
    wrong = []
    for i, a in enumerate(vs):
        for j, b in enumerate(vs):
            expected = fx["order"][i][j]
            if expected == "?":
                continue
            assert parsed[i] is not None and parsed[j] is not None
            if sign(e.compare(parsed[i], parsed[j])) != expected:
                wrong.append((a, b, expected))
            # The total order agrees wherever the reference is not indifferent.
            if expected != "0" and sign(eco.compare(fmt, a, b)) != expected:
                wrong.append((a, b, f"total order, expected {expected}"))
    assert not wrong, f"{fmt}: {len(wrong)} pairs ordered unlike {fx['reference']}: {wrong[:10]}"


@pytest.mark.parametrize("fmt", GENERATED)
def test_ranges_select_exactly_what_the_reference_selects(fmt: str) -> None:
    fx = load(fmt)
    vs = fx["versions"]
    e = ECOSYSTEMS[fmt]
    wrong = []
    for r in fx["ranges"]:
        expr = r["range"]
        try:
            ours = [eco.Range(fmt, expr, False)] + ([eco.Range(fmt, expr, True)] if e.include_prerelease_mode else [])
        except RangeError as err:
            if r["valid"] and (fmt, expr) not in POLICY_REFUSALS:
                wrong.append((expr, f"refused: {err}"))
            assert str(err), "a refusal always says why"
            continue
        if not r["valid"] or (fmt, expr) in POLICY_REFUSALS:
            wrong.append((expr, "accepted, but the reference refuses it" if not r["valid"] else "not refused"))
            continue
        for rng, key in zip(ours, ("matches", "matches_pre")):
            got = "".join("1" if v in rng else "0" for v in vs)
            if got != r[key]:
                diff = [v for v, x, y in zip(vs, got, r[key]) if x != y]
                wrong.append((expr, key, diff[:6]))
    assert not wrong, f"{fmt}: ranges unlike {fx['reference']}: {wrong}"


def test_policy_refusals_are_ranges_the_reference_accepts() -> None:
    """Each deliberate refusal must still be in a fixture (so it is really tested above)."""
    present = {(fmt, r["range"]) for fmt in GENERATED for r in load(fmt)["ranges"] if r["valid"]}
    assert POLICY_REFUSALS <= present


def test_nuget_follows_its_documented_order_ranges_and_prereleases() -> None:
    fx = load("nuget")
    order = fx["order_ascending"]
    assert eco.sort_versions("nuget", list(reversed(order))) == order
    for a, b in fx["equal"]:
        e = ECOSYSTEMS["nuget"]
        assert e.compare(e.parse(a), e.parse(b)) == 0, (a, b)
    for v, pre in fx["prerelease"].items():
        assert eco.is_prerelease("nuget", v) is pre, v
    for v in fx["invalid_versions"]:
        assert eco.parse("nuget", v) is None, v
    for r in fx["ranges"]:
        if not r["valid"]:
            with pytest.raises(RangeError):
                eco.Range("nuget", r["range"])
            continue
        rng = eco.Range("nuget", r["range"])
        assert [v for v in r["in"] if v not in rng] == [], r["range"]
        assert [v for v in r["out"] if v in rng] == [], r["range"]


def test_swift_ranges_follow_swiftpm_requirements() -> None:
    fx = json.loads((FIXTURES / "swift_ranges.json").read_text())
    for r in fx["ranges"]:
        rng = eco.Range("swift", r["range"])
        assert [v for v in r["in"] if v not in rng] == [], r["range"]
        assert [v for v in r["out"] if v in rng] == [], r["range"]
    for expr in fx["invalid"]:
        with pytest.raises(RangeError):
            eco.Range("swift", expr)


@pytest.mark.parametrize("fmt", sorted(ECOSYSTEMS))
def test_the_order_is_strict_and_total_over_the_whole_corpus(fmt: str) -> None:
    vs = load(fmt if fmt in GENERATED else "generic")["versions"]
    ordered = eco.sort_versions(fmt, vs)
    assert eco.sort_versions(fmt, list(reversed(vs))) == ordered  # listing order does not matter
    for a, b in zip(ordered, ordered[1:]):
        assert eco.compare(fmt, a, b) == -1 and eco.compare(fmt, b, a) == 1


def test_issue_examples() -> None:
    """The cases a careful adopter found wrong in the first version."""
    assert eco.sort_versions("generic", ["1.2.3.9", "1.2.3.10", "1.2.3.2"]) == ["1.2.3.2", "1.2.3.9", "1.2.3.10"]
    assert eco.sort_versions("generic", ["nightly", "1.0"])[-1] == "nightly"  # generic orders any text
    assert eco.sort_versions("npm", ["nightly", "1.0.0"]) == ["nightly", "1.0.0"]  # unparseable: first, not newest
    assert eco.is_prerelease("npm", "nightly") is None
    assert "1.2.3" not in eco.Range("npm", ">=1.0.0 <1.0.0") and "1.2.3" in eco.Range("npm", ">=1.2.3 <=1.2.3")
    assert "1.2.3-beta.4" in eco.Range("npm", "~1.2.3-beta.2")
    assert "2.0.0-rc.1" not in eco.Range("npm", "^1.2") and "1.0.0+build.1" in eco.Range("npm", ">=1.0.0 <2")
    assert "0.9" not in eco.Range("pypi", "<1.0,>2.0") and "1.2" in eco.Range("pypi", "!=1.0,!=1.1")
    assert "2.0.0rc1" not in eco.Range("pypi", "<2") and "1.0+local" in eco.Range("pypi", "==1.0")
    assert "1.5" in eco.Range("pypi", "~=1.0") and "1.0.3" in eco.Range("pypi", "==1.0.*")
    assert "1.2.5" in eco.Range("cargo", ">=1.2, <2")
    assert eco.is_prerelease("maven", "5.3.0.RELEASE") is False and eco.is_prerelease("maven", "1.0-source") is False
    assert eco.compare("maven", "1.0.RELEASE", "1.0-sp1") == -1  # RELEASE == 1.0 < 1.0-sp1
    assert "5.3.0" in eco.Range("maven", "[5.3.0,5.3.0]")
    assert "2.0.0.beta.1" not in eco.Range("ruby", "~> 1.2")
    assert "1.0.0.rc2" in eco.Range("ruby", "~> 1.0.0.rc")
    assert eco.is_prerelease("nuget", "1.0.0+git-abc") is False and "1.5.0" in eco.Range("nuget", "1.0")

"""Rule expansion, property-based (hypothesis): version ordering is a total order in every
ecosystem, keep_latest keeps exactly N per group, protected versions are never decided, and
expansion is deterministic; plus example-based precedence and conflict checks."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provider.rules import ecosystems as eco
from provider.rules.expand import ExpansionError, LiveVersion, expand, rule_targets
from provider.rules.spec import PackageSpec, Rule

NOW = 1_800_000_000.0
num = st.integers(min_value=0, max_value=12)


def semver() -> st.SearchStrategy[str]:
    pre = st.one_of(st.just(""), st.tuples(st.sampled_from(["alpha", "beta", "rc"]), num).map(lambda t: f"-{t[0]}.{t[1]}"))
    return st.tuples(num, num, num, pre).map(lambda t: f"{t[0]}.{t[1]}.{t[2]}{t[3]}")


STRATEGIES: dict[str, st.SearchStrategy[str]] = {
    "npm": semver(), "cargo": semver(), "swift": semver(), "generic": semver(),
    "pypi": st.tuples(num, num, st.sampled_from(["", "a1", "b2", "rc1", ".dev3", ".post1"])).map(
        lambda t: f"{t[0]}.{t[1]}{t[2]}"),
    "maven": st.tuples(num, num, num, st.sampled_from(["", "-SNAPSHOT", "-rc1", "-alpha-2", "-M1", ".Final"])).map(
        lambda t: f"{t[0]}.{t[1]}.{t[2]}{t[3]}"),
    "nuget": st.tuples(num, num, num, st.sampled_from(["", "-beta", "-rc.1", "-preview.2"])).map(
        lambda t: f"{t[0]}.{t[1]}.{t[2]}{t[3]}"),
    "ruby": st.tuples(num, num, num, st.sampled_from(["", ".pre", ".rc1", ".beta2"])).map(
        lambda t: f"{t[0]}.{t[1]}.{t[2]}{t[3]}"),
}


def cmp(fmt: str, a: str, b: str) -> int:
    return eco.compare(fmt, a, b)


@pytest.mark.parametrize("fmt", sorted(STRATEGIES))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_ordering_is_a_total_order(fmt: str, data: Any) -> None:
    vs = data.draw(st.lists(STRATEGIES[fmt] | st.sampled_from(["weird", "x-1"]), min_size=3, max_size=8))
    for a in vs:
        assert cmp(fmt, a, a) == 0
        for b in vs:
            assert cmp(fmt, a, b) == -cmp(fmt, b, a)  # antisymmetric, total
            if cmp(fmt, a, b) == 0:
                assert a == b  # distinct strings are never "equal": the order is strict and total
            for c in vs:
                if cmp(fmt, a, b) <= 0 and cmp(fmt, b, c) <= 0:
                    assert cmp(fmt, a, c) <= 0  # transitive
    ordered = eco.sort_versions(fmt, vs)
    assert sorted(vs, key=functools.cmp_to_key(lambda x, y: cmp(fmt, x, y))) == ordered


@pytest.mark.parametrize("fmt,older,newer", [
    ("npm", "1.0.0-rc.1", "1.0.0"), ("npm", "1.2.0", "1.10.0"), ("pypi", "1.0rc1", "1.0"),
    ("pypi", "1.0", "1.0.post1"), ("maven", "2.13.0-SNAPSHOT", "2.13.0"), ("maven", "2.9", "2.13.1"),
    ("nuget", "13.0.1-beta", "13.0.1"), ("ruby", "1.0.0.pre", "1.0.0"), ("cargo", "0.9.0", "0.10.0"),
])
def test_ecosystem_order_examples(fmt: str, older: str, newer: str) -> None:
    assert eco.sort_versions(fmt, [newer, older]) == [older, newer]


def live_of(versions: list[str]) -> dict[str, LiveVersion]:
    return {v: LiveVersion(v, "Published", f"rev-{v}", NOW - 86400 * (i + 1)) for i, v in enumerate(versions)}


@settings(max_examples=80, deadline=None)
@given(vs=st.lists(semver(), min_size=1, max_size=40, unique=True), n=st.integers(0, 6),
       per=st.sampled_from(["all", "major", "minor"]))
def test_keep_latest_keeps_exactly_n_per_group(vs: list[str], n: int, per: str) -> None:
    rule = Rule.model_validate({"name": "r", "status": "Archived", "keep_latest": {"count": n, "per": per}})
    decided = set(rule_targets("npm", rule, live_of(vs), NOW))
    groups: dict[tuple[str, ...], list[str]] = {}
    for v in vs:
        groups.setdefault(eco.release_group("npm", v, per), []).append(v)
    for members in groups.values():
        kept = [v for v in members if v not in decided]
        assert len(kept) == min(n, len(members))
        newest = eco.sort_versions("npm", members)[len(members) - len(kept):]
        assert sorted(kept) == sorted(newest)  # the kept ones are the newest


@settings(max_examples=80, deadline=None)
@given(vs=st.lists(semver(), min_size=1, max_size=30, unique=True), data=st.data())
def test_protected_versions_are_never_decided(vs: list[str], data: Any) -> None:
    protected = data.draw(st.lists(st.sampled_from(vs), unique=True))
    pkg = PackageSpec.model_validate({"format": "npm", "package": "p", "protected": protected, "rules": [
        {"name": "all", "status": "Archived"}, {"name": "pre", "status": "Unlisted", "priority": 1,
                                                 "match": {"prerelease": True}}]})
    decisions = expand(pkg, live_of(vs), NOW)
    assert not set(decisions) & set(protected)
    assert set(decisions) == set(vs) - set(protected)
    assert decisions == expand(pkg, live_of(vs), NOW)  # deterministic
    assert list(decisions) == eco.sort_versions("npm", list(decisions))


def test_explicit_beats_rules_and_priority_settles_conflicts() -> None:
    pkg = PackageSpec.model_validate({"format": "npm", "package": "p", "versions": {"2.0.0": "Published"},
                                      "rules": [{"name": "old", "status": "Archived", "match": {"range": "<3"}},
                                                {"name": "pre", "status": "Unlisted", "priority": 5,
                                                 "match": {"prerelease": True}}]})
    d = expand(pkg, live_of(["1.0.0", "2.0.0", "2.1.0-rc.1", "3.0.0"]), NOW)
    assert {v: (x.status, x.rule) for v, x in d.items()} == {
        "1.0.0": ("Archived", "rule:old"), "2.0.0": ("Published", "explicit"),
        "2.1.0-rc.1": ("Unlisted", "rule:pre")}


def test_conflicting_rules_at_same_priority_name_both() -> None:
    pkg = PackageSpec.model_validate({"format": "npm", "package": "p", "rules": [
        {"name": "old", "status": "Archived", "match": {"range": "<3", "include_prerelease": True}},
        {"name": "pre", "status": "Unlisted", "match": {"prerelease": True}}]})
    with pytest.raises(ExpansionError) as e:
        expand(pkg, live_of(["1.0.0", "2.1.0-rc.1"]), NOW, lambda loc: f"specs/x.yaml:{7 + int(loc[1])}: ")
    msg = str(e.value)
    assert "version 2.1.0-rc.1" in msg and "'old'" in msg and "'pre'" in msg and "specs/x.yaml:7" in msg


def test_npm_range_leaves_prereleases_out_unless_the_rule_opts_in() -> None:
    live = live_of(["1.0.0", "2.1.0-rc.1", "3.0.0-rc.1"])
    plain = PackageSpec.model_validate({"format": "npm", "package": "p", "rules": [
        {"name": "old", "status": "Archived", "match": {"range": "<3"}}]})
    opted = PackageSpec.model_validate({"format": "npm", "package": "p", "rules": [
        {"name": "old", "status": "Archived", "match": {"range": "<3", "include_prerelease": True}}]})
    assert list(expand(plain, live, NOW)) == ["1.0.0"]
    assert list(expand(opted, live, NOW)) == ["1.0.0", "2.1.0-rc.1"]  # <3 never takes 3.0.0-rc.1


def test_same_status_from_two_rules_is_not_a_conflict() -> None:
    pkg = PackageSpec.model_validate({"format": "npm", "package": "p", "rules": [
        {"name": "a", "status": "Archived"}, {"name": "b", "status": "Archived", "match": {"prerelease": True}}]})
    assert expand(pkg, live_of(["1.0.0-rc.1"]), NOW)["1.0.0-rc.1"].rule == "rule:a"


def test_age_and_status_filters() -> None:
    live = {"1.0.0": LiveVersion("1.0.0", "Published", "r", NOW - 100 * 86400),
            "1.1.0": LiveVersion("1.1.0", "Unlisted", "r", NOW - 100 * 86400),
            "2.0.0": LiveVersion("2.0.0", "Published", "r", NOW - 5 * 86400),
            "0.9.0": LiveVersion("0.9.0", "Disposed", "r", NOW - 900 * 86400)}
    pkg = PackageSpec.model_validate({"format": "npm", "package": "p", "rules": [
        {"name": "old", "status": "Archived", "match": {"older_than_days": 30, "status": ["Published"]}}]})
    assert list(expand(pkg, live, NOW)) == ["1.0.0"]  # not Unlisted 1.1.0, not new 2.0.0, never Disposed


def test_explicit_entries_must_exist_and_disposed_is_final() -> None:
    live = {"1.0.0": LiveVersion("1.0.0", "Disposed", "r")}
    pkg = PackageSpec.model_validate({"format": "npm", "package": "p",
                                      "versions": {"1.0.0": "Published", "9.9.9": "Archived"}})
    with pytest.raises(ExpansionError) as e:
        expand(pkg, live, NOW)
    assert "does not exist" in str(e.value) and "irreversible" in str(e.value)


STATUSES = ["Published", "Unlisted", "Archived", "Unfinished", "Disposed"]
rule_strategy = st.fixed_dictionaries({
    "status": st.sampled_from(["Published", "Unlisted", "Archived", "Disposed"]),
    "priority": st.integers(0, 2),
}, optional={
    "match": st.fixed_dictionaries({}, optional={
        "status": st.lists(st.sampled_from(["Published", "Unlisted", "Archived", "Unfinished"]), min_size=1,
                           unique=True),
        "prerelease": st.booleans(),
        "range": st.sampled_from(["<2.0.0", ">=1.0.0 <3.0.0", "^1.0.0", "2.x"]),
        "older_than_days": st.sampled_from([1, 10, 100]),
    }),
    "keep_latest": st.one_of(st.integers(0, 3), st.fixed_dictionaries(
        {"count": st.integers(0, 2), "per": st.sampled_from(["all", "major", "minor"])})),
})


@settings(max_examples=400, deadline=None)
@given(vs=st.lists(semver(), min_size=1, max_size=25, unique=True), data=st.data())
def test_applying_the_decisions_and_planning_again_changes_nothing(vs: list[str], data: Any) -> None:
    """The fixed point: statuses set to the decisions, the next expansion decides exactly the same
    (no version changes again, none leaves management, so nothing is restored)."""
    from hypothesis import assume
    from pydantic import ValidationError

    rules = [{"name": f"r{i}", **r} for i, r in enumerate(data.draw(st.lists(rule_strategy, max_size=4)))]
    explicit = data.draw(st.dictionaries(st.sampled_from(vs), st.sampled_from(["Published", "Unlisted", "Archived"]),
                                         max_size=3))
    protected = data.draw(st.lists(st.sampled_from(vs), max_size=2, unique=True))
    explicit = {v: s for v, s in explicit.items() if v not in protected}
    try:
        pkg = PackageSpec.model_validate({"format": "npm", "package": "p", "rules": rules, "versions": explicit,
                                          "protected": protected, "allow_dispose": True})
    except ValidationError:
        assume(False)  # e.g. rules that would chain: refused when the spec is validated
        return
    statuses = data.draw(st.lists(st.sampled_from(STATUSES), min_size=len(vs), max_size=len(vs)))
    live = {v: LiveVersion(v, s, f"r0-{v}", NOW - 86400 * (3 * i + 1)) for i, (v, s) in enumerate(zip(vs, statuses))}
    try:
        first = expand(pkg, live, NOW)
    except ExpansionError:
        assume(False)
        return
    applied = {v: LiveVersion(v, first[v].status if v in first else lv.status,
                              f"r1-{v}" if v in first and first[v].status != lv.status else lv.revision,
                              lv.published) for v, lv in live.items()}
    second = expand(pkg, applied, NOW)
    assert {v: d.status for v, d in second.items()} == {v: d.status for v, d in first.items()}


@settings(max_examples=80, deadline=None)
@given(data=st.data(), n=st.integers(1, 200))
def test_age_rules_decide_as_if_every_time_were_known_at_log2_reads(data: Any, n: int) -> None:
    """resolve_ages: the same decisions as with every published time known, reading at most
    ⌈log2(n+1)⌉ published times per threshold (ties and missing times included)."""
    import math

    from provider.rules.expand import resolve_ages

    days = data.draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))  # age in days, ties likely
    missing = set(data.draw(st.lists(st.integers(0, n - 1), max_size=2))) if data.draw(st.booleans()) else set()
    times = sorted((NOW - d * 86400.0 for d in days), reverse=True)  # newest first, as the sorted listing
    versions = [f"1.{i // 100}.{i % 100}" for i in range(n)]
    # Only a version never completely published (Unfinished) may lack a published time.
    truth = {v: LiveVersion(v, "Unfinished" if i in missing else "Published", "r", None if i in missing else t, rank=i)
             for i, (v, t) in enumerate(zip(versions, times))}
    listed = {v: dataclasses.replace(lv, published=None) for v, lv in truth.items()}
    thresholds = data.draw(st.lists(st.sampled_from([0.5, 3, 10, 25]), min_size=1, max_size=2, unique=True))
    pkg = PackageSpec.model_validate({"format": "npm", "package": "p", "rules": [
        {"name": f"old{i}", "status": "Archived", "priority": i,
         "match": {"older_than_days": t, "status": ["Published", "Unfinished"]}} for i, t in enumerate(thresholds)]})
    reads: list[str] = []

    def describe(vs: list[str]) -> dict[str, float | None]:
        reads.extend(vs)
        return {v: truth[v].published for v in vs}

    resolved = resolve_ages(pkg, listed, NOW, describe)
    expected = expand(pkg, truth, NOW)
    assert {v: d.status for v, d in expand(pkg, resolved, NOW).items()} == {v: d.status for v, d in expected.items()}
    assert len(reads) <= len(thresholds) * math.ceil(math.log2(n + 1)) + len(missing)
    assert len(set(reads)) == len(reads)  # nothing read twice

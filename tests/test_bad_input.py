"""Bad input never reaches the service: 1,000 generated specs (wrong types, unknown statuses, bad
names, namespaces where the format has none, Unfinished targets, rule conflicts, unknown packages,
garbage and huge files) each either fail with errors naming file, line and field, or plan
resources whose inputs the resources' own check accepts (what the spec language admits, the
resource admits). And the dispose guard: no combination of spec, resource arguments and stack
config disposes without both opt-ins."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from emulator.testing import EmulatorProcess
from provider._core import config
from provider._core.errors import ProviderError
from provider._core.model import PackageVersionsStatusArgs
from provider.package_versions_status import PackageVersionsStatusProvider
from provider.rules import spec
from provider.stack import program

pytestmark = pytest.mark.emulator
PROBLEM = re.compile(r'^specs/s\.yaml:\d+: (\(file\)|(?:[\w.\-]|\[\d+\]|\["(?:[^"\\]|\\.)*"\])+): \S.*', re.S)
WRITES = ("UpdatePackageVersionsStatus", "DisposePackageVersions")


@pytest.fixture
def live(provider_env: EmulatorProcess) -> EmulatorProcess:
    provider_env.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "npm", "name": "p000", "versions": ["1.0.0", "1.1.0-rc.1", "1.1.0", "2.0.0-beta.1", "2.0.0"]},
        {"format": "pypi", "name": "lib", "versions": ["0.9", "1.0rc1", "1.0"]},
        {"format": "maven", "namespace": "org.acme", "name": "core", "versions": ["1.0", "1.1-SNAPSHOT"]},
    ]}]}]})
    provider_env.admin("counters/reset", {})
    return provider_env


junk = st.one_of(st.integers(-5, 5), st.just(""), st.just(None), st.lists(st.integers(), max_size=2),
                 st.text(max_size=8))
status = st.sampled_from(["Published", "Unlisted", "Archived", "Disposed", "Unfinished", "Deleted", "gone",
                          "archived"]) | junk
version = st.sampled_from(["1.0.0", "1.1.0", "2.0.0", "1.0", "0.9", "9.9.9", "bad version", "#1"]) | junk
match = st.fixed_dictionaries({}, optional={
    "prerelease": st.booleans() | junk, "range": st.sampled_from([">=1.0.0", "[1.0,2.0)", "<2", "((("]) | junk,
    "older_than_days": st.sampled_from([0, 10, -1]) | junk, "glob": st.sampled_from(["1.*", ["2.*"]]) | junk,
    "status": st.lists(status, max_size=2), "bogus": junk})
rule = st.fixed_dictionaries({"name": st.sampled_from(["a", "b", "bad name!", ""]) | junk, "status": status},
                             optional={"match": match | junk, "priority": st.integers(-1, 2) | junk,
                                       "keep_latest": st.integers(-1, 3) | st.fixed_dictionaries(
                                           {"count": st.integers(-1, 3) | junk},
                                           optional={"per": st.sampled_from(["all", "major", "minor", "patch"])})})
package = st.fixed_dictionaries(
    {"format": st.sampled_from(["npm", "pypi", "maven", "nuget", "rpm"]) | junk,
     "package": st.sampled_from(["p000", "lib", "core", "missing", "bad name", "#x"]) | junk},
    optional={"namespace": st.sampled_from(["org.acme", "acme", "@acme"]) | junk,
              "versions": st.dictionaries(version.filter(lambda v: isinstance(v, str)), status, max_size=3),
              "rules": st.lists(rule, max_size=3), "protected": st.lists(version, max_size=2) | junk,
              "allow_dispose": st.booleans() | junk, "resource": st.sampled_from(["batched", "per-version", "x"]),
              "surprise": junk})
spec_doc = st.fixed_dictionaries(
    {"domain": st.sampled_from(["dom", "Bad_Domain", "d"]) | junk,
     "repository": st.sampled_from(["repo", "r", "bad repo"]) | junk},
    optional={"packages": st.lists(package, max_size=3) | junk, "domain_owner": st.sampled_from(
        ["111122223333", "12"]) | junk})
text = st.one_of(spec_doc.map(lambda d: yaml.safe_dump(d, sort_keys=False)),
                 st.sampled_from(["", "- just\n- a list\n", "domain: [unclosed\n", "\x00binary", "a: b: c\n",
                                  "domain: dom\nrepository: repo\npackages:\n" + "  - {format: npm, package: p000}\n" * 2]))


def _writes(emu: EmulatorProcess) -> int:
    ops = emu.counters()["operations"]
    return sum(ops.get(o, {}).get("requests", 0) for o in ("UpdatePackageVersionsStatus", "DisposePackageVersions"))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(doc=text)
def test_generated_specs_are_valid_or_name_file_line_field(live: EmulatorProcess, tmp_path_factory: Any,
                                                           doc: str) -> None:
    d = tmp_path_factory.mktemp("g") / "specs"
    d.mkdir()
    (d / "s.yaml").write_text(doc)
    try:
        plans = program.plan(d)
        event("valid spec")
    except spec.SpecError as e:
        event("invalid spec")
        assert e.problems
        for p in e.problems:
            assert PROBLEM.match(p), p
        assert _writes(live) == 0  # planning, valid or not, never writes
        return
    assert _writes(live) == 0
    for p in plans:
        a = p.args.model_dump(exclude_none=True)
        if p.decisions:
            event("valid spec with decisions")
        PackageVersionsStatusArgs.model_validate(
            {**a, "versions": {v: x.status for v, x in p.decisions.items()},
             "decided_by": {v: x.rule for v, x in p.decisions.items()}})


def test_huge_spec_files_are_refused(live: EmulatorProcess, tmp_path: Path) -> None:
    d = tmp_path / "specs"
    d.mkdir()
    many = "domain: dom\nrepository: repo\npackages:\n" + "".join(
        f"  - {{format: npm, package: p{i}}}\n" for i in range(200_000))
    (d / "s.yaml").write_text(many)
    with pytest.raises(spec.SpecError) as e:
        program.plan(d)
    assert e.value.problems[0].startswith("specs/s.yaml:1: (file):") and "larger than" in e.value.problems[0]
    assert not any(op in live.counters()["operations"] for op in WRITES)


@pytest.mark.parametrize("in_spec", [False, True])
@pytest.mark.parametrize("in_stack", [False, True])
def test_dispose_needs_both_opt_ins_on_every_path(live: EmulatorProcess, tmp_path: Path, in_spec: bool,
                                                  in_stack: bool) -> None:
    config.set_stack_config(config.StackConfig(endpoint_url=live.url, region="us-east-1", allow_dispose=in_stack))
    # Path 1: the spec and the stack program.
    d = tmp_path / "specs"
    d.mkdir()
    (d / "s.yaml").write_text(f"domain: dom\nrepository: repo\npackages:\n  - format: npm\n    package: p000\n"
                              f"    allow_dispose: {str(in_spec).lower()}\n    versions: {{\"1.0.0\": Disposed}}\n")
    if in_spec and in_stack:
        assert program.plan(d)[0].decisions["1.0.0"].status == "Disposed"
    else:
        with pytest.raises(spec.SpecError, match="irreversible"):
            program.plan(d)
    # Path 2: resource arguments, through check and (as if check were skipped) create.
    p = PackageVersionsStatusProvider()
    news = {"domain": "dom", "repository": "repo", "format": "npm", "package": "p000",
            "versions": {"1.0.0": "Disposed"}, "allow_dispose": in_spec}
    failures = p.check({}, news).failures
    assert bool(failures) == (not (in_spec and in_stack))
    if in_spec and in_stack:
        assert p.create(p.check({}, news).inputs).outs["versions"] == {"1.0.0": "Disposed"}
        assert live.counters()["operations"]["DisposePackageVersions"]["ok"] == 1
    else:
        with pytest.raises(ProviderError, match="DISPOSE_NOT_ALLOWED"):
            p.create({**news, "revisions": None, "original": None})
        assert "DisposePackageVersions" not in live.counters()["operations"]

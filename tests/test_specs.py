"""Spec files: validation errors name file, line and field; all problems of all files are
reported together; versions stay text; packages declared twice are refused; the committed JSON
Schema matches the models; the example specs validate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.testing import ROOT, example_specs
from provider.rules import spec


def write(tmp_path: Path, name: str, text: str) -> Path:
    d = tmp_path / "specs"
    d.mkdir(exist_ok=True)
    (d / name).write_text(text)
    return d


def problems(d: Path) -> list[str]:
    with pytest.raises(spec.SpecError) as e:
        spec.load_dir(d)
    return e.value.problems


def test_errors_name_file_line_and_field(tmp_path: Path) -> None:
    d = write(tmp_path, "a.yaml", """domain: acme
repository: releases
packages:
  - format: npm
    package: x
    versions:
      "2.0": Unfinished
    rules:
      - name: r1
        status: Gone
        match: {bogus: 1}
  - format: pypi
    namespace: nope
    package: y
  - format: maven
    package: no-group
""")
    got = problems(d)
    assert "specs/a.yaml:7: packages[0].versions.2.0: Unfinished is never a target status" in got[0]
    assert any(p.startswith("specs/a.yaml:10: packages[0].rules[0].status:") for p in got)
    assert any(p.startswith("specs/a.yaml:11: packages[0].rules[0].match.bogus: unknown field") for p in got)
    assert any(p.startswith("specs/a.yaml:13: packages[1].namespace: pypi packages have no namespace") for p in got)
    assert any(p.startswith("specs/a.yaml:15: packages[2].namespace: required for maven") for p in got)


def test_all_files_are_checked_and_duplicates_refused(tmp_path: Path) -> None:
    good = "domain: acme\nrepository: r1\npackages:\n  - {format: npm, package: x}\n"
    d = write(tmp_path, "a.yaml", good)
    write(tmp_path, "b.yaml", good)
    write(tmp_path, "c.yaml", "domain: Bad_Domain\nrepository: r1\n")
    write(tmp_path, "d.yaml", "domain: acme\nrepository: r1\npackages: [\n")
    got = problems(d)
    assert any("specs/b.yaml:4: packages[0]: package also declared at specs/a.yaml:4" in p for p in got)
    assert any(p.startswith("specs/c.yaml:1: domain:") for p in got)
    assert any(p.startswith("specs/d.yaml:") and "not valid YAML" in p for p in got)


def test_versions_are_always_text(tmp_path: Path) -> None:
    d = write(tmp_path, "a.yaml", "domain: acme\nrepository: rr\npackages:\n  - format: pypi\n    package: x\n"
                                  "    versions:\n      1.10: Archived\n      2.0: Unlisted\n    protected: [1.20]\n")
    pkg = spec.load_dir(d)[0].spec.packages[0]
    assert pkg.versions == {"1.10": "Archived", "2.0": "Unlisted"}
    assert pkg.protected == ["1.20"]


def test_bad_range_and_duplicate_rule_names(tmp_path: Path) -> None:
    d = write(tmp_path, "a.yaml", """domain: acme
repository: rr
packages:
  - format: maven
    namespace: g
    package: a
    rules:
      - {name: r1, status: Archived, match: {range: "[1.0,"}}
  - format: npm
    package: b
    rules:
      - {name: same, status: Archived}
      - {name: same, status: Unlisted}
""")
    got = problems(d)
    assert any(p.startswith("specs/a.yaml:8: packages[0].rules[0].match.range:") for p in got)
    assert any(p.startswith("specs/a.yaml:11: packages[1].rules: rule names must be unique") for p in got)


def test_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    d = write(tmp_path, "a.yaml", "domain: acme\nrepository: rr\n# " + "x" * (spec.MAX_SPEC_BYTES + 1) + "\n")
    assert "larger than" in problems(d)[0]


def test_committed_schema_matches_the_models() -> None:
    committed = json.loads((ROOT / "docs" / "spec.schema.json").read_text())
    assert committed == spec.json_schema(), "regenerate: python -m provider schema > docs/spec.schema.json"


def test_example_specs_validate_and_reference_the_schema(tmp_path: Path) -> None:
    loaded = spec.load_dir(example_specs(tmp_path))
    assert loaded and all(ls.path.read_text().startswith("# yaml-language-server: $schema=") for ls in loaded)


def test_pr_summary_always_fits_a_github_comment() -> None:
    """20,000 changes: the comment stays within GitHub's 65,536 characters, names every package
    with each transition's count, and points to the full detail, which lists every version."""
    from provider.cli.summary import GITHUB_COMMENT_LIMIT, render, render_detail

    changes = {f"acme/releases/npm/pkg-{i:03d}": [
        {"version": f"1.{j // 50}.{j % 50}", "from": "Published", "to": "Archived" if j % 3 else "Unlisted",
         "rule": "old"} for j in range(100)] for i in range(200)}
    text = render(changes, "prod")
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert "20000 version status change(s)" in text and "artifact" in text
    for label, items in changes.items():
        archived = sum(1 for c in items if c["to"] == "Archived")
        assert f"| `{label}` | Published → Archived | {archived} |" in text
        assert f"| `{label}` | Published → Unlisted | {100 - archived} |" in text
    detail = render_detail(changes, "prod")
    assert all(f"| {c['version']} | Published | {c['to']} | old |" in detail for c in changes["acme/releases/npm/pkg-007"])
    one = {"acme/releases/npm/big": changes["acme/releases/npm/pkg-000"] * 200}  # one huge package
    assert len(render(one)) <= GITHUB_COMMENT_LIMIT
    many = {f"acme/releases/npm/p{i:05d}": changes["acme/releases/npm/pkg-000"][:2] for i in range(10000)}
    folded = render(many)
    assert len(folded) <= GITHUB_COMMENT_LIMIT and "more package(s)" in folded
    small = render({"a/b/npm/c": changes["acme/releases/npm/pkg-000"][:3]})
    assert "<details>" in small and "artifact" not in small


def test_duplicate_keys_anchors_and_name_spellings_are_refused(tmp_path: Path) -> None:
    d = write(tmp_path, "a.yaml", """domain: acme
repository: rr
packages:
  - format: npm
    package: p
    versions: {"1.0.0": Archived, "1.0.0": Published}
    rules: [{name: a, status: Archived}]
    rules: [{name: b, status: Unlisted}]
  - format: pypi
    package: acme_sdk
  - format: pypi
    package: Acme.SDK
""")
    write(tmp_path, "b.yaml", "domain: acme\nrepository: rr\nx: &a [1, 1]\ny: [*a, *a]\n")
    with pytest.raises(spec.SpecError) as e:
        spec.load_dir(d)
    got = e.value.problems
    assert "specs/a.yaml:6: packages[0].versions.1.0.0: duplicate key '1.0.0' (also at line 6); YAML would " \
           "silently keep only the last" in got
    assert any(p.startswith("specs/a.yaml:8: packages[0].rules: duplicate key 'rules' (also at line 7)") for p in got)
    assert any(p.startswith("specs/b.yaml:3: (file): YAML anchor `a` refused") for p in got)
    write(tmp_path, "a.yaml", "domain: acme\nrepository: rr\npackages:\n  - {format: pypi, package: acme_sdk}\n")
    write(tmp_path, "b.yaml", "domain: acme\nrepository: rr\npackages:\n  - {format: pypi, package: Acme.SDK}\n")
    with pytest.raises(spec.SpecError) as e:
        spec.load_dir(d)
    assert e.value.problems == ["specs/b.yaml:4: packages[0]: package also declared at specs/a.yaml:4 "
                                "(pypi names compare as 'acme-sdk')"]


def test_an_alias_bomb_is_refused_in_linear_time(tmp_path: Path) -> None:
    import time

    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    d = write(tmp_path, "bomb.yaml", "domain: acme\nrepository: rr\n" + "\n".join(levels) + "\n")
    started = time.monotonic()
    with pytest.raises(spec.SpecError) as e:
        spec.load_dir(d)
    assert time.monotonic() - started < 1.0 and "YAML anchor `a0` refused" in str(e.value)


def test_specs_dir_must_exist_and_hold_a_spec_subdirectories_included(tmp_path: Path) -> None:
    with pytest.raises(spec.SpecError, match="the specs directory does not exist"):
        spec.load_dir(tmp_path / "nope")
    (tmp_path / "specs" / "team" / ".hidden").mkdir(parents=True)
    (tmp_path / "specs" / "team" / ".hidden" / "x.yaml").write_text("domain: acme\nrepository: rr\n")
    with pytest.raises(spec.SpecError, match="no spec file"):
        spec.load_dir(tmp_path / "specs")
    (tmp_path / "specs" / "team" / "A.YML").write_text("domain: acme\nrepository: rr\npackages: []\n")
    assert [ls.name for ls in spec.load_dir(tmp_path / "specs")] == ["specs/team/A.YML"]


def test_summary_strict_fails_when_a_package_cannot_be_planned(tmp_path: Path) -> None:
    import subprocess
    import sys

    preview = tmp_path / "preview.json"
    preview.write_text(json.dumps({"steps": []}))
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"changes": {}, "failed_packages": {"d/r/npm/x": ["specs/a.yaml:4: packages[0]: ..."]}}))
    args = [sys.executable, "-m", "provider", "summary", str(preview), "--plan", str(plan)]
    lenient = subprocess.run(args, capture_output=True, text=True)
    strict = subprocess.run([*args, "--strict"], capture_output=True, text=True)
    assert lenient.returncode == 0 and "1 package(s) cannot be planned this run" in lenient.stdout
    assert strict.returncode == 1 and strict.stdout == lenient.stdout and "d/r/npm/x" in strict.stderr
    plan.write_text(json.dumps({"changes": {}}))
    assert subprocess.run([*args, "--strict"], capture_output=True, text=True).returncode == 0


ESCALATION = """domain: acme
repository: releases
downloads:
  files: ["../evidence/trail/"]
packages:
  - format: npm
    package: ui
    rules:
      - {{name: unused, status: Archived, keep_latest: 3, match: {{not_downloaded_for_days: 90}}}}
      - {{name: expire, status: Disposed, priority: 1, match: {{status: [Archived]{gate}}}}}
"""


@pytest.mark.parametrize("gate,ok", [(", in_status_for_days: 180", True), (", in_status_for_days: 0", False), ("", False)])
def test_a_chain_of_rules_is_refused_unless_it_waits_for_a_time_in_status(tmp_path: Path, gate: str,
                                                                            ok: bool) -> None:
    """docs/specs.md's escalation (archive what nobody downloads, dispose what stayed Archived 180
    days) is valid: the version enters Archived with this run's write, so the next up waits. The
    same chain without a positive time in status would move a version twice in two runs: refused."""
    import gzip

    (tmp_path / "specs").mkdir()
    (tmp_path / "evidence" / "trail").mkdir(parents=True)
    with gzip.open(tmp_path / "evidence" / "trail" / "t.json.gz", "wt") as f:
        f.write('{"Records": []}')
    (tmp_path / "specs" / "a.yaml").write_text(ESCALATION.format(gate=gate))
    if ok:
        assert spec.load_dir(tmp_path / "specs")
    else:
        with pytest.raises(spec.SpecError) as e:
            spec.load_dir(tmp_path / "specs")
        assert "specs/a.yaml:10: packages[0].rules[1].match.status: rule 'expire' selects Archived versions" in str(e.value)

"""`match` conditions are self-describing registered units (provider/rules/conditions/): `Match`
has exactly their fields in their order, the docs table lists each with its doc line, each
predicate selects what its doc says, the age condition's bulk step and IAM action come with it;
and the format and status vocabularies of the provider, the ecosystem registry, the emulator and
botocore's CodeArtifact model agree."""

from __future__ import annotations

import re
from typing import get_args

import botocore.session
import pytest

from emulator import rules as emulator_rules
from emulator.testing import ROOT
from provider._core.model import DESIRED_STATUSES, STATUSES, UPDATABLE_STATUSES, Format, Status
from provider.rules import conditions, ecosystems
from provider.rules.expand import matches_static
from provider.rules.live import DAY, LiveVersion
from provider.rules.spec import Match


def test_match_has_exactly_the_registered_conditions_in_order() -> None:
    assert list(Match.model_fields) == list(conditions.REGISTRY)
    for name, c in conditions.REGISTRY.items():
        assert Match.model_fields[name].description == c.doc


def test_the_docs_table_lists_every_condition_with_its_doc_line() -> None:
    text = (ROOT / "docs" / "specs.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+)` \| (.+?) \| .+ \|$", text.split("## Match conditions")[1].split("\n## ")[0],
                           re.M))
    assert rows == {name: c.doc for name, c in conditions.REGISTRY.items()}


def lv(version: str, **kw: object) -> LiveVersion:
    return LiveVersion(version, str(kw.pop("status", "Published")), "r", **kw)  # type: ignore[arg-type]


NOW = 1_800_000_000.0


@pytest.mark.parametrize("match, version, selected", [
    ({"versions": ["1.0.0"]}, lv("1.0.0"), True),
    ({"versions": ["1.0.0"]}, lv("1.0.1"), False),
    ({"glob": "1.*"}, lv("1.2.3"), True),
    ({"glob": ["2.*", "3.*"]}, lv("1.2.3"), False),
    ({"range": "<2"}, lv("1.9.0"), True),
    ({"range": "<2"}, lv("2.0.0-rc.1"), False),
    ({"range": "<2.0.0-rc.2", "include_prerelease": True}, lv("2.0.0-rc.1"), True),
    ({"prerelease": True}, lv("2.0.0-rc.1"), True),
    ({"prerelease": False}, lv("2.0.0-rc.1"), False),
    ({"older_than_days": 30}, lv("1.0.0", published=NOW - 31 * DAY), True),
    ({"older_than_days": 30}, lv("1.0.0", published=NOW - 29 * DAY), False),
    ({"older_than_days": 30}, lv("1.0.0"), False),  # no published time known: never "older than"
    ({"older_than_days": 30}, lv("1.0.0", older_than=frozenset({30.0})), True),  # inferred by the bulk step
    ({"origin": ["INTERNAL"]}, lv("1.0.0", origin="EXTERNAL"), False),
    ({"origin": ["INTERNAL"]}, lv("1.0.0", origin="INTERNAL"), True),
])
def test_each_condition_selects_what_its_doc_says(match: dict[str, object], version: LiveVersion,
                                                   selected: bool) -> None:
    assert matches_static("npm", Match.model_validate(match), version, NOW) is selected


def test_status_is_judged_after_keep_latest_and_age_brings_its_read_and_its_action() -> None:
    assert [c.field for c in conditions.REGISTRY.values() if not c.static] == ["status"]
    age = conditions.REGISTRY["older_than_days"]
    assert age.prepare is not None and age.needs == {"published_time"}
    assert age.actions == ("codeartifact:DescribePackageVersion",)
    # The download condition also needs published times ("published more than N days ago").
    assert conditions.REGISTRY["not_downloaded_for_days"].actions == age.actions
    assert all(not c.actions for name, c in conditions.REGISTRY.items()
               if name not in ("older_than_days", "not_downloaded_for_days"))


def test_formats_and_statuses_agree_everywhere() -> None:
    model = botocore.session.get_session().get_service_model("codeartifact")
    formats = set(model.shape_for("PackageFormat").enum)
    assert set(get_args(Format)) == formats == set(ecosystems.ECOSYSTEMS) == {f.value for f in emulator_rules.Format}
    statuses = set(model.shape_for("PackageVersionStatus").enum)
    assert {s.value for s in Status} == statuses == {s.value for s in emulator_rules.Status}
    assert set(STATUSES) <= statuses and set(DESIRED_STATUSES) <= statuses and UPDATABLE_STATUSES <= statuses

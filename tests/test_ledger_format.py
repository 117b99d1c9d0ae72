"""The StatusLedger's stored form, offline: one JSON text per package and field (what the engine and
the SDK carry costs one value per package, not one per version), state written by earlier releases
(nested mappings) reads as the same record and is never an update by itself, and a record that
cannot be read refuses every path that could forget an original (check, delete, planning)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from provider._core.errors import ProviderError
from provider.stack import previous
from provider.status_ledger import StatusLedgerProvider, record, stored

REV = "+Oz8skWbwY3k8M6SrNIqNj6bVH/ax+CxvkJx+No5j8I="


def nested(packages: int, versions: int) -> dict[str, Any]:
    """A ledger as earlier releases stored it: field -> label -> version -> record."""
    labels = [f"dom/repo/npm/p{i:05d}" for i in range(packages)]
    return {
        "originals": {lb: {f"1.0.{j}": "Published" for j in range(versions)} for lb in labels},
        "left": {lb: {f"1.0.{j}": [["Published", REV], ["Archived", REV]] for j in range(versions)} for lb in labels},
        "packages": {lb: {"domain": "dom", "repository": "repo", "format": "npm", "package": lb.rsplit("/", 1)[1],
                          "kind": "repository"} for lb in labels},
        "since": {lb: {f"1.0.{j}": ["Archived", 1.7e9, "our write"] for j in range(versions)} for lb in labels},
    }


def values_in(struct: Any) -> int:
    """Every protobuf Value the SDK builds for ``struct`` (each one is Python work per step)."""
    n = 0
    stack = [struct]
    while stack:
        s = stack.pop()
        for v in (s.fields.values() if hasattr(s, "fields") else s.values):
            n += 1
            kind = v.WhichOneof("kind")
            if kind == "struct_value":
                stack.append(v.struct_value)
            elif kind == "list_value":
                stack.append(v.list_value)
    return n


def test_the_stored_form_is_one_value_per_package_and_field_whatever_the_versions() -> None:
    from pulumi.runtime import rpc
    small, large = stored(nested(50, 1)), stored(nested(50, 100))
    assert all(isinstance(t, str) for field in large.values() for t in field.values())
    count = [values_in(asyncio.run(rpc.serialize_properties(x, {}))) for x in (small, large)]
    assert count[0] == count[1] == 4 + 4 * 50, count


def test_an_earlier_releases_nested_ledger_reads_as_the_same_record_and_is_no_update() -> None:
    old = nested(3, 4)
    new = stored(old)
    assert record(old) == record(new)
    assert record(new)["left"]["dom/repo/npm/p00001"]["1.0.2"] == [["Published", REV], ["Archived", REV]]
    p = StatusLedgerProvider()
    assert not p.diff("id", old, p.check(old, new).inputs).changes, "a change of form alone writes no state"
    assert p.diff("id", old, stored({**old, "originals": {"dom/repo/npm/p00001": {"1.0.0": "Unlisted"}}})).changes
    assert p.read("id", old).outs == old, "a refresh keeps an older record exactly as it was"


def test_the_stored_text_is_canonical_so_an_unchanged_ledger_is_never_an_update() -> None:
    a = stored(nested(2, 3))
    shuffled = {f: dict(reversed(list(v.items()))) for f, v in nested(2, 3).items()}
    assert stored(shuffled) == a and json.dumps(a, sort_keys=True) == json.dumps(stored(a), sort_keys=True)


def test_a_record_that_cannot_be_read_fails_check_and_delete_and_planning() -> None:
    bad = stored(nested(2, 2))
    bad["originals"]["dom/repo/npm/p00001"] = "{not json"
    p = StatusLedgerProvider()
    failures = p.check({}, bad).failures
    assert [f.property for f in failures] == ["originals.dom/repo/npm/p00001"], failures
    with pytest.raises(ProviderError, match="ORIGINALS_UNREADABLE|cannot be read"):
        p.delete("id", bad)
    deployment = {"resources": [{"type": "pulumi-python:dynamic/codeartifact:StatusLedger",
                                 "urn": "urn:pulumi:s::p::pulumi-python:dynamic/codeartifact:StatusLedger::led",
                                 "outputs": bad, "inputs": bad}]}
    with pytest.raises(previous.StateUnavailable, match="originals.dom/repo/npm/p00001"):
        previous.parse(deployment)
    deployment["resources"][0]["outputs"] = stored(nested(2, 2))
    assert previous.parse(deployment).originals["dom/repo/npm/p00001"] == {"1.0.0": "Published", "1.0.1": "Published"}


def test_shard_outputs_are_text_per_package_and_earlier_nested_outputs_read_the_same() -> None:
    """A repository resource's `revisions`, `original` and `owned` follow the ledger: per package
    JSON text; a refresh keeps the form its state had (an upgrade alone is never drift)."""
    from provider._core.batching import Observed
    from provider._core.model import RepositoryVersionsStatusArgs
    from provider.repository_versions_status import _compact, _outputs, per_package
    args = RepositoryVersionsStatusArgs.model_validate({"domain": "dom", "repository": "repo", "shard": "00/16",
                                                        "packages": {"npm//a": {"1.0.0": "Archived"}}})
    observed = {"npm//a": {"1.0.0": Observed("Archived", REV)}}
    new = _outputs(args, observed, {"npm//a": {"1.0.0": "Published"}}, observed)
    old = _outputs(args, observed, {"npm//a": {"1.0.0": "Published"}}, observed, compact=False)
    assert isinstance(new["owned"]["npm//a"], str) and old["owned"]["npm//a"] == {"1.0.0": ["Archived", REV]}
    for name in ("revisions", "original", "owned"):
        assert per_package(new, name) == per_package(old, name) != {}
    assert _compact(new) and not _compact(old) and _compact({})


def test_check_validates_what_changed_since_the_accepted_record_and_diff_compares_texts() -> None:
    p = StatusLedgerProvider()
    olds = stored(nested(3, 2))
    news = {f: dict(v) for f, v in olds.items()}
    assert not p.check(olds, news).failures and not p.diff("id", olds, news).changes
    news["originals"]["dom/repo/npm/p00002"] = '{"1.0.0": "Gone"}'
    failures = p.check(olds, news).failures
    assert [(f.property, f.reason) for f in failures] == [
        ("originals.dom/repo/npm/p00002.1.0.0", "'Gone' is not a CodeArtifact status")]
    assert p.diff("id", olds, news).changes

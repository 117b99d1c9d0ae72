"""The PR summary as GitHub renders it (cmarkgfm, GitHub's fork of cmark, with its extensions):
every section (changes, folded detail, failed packages, warnings, kept in use, not restored,
awaiting review) renders as Markdown, not as literal `**` or broken tables; versions holding `|`
or backticks stay in their cell; versions are listed in their ecosystem's order."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

from provider.cli.summary import render, summarize


def html_of(markdown: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


class Cells(HTMLParser):
    """Rows of every table: the text of each cell."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.text: list[str] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self.cell is not None:
            self.cell.append(data)


def parsed(markdown: str) -> Cells:
    p = Cells()
    p.feed(html_of(markdown))
    return p


PREVIEW = {"steps": [
    {"op": "update", "newState": {"type": "pulumi-python:dynamic/codeartifact:PackageVersionsStatus", "inputs": {
        "domain": "dom", "repository": "repo", "format": "generic", "namespace": "ns", "package": "tool",
        "versions": {"1.0|beta": "Archived", "a`b": "Archived", "1.0.10": "Archived", "1.0.2": "Archived"},
        "decided_by": {"1.0|beta": "rule:old", "a`b": "rule:old", "1.0.10": "rule:old", "1.0.2": "rule:old"}}},
     "oldState": {"type": "pulumi-python:dynamic/codeartifact:PackageVersionsStatus", "outputs": {
         "domain": "dom", "repository": "repo", "format": "generic", "namespace": "ns", "package": "tool",
         "versions": {"1.0|beta": "Published", "a`b": "Published", "1.0.10": "Published", "1.0.2": "Published"}}}},
]}
PLAN = {"changes": {}, "failed_packages": {"dom/repo/npm/broken": ["specs/a.yaml:3: packages[0]: a | b <c>"]},
        "warnings": ["specs/a.yaml:9: packages[1].protected: '9.*' protects nothing"],
        "kept_in_use": {"dom/repo/npm/a": {"1.0.10": ["svc/package-lock.json"], "1.0.2": ["svc/package-lock.json"]}},
        "not_restored": {"dom/repo/npm/b": {"1.0.10": "changed by someone else", "1.0.2": "it is Disposed"}},
        "awaiting_review": {"dom/repo/npm/c": {"2.0.0": "Published -> Archived (rule:old)"}}}


def test_every_section_renders_as_markdown_on_github() -> None:
    text = summarize(json.dumps(PREVIEW), json.dumps(PLAN), stack="prod")
    page = parsed(text)
    rendered = "".join(page.text)
    assert "**" not in rendered  # every bold heading rendered, none shown literally
    html = html_of(text)
    for heading in ("cannot be planned this run", "spec warning", "kept: in use", "are not restored",
                    "awaiting review"):
        assert re.search(r"<strong>[^<]*" + re.escape(heading), html), heading
    assert "<details>" in html


def test_versions_with_pipes_and_backticks_stay_in_their_cell_in_version_order() -> None:
    page = parsed(summarize(json.dumps(PREVIEW), json.dumps(PLAN)))
    widths = {len(r) for r in page.rows}
    assert widths <= {5, 4}  # the change table has 5 columns, the detail table 4: no row split by a `|`
    detail = [r[0] for r in page.rows if len(r) == 4][1:]
    assert set(detail) == {"1.0|beta", "a`b", "1.0.10", "1.0.2"}
    assert detail.index("1.0.2") < detail.index("1.0.10")  # sort -V order, not text order
    summary_row = next(r for r in page.rows if len(r) == 5 and r[0].startswith("dom/"))
    listed = summary_row[3].split(", ")
    assert listed.index("1.0.2") < listed.index("1.0.10")


def test_kept_and_not_restored_lists_are_in_version_order() -> None:
    text = "".join(parsed(summarize(json.dumps(PREVIEW), json.dumps(PLAN))).text)
    assert text.index("1.0.2: it is Disposed") < text.index("1.0.10: changed by someone else")
    kept = text[text.index("kept: in use by"):]
    assert kept.index("1.0.2") < kept.index("1.0.10")


def test_folded_summary_still_renders() -> None:
    changes = {f"acme/releases/npm/p{i:04d}": [{"version": f"1.0.{j}", "from": "Published", "to": "Archived",
                                                "rule": "old"} for j in range(30)] for i in range(3000)}
    text = render(changes, "prod")
    assert "**" not in "".join(parsed(text).text)


def test_evidence_sections_render_as_markdown_on_github() -> None:
    """The download / status-time sections, with versions and times that hold Markdown characters."""
    plan = {**PLAN, "evidence": {"dom/repo/npm/a": {"1.0|x": "last downloaded 2026-10-01T00:00:00Z (3 counted); "
                                                            "evidence 2026-06-01T00:00:00Z .. 2026-12-01T00:00:00Z"}},
            "recent_downloads": {"dom/repo/npm/a": {"1.1.0": "rule 'unused': downloaded 2026-11-30T00:00:00Z"}},
            "waiting": {"dom/repo/npm/o": {"2.0.0": "rule 'expire': Archived since first seen 2026-12-01T00:00:00Z"}},
            "evidence_windows": {"specs/a_b.yaml": "2026-06-01T00:00:00Z .. 2026-12-01T00:00:00Z"}}
    text = summarize(json.dumps(PREVIEW), json.dumps(plan), stack="prod")
    rendered = "".join(parsed(text).text)
    assert "**" not in rendered
    html = html_of(text)
    for heading in ("decided by download or status-time evidence", "kept: downloaded recently",
                    "wait for their status time"):
        assert re.search(r"<strong>[^<]*" + re.escape(heading), html), heading
    assert "1.0|x" in rendered and "specs/a_b.yaml" in rendered

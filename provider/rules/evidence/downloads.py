"""Download and status-change evidence for one repository: CloudTrail log files (trail.py) and
"last downloaded" tables exported from Athena or CloudTrail Lake (CSV or JSON Lines).

A spec's `downloads:` names the files (folders, globs) and the principals whose reads do not count.
What it answers, per package version: the last counted download and how many there were, the last
status write (time, status, who) and, for the whole evidence, the window it covers.

Counted: successful `ReadFromRepository` (package managers) and `GetPackageVersionAsset` (API)
records for the spec's repository, except those made by an AWS service on someone's behalf
(`userIdentity.invokedBy`, or type `AWSService`: scanners such as Amazon Inspector) and those whose
principal ARN matches an `ignore_principals` glob (default `DEFAULT_IGNORED`: AWS service-linked
roles). A table states what it counted: the shipped Athena query (docs/specs.md) applies the same
filter.

Coverage: the log files cover the span from their first to their last record, split wherever two
consecutive records are more than a day apart; a table covers its declared `window_start` ..
`window_end` if its `window_days` (days that have any record) equals the days in between. A rule
using `not_downloaded_for_days: N` needs one covered span from now-N to within a day of now;
anything less is refused naming the first day missing (`coverage_problem`).

Contract: every file that cannot be used raises EvidenceError naming it (and the line for a table);
an unreadable file is never taken as "no downloads".
"""

from __future__ import annotations

import csv
import fnmatch
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from provider._core.model import Format, normalized_name
from provider.rules.evidence import trail
from provider.rules.evidence._refs import EvidenceError, parse_json

DAY = 86400.0
DEFAULT_IGNORED = ("arn:aws:iam::*:role/aws-service-role/*", "arn:aws:sts::*:assumed-role/AWSServiceRoleFor*/*")
MAX_TABLE_BYTES = 512 * 1024 * 1024
TABLE_COLUMNS = ("format", "namespace", "package", "version", "last_downloaded", "downloads",
                 "window_start", "window_end", "window_days")
FORMATS = ("npm", "pypi", "maven", "nuget", "generic", "ruby", "swift", "cargo")

Key = tuple[str, str, str]  # (format, namespace, name) as CodeArtifact compares them


def day(when: float) -> str:
    return datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%d")


def stamp(when: float) -> str:
    return datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_of(fmt: str, namespace: Optional[str], name: str) -> Key:
    f: Format = fmt  # type: ignore[assignment]
    return (fmt, normalized_name(f, namespace or None), normalized_name(f, name))


@dataclass(frozen=True)
class Downloaded:
    last: float
    count: int


@dataclass(frozen=True)
class StatusWrite:
    time: float
    status: str
    principal: str


@dataclass
class Downloads:
    """One spec file's download evidence (its repository only)."""
    sources: tuple[str, ...]  # display names of the files read
    spans: list[tuple[float, float]]  # covered, sorted, merged
    downloads: dict[Key, dict[str, Downloaded]] = field(default_factory=dict)
    # package-manager reads that name no namespace, by (format, name): they count for that name in
    # every namespace (trail.py: the one reading that cannot retire a used version)
    any_namespace: dict[tuple[str, str], dict[str, Downloaded]] = field(default_factory=dict)
    writes: dict[Key, dict[str, StatusWrite]] = field(default_factory=dict)  # the last write per version
    ignored: int = 0  # reads not counted (ignored principals, AWS services)
    status_known: bool = False  # log files were read (a table has no status writes)

    def window(self) -> str:
        if not self.spans:
            return "no records"
        return "; ".join(f"{stamp(a)} .. {stamp(b)}" for a, b in self.spans)

    def coverage_problem(self, days: float, now: float) -> Optional[str]:
        """Why the evidence cannot say "no download in the last ``days`` days", or None."""
        start, end = now - days * DAY, now - DAY
        for a, b in self.spans:
            if a <= start <= b + DAY:
                if b >= end:
                    return None
                nxt = next((s for s, _ in self.spans if s > b), None)
                return (f"first day missing: {day(b + DAY) if b + DAY < now else day(now)} (no record between "
                        f"{stamp(b)} and {stamp(nxt) if nxt else 'now'}; a gap of more than a day is refused)")
        if self.spans and self.spans[0][0] > start:
            return (f"first day missing: {day(start)} (the evidence starts {stamp(self.spans[0][0])}, after the window "
                    f"start {stamp(start)})")
        return f"first day missing: {day(start)} (the evidence has no record of that time; covered: {self.window()})"

    def of(self, fmt: str, namespace: Optional[str], name: str) -> tuple[dict[str, Downloaded], dict[str, StatusWrite]]:
        k = key_of(fmt, namespace, name)
        got = self.downloads.get(k, {})
        wild = self.any_namespace.get((k[0], k[2]))
        if wild:
            got = dict(got)
            for v, d in wild.items():
                _add(got, v, d.last, d.count)
        return got, self.writes.get(k, {})


def _add(into: dict[str, Downloaded], version: str, last: float, count: int) -> None:
    cur = into.get(version)
    into[version] = Downloaded(max(last, cur.last) if cur else last, count + (cur.count if cur else 0))


def _merge(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a - out[-1][1] <= DAY:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def is_trail_file(path: Path) -> bool:
    name = path.name.lower()
    return (name.endswith(".json.gz") or name.endswith(".json")) and "CloudTrail-Digest" not in path.parts


def is_table_file(path: Path) -> bool:
    return path.suffix.lower() in (".csv", ".jsonl", ".ndjson")


def _time(value: Any, name: str, where: str, column: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value or "").strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" UTC", "+00:00"))
    except ValueError:
        raise EvidenceError(name, f"{where}: `{column}` {text[:40]!r} is not an ISO 8601 time or epoch seconds") from None
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()


def _rows(path: Path, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, row) of a CSV (header row) or JSON Lines table, streamed."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise EvidenceError(name, f"cannot be read: {e.strerror}") from None
    if size > MAX_TABLE_BYTES:
        raise EvidenceError(name, f"{size} bytes is larger than the {MAX_TABLE_BYTES} byte limit")
    with path.open("r", encoding="utf-8", newline="") as f:
        try:
            if path.suffix.lower() == ".csv":
                reader = csv.DictReader(f)
                missing = [c for c in TABLE_COLUMNS if c not in (reader.fieldnames or [])]
                if missing:
                    raise EvidenceError(name, f"not a downloads table: missing column(s) {', '.join(missing)} "
                                              f"(expected {', '.join(TABLE_COLUMNS)})")
                for row in reader:
                    yield f"line {reader.line_num}", dict(row)
            else:
                for n, line in enumerate(f, 1):
                    if line.strip():
                        doc = parse_json(line, name) if len(line) < 1 << 20 else None
                        if not isinstance(doc, dict):
                            raise EvidenceError(name, f"line {n}: not a JSON object (one row per line)")
                        yield f"line {n}", doc
        except UnicodeDecodeError as e:
            raise EvidenceError(name, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
        except csv.Error as e:
            raise EvidenceError(name, f"not a valid CSV table: {e}") from None


def read_table(path: Path, name: str, into: Downloads) -> None:
    """Adds one exported table's downloads and declared window to ``into``."""
    window: Optional[tuple[float, float, int]] = None
    for where, row in _rows(path, name):
        for c in ("window_start", "window_end", "window_days"):
            if row.get(c) in (None, ""):
                raise EvidenceError(name, f"{where}: `{c}` is empty; every row states the window the table covers")
        try:
            w_days = int(str(row["window_days"]))
        except ValueError:
            raise EvidenceError(name, f"{where}: `window_days` {str(row['window_days'])[:20]!r} is not a whole number") from None
        w = (_time(row["window_start"], name, where, "window_start"), _time(row["window_end"], name, where, "window_end"),
             w_days)
        if window is None:
            window = w
        elif w != window:
            raise EvidenceError(name, f"{where}: a window ({stamp(w[0])} .. {stamp(w[1])}) that differs from the first "
                                      f"row's; one table covers one window")
        if not row.get("package"):
            continue  # a coverage row: the window, and no download
        fmt = str(row.get("format") or "")
        if fmt not in FORMATS:
            raise EvidenceError(name, f"{where}: `format` {fmt[:20]!r} is not a CodeArtifact format ({', '.join(FORMATS)})")
        version = row.get("version")
        if not isinstance(version, str) or not version:
            raise EvidenceError(name, f"{where}: `version` must be a non-empty string, not {str(version)[:20]!r}")
        try:
            count = int(str(row.get("downloads") or "0"))
        except ValueError:
            raise EvidenceError(name, f"{where}: `downloads` {str(row.get('downloads'))[:20]!r} is not a whole number") from None
        last = _time(row.get("last_downloaded"), name, where, "last_downloaded")
        if count <= 0:
            continue
        k = key_of(fmt, str(row.get("namespace") or "") or None, str(row["package"]))
        _add(into.downloads.setdefault(k, {}), version, last, count)
    if window is None:
        raise EvidenceError(name, "an empty table says nothing about its window; the export query writes a coverage "
                                  "row even when nothing was downloaded (docs/specs.md)")
    start, end, days = window
    spanned = int((datetime.fromtimestamp(end, timezone.utc).date() -
                   datetime.fromtimestamp(start, timezone.utc).date()).days) + 1
    if end < start:
        raise EvidenceError(name, f"window_end {stamp(end)} is before window_start {stamp(start)}")
    if days < spanned:
        raise EvidenceError(name, f"the window {day(start)} .. {day(end)} spans {spanned} days but only {days} have "
                                  f"CloudTrail records: the logs have gaps, so no download can be ruled out")
    into.spans = _merge([*into.spans, (start, end)])


def ignored(principal: str, service: bool, patterns: Iterable[str], count_services: bool) -> bool:
    if service and not count_services:
        return True
    return any(fnmatch.fnmatchcase(principal, p) for p in patterns)


def load(files: list[tuple[Path, str]], domain: str, repository: str, owner: Optional[str],
         ignore: Iterable[str] = DEFAULT_IGNORED, count_services: bool = False) -> Downloads:
    """The evidence of the given files (path, display) for one repository: CloudTrail log files
    (`*.json.gz`, `*.json`) in one DuckDB pass, tables (`*.csv`, `*.jsonl`, `*.ndjson`) streamed.
    Raises EvidenceError naming the first file that cannot be used."""
    patterns = tuple(ignore)
    logs = [(p, d) for p, d in files if is_trail_file(p)]
    tables = [(p, d) for p, d in files if is_table_file(p)]
    other = [d for p, d in files if not is_trail_file(p) and not is_table_file(p)]
    if other:
        raise EvidenceError(other[0], "not CloudTrail log file (*.json.gz, *.json) or downloads table (*.csv, *.jsonl, "
                                      "*.ndjson)")
    out = Downloads(tuple(d for _, d in files), [], status_known=bool(logs))
    if logs:
        read = trail.read(logs, domain, repository, owner)
        if read.reads and read.unnamed_reads == read.reads:
            raise EvidenceError(logs[0][1] if len(logs) == 1 else f"{logs[0][1]} (and {len(logs) - 1} more)",
                                f"{read.reads} ReadFromRepository record(s) of {domain}/{repository} and none names a "
                                f"package version (requestParameters.packageVersion): the trail's fields are not "
                                f"the ones this tool reads, so it cannot tell a download from none")
        if read.first is not None and read.last is not None:
            cuts = [read.first] + [x for g in read.gaps for x in g] + [read.last]
            out.spans = _merge((cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2))
        for r in read.downloads:
            if ignored(r.principal, r.service, patterns, count_services):
                out.ignored += r.count
                continue
            if r.format not in FORMATS:
                continue
            k = key_of(r.format, r.namespace, r.package)
            into = (out.downloads.setdefault(k, {}) if r.namespace is not None
                    else out.any_namespace.setdefault((k[0], k[2]), {}))
            _add(into, r.version, r.last, r.count)
        for s in read.statuses:  # in time order: the last write wins
            if s.format not in FORMATS:
                continue
            k = key_of(s.format, s.namespace, s.package)
            for v in s.versions:
                out.writes.setdefault(k, {})[v] = StatusWrite(s.time, s.status, s.principal)
    for p, d in tables:
        read_table(p, d, out)
    return out


__all__ = ["DAY", "DEFAULT_IGNORED", "Downloaded", "Downloads", "StatusWrite", "TABLE_COLUMNS", "day", "is_table_file",
           "is_trail_file", "key_of", "load", "read_table", "stamp"]


"""CloudTrail log files, as CloudTrail delivers them to S3 (`AWSLogs/<account>/CloudTrail/<region>/
YYYY/MM/DD/*.json.gz`, each `{"Records": [...]}`, gzipped or not), read with DuckDB in one pass:
a year of an account's trail (GBs) is one query on one machine, in bounded memory (DuckDB spills
to a temporary folder past `MEMORY_LIMIT`).

What one pass extracts, for one repository (domain, owner, repository):
- the time of every record (any event, any service): what the logs cover, and their gaps;
- downloads: successful `ReadFromRepository` (a package manager's fetch) and `GetPackageVersionAsset`
  records with a package version, per version and principal: last time, count;
- status writes: successful `UpdatePackageVersionsStatus` / `DisposePackageVersions` records, per
  version (the service's `successfulVersions` when the record has them, else the request's
  `versions`): time, target status, principal.
Request fields are read under the names CloudTrail gives package-manager requests (the user
guide's "Logging CodeArtifact API calls with AWS CloudTrail" shows an npm fetch's
`requestParameters` as `domainName`, `domainOwner`, `repositoryName`, `packageName`,
`packageFormat`, `packageVersion`) and API calls (the API's own names: `domain`, `repository`,
`format`, `namespace`, `package`, `packageVersion`).

The guide shows no namespaced package, so a package manager's read is read defensively, in the
one direction that cannot retire a used version: a `ReadFromRepository` record that names no
namespace (`packageNamespace`/`namespace` absent) is a download of that name in *any* namespace
(`DownloadRow.namespace` None), and an npm `packageName` of the form `@scope/name` is split into
its scope and name. A download can only keep a version, so reading too many is the safe error.
`unnamed_reads` counts this repository's successful `ReadFromRepository` records that name no
package version (metadata requests such as `npm view` have none; a trail where *every* read lacks
one is read with the wrong field names, and downloads.py refuses it).

Contract: a file that is not gzip/JSON, has no `Records` list, holds a record without a valid
`eventTime`, or is larger than `MAX_OBJECT_BYTES` uncompressed raises EvidenceError naming that
file; no partial result is ever returned.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from provider.rules.evidence._refs import EvidenceError

MEMORY_LIMIT = "1GB"
THREADS = 2
BATCH = 8  # files per scan
MAX_OBJECT_BYTES = 32 * 1024 * 1024  # one log file's JSON (DuckDB buffers 2x per thread); CloudTrail's are far smaller
DOWNLOAD_EVENTS = ("ReadFromRepository", "GetPackageVersionAsset")
STATUS_EVENTS = ("UpdatePackageVersionsStatus", "DisposePackageVersions")
SOURCE = "codeartifact.amazonaws.com"


@dataclass(frozen=True)
class DownloadRow:
    format: str
    namespace: Optional[str]  # None: a package manager's read that names no namespace (any namespace)
    package: str
    version: str
    principal: str
    service: bool  # made by an AWS service (userIdentity.invokedBy, or type AWSService)
    last: float
    count: int


@dataclass(frozen=True)
class StatusRow:
    format: str
    namespace: str
    package: str
    versions: tuple[str, ...]
    status: str
    principal: str
    time: float


@dataclass(frozen=True)
class TrailRead:
    first: Optional[float]  # the earliest record (None: no record at all)
    last: Optional[float]
    gaps: tuple[tuple[float, float], ...]  # consecutive records more than a day apart
    downloads: tuple[DownloadRow, ...]
    statuses: tuple[StatusRow, ...]
    records: int
    reads: int = 0  # this repository's successful ReadFromRepository records
    unnamed_reads: int = 0  # ... of which name no package version


def _param(*names: str) -> str:
    return "coalesce(" + ", ".join(f"p->>'$.{n}'" for n in names) + ")"


# Records are parsed once into typed columns (the fields every CloudTrail record has); only the
# request of a CodeArtifact download or status write is read further, as JSON.
_RECORD = ("STRUCT(eventTime VARCHAR, eventSource VARCHAR, eventName VARCHAR, errorCode VARCHAR, "
           "userIdentity STRUCT(arn VARCHAR, principalId VARCHAR, invokedBy VARCHAR, type VARCHAR), "
           "requestParameters JSON, responseElements JSON)")

_EXTRACT = f"""
CREATE TEMP TABLE ev AS
SELECT file, t, no_records, name, who, service,
       {_param('domainName', 'domain')} AS domain,
       {_param('domainOwner')} AS owner,
       {_param('repositoryName', 'repository')} AS repository,
       {_param('packageFormat', 'format')} AS format,
       {_param('packageNamespace', 'namespace')} AS namespace,
       {_param('packageName', 'package')} AS package,
       {_param('packageVersion')} AS version,
       p->>'$.targetStatus' AS target,
       CASE WHEN name IN {STATUS_EVENTS}
            THEN coalesce(to_json(json_keys(resp->'$.successfulVersions'))::VARCHAR, (p->'$.versions')::VARCHAR) END
            AS versions,
       (resp->'$.failedVersions') AS failed
FROM (
  SELECT file, t, no_records, name, who, service,
         CASE WHEN name IS NOT NULL THEN r.requestParameters END AS p,
         CASE WHEN name IN {STATUS_EVENTS} THEN r.responseElements END AS resp
  FROM (
    SELECT filename AS file, r, r IS NULL AS no_records,
           epoch(try_cast(r.eventTime AS TIMESTAMPTZ)) AS t,
           CASE WHEN r.eventSource = '{SOURCE}' AND r.errorCode IS NULL
                     AND r.eventName IN {DOWNLOAD_EVENTS + STATUS_EVENTS} THEN r.eventName END AS name,
           coalesce(r.userIdentity.arn, r.userIdentity.principalId, '') AS who,
           (r.userIdentity.invokedBy IS NOT NULL OR r.userIdentity.type = 'AWSService') AS service
    FROM (SELECT unnest(CASE WHEN Records IS NULL THEN [NULL] ELSE Records END) AS r, filename
          FROM read_json($files, columns={{'Records': '{_RECORD}[]'}}, format='unstructured', filename=true,
                         maximum_object_size={MAX_OBJECT_BYTES}, compression='auto_detect'))))
"""


def _connect(spill: str) -> Any:
    import duckdb
    con = duckdb.connect(":memory:", config={"memory_limit": MEMORY_LIMIT, "threads": THREADS,
                                             "temp_directory": spill, "preserve_insertion_order": False,
                                             "enable_external_access": True, "autoinstall_known_extensions": False,
                                             "autoload_known_extensions": False})
    return con


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:300]


def read(files: list[tuple[Path, str]], domain: str, repository: str, owner: Optional[str]) -> TrailRead:
    """Reads the log files (path, display name) for one repository. Raises EvidenceError naming
    the first file that cannot be used."""
    import duckdb
    if not files:
        return TrailRead(None, None, (), (), (), 0)
    display = {str(p): d for p, d in files}
    with tempfile.TemporaryDirectory(prefix="trail-spill-") as spill:
        con = _connect(spill)
        try:
            # In batches: DuckDB keeps a read buffer per file of a scan until the scan ends, so one
            # scan of thousands of files would need thousands of buffers.
            for i in range(0, len(files), BATCH):
                batch = files[i:i + BATCH]
                sql = _EXTRACT if i == 0 else _EXTRACT.replace("CREATE TEMP TABLE ev AS", "INSERT INTO ev")
                try:
                    con.execute(sql, {"files": [str(p) for p, _ in batch]})
                except duckdb.Error as e:
                    raise _blame(batch, e, spill) from None
            bad = con.execute("SELECT file, no_records FROM ev WHERE t IS NULL LIMIT 1").fetchone()
            if bad is not None:
                raise EvidenceError(display.get(bad[0], bad[0]),
                                    "not a CloudTrail log file: no `Records` list" if bad[1] else
                                    "a record without a valid `eventTime`; not a CloudTrail log file")
            n, first, last = con.execute("SELECT count(*), min(t), max(t) FROM ev").fetchone()
            gaps = con.execute("""
                SELECT prev, t FROM (SELECT t, lag(t) OVER (ORDER BY t) AS prev FROM (SELECT DISTINCT t FROM ev))
                WHERE t - prev > 86400 ORDER BY t""").fetchall()
            where = "domain = $domain AND repository = $repository AND ($owner IS NULL OR owner IS NULL OR owner = $owner)"
            args = {"domain": domain, "repository": repository, "owner": owner}
            downloads = con.execute(f"""
                SELECT format, CASE WHEN namespace IS NULL AND name = 'ReadFromRepository' THEN NULL
                                    ELSE coalesce(namespace, '') END,
                       package, version, who, service, max(t), count(*) FROM ev
                WHERE name IN {DOWNLOAD_EVENTS} AND {where} AND version IS NOT NULL AND package IS NOT NULL
                      AND format IS NOT NULL
                GROUP BY ALL""", args).fetchall()
            reads, unnamed = con.execute(f"""
                SELECT count(*), count(*) FILTER (WHERE version IS NULL) FROM ev
                WHERE name = 'ReadFromRepository' AND {where}""", args).fetchone()
            statuses = con.execute(f"""
                SELECT format, coalesce(namespace, ''), package, versions, coalesce(target, 'Disposed'), who, t, name, failed FROM ev
                WHERE name IN {STATUS_EVENTS} AND {where} AND package IS NOT NULL AND format IS NOT NULL
                ORDER BY t""", args).fetchall()
        finally:
            con.close()
    rows = []
    for fmt, ns, pkg, versions, target, who, t, name, failed in statuses:
        if name == "DisposePackageVersions":
            target = "Disposed"
        try:
            vs = json.loads(versions) if versions else []
            failed_vs = set(json.loads(failed)) if failed and failed != "null" else set()
        except ValueError:
            vs, failed_vs = [], set()
        kept = tuple(str(v) for v in vs if isinstance(v, str) and v not in failed_vs) if isinstance(vs, list) else ()
        if kept:
            rows.append(StatusRow(fmt, ns, pkg, kept, str(target), who, float(t)))
    return TrailRead(float(first) if first is not None else None, float(last) if last is not None else None,
                     tuple((float(a), float(b)) for a, b in gaps),
                     tuple(DownloadRow(f, *_scoped(f, ns, p), v, w, bool(s), float(t), int(c))
                           for f, ns, p, v, w, s, t, c in downloads),
                     tuple(rows), int(n), int(reads or 0), int(unnamed or 0))


def _scoped(fmt: str, namespace: Optional[str], package: str) -> tuple[Optional[str], str]:
    """(namespace, name) of a download record: an npm name `@scope/name` with no namespace of its
    own is that scope's package (npm's own spelling of a scoped name)."""
    if fmt == "npm" and not namespace and package.startswith("@") and "/" in package:
        scope, _, name = package[1:].partition("/")
        return scope, name
    return namespace, package


def _blame(files: list[tuple[Path, str]], error: Exception, spill: str) -> EvidenceError:
    """The read of all files failed: find the first file that fails alone (the error path only)."""
    import duckdb
    con = _connect(spill)
    try:
        for path, display in files:
            try:
                con.execute(_EXTRACT.replace("CREATE TEMP TABLE ev AS", "CREATE OR REPLACE TEMP TABLE one AS"),
                            {"files": [str(path)]})
                rows = con.execute("SELECT count(*) FROM one").fetchone()
            except duckdb.Error as e:
                return EvidenceError(display, f"not a CloudTrail log file: {_first_line(e)}")
            if rows is None:
                return EvidenceError(display, "not a CloudTrail log file")
    finally:
        con.close()
    return EvidenceError(files[0][1] if len(files) == 1 else f"{files[0][1]} (and {len(files) - 1} more)",
                         f"the CloudTrail logs cannot be read: {_first_line(error)}")

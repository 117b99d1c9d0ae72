"""CloudTrail for the emulator: one record per API call, in CloudTrail's record format, kept in the
backend's SQLite database and written out as CloudTrail delivers log files to S3.

What is recorded (as CloudTrail records CodeArtifact):
- every API call, named by its operation (`ListPackageVersions`, `UpdatePackageVersionsStatus`,
  `GetPackageVersionAsset`, ...), with its request parameters (blobs left out), an `errorCode` when
  it failed, and for status writes the service's `responseElements` (successful/failed versions);
- every package-manager read (`npm install`, `pip download`, ...) as `ReadFromRepository`, with
  `requestParameters` {domainName, domainOwner, repositoryName, packageFormat, packageNamespace,
  packageName, packageVersion}. The emulator speaks no package-manager protocol, so that read is
  the admin route `package-manager/read` (emulator/admin.py), standing for a client's fetch.

Times come from the emulator's clock (`Trail.now`, shifted with the admin route `clock`), so tests
can make calls "40 days ago" and get a trail that covers a window, produced by the running service.
`export` writes `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_
<YYYYMMDDTHHMMZ>_<id>.json.gz` files of `{"Records": [...]}`, one per hour that has records.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import sqlite3
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Optional

SCHEMA = """
CREATE TABLE IF NOT EXISTS trail (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    record TEXT NOT NULL
);
"""

EVENT_SOURCE = "codeartifact.amazonaws.com"
# Management reads are recorded like writes; these carry large or secret payloads left out.
_LEFT_OUT = {"assetContent", "asset_content"}


def iso(when: float) -> str:
    return datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Trail:
    """The records, and the clock they are stamped with. Thread-safe (the backend's lock)."""

    def __init__(self, db: sqlite3.Connection, account: str, region: str, lock: Any) -> None:
        self._db = db
        self._lock = lock  # the backend's: one SQLite connection, one lock
        self.account = account
        self.region = region
        self.offset = 0.0  # seconds added to the wall clock (admin route `clock`)
        self.enabled = True
        with self._lock:
            self._db.executescript(SCHEMA)

    def now(self) -> float:
        return time.time() + self.offset

    def record(self, event_name: str, principal: str, params: Mapping[str, Any], *,
               response: Optional[Mapping[str, Any]] = None, error_code: Optional[str] = None,
               error_message: Optional[str] = None, user_agent: str = "aws-sdk", read_only: bool = False,
               identity_type: str = "IAMUser", invoked_by: Optional[str] = None,
               when: Optional[float] = None) -> None:
        """Appends one record stamped ``when`` (default: the clock's now)."""
        if not self.enabled:
            return
        when = self.now() if when is None else when
        identity: dict[str, Any] = {"type": identity_type, "arn": principal, "accountId": self.account,
                                    "principalId": hashlib.sha1(principal.encode()).hexdigest()[:20].upper()}
        if invoked_by:
            identity["invokedBy"] = invoked_by
        rec: dict[str, Any] = {
            "eventVersion": "1.08", "userIdentity": identity, "eventTime": iso(when),
            "eventSource": EVENT_SOURCE, "eventName": event_name, "awsRegion": self.region,
            "sourceIPAddress": "127.0.0.1", "userAgent": user_agent,
            "requestParameters": {k: v for k, v in params.items() if k not in _LEFT_OUT},
            "responseElements": dict(response) if response is not None else None,
            "requestID": str(uuid.uuid4()), "eventID": str(uuid.uuid4()), "readOnly": read_only,
            "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": self.account,
            "eventCategory": "Management"}
        if error_code:
            rec["errorCode"] = error_code
            rec["errorMessage"] = error_message or error_code
        with self._lock:
            self._db.execute("INSERT INTO trail (time, record) VALUES (?, ?)", (when, json.dumps(rec, default=_plain)))

    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT record FROM trail ORDER BY time, id").fetchall()
        return [json.loads(r[0]) for r in rows]

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM trail")

    def export(self, directory: str) -> list[str]:
        """Writes every record as CloudTrail log files under ``directory`` (S3 layout, one gzipped
        file per hour); returns the files' paths. Existing files are left alone (names are unique)."""
        by_hour: dict[str, list[dict[str, Any]]] = {}
        for rec in self.records():
            by_hour.setdefault(rec["eventTime"][:13], []).append(rec)
        out = []
        for hour, recs in sorted(by_hour.items()):
            day = hour[:10].replace("-", "/")
            stamp = hour.replace("-", "").replace(":", "") + "00Z"
            folder = Path(directory) / "AWSLogs" / self.account / "CloudTrail" / self.region / day
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{self.account}_CloudTrail_{self.region}_{stamp}_{uuid.uuid4().hex[:16]}.json.gz"
            with gzip.open(path, "wt", encoding="utf-8") as f:
                json.dump({"Records": recs}, f)
            out.append(str(path))
        return out


# The user agent a package manager sends for each format (seeded downloads look like real fetches).
USER_AGENTS = {"npm": "npm/10.8.2 node/v22.11.0 linux x64", "pypi": "pip/24.3.1", "maven": "Apache-Maven/3.9.9",
               "nuget": "NuGet Command Line/6.12.1", "generic": "aws-cli/2.22.0", "cargo": "cargo/1.83.0",
               "ruby": "Ruby, RubyGems/3.5.22", "swift": "swift-package-manager/6.0"}
CI_ROLE = "arn:aws:sts::{account}:assumed-role/ci-build/session"


def read_params(domain: Optional[str], owner: Optional[str], repository: Optional[str], fmt: Optional[str],
                namespace: Optional[str], package: Optional[str], version: Optional[str]) -> dict[str, Any]:
    """ReadFromRepository's request parameters (the package-manager spelling), absent ones left out."""
    params = {"domainName": domain, "domainOwner": owner, "repositoryName": repository, "packageFormat": fmt,
              "packageNamespace": namespace, "packageName": package, "packageVersion": version}
    return {k: v for k, v in params.items() if v is not None}


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)

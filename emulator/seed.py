"""The seed file: domains, repositories, packages of any format, versions with status.

Real CodeArtifact receives npm/pypi/maven/... packages through their native registries, which the
emulator does not speak; a seed file (YAML or JSON) stands in for those publishes. Loaded at start
(``--seed FILE``) and through ``POST /_emulator/seed``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .rules import Format, Status


class SeedVersion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str
    status: Status = Status.Published
    published: Optional[datetime] = None
    origin: Literal["INTERNAL", "EXTERNAL", "UNKNOWN"] = "INTERNAL"
    asset_name: Optional[str] = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    # Package-manager fetches of this version in the past (npm install, pip download, mvn): recorded
    # as CloudTrail ReadFromRepository events at these times by a CI role, so demo data and tests
    # can carry download history that the trail export writes as real log files.
    downloads: list[datetime] = Field(default_factory=list)

    @field_validator("status")
    @classmethod
    def _not_deleted(cls, v: Status) -> Status:
        if v is Status.Deleted:
            raise ValueError("a deleted version does not exist: leave it out of the seed")
        return v

    def published_epoch(self) -> float:
        if self.published is None:
            return datetime.now(timezone.utc).timestamp()
        return _epoch(self.published)

    def download_epochs(self) -> list[float]:
        return sorted(_epoch(d) for d in self.downloads)


def _epoch(when: datetime) -> float:
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


class SeedPackage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Format
    namespace: Optional[str] = None
    name: str
    versions: list[SeedVersion] = Field(default_factory=list, description="entries, or plain version strings")
    # The package's origin controls (PutPackageOriginConfiguration): ALLOW or BLOCK publishing
    # directly, and versions from upstreams (an upstream cache's packages ALLOW upstream).
    publish: Literal["ALLOW", "BLOCK"] = "ALLOW"
    upstream: Literal["ALLOW", "BLOCK"] = "ALLOW"

    @field_validator("versions", mode="before")
    @classmethod
    def _expand(cls, vs: Any) -> Any:
        return [{"version": str(v)} if isinstance(v, (str, int, float)) else v for v in vs] if isinstance(vs, list) else vs


class SeedRepository(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: Optional[str] = None
    packages: list[SeedPackage] = Field(default_factory=list)


class SeedDomain(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    owner: Optional[str] = None
    repositories: list[SeedRepository] = Field(default_factory=list)


class SeedDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    domains: list[SeedDomain] = Field(default_factory=list)


def load_seed(path: Union[str, Path]) -> SeedDoc:
    text = Path(path).read_text()
    return SeedDoc.model_validate(yaml.safe_load(text) or {})

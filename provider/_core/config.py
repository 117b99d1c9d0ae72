"""Provider configuration (stack config `codeartifact:*`) and per-process boto3 clients.

The dynamic provider object is pickled into every resource's state, so it carries no attributes:
configuration lives in this module, per provider process, set by `configure`. boto3 clients are
not picklable either, and they are built lazily: one per distinct connection setting, shared by
the provider server's worker threads (botocore clients are thread-safe; sessions are not, so each
is created under a lock). Credentials come from the standard AWS chain (environment, profile,
container/instance roles, optionally an assumed role) and are never written anywhere.
"""

from __future__ import annotations

import threading
from typing import Any, Literal, Optional

import boto3
from botocore.config import Config as BotoConfig
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from provider._core import pacing
from provider._core.model import ConnectionArgs, validation_problems

RetryMode = Literal["standard", "adaptive", "legacy"]

# Stack config keys (`pulumi config set codeartifact:<key> <value>`).
CONFIG_KEYS = {
    "region": "region",
    "endpointUrl": "endpoint_url",
    "profile": "profile",
    "roleArn": "role_arn",
    "domainOwner": "domain_owner",
    "maxAttempts": "max_attempts",
    "retryMode": "retry_mode",
    "allowDispose": "allow_dispose",
    "cacheTtlSeconds": "cache_ttl_seconds",
    "releaseOriginals": "release_originals",
    "readsPerSecond": "reads_per_second",
    "writesPerSecond": "writes_per_second",
}


class StackConfig(BaseModel):
    """The provider's settings from stack config; resource arguments override the connection ones."""

    model_config = ConfigDict(extra="forbid")
    region: Optional[str] = None
    endpoint_url: Optional[str] = None
    profile: Optional[str] = None
    role_arn: Optional[str] = None
    domain_owner: Optional[str] = None
    max_attempts: int = Field(10, ge=1, le=50)
    retry_mode: RetryMode = "standard"
    allow_dispose: bool = False
    # Listings are shared within one pulumi command only (one provider process, command-scoped
    # files), for the whole command by default: what the program planned from is what the writes
    # lock to, so a change made while the command runs fails closed instead of being re-read and
    # overwritten, and no package is listed twice. A stale listing can only make a write fail closed.
    cache_ttl_seconds: float = Field(86400.0, ge=0)
    # Client-side pacing under the account's quotas (provider/_core/pacing.py).
    reads_per_second: float = Field(200.0, gt=0, le=200, description="ListPackageVersions requests per second")
    writes_per_second: float = Field(50.0, gt=0, le=100, description="status writes per second (CI publishes share "
                                                                     "the account's 100/s)")
    # Originals released on purpose: `*`, or package labels / globs (`dom/repo/npm/a`,
    # `dom/repo/npm/a@1.0.0`, `dom/repo/npm/*`), comma-separated. Released originals leave the
    # ledger: their versions are never restored (docs/resources.md, "The ledger").
    release_originals: tuple[str, ...] = ()

    @field_validator("release_originals", mode="before")
    @classmethod
    def _release(cls, v: Any) -> Any:
        if isinstance(v, str):
            return tuple(p.strip() for p in v.split(",") if p.strip())
        return v

    @classmethod
    def from_pulumi(cls, raw: dict[str, Any]) -> "StackConfig":
        """From the dynamic provider's raw config map ({'codeartifact:region': 'us-east-1', ...}).
        Raises ValueError naming the `codeartifact:<key>` that is wrong."""
        values: dict[str, Any] = {}
        for key, field in CONFIG_KEYS.items():
            v = raw.get(f"codeartifact:{key}")
            if v is None or v == "":
                continue
            if field == "allow_dispose" and isinstance(v, str):
                v = v.strip().lower() in ("true", "1", "yes")
            values[field] = v
        try:
            return cls.model_validate(values)
        except ValidationError as e:
            bad = "; ".join(
                f"codeartifact:{next((k for k, f in CONFIG_KEYS.items() if f == loc[0]), loc[0]) if loc else '?'}: {msg}"
                for loc, msg in validation_problems(e))
            raise ValueError(f"invalid provider configuration: {bad}") from None


_state_lock = threading.Lock()
_stack = StackConfig()
_clients: dict[tuple[Any, ...], Any] = {}


def released(patterns: tuple[str, ...], label: str, version: str) -> bool:
    """Whether `codeartifact:releaseOriginals` releases ``label@version``'s original."""
    import fnmatch
    return any(p == "*" or fnmatch.fnmatchcase(label, p) or fnmatch.fnmatchcase(f"{label}@{version}", p)
               for p in patterns)


def set_stack_config(cfg: StackConfig) -> None:
    global _stack
    with _state_lock:
        _stack = cfg


def stack_config() -> StackConfig:
    return _stack


def effective(conn: ConnectionArgs) -> dict[str, Any]:
    """Resource overrides on top of the stack config: the settings a client is built from."""
    s = _stack
    return {
        "region": conn.region or s.region,
        "endpoint_url": conn.endpoint_url or s.endpoint_url,
        "profile": conn.profile or s.profile,
        "role_arn": conn.role_arn or s.role_arn,
        "max_attempts": conn.max_attempts or s.max_attempts,
        "retry_mode": s.retry_mode,
        "reads_per_second": s.reads_per_second,
        "writes_per_second": s.writes_per_second,
    }


def client_for(conn: ConnectionArgs) -> Any:
    """The shared codeartifact client for these settings (built on first use in this process)."""
    settings = effective(conn)
    key = tuple(sorted(settings.items()))
    client = _clients.get(key)
    if client is not None:
        return client
    with _state_lock:
        client = _clients.get(key)
        if client is None:
            client = _build_client(settings)
            _clients[key] = client
    return client


def _build_client(s: dict[str, Any]) -> Any:
    boto_config = BotoConfig(
        retries={"mode": s["retry_mode"], "total_max_attempts": s["max_attempts"]},
        # Many worker threads share one client; keep enough pooled connections for them.
        max_pool_connections=16,
        user_agent_extra="codeartifact-status",
    )
    session = boto3.session.Session(profile_name=s["profile"], region_name=s["region"])
    if s["role_arn"]:
        session = _assumed_role_session(session, s, boto_config)
    client = session.client("codeartifact", endpoint_url=s["endpoint_url"], config=boto_config)
    pacing.attach(client, s["reads_per_second"], s["writes_per_second"])
    return client


def _assumed_role_session(base: Any, s: dict[str, Any], boto_config: BotoConfig) -> Any:
    """A session whose credentials refresh by assuming ``role_arn`` (botocore's refreshable
    credentials), so long runs survive the 1-hour session limit."""
    from botocore.credentials import RefreshableCredentials
    from botocore.session import get_session

    sts = base.client("sts", config=boto_config)

    def refresh() -> dict[str, Any]:
        creds = sts.assume_role(RoleArn=s["role_arn"], RoleSessionName="codeartifact-status")["Credentials"]
        return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"], "expiry_time": creds["Expiration"].isoformat()}

    botocore_session = get_session()
    # botocore has no public setter for refreshable credentials; this is its documented recipe.
    botocore_session._credentials = RefreshableCredentials.create_from_metadata(  # type: ignore[attr-defined]
        metadata=refresh(), refresh_using=refresh, method="assume-role")
    if s["region"]:
        botocore_session.set_config_variable("region", s["region"])
    return boto3.session.Session(botocore_session=botocore_session)


def reset_for_tests() -> None:
    global _stack
    with _state_lock:
        _stack = StackConfig()
        _clients.clear()

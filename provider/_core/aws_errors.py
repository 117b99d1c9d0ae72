"""AWS error mapping: botocore errors and per-version failure codes -> the provider's errors.

One place decides which failures are permanent (a conflict, a denial, a missing package: a human
acts) and which are temporary (throttling and 5xx that outlasted botocore's retries), so reads,
writes and coalesced writes report the same error class for the same cause.
"""

from __future__ import annotations

from typing import NoReturn

from botocore.exceptions import ClientError

from provider._core.errors import (
    AccessDenied,
    ConflictError,
    NotAllowed,
    NotFound,
    ProviderError,
    TemporaryError,
    VersionFailure,
)
from provider._core.model import Change, PackageArgs, Status

KNOWN_ERROR_CODES = frozenset({"ALREADY_EXISTS", "MISMATCHED_REVISION", "MISMATCHED_STATUS", "NOT_ALLOWED",
                               "NOT_FOUND", "SKIPPED"})
TEMPORARY_CODES = frozenset({"ThrottlingException", "InternalServerException", "ServiceUnavailable",
                             "RequestTimeout", "RequestTimeoutException", "Throttling", "TooManyRequestsException"})


def raise_client_error(exc: Exception, args: PackageArgs, versions: list[str], doing: str) -> NoReturn:
    """Maps a botocore error to ours, naming each package version concerned. Always raises."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        message = exc.response.get("Error", {}).get("Message", str(exc))
        failures = [VersionFailure(args.label(v), code, message) for v in versions]
        if code == "ResourceNotFoundException":
            raise NotFound(doing, failures) from None
        if code == "AccessDeniedException":
            raise AccessDenied(doing, failures) from None
        if code in TEMPORARY_CODES:
            raise TemporaryError(doing, failures) from None
        raise ProviderError(doing, failures) from None
    from botocore.exceptions import NoCredentialsError, NoRegionError
    if isinstance(exc, (NoCredentialsError, NoRegionError)):  # a setting is missing: retrying cannot help
        hint = ("set codeartifact:region (or AWS_REGION)" if isinstance(exc, NoRegionError) else
                "no AWS credentials were found: set a profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a role")
        raise ProviderError(doing, [VersionFailure(args.label(v), type(exc).__name__, f"{exc}; {hint}")
                                     for v in versions]) from None
    raise TemporaryError(doing, [VersionFailure(args.label(v), type(exc).__name__, str(exc)) for v in versions]) from None


def action(target: str) -> str:
    return "disposing" if target == Status.Disposed.value else "updating"


def raise_for(changes: list[Change], failures: list[tuple[str, VersionFailure]]) -> NoReturn:
    """Raises the error class that fits the failures (conflicts first)."""
    codes = {code for code, _ in failures}
    items = [f for _, f in failures]
    what = action(changes[0].target) if len({c.target for c in changes}) == 1 else "updating"
    if codes & {"MISMATCHED_STATUS", "MISMATCHED_REVISION"}:
        raise ConflictError(what, items)
    if codes & {"AccessDenied"}:
        raise AccessDenied(what, items)
    if codes & {"NOT_ALLOWED"}:
        raise NotAllowed(what, items)
    if codes & {"NOT_FOUND", "NotFound"}:
        raise NotFound(what, items)
    if codes & {"TemporaryError"}:
        raise TemporaryError(what, items)
    raise ProviderError(what, items)

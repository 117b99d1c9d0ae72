"""Provider errors: permanent (retrying cannot help: every class but TemporaryError) vs
temporary (TemporaryError: a later run may succeed).

Every message has one shape, so logs and PR comments read the same everywhere:
``<action> CodeArtifact package version (<dom>/<repo>/<format>/<namespace>/<name>@<version>): <CODE>: <detail>``
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VersionFailure:
    """One version that could not be brought to its desired status."""

    label: str  # dom/repo/npm/nestjs/core@8.0.0
    code: str  # MISMATCHED_STATUS, MISMATCHED_REVISION, NOT_FOUND, NOT_ALLOWED, SKIPPED, AccessDeniedException, ...
    detail: str

    def line(self, action: str) -> str:
        return f"{action} CodeArtifact package version ({self.label}): {self.code}: {self.detail}"


class ProviderError(Exception):
    """Base class: a permanent error, which needs a human (a conflict, a denial, bad input)."""

    def __init__(self, action: str, failures: list[VersionFailure]) -> None:
        self.action = action
        self.failures = failures
        # Versions that were written before the failure (status, revision), when some were: the
        # resource then reports a partial failure so that its state records them.
        self.done: dict[str, object] = {}
        super().__init__("\n".join(f.line(action) for f in failures))


class ConflictError(ProviderError):
    """Someone else changed a version since we last read it (status or revision): we fail closed.
    Run `pulumi refresh` (or `pulumi up`, which refreshes first) to accept the change, and apply
    again only if the spec still wants it."""


class NotFound(ProviderError):
    """The domain, repository, package or version does not exist (finders raise it, never None)."""


class NotAllowed(ProviderError):
    """The service refuses the transition (e.g. a Disposed version can only be deleted)."""


class AccessDenied(ProviderError):
    """IAM denied the action on the package."""


class TemporaryError(ProviderError):
    """Throttling or service faults that outlasted botocore's retries; running again may succeed."""


class InvalidResponse(ProviderError):
    """The service answered with something we cannot trust (missing or unknown fields)."""

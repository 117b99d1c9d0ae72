"""Service errors, named after the AWS error shapes of the codeartifact service model.

The HTTP layer sends ``code`` as ``x-amzn-ErrorType`` and the body ``{"message": ..., **fields}``,
so boto3 raises ``client.exceptions.<code>`` with the modeled fields filled in.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    code = "InternalServerException"
    status = 500

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = {k: v for k, v in fields.items() if v is not None}

    def body(self) -> dict[str, Any]:
        return {"message": self.message, **self.fields}


class ValidationException(ServiceError):
    code = "ValidationException"
    status = 400

    def __init__(self, message: str, reason: str = "FIELD_VALIDATION_FAILED") -> None:
        super().__init__(message, reason=reason)


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"
    status = 404

    def __init__(self, message: str, resource_type: str, resource_id: str) -> None:
        super().__init__(message, resourceType=resource_type, resourceId=resource_id)


class ConflictException(ServiceError):
    code = "ConflictException"
    status = 409

    def __init__(self, message: str, resource_type: str, resource_id: str) -> None:
        super().__init__(message, resourceType=resource_type, resourceId=resource_id)


class AccessDeniedException(ServiceError):
    code = "AccessDeniedException"
    status = 403


class ThrottlingException(ServiceError):
    code = "ThrottlingException"
    status = 429

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class InternalServerException(ServiceError):
    code = "InternalServerException"
    status = 500


class UnrecognizedClientException(ServiceError):
    """Not a modeled shape: what the service's front door answers for an unsigned request."""

    code = "UnrecognizedClientException"
    status = 403


class InvalidSignatureException(ServiceError):
    code = "InvalidSignatureException"
    status = 403

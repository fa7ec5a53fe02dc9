"""Typed domain errors. Domain code raises these; ``ledgerlou.api.resolver`` maps them to HTTP in one place.

Every error has a stable UPPER_SNAKE ``code`` (docs/api-contract.md "Errors"), an HTTP status and an English message.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status: int = 400
    code: str = "INVALID_INPUT"

    def __init__(self, message: str, *, code: str | None = None, details: list[dict[str, Any]] | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details or []


class InvalidInput(DomainError):
    status = 400
    code = "INVALID_INPUT"

    @classmethod
    def field(cls, field: str, issue: str, *, code: str | None = None) -> InvalidInput:
        return cls(f"{field}: {issue}", code=code, details=[{"field": field, "issue": issue}])


class Unauthenticated(DomainError):
    status = 401
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    status = 403
    code = "FORBIDDEN"


class NotFound(DomainError):
    status = 404
    code = "NOT_FOUND"


class Conflict(DomainError):
    status = 409
    code = "CONFLICT"


class PayloadTooLarge(DomainError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class Unsupported(DomainError):
    status = 422
    code = "UNSUPPORTED"


class RangeTooLarge(InvalidInput):
    """A date range wider than the endpoint answers in one request (the limit is in the message)."""

    status = 400
    code = "RANGE_TOO_LARGE"


# ------------------------------------------------------------------ people: login, tokens, throttling
class InvalidCredentials(DomainError):
    """Wrong e-mail or wrong password: one answer for both, so the answer does not tell which."""

    status = 401
    code = "INVALID_CREDENTIALS"


class TooManyAttempts(DomainError):
    """A throttle is full (login failures, contact messages); ``retry_after`` seconds until it is not."""

    status = 429
    code = "TOO_MANY_ATTEMPTS"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class InvalidToken(DomainError):
    """A setup/reset token that is unknown, used already, or whose user or invitation is gone."""

    status = 400
    code = "INVALID_TOKEN"


class TokenExpired(DomainError):
    status = 400
    code = "TOKEN_EXPIRED"


class MailUnavailable(DomainError):
    """The mail service refused or failed: nothing was sent (retry later)."""

    status = 503
    code = "MAIL_UNAVAILABLE"

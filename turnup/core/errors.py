"""The one error type for business-rule failures.

Services raise ``ApplicationError`` (or a subclass that only changes the HTTP status);
the API's exception handler turns it into ``{"message": ..., "extra": {...}}``.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A request that breaks a business rule. ``extra`` says which field or object and why."""

    status_code = 400

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class ConflictError(ApplicationError):
    """The request is valid but the current state refuses it (pool exhausted, busy line)."""

    status_code = 409


class NotFoundError(ApplicationError):
    """A referenced object does not exist."""

    status_code = 404

"""Exceptions of the xapi package."""

from __future__ import annotations


class XapiError(Exception):
    """Raised when anything in the xapi package fails (base class)."""


class StatementBuildError(XapiError):
    """Raised when a domain event cannot become a valid statement."""


class SessionOrderError(StatementBuildError):
    """Raised when session events break the cmi5-like order (initialized first, terminated last)."""


class LrsError(XapiError):
    """Raised when talking to an LRS fails (base class)."""


class LrsTransportError(LrsError):
    """Raised when the LRS cannot be reached or does not answer in time."""


class LrsHttpError(LrsError):
    """Raised when the LRS answers with an HTTP error status."""

    def __init__(self, status: int, message: str):
        super().__init__(f"LRS answered {status}: {message}")
        self.status = status
        self.message = message


class LrsConflictError(LrsHttpError):
    """Raised when the LRS answers 409 (a statement with that id already exists)."""


class LrsRejectedError(LrsHttpError):
    """Raised when the LRS answers 400 (the statement itself is invalid)."""


class LrsAuthError(LrsHttpError):
    """Raised when the LRS answers 401 or 403 (credentials wrong or refused)."""

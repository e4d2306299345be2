"""Exceptions of the embedded LRS; each carries the HTTP status it maps to."""

from __future__ import annotations


class LrsRequestError(Exception):
    """Raised when a request to the embedded LRS cannot be honoured (base class)."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadRequest(LrsRequestError):
    """Raised when a request or statement breaks the xAPI rules (400)."""

    status = 400


class Unauthorized(LrsRequestError):
    """Raised when the request carries no valid credentials (401)."""

    status = 401


class Forbidden(LrsRequestError):
    """Raised when the credentials may not do this (403)."""

    status = 403


class NotFound(LrsRequestError):
    """Raised when the statement or document does not exist (404)."""

    status = 404


class Conflict(LrsRequestError):
    """Raised when a statement id holds another statement, or a write lacks preconditions (409)."""

    status = 409


class PreconditionFailed(LrsRequestError):
    """Raised when If-Match / If-None-Match does not hold (412)."""

    status = 412


class PreconditionRequired(LrsRequestError):
    """Raised when a 2.0 document write lacks If-Match / If-None-Match (428)."""

    status = 428


class PayloadTooLarge(LrsRequestError):
    """Raised when a request body is bigger than the LRS accepts (413)."""

    status = 413

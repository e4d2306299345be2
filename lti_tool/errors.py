"""Map the tool's exceptions to HTTP answers with pages that say what to do."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from lti_tool.exceptions import MicroreviewError
from lti_tool.ingest.exceptions import CourseImportError

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def register_error_handlers(app: Flask) -> None:
    """Install the handlers: our errors, HTTP errors, and a last-resort 500 page."""

    @app.errorhandler(MicroreviewError)
    def _ours(exc: MicroreviewError):  # type: ignore[no-untyped-def]
        reason = getattr(exc, "reason", str(exc))
        log.info("%s %s refused (%s): %s", request.method, request.path, exc.status, reason)
        if _wants_json():
            return {"error": exc.title, "reason": reason, "advice": exc.advice}, exc.status
        return (
            render_template(
                "error.html", title=exc.title, reason=reason, advice=exc.advice, error=exc
            ),
            exc.status,
        )

    @app.errorhandler(CourseImportError)
    def _course_import(exc: CourseImportError):  # type: ignore[no-untyped-def]
        log.info("%s %s: course import refused: %s", request.method, request.path, exc.title)
        if _wants_json():
            return {"error": exc.title, "reason": exc.message, "advice": exc.advice}, 400
        return (
            render_template(
                "error.html",
                title=exc.title,
                reason=exc.message.rstrip("."),
                advice=exc.advice,
                error=exc,
            ),
            400,
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        if _wants_json():
            return {"error": exc.name, "reason": exc.description}, exc.code or 500
        return (
            render_template(
                "error.html",
                title=exc.name,
                reason=exc.description,
                advice="Check the address, or launch the tool again from your course.",
                error=exc,
            ),
            exc.code or 500,
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unexpected error on %s %s", request.method, request.path)
        return (
            render_template(
                "error.html",
                title="Something went wrong on our side",
                reason="The tool hit an unexpected error. Nothing you saved was lost.",
                advice="Try again in a moment. If it keeps happening, tell your LMS "
                "administrator the time it happened.",
                error=exc,
            ),
            500,
        )

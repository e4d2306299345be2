"""Microreview: an LTI 1.3 tool for spaced micro-reviews of a course's own material."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import NullSession, SessionInterface

from lti_tool.settings import PROJECT_ROOT, Settings, load_settings


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the Flask application: settings, database, blueprints, error pages."""
    from lti_tool import headers, runtime
    from lti_tool.errors import register_error_handlers
    from lti_tool.views import register_blueprints

    settings = settings or load_settings(**overrides)
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=200 * 1024 * 1024,
        TEMPLATES_AUTO_RELOAD=not settings.is_production,
    )
    # No cookie session: LMS iframes block third-party cookies, so state travels in the signed
    # launch token instead. Skipping Flask's session also spares every request a serializer.
    app.session_interface = _NoCookieSession()
    runtime.init_app(app, settings)
    headers.init_app(app, settings.base_url)
    register_error_handlers(app)
    register_blueprints(app, settings)
    return app


class _NoCookieSession(SessionInterface):
    """Flask's session, switched off: any attempt to write to it fails loudly."""

    def open_session(self, app: Flask, request: Any) -> NullSession:
        """Every request gets the read-only empty session."""
        return NullSession()

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        """Nothing to save."""

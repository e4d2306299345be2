"""Blueprints: thin views that parse the request, call one service, commit and render."""

from __future__ import annotations

from flask import Flask

from lti_tool.settings import Settings


def register_blueprints(app: Flask, settings: Settings) -> None:
    """Attach every blueprint; the demo platform only outside production."""
    from lti_tool.views import (
        admin,
        course_content,
        health,
        instructor,
        learner,
        lti,
        reminders,
        scheduling_settings,
    )

    app.register_blueprint(lti.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(learner.bp)
    app.register_blueprint(instructor.bp)
    app.register_blueprint(reminders.bp)
    app.register_blueprint(scheduling_settings.bp)
    app.register_blueprint(course_content.bp)
    app.add_template_global(lambda: _token_or_none(), "launch_token")
    _register_lrs(app, settings)
    if settings.demo_enabled:
        from lti_tool.demo import views as demo

        app.register_blueprint(demo.bp)


def _token_or_none() -> str | None:
    from flask import g

    return g.get("launch_token")


def _register_lrs(app: Flask, settings: Settings) -> None:
    """The embedded LRS at /xapi/ (per-platform Basic credentials) and the xAPI Profile pages."""
    from lti_tool.lrs_connections import EmbeddedAuth
    from lti_tool.runtime import Runtime
    from xapi.lrs import create_lrs_blueprint
    from xapi.lrs.profile_views import create_profile_blueprint
    from xapi.vocabulary import Vocabulary

    rt: Runtime = app.extensions["microreview"]
    lrs = create_lrs_blueprint(rt.db.sessions, EmbeddedAuth(rt.db.sessions, rt.box))
    app.register_blueprint(lrs, url_prefix="/xapi")
    app.register_blueprint(create_profile_blueprint(Vocabulary(settings.base_url)))

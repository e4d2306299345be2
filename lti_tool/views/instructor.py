"""Instructor pages: the course overview with roster and gradebook status."""

from __future__ import annotations

import logging

from flask import Blueprint, render_template

from lti_tool.db import utcnow
from lti_tool.exceptions import ServiceError
from lti_tool.lti.nrps import roster_is_stale, sync_roster
from lti_tool.lti.platform_api import PlatformApi
from lti_tool.lti.roles import Role
from lti_tool.models import Context, Platform
from lti_tool.reports import course_overview
from lti_tool.runtime import db_session, runtime
from lti_tool.scheduling.course_settings import ensure_schedule
from lti_tool.views.access import current_identity, launch_token, require_role

bp = Blueprint("instructor", __name__, url_prefix="/instructor")
log = logging.getLogger(__name__)


@bp.get("/")
@require_role(Role.INSTRUCTOR)
def home() -> str:
    """Course overview; refreshes the roster from the LMS when it is stale."""
    identity, session, rt = current_identity(), db_session(), runtime()
    context = session.get(Context, identity.context_id)
    assert context is not None
    roster_error = None
    now = utcnow()
    if roster_is_stale(context, now, rt.settings.nrps_refresh_seconds):
        platform = session.get(Platform, context.platform_id)
        assert platform is not None
        try:
            sync_roster(
                PlatformApi(session, rt.http, platform, now, rt.settings.http_timeout), context
            )
            session.commit()
        except ServiceError as exc:
            session.rollback()
            roster_error = str(exc)
    overview = course_overview.build(session, identity.context_id)
    schedule = ensure_schedule(session, identity.context_id)
    session.commit()
    return render_template(
        "instructor/home.html",
        overview=overview,
        schedule=schedule,
        roster_error=roster_error,
        lt=launch_token(),
        is_admin=identity.role >= Role.ADMIN,
    )

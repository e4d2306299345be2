"""Instructor page: the course's retention targets, session length, new cards per day, fitting."""

from __future__ import annotations

import logging

from flask import Blueprint, render_template, request
from sqlalchemy import select

from lti_tool.lti.roles import Role
from lti_tool.models import Context
from lti_tool.models.review import MAX_RETENTION, MIN_RETENTION
from lti_tool.runtime import db_session
from lti_tool.scheduling.course_settings import ensure_schedule, parse_schedule_form, save_schedule
from lti_tool.scheduling.exceptions import InvalidSettingsError
from lti_tool.scheduling.fitting import review_count
from lti_tool.views.access import current_identity, launch_token, require_role

bp = Blueprint("scheduling_settings", __name__, url_prefix="/instructor/scheduling")
log = logging.getLogger(__name__)


@bp.route("/", methods=["GET", "POST"])
@require_role(Role.INSTRUCTOR)
def edit() -> tuple[str, int] | str:
    """Show and save the course's scheduling settings."""
    identity, session = current_identity(), db_session()
    schedule = ensure_schedule(session, identity.context_id)
    session.commit()
    message, error, status = "", "", 200
    if request.method == "POST":
        try:
            save_schedule(session, identity.context_id, parse_schedule_form(dict(request.form)))
            message = "Settings saved. They apply from each learner's next answer."
        except InvalidSettingsError as exc:
            error, status = str(exc), 400
    if error:
        session.rollback()
    else:
        session.commit()
    page = render_template(
        "instructor/scheduling.html",
        schedule=schedule,
        reviews=review_count(session, identity.context_id),
        launch_url=session.scalar(select(Context.lms_url).where(Context.id == identity.context_id)),
        low=MIN_RETENTION,
        high=MAX_RETENTION,
        message=message,
        error=error,
        lt=launch_token(),
    )
    return (page, status) if status != 200 else page

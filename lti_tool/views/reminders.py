"""Reminder links: open my review (signed), unsubscribe, calendar feed, and reminder settings."""

from __future__ import annotations

from flask import Blueprint, Response, make_response, redirect, render_template, request, url_for
from sqlalchemy import select

from lti_tool.db import utcnow
from lti_tool.exceptions import NotFound
from lti_tool.lti.launch_token import LaunchIdentity
from lti_tool.lti.roles import Role
from lti_tool.models import Context, User
from lti_tool.models.review import ReminderPreference, ZoneSource
from lti_tool.runtime import db_session, runtime
from lti_tool.scheduling import calendar
from lti_tool.scheduling.course_settings import ensure_preference
from lti_tool.scheduling.exceptions import InvalidLinkError, InvalidSettingsError
from lti_tool.scheduling.links import LinkSigner, revoke_links
from lti_tool.scheduling.time_zones import check_zone, choose_zone, record_browser_zone
from lti_tool.views.access import current_identity, launch_token, require_role

bp = Blueprint("reminders", __name__, url_prefix="/reminders")


def signer() -> LinkSigner:
    """The link signer of this app."""
    settings = runtime().settings
    return LinkSigner(settings.secret_key, settings.reminder_link_ttl)


@bp.get("/open/<token>")
def open_session(token: str) -> Response:
    """A reminder's signed link: open that learner's review without an LMS round trip."""
    session = db_session()
    link = signer().open_session(session, token)
    context = session.get(Context, link.context_id)
    if context is None or context.deployment_id is None:
        raise InvalidLinkError("the course of this link no longer exists")
    identity = LaunchIdentity(
        platform_id=context.platform_id,
        deployment_id=context.deployment_id,
        context_id=context.id,
        user_id=link.user_id,
        role=Role.LEARNER,
        placement_id=link.placement_id,
    )
    lt = runtime().tokens.issue(identity)
    return redirect(url_for("learner.home", lt=lt), code=303)  # type: ignore[return-value]


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> str:
    """Confirm (GET) and carry out (POST, also one-click from mail clients) an unsubscribe."""
    session = db_session()
    user_id = signer().unsubscribe_user(token)
    if session.get(User, user_id) is None:
        raise InvalidLinkError("this unsubscribe link names nobody we know")
    done = False
    if request.method == "POST":
        pref = ensure_preference(session, user_id, runtime().settings.reminder_time_zone)
        pref.unsubscribed, pref.unsubscribed_at = True, utcnow()
        session.commit()
        done = True
    return render_template("reminders/unsubscribe.html", token=token, done=done)


@bp.get("/calendar/<secret>.ics")
def calendar_feed(secret: str) -> Response:
    """The learner's review days as an iCalendar feed (the secret URL is the credential)."""
    session = db_session()
    pref = session.scalars(
        select(ReminderPreference).where(ReminderPreference.feed_secret == secret)
    ).first()
    if pref is None:
        raise NotFound("no calendar at this address")
    body = calendar.feed(session, pref, runtime().settings.base_url, utcnow())
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = "private, max-age=900"
    return response


@bp.route("/preferences", methods=["GET", "POST"])
@require_role(Role.LEARNER)
def preferences() -> str:
    """The learner's reminder settings: address, time zone, hour, on/off, revoke links."""
    identity, session, settings = current_identity(), db_session(), runtime().settings
    if identity.user_id is None:
        raise NotFound("anonymous launches have no reminders")
    pref = ensure_preference(session, identity.user_id, settings.reminder_time_zone)
    user = session.get(User, identity.user_id)
    message, error = "", ""
    if request.method == "POST":
        try:
            message = _apply_preferences(pref)
            session.commit()
        except InvalidSettingsError as exc:
            session.rollback()
            error = str(exc)
    else:
        session.commit()
    return render_template(
        "reminders/preferences.html",
        pref=pref,
        user=user,
        hour=pref.local_hour if pref.local_hour is not None else settings.reminder_hour,
        zone_detected=pref.time_zone_source == ZoneSource.BROWSER,
        follows_browser=pref.time_zone_source != ZoneSource.LEARNER,
        calendar_url=url_for("reminders.calendar_feed", secret=pref.feed_secret, _external=True),
        message=message,
        error=error,
        lt=launch_token(),
    )


@bp.post("/time-zone")
@require_role(Role.LEARNER)
def browser_time_zone() -> Response:
    """The zone the learner's browser reports (204); a zone the learner chose is kept."""
    identity, session = current_identity(), db_session()
    if identity.user_id is None:
        raise NotFound("anonymous launches have no reminders")
    record_browser_zone(session, identity.user_id, request.form.get("time_zone", "").strip())
    session.commit()
    return Response(status=204)


def _apply_preferences(pref: ReminderPreference) -> str:
    form = request.form
    if form.get("action") == "revoke":
        revoke_links(pref)
        return "Every review link sent so far has been revoked."
    zone = check_zone(form.get("time_zone", "").strip() or "UTC")
    hour = form.get("local_hour", type=int)
    if hour is None or not 0 <= hour <= 23:
        raise InvalidSettingsError("the reminder hour must be between 0 and 23")
    email = form.get("email", "").strip()
    if email and ("@" not in email or len(email) > 320):
        raise InvalidSettingsError("the email address does not look right")
    choose_zone(pref, zone, follow_browser=form.get("follow_browser") == "on")
    pref.email, pref.local_hour = email, hour
    pref.unsubscribed = form.get("reminders") != "on"
    return "Your reminder settings are saved."

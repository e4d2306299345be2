"""Learner pages: today's review (one card at a time), feedback, summary, units, reminders."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError, OperationalError

from lti_tool.db import utcnow
from lti_tool.exceptions import NotFound
from lti_tool.lti.roles import Role
from lti_tool.models import Card, Context, ReviewSession, Unit
from lti_tool.runtime import db_session, runtime
from lti_tool.scheduling import grading, sessions
from lti_tool.scheduling.exceptions import StaleAnswerError
from lti_tool.scheduling.time_zones import LearnerZone, zone_of
from lti_tool.views.access import current_identity, launch_token, require_role

bp = Blueprint("learner", __name__, url_prefix="/learner")


@bp.app_template_filter("local_time")
def local_time(value: datetime | None, zone: str = "UTC") -> str:
    """A moment as the learner reads it, in their time zone."""
    if value is None:
        return "not scheduled"
    return value.astimezone(_zone(zone)).strftime("%a %-d %b %Y, %H:%M")


@bp.app_template_global("describe_answer")
def describe_answer(card: Card, response: dict[str, Any]) -> str:
    """The learner's answer in words."""
    return grading.describe(card.kind, card.data or {}, response)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _learner() -> sessions.Learner:
    return _learner_and_zone()[0]


def _learner_and_zone() -> tuple[sessions.Learner, LearnerZone]:
    identity, rt = current_identity(), runtime()
    if identity.user_id is None:
        raise NotFound("your LMS launched the tool anonymously, so there is no review to keep")
    zone = zone_of(db_session(), identity.user_id, rt.settings.reminder_time_zone)
    base_url = rt.settings.base_url
    learner = sessions.Learner(
        identity.user_id, identity.context_id, identity.placement_id, zone.name, base_url
    )
    return learner, zone


def _zone_to_detect(zone: LearnerZone) -> str | None:
    """The zone the page's script compares with the browser's; None when it must not ask."""
    if zone.chosen or current_identity().role < Role.LEARNER:
        return None  # a learner's own choice stands; the endpoint is for learners only
    return zone.name


def _home_url() -> str:
    return url_for("learner.home", lt=launch_token())


@bp.get("/")
@require_role(Role.NONE)
def home() -> str:
    """Today's session: resume it or start it; the nothing-due page when there is no work."""
    identity, session = current_identity(), db_session()
    context = session.get(Context, identity.context_id)
    if identity.user_id is None:
        return render_template("learner/home.html", context=context, user=None, identity=identity)
    learner, zone = _learner_and_zone()
    review, plan = sessions.start_or_resume(session, learner, utcnow())
    session.commit()
    if review is None:
        return render_template(
            "learner/nothing_due.html",
            context=context,
            next_due=plan.next_due if plan else None,
            zone=learner.zone,
            detect_zone=_zone_to_detect(zone),
            lt=launch_token(),
        )
    return _card_page(review, context, _zone_to_detect(zone))


def _card_page(review: ReviewSession, context: Context | None, detect_zone: str | None) -> str:
    card, unit = sessions.current_card(db_session(), review)
    return render_template(
        "learner/card.html",
        review=review,
        card=card,
        unit=unit,
        context=context,
        view=card_view(card, f"{review.public_id}:{review.position}"),
        shown_at=int(time.time() * 1000),
        detect_zone=detect_zone,
        lt=launch_token(),
    )


def card_view(card: Card, seed: str) -> dict[str, Any]:
    """What a card's form shows: choices, shuffled sequence items, matching options."""
    data = card.data or {}
    shuffle = random.Random(seed)  # stable per presented card, so a reload shows the same order
    order = list(range(len(data.get("sequence", []))))
    shuffle.shuffle(order)
    options = [p["answer"] for p in data.get("pairs", [])] + list(data.get("distractors", []))
    options = sorted(set(options))
    shuffle.shuffle(options)
    return {
        "choices": data.get("choices", []),
        "sequence": [(i, data["sequence"][i]) for i in order],
        "pairs": data.get("pairs", []),
        "options": options,
        "blanks": data.get("blanks", []),
        "multiple": card.kind == "multiple_choice",
    }


@bp.post("/session/<public_id>/answer")
@require_role(Role.NONE)
def answer(public_id: str) -> Response | str:
    """Record an answer (idempotently) and show the feedback with the right answer."""
    session, (review, learner) = db_session(), _answering(public_id)
    position = request.form.get("position", type=int, default=-1)
    form = {key: request.form.getlist(key) for key in request.form if key != "lt"}
    now = utcnow()
    shown_at = request.form.get("shown_at", type=int, default=0)
    duration = timedelta(milliseconds=max(0, int(now.timestamp() * 1000) - shown_at))
    try:
        review, outcome = _record(learner, review, position, form, duration)
    except StaleAnswerError:
        session.rollback()
        return redirect(_home_url(), code=303)  # type: ignore[return-value]
    return render_template(
        "learner/feedback.html",
        review=review,
        outcome=outcome,
        zone=learner.zone,
        lt=launch_token(),
    )


def _answering(public_id: str) -> tuple[ReviewSession, sessions.Learner]:
    """The session being answered and its learner, time zone included, in one query."""
    identity, rt = current_identity(), runtime()
    if identity.user_id is None:
        raise NotFound("your LMS launched the tool anonymously, so there is no review to keep")
    review, zone = sessions.find_session_and_zone(
        db_session(),
        identity.user_id,
        identity.context_id,
        public_id,
        rt.settings.reminder_time_zone,
    )
    learner = sessions.Learner(
        identity.user_id, identity.context_id, identity.placement_id, zone, rt.settings.base_url
    )
    return review, learner


def _record(
    learner: sessions.Learner,
    review: ReviewSession,
    position: int,
    form: dict[str, list[str]],
    duration: timedelta,
) -> tuple[ReviewSession, sessions.Outcome]:
    """Answer and commit; a concurrent duplicate of the same answer returns the first outcome."""
    session = db_session()
    public_id = str(review.public_id)
    for attempt in (1, 2):
        if attempt == 2:
            review = sessions.find_session(session, learner, public_id)
        try:
            outcome = sessions.answer(session, learner, review, position, form, utcnow(), duration)
            session.commit()
            return review, outcome
        except IntegrityError:
            session.rollback()  # the same answer was committed by a concurrent request
        except OperationalError:
            session.rollback()  # SQLite: another writer moved on since we read; look again
            if attempt == 2:
                raise
            continue
        review = sessions.find_session(session, learner, public_id)
        again = sessions.recorded(session, review, position)
        if again is not None:
            return review, again
    raise StaleAnswerError("this answer could not be recorded; your review continues")


@bp.get("/session/<public_id>/summary")
@require_role(Role.NONE)
def summary(public_id: str) -> str:
    """The end of a session: what was reviewed and what is due next."""
    session, learner = db_session(), _learner()
    review = sessions.find_session(session, learner, public_id)
    result = sessions.summary(session, learner, review, utcnow())
    return render_template(
        "learner/summary.html", summary=result, zone=learner.zone, lt=launch_token()
    )


@bp.post("/extra")
@require_role(Role.NONE)
def extra_round() -> Response:
    """Start an optional extra round when nothing is due."""
    session, learner = db_session(), _learner()
    sessions.start_or_resume(session, learner, utcnow(), extra=True)
    session.commit()
    return redirect(_home_url(), code=303)  # type: ignore[return-value]


@bp.get("/unit/<int:unit_id>")
@require_role(Role.NONE)
def unit(unit_id: int) -> str:
    """A micro-unit's material, opened from a card's feedback."""
    identity, session = current_identity(), db_session()
    found = session.get(Unit, unit_id)
    if found is None or found.context_id != identity.context_id or found.retired:
        raise NotFound("this unit is not part of your course")
    return render_template("learner/unit.html", unit=found, lt=launch_token())

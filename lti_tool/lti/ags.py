"""Assignment and Grade Services: the placement's line item and the learners' scores."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.exceptions import ServiceError
from lti_tool.lti import claims
from lti_tool.lti.platform_api import PlatformApi
from lti_tool.models import Context, Placement, Platform, ScoreSubmission, User

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)
LINEITEM_LABEL = "Microreview mastery"


def queue_score(
    session: Session,
    placement_id: int,
    user_id: int,
    score: float,
    now: datetime,
    activity: str = "Completed",
    grading: str = "FullyGraded",
) -> ScoreSubmission:
    """Record a score to send; the learner's work never waits on the LMS."""
    submission = ScoreSubmission(
        placement_id=placement_id,
        user_id=user_id,
        score_given=max(0.0, min(100.0, score)),
        activity_progress=activity,
        grading_progress=grading,
        timestamp=now,
        next_attempt_at=now,
    )
    session.add(submission)
    session.flush()
    return submission


def lineitem_url(api: PlatformApi, placement: Placement) -> str:
    """The placement's line item, found by resource link or created when the LMS gave none.

    The caller stores the URL on the placement after its calls are done, so no database write
    is pending while the LMS is being called.
    """
    if placement.lineitem_url:
        return placement.lineitem_url
    if not placement.lineitems_url:
        raise ServiceError("the LMS gave this placement no gradebook service")
    scopes = [claims.SCOPE_LINEITEM]
    found = api.request(
        "GET",
        placement.lineitems_url,
        scopes,
        accept=claims.MEDIA_LINEITEMS,
        params={"resource_link_id": placement.resource_link_id},
    ).json()
    if isinstance(found, list) and found:
        return str(found[0]["id"])
    created = api.request(
        "POST",
        placement.lineitems_url,
        scopes,
        accept=claims.MEDIA_LINEITEM,
        content_type=claims.MEDIA_LINEITEM,
        json_body={
            "scoreMaximum": 100,
            "label": placement.title or LINEITEM_LABEL,
            "resourceId": "microreview-daily-review",
            "resourceLinkId": placement.resource_link_id,
        },
    ).json()
    return str(created["id"])


def _scores_url(lineitem: str) -> str:
    path, _, query = lineitem.partition("?")
    return path.rstrip("/") + "/scores" + (f"?{query}" if query else "")


def send_score(api: PlatformApi, placement: Placement, user: User, sub: ScoreSubmission) -> str:
    """POST one score to the placement's line item; returns that line item's URL."""
    body = {
        "userId": user.sub,
        "scoreGiven": sub.score_given,
        "scoreMaximum": sub.score_maximum,
        "activityProgress": sub.activity_progress,
        "gradingProgress": sub.grading_progress,
        "timestamp": sub.timestamp.isoformat(timespec="milliseconds"),
    }
    if sub.comment:
        body["comment"] = sub.comment
    url = lineitem_url(api, placement)
    api.request(
        "POST",
        _scores_url(url),
        [claims.SCOPE_SCORE],
        accept="application/json",
        content_type=claims.MEDIA_SCORE,
        json_body=body,
    )
    return url


def send_pending_scores(
    session: Session, http: requests.Session, now: datetime, timeout: float, limit: int = 100
) -> tuple[int, int]:
    """Send due submissions; failures back off exponentially. Returns (sent, failed).

    Commits after each submission, so no database lock is held while the LMS is called.
    """
    due = session.scalars(
        select(ScoreSubmission)
        .where(ScoreSubmission.status == "pending", ScoreSubmission.next_attempt_at <= now)
        .order_by(ScoreSubmission.id)
        .limit(limit)
    ).all()
    sent = failed = 0
    session.commit()
    for sub in due:
        placement = session.get(Placement, sub.placement_id)
        user = session.get(User, sub.user_id)
        assert placement is not None and user is not None
        context = session.get(Context, placement.context_id)
        assert context is not None
        platform = session.get(Platform, context.platform_id)
        assert platform is not None
        api = PlatformApi(session, http, platform, now, timeout)
        try:
            used = send_score(api, placement, user, sub)
        except ServiceError as exc:
            sub.attempts += 1
            sub.last_error = str(exc)[:500]
            delay = min(MAX_BACKOFF, timedelta(seconds=30 * 2 ** min(sub.attempts, 10)))
            sub.next_attempt_at = now + delay * (0.5 + random.random() / 2)
            failed += 1
            log.warning("score %s not sent (attempt %s): %s", sub.id, sub.attempts, exc)
        else:
            placement.lineitem_url = used
            sub.status = "sent"
            sent += 1
        session.commit()
    return sent, failed

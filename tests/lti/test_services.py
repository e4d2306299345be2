"""LTI Advantage round trips against the live demo LMS: Deep Linking, AGS, NRPS."""

from __future__ import annotations

from datetime import timedelta

import requests
from sqlalchemy import select

from lti_tool.db import utcnow
from lti_tool.demo import platform as demo
from lti_tool.demo.models import DemoLineItem, DemoLink, DemoScore
from lti_tool.lti.ags import queue_score, send_pending_scores
from lti_tool.models import Membership, Placement, Platform, ScoreSubmission, User
from lti_tool.runtime import make_http_session
from tests.lti.lms import form_fields


def test_deep_linking_places_a_graded_link_in_the_course(lms, live):
    """Picker -> signed response -> the LMS verifies it and creates the link and its column."""
    browser, token = lms.open_as(demo.USERS[0], message="deep_link")
    picker = browser.get(live.url + "/lti/deep-link", params={"lt": token})
    assert picker.status_code == 200 and "Daily review of this course" in picker.text
    back = browser.post(live.url + "/lti/deep-link", data={"lt": token, "choice": "daily-review"})
    assert back.status_code == 200
    fields = form_fields(back.text)
    placed = browser.post(live.url + "/demo/deep-link-return", data=fields)
    assert placed.status_code == 200, placed.text
    with live.db.session() as s:
        link = s.scalars(select(DemoLink)).one()
        assert link.title == "Daily review of this course"
        assert link.custom == {"microreview_item": "daily-review"}
        item = s.get(DemoLineItem, link.lineitem_id)
        assert item is not None and item.score_maximum == 100
        assert item.resource_id == "microreview-daily-review"


def test_deep_link_post_requires_instructor_launch_token(lms, live):
    """A learner's token, or none, cannot produce a Deep Linking response."""
    browser, token = lms.open_as(demo.USERS[1])
    assert browser.post(live.url + "/lti/deep-link", data={"lt": token}).status_code == 403
    assert requests.post(live.url + "/lti/deep-link", data={}).status_code == 401


def _learner_placement(lms, live):
    lms.open_as(demo.USERS[1])
    with live.db.session() as s:
        placement = s.scalars(select(Placement)).one()
        user = s.scalars(select(User).where(User.sub == demo.USERS[1].sub)).one()
        return placement.id, user.id


def test_scores_reach_the_lms_gradebook(lms, live):
    """A queued score is sent with a client-credentials token and lands in the LMS gradebook."""
    placement_id, user_id = _learner_placement(lms, live)
    with live.db.session() as s:
        queue_score(s, placement_id, user_id, 72.5, utcnow())
    with live.db.session() as s:
        sent, failed = send_pending_scores(s, make_http_session(), utcnow(), 5.0)
    assert (sent, failed) == (1, 0)
    with live.db.session() as s:
        score = s.scalars(select(DemoScore)).one()
        assert score.user_id == demo.USERS[1].sub
        assert score.score_given == 72.5 and score.score_maximum == 100
        assert (score.activity_progress, score.grading_progress) == ("Completed", "FullyGraded")
        assert s.scalars(select(ScoreSubmission)).one().status == "sent"


def test_failed_score_post_is_kept_and_retried_later(lms, live):
    """When the LMS refuses, the score stays pending with a backoff; a later run delivers it."""
    placement_id, user_id = _learner_placement(lms, live)
    with live.db.session() as s:
        platform = s.scalars(select(Platform)).one()
        good_url = platform.auth_token_url
        platform.auth_token_url = live.url + "/demo/no-such-token-endpoint"
        queue_score(s, placement_id, user_id, 50, utcnow())
    with live.db.session() as s:
        assert send_pending_scores(s, make_http_session(), utcnow(), 5.0) == (0, 1)
    with live.db.session() as s:
        sub = s.scalars(select(ScoreSubmission)).one()
        assert sub.status == "pending" and sub.attempts == 1 and sub.next_attempt_at > utcnow()
        assert "refused" in sub.last_error
        s.scalars(select(Platform)).one().auth_token_url = good_url
    later = utcnow() + timedelta(hours=7)
    with live.db.session() as s:
        assert send_pending_scores(s, make_http_session(), later, 5.0) == (1, 0)
    with live.db.session() as s:
        assert len(s.scalars(select(DemoScore)).all()) == 1


def test_service_token_is_reused_until_expiry(lms, live):
    """Two scores in a row use one cached access token."""
    from lti_tool.models import ServiceToken

    placement_id, user_id = _learner_placement(lms, live)
    with live.db.session() as s:
        queue_score(s, placement_id, user_id, 10, utcnow())
        queue_score(s, placement_id, user_id, 20, utcnow())
    with live.db.session() as s:
        assert send_pending_scores(s, make_http_session(), utcnow(), 5.0) == (2, 0)
        assert len(s.scalars(select(ServiceToken)).all()) == 1


def test_instructor_launch_syncs_the_whole_roster(lms, live):
    """The instructor page fetches every NRPS page and shows all members with roles."""
    browser, token = lms.open_as(demo.USERS[0])
    page = browser.get(live.url + "/instructor/", params={"lt": token})
    assert page.status_code == 200
    for user in demo.USERS:
        assert user.name in page.text
    with live.db.session() as s:
        rows = s.scalars(select(Membership)).all()
        assert len(rows) == len(demo.USERS)
        assert {r.source for r in rows} >= {"nrps"}


def test_learner_cannot_open_instructor_page(lms, live):
    """A learner's launch token is refused on instructor pages with 403."""
    browser, token = lms.open_as(demo.USERS[1])
    response = browser.get(live.url + "/instructor/", params={"lt": token})
    assert response.status_code == 403
    assert "instructors" in response.text


def test_revoked_service_token_is_refreshed_once(lms, live):
    """A cached token the LMS no longer accepts (401) is dropped and a new one fetched."""
    from lti_tool.models import ServiceToken

    placement_id, user_id = _learner_placement(lms, live)
    with live.db.session() as s:
        platform = s.scalars(select(Platform)).one()
        s.add(
            ServiceToken(
                platform_id=platform.id,
                scopes=" ".join(sorted(["https://purl.imsglobal.org/spec/lti-ags/scope/score"])),
                access_token="revoked",
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
        queue_score(s, placement_id, user_id, 90, utcnow())
    with live.db.session() as s:
        assert send_pending_scores(s, make_http_session(), utcnow(), 5.0) == (1, 0)
        assert s.scalars(select(ServiceToken)).one().access_token != "revoked"


def test_line_item_is_created_when_the_lms_gave_none(lms, live):
    """With only a line-item container, the tool creates its column, then posts the score."""
    ags = {
        "scope": [
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        ],
        "lineitems": f"{live.url}/demo/ags/{demo.CONTEXT_ID}/lineitems",
    }
    link = {"id": "ungraded-link", "title": "Safety refresher"}
    response = lms.launch(
        **{
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": ags,
            "https://purl.imsglobal.org/spec/lti/claim/resource_link": link,
        }
    )
    assert response.status_code == 303
    with live.db.session() as s:
        placement = s.scalars(
            select(Placement).where(Placement.resource_link_id == "ungraded-link")
        ).one()
        assert placement.lineitem_url is None
        user = s.scalars(select(User).where(User.sub == demo.USERS[1].sub)).one()
        queue_score(s, placement.id, user.id, 40, utcnow())
    with live.db.session() as s:
        assert send_pending_scores(s, make_http_session(), utcnow(), 5.0) == (1, 0)
    with live.db.session() as s:
        item = s.scalars(
            select(DemoLineItem).where(DemoLineItem.resource_link_id == "ungraded-link")
        ).one()
        assert item.label == "Safety refresher"
        assert s.scalars(select(DemoScore)).one().lineitem_id == item.id
        placement = s.scalars(
            select(Placement).where(Placement.resource_link_id == "ungraded-link")
        ).one()
        assert placement.lineitem_url and placement.lineitem_url.endswith(f"/lineitems/{item.id}")


def test_service_calls_name_the_tool_in_their_user_agent(lms, live):
    """Canvas refuses service calls without a User-Agent: token and roster calls carry ours."""
    from flask import request, request_started

    from lti_tool.runtime import USER_AGENT

    seen: dict[str, str] = {}

    def record(sender, **extra):  # type: ignore[no-untyped-def]
        if request.path.startswith(("/demo/token", "/demo/nrps")):
            seen[request.path.split("/")[2]] = request.headers.get("User-Agent", "")

    request_started.connect(record, live.app)
    try:
        browser, token = lms.open_as(demo.USERS[0])
        assert browser.get(live.url + "/instructor/", params={"lt": token}).status_code == 200
    finally:
        request_started.disconnect(record, live.app)
    assert seen == {"token": USER_AGENT, "nrps": USER_AGENT}

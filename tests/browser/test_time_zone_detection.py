"""A learner in Tokyo launches from the LMS: the tool learns their zone and shows times in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from lti_tool.models import Card, User
from lti_tool.models.review import CardState, ReminderPreference
from tests.views.learner_support import LEARNER, publish_cards
from xapi.db import create_xapi_tables

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ZONE_PATH = "/reminders/time-zone"


def _launch_as_learner(page, course_page: str):
    """Open the course page and launch the tool as the learner; returns the tool's frame."""
    page.goto(course_page)
    page.get_by_role("link", name=f"Learner: {LEARNER.name}").click()
    frame = page.frame_locator("iframe[name=tool]")
    frame.get_by_role("heading", name="You are up to date").wait_for(timeout=15000)
    return frame


def _stored_zone(live) -> tuple[str, str] | None:
    with live.db.session() as session:
        pref = session.scalars(select(ReminderPreference)).first()
        return (pref.time_zone, pref.time_zone_source) if pref else None


def _due_later(live, due: datetime) -> None:
    """The learner has reviewed the course's one card, next due at `due`."""
    (card_id,) = publish_cards(live, units=1, per_unit=1)
    with live.db.session() as session:
        user = session.scalars(select(User).where(User.sub == LEARNER.sub)).one()
        card = session.get(Card, card_id)
        assert card is not None
        session.add(
            CardState(
                user_id=user.id,
                card_id=card.id,
                context_id=card.context_id,
                state=2,
                stability=10.0,
                difficulty=5.0,
                due=due,
                last_review=due - timedelta(days=4),
                reps=1,
            )
        )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_learner_launch_stores_the_browsers_zone_and_later_pages_use_it(live, chromium):
    """After a launch from a browser in Tokyo the zone is Asia/Tokyo (detected), and the next
    visit shows the next review in Tokyo time without asking again; no cookie is set."""
    create_xapi_tables(live.db.engine)
    # The course page on "localhost" embeds the tool on "127.0.0.1": a cross-site iframe.
    course_page = live.url.replace("127.0.0.1", "localhost") + "/demo/"
    context = chromium.new_context(timezone_id="Asia/Tokyo")
    try:
        page = context.new_page()
        with page.expect_response(lambda r: r.url.endswith(ZONE_PATH)) as posted:
            _launch_as_learner(page, course_page)
        assert posted.value.status == 204
        assert _stored_zone(live) == ("Asia/Tokyo", "browser")

        due = datetime.now(UTC).replace(hour=18, minute=0, second=0, microsecond=0)
        due += timedelta(days=3)  # 03:00 the next day in Tokyo: the date shows the zone too
        _due_later(live, due)
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url) if r.url.endswith(ZONE_PATH) else None)
        frame = _launch_as_learner(page, course_page)
        shown = frame.locator("#next-due").inner_text()
        assert shown == due.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%a %-d %b %Y, %H:%M")
        assert asked == []
        assert context.cookies() == []
    finally:
        context.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_times_on_the_first_page_are_shown_again_in_the_detected_zone(live, chromium):
    """The first visit from Tokyo shows the next review in Tokyo time too: once the zone is
    stored, the page shows itself again."""
    create_xapi_tables(live.db.engine)
    course_page = live.url.replace("127.0.0.1", "localhost") + "/demo/"
    at_home = chromium.new_context(timezone_id="UTC")  # the installation's zone: nothing to store
    try:
        _launch_as_learner(at_home.new_page(), course_page)
    finally:
        at_home.close()
    assert _stored_zone(live) is None
    due = datetime.now(UTC).replace(hour=18, minute=0, second=0, microsecond=0)
    due += timedelta(days=3)
    _due_later(live, due)
    travelling = chromium.new_context(timezone_id="Asia/Tokyo")
    try:
        frame = _launch_as_learner(travelling.new_page(), course_page)
        tokyo = due.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%a %-d %b %Y, %H:%M")
        frame.locator("#next-due", has_text=tokyo).wait_for(timeout=10000)
        assert _stored_zone(live) == ("Asia/Tokyo", "browser")
    finally:
        travelling.close()

"""A learner's reminder settings page: address, zone, hour, opt-out, calendar, link revocation."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.models.review import ReminderPreference
from tests.views.learner_support import LEARNER


def test_learner_sets_zone_hour_and_address(live, lms):
    """The learner's choices are stored; an unknown time zone is refused with advice."""
    browser, lt = lms.open_as(LEARNER)
    url = f"{live.url}/reminders/preferences"
    page = browser.get(url, params={"lt": lt})
    assert page.status_code == 200 and "/reminders/calendar/" in page.text
    saved = browser.post(
        url,
        data={
            "lt": lt,
            "email": "lin@home.example",
            "time_zone": "Europe/Berlin",
            "local_hour": "7",
            "reminders": "on",
            "action": "save",
        },
    )
    assert "saved" in saved.text
    bad = browser.post(
        url, data={"lt": lt, "time_zone": "Mars/Olympus", "local_hour": "7", "action": "save"}
    )
    assert "unknown time zone" in bad.text
    with live.db.session() as session:
        pref = session.scalars(select(ReminderPreference)).one()
        assert (pref.email, pref.time_zone, pref.local_hour) == (
            "lin@home.example",
            "Europe/Berlin",
            7,
        )
        assert not pref.unsubscribed


def test_learner_revokes_review_links_and_can_opt_out(live, lms):
    """Revoking bumps the link generation; unticking reminders unsubscribes."""
    browser, lt = lms.open_as(LEARNER)
    url = f"{live.url}/reminders/preferences"
    browser.get(url, params={"lt": lt})
    browser.post(url, data={"lt": lt, "action": "revoke"})
    browser.post(url, data={"lt": lt, "time_zone": "UTC", "local_hour": "9", "action": "save"})
    with live.db.session() as session:
        pref = session.scalars(select(ReminderPreference)).one()
        assert pref.link_generation == 2
        assert pref.unsubscribed

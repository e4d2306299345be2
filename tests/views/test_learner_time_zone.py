"""The learner's time zone from their browser: stored unless they chose one, shown on settings."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import requests
from sqlalchemy import select

from lti_tool.models.review import ReminderPreference
from tests.views.learner_support import LEARNER, page

JSON = {"Accept": "application/json"}


def _zone_url(live) -> str:
    return f"{live.url}/reminders/time-zone"


def _stored(live) -> tuple[str, str] | None:
    """The only learner's stored (zone, source), or None without a preferences row."""
    with live.db.session() as session:
        pref = session.scalars(select(ReminderPreference)).first()
        return (pref.time_zone, pref.time_zone_source) if pref else None


def _choose(live, browser, lt: str, zone: str):
    """Save the preferences page with a time zone, as the learner does."""
    return browser.post(
        f"{live.url}/reminders/preferences",
        data={"lt": lt, "time_zone": zone, "local_hour": "7", "reminders": "on", "action": "save"},
    )


def test_browser_zone_is_stored_as_detected(live, lms):
    """The zone the browser reports is saved with source browser; a later report replaces it."""
    browser, lt = lms.open_as(LEARNER)
    posted = browser.post(_zone_url(live), data={"lt": lt, "time_zone": "Asia/Tokyo"})
    assert posted.status_code == 204 and posted.content == b""
    assert _stored(live) == ("Asia/Tokyo", "browser")
    browser.post(_zone_url(live), data={"lt": lt, "time_zone": "Europe/Paris"})
    assert _stored(live) == ("Europe/Paris", "browser")


def test_browser_zone_never_replaces_the_learners_choice(live, lms):
    """After the learner saves a zone on the settings page, detection changes nothing."""
    browser, lt = lms.open_as(LEARNER)
    assert "saved" in _choose(live, browser, lt, "Europe/Berlin").text
    assert _stored(live) == ("Europe/Berlin", "learner")
    posted = browser.post(_zone_url(live), data={"lt": lt, "time_zone": "Asia/Tokyo"})
    assert posted.status_code == 204
    assert _stored(live) == ("Europe/Berlin", "learner")


def test_unknown_browser_zone_is_refused_and_changes_nothing(live, lms):
    """A name that is no IANA zone gets 400 with a reason; the stored zone stays."""
    browser, lt = lms.open_as(LEARNER)
    refused = browser.post(
        _zone_url(live), data={"lt": lt, "time_zone": "Mars/Olympus"}, headers=JSON
    )
    assert refused.status_code == 400
    assert "unknown time zone 'Mars/Olympus'" in refused.json()["reason"]
    assert _stored(live) is None
    browser.post(_zone_url(live), data={"lt": lt, "time_zone": "Asia/Tokyo"})
    empty = browser.post(_zone_url(live), data={"lt": lt, "time_zone": ""}, headers=JSON)
    assert empty.status_code == 400
    assert _stored(live) == ("Asia/Tokyo", "browser")


def test_browser_zone_needs_a_valid_launch_token(live, lms):
    """Without the launch token, or with a tampered one, the zone is refused (401)."""
    _, lt = lms.open_as(LEARNER)
    missing = requests.post(_zone_url(live), data={"time_zone": "Asia/Tokyo"}, headers=JSON)
    forged = ("B" if lt[0] == "A" else "A") + lt[1:]  # the signed payload altered
    tampered = requests.post(
        _zone_url(live), data={"lt": forged, "time_zone": "Asia/Tokyo"}, headers=JSON
    )
    assert (missing.status_code, tampered.status_code) == (401, 401)
    assert _stored(live) is None


def test_anonymous_launch_has_no_zone_to_store(live, lms):
    """A launch without a user gets 404, like the reminder settings page."""
    location = lms.launch(sub=None).headers["Location"]
    lt = parse_qs(urlparse(location).query)["lt"][0]
    answer = requests.post(_zone_url(live), data={"lt": lt, "time_zone": "Asia/Tokyo"})
    assert answer.status_code == 404
    assert _stored(live) is None


def test_settings_page_shows_the_detected_zone_until_the_learner_saves(live, lms):
    """The detected zone is preselected and labelled; saving the page makes it the learner's."""
    browser, lt = lms.open_as(LEARNER)
    url = f"{live.url}/reminders/preferences"
    browser.post(_zone_url(live), data={"lt": lt, "time_zone": "Asia/Tokyo"})
    shown = page(browser.get(url, params={"lt": lt}))
    assert shown.find("input", id="time_zone")["value"] == "Asia/Tokyo"
    assert "Detected from your browser" in shown.find(id="zone-help").get_text()
    saved = page(_choose(live, browser, lt, "Asia/Tokyo"))
    assert _stored(live) == ("Asia/Tokyo", "learner")
    assert saved.find(id="zone-detected") is None


def test_learner_page_asks_the_browser_only_while_the_zone_is_not_chosen(live, lms):
    """The landing page carries the nonce'd detection script, and drops it once a zone is chosen."""
    browser, lt = lms.open_as(LEARNER)
    landing = browser.get(f"{live.url}/learner/", params={"lt": lt})
    nonce = landing.headers["Content-Security-Policy"].split("'nonce-", 1)[1].split("'", 1)[0]
    scripts = [s for s in page(landing).find_all("script") if "/reminders/time-zone" in s.text]
    assert len(scripts) == 1 and scripts[0]["nonce"] == nonce
    assert '=== "UTC"' in scripts[0].text and "keepalive: true" in scripts[0].text
    _choose(live, browser, lt, "Europe/Berlin")
    again = browser.get(f"{live.url}/learner/", params={"lt": lt})
    assert "/reminders/time-zone" not in again.text


def test_learner_can_keep_following_the_browser_zone(live, lms):
    """Saving with 'follow my browser' ticked keeps detection on: a trip changes the zone."""
    browser, lt = lms.open_as(LEARNER)
    url = f"{live.url}/reminders/preferences"
    assert page(browser.get(url, params={"lt": lt})).find(id="follow_browser").has_attr("checked")
    form = {"lt": lt, "time_zone": "Europe/Berlin", "local_hour": "7", "action": "save"}
    browser.post(url, data={**form, "follow_browser": "on"})
    assert _stored(live) == ("Europe/Berlin", "browser")
    browser.post(_zone_url(live), data={"lt": lt, "time_zone": "America/New_York"})
    assert _stored(live) == ("America/New_York", "browser")
    browser.post(url, data=form)  # unticked: the zone becomes the learner's own
    assert _stored(live) == ("Europe/Berlin", "learner")
    assert (
        not page(browser.get(url, params={"lt": lt})).find(id="follow_browser").has_attr("checked")
    )

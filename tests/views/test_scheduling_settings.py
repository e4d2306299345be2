"""The instructor's scheduling settings page."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.models.review import CourseSchedule
from tests.views.learner_support import INSTRUCTOR, LEARNER, page

FORM = {
    "desired_retention": "0.85",
    "critical_retention": "0.96",
    "session_minutes": "8",
    "new_per_day": "4",
    "maximum_interval": "120",
    "course_url": "https://lms.example/c/1",
}


def test_instructor_saves_retention_targets_minutes_and_new_cards(live, lms):
    """Valid settings are stored and shown back."""
    browser, lt = lms.open_as(INSTRUCTOR)
    page = browser.get(f"{live.url}/instructor/scheduling/", params={"lt": lt})
    assert page.status_code == 200 and 'value="0.90"' in page.text
    # The address read from the launch is offered as the default course link.
    assert f"the address your LMS gave at launch: {live.url}/" in page.text
    saved = browser.post(f"{live.url}/instructor/scheduling/", data={**FORM, "lt": lt})
    assert saved.status_code == 200 and "Settings saved" in saved.text
    with live.db.session() as session:
        schedule = session.scalars(select(CourseSchedule)).one()
        assert (schedule.desired_retention, schedule.critical_retention) == (0.85, 0.96)
        assert (schedule.session_minutes, schedule.new_per_day) == (8, 4)
        assert schedule.maximum_interval == 120


def test_retention_outside_the_allowed_range_is_refused(live, lms):
    """0.99 is above the 0.97 ceiling: nothing is saved and the page says why."""
    browser, lt = lms.open_as(INSTRUCTOR)
    refused = browser.post(
        f"{live.url}/instructor/scheduling/", data={**FORM, "desired_retention": "0.99", "lt": lt}
    )
    assert refused.status_code == 400
    assert "between 0.7 and 0.97" in refused.text
    with live.db.session() as session:
        assert session.scalars(select(CourseSchedule)).one().desired_retention == 0.90


def test_learners_cannot_open_the_scheduling_settings(live, lms):
    """The settings page is for instructors only."""
    browser, lt = lms.open_as(LEARNER)
    response = browser.get(f"{live.url}/instructor/scheduling/", params={"lt": lt})
    assert response.status_code == 403


def test_the_course_overview_summarises_the_schedule_and_links_to_its_settings(live, lms):
    """An instructor finds the scheduling settings from the course page, which sums them up."""
    browser, lt = lms.open_as(INSTRUCTOR)
    browser.post(f"{live.url}/instructor/scheduling/", data={**FORM, "lt": lt})
    home = page(browser.get(f"{live.url}/instructor/", params={"lt": lt}))
    summary = home.find(id="schedule").get_text(" ", strip=True)
    assert "8 minutes" in summary and "4 new cards" in summary and "85%" in summary
    assert "96% for critical units" in summary and "120 days" in summary
    link = home.find(id="schedule").find("a")["href"]
    assert link.startswith("/instructor/scheduling/")
    assert browser.get(live.url + link).status_code == 200

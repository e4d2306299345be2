"""What a person with assistive technology meets: axe-core finds no WCAG 2.1 A/AA violation on
the pages learners, instructors and admins use (demo course with its sample content)."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from lti_tool.demo import platform as demo
from lti_tool.demo.sample_course import seed_sample_course
from tests.lti.lms import TestLms

pytestmark = [pytest.mark.slow, pytest.mark.browser]
WCAG_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
_axe = Axe()


def violations(page: Any) -> list[str]:
    """Every WCAG A/AA violation on the page, one line each (rule, impact, first element)."""
    found = _axe.run(page, options=WCAG_AA).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['html'][:120]}" for v in found]


@pytest.fixture
def tokens(live: Any) -> dict[str, str]:
    """Launch tokens of an instructor and a learner of the seeded demo course."""
    with live.db.session() as session:
        seed_sample_course(session, demo.DemoPlatform(live.url).ensure_registered(session))
    lms = TestLms(live)
    return {
        "instructor": lms.open_as(demo.USERS[0])[1],
        "learner": lms.open_as(demo.USERS[1])[1],
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("instructor", "/instructor/"),
        ("instructor", "/content/"),
        ("instructor", "/content/cards?status=draft"),
        ("instructor", "/content/upload"),
        ("instructor", "/content/cards/new"),
        ("instructor", "/instructor/scheduling/"),
        ("instructor", "/admin/"),
        ("learner", "/reminders/preferences"),
        ("learner", "/instructor/"),  # the refusal page a learner gets
    ],
)
def test_pages_have_no_wcag_violations(live, tokens, page, who, path):
    """Each page, as its user opens it, passes axe-core's WCAG 2.1 A and AA rules."""
    separator = "&" if "?" in path else "?"
    page.goto(f"{live.url}{path}{separator}lt={tokens[who]}")
    assert violations(page) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_whole_review_session_has_no_wcag_violations(live, tokens, page):
    """Card, feedback and summary pages of a full session pass the same rules."""
    page.goto(f"{live.url}/learner/?lt={tokens['learner']}")
    seen = 0
    while page.locator("#answer-form").count():
        assert violations(page) == [], page.url
        page.locator("#answer-form input[type=radio]").first.check()
        page.locator("#answer-form [type=submit]").click()
        page.wait_for_load_state()
        assert violations(page) == [], page.url
        page.locator(".actions a, .actions button").first.click()
        page.wait_for_load_state()
        seen += 1
    assert seen >= 5
    assert "Session complete" in page.content()
    assert violations(page) == []

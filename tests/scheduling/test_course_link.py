"""The course's address in the LMS, read from launch claims, reaches reminder emails."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lti_tool.demo import platform as demo
from lti_tool.jobs import run_reminders
from lti_tool.lti import claims
from lti_tool.lti.course_link import course_link
from lti_tool.models import Context, CourseSchedule
from tests.lti.lms import TestLms
from tests.scheduling.builders import build_course
from tests.scheduling.smtp import bodies
from tests.scheduling.test_reminders import MORNING, make_due, settings_for

MOODLE = {
    "iss": "https://moodle.example.edu/",
    claims.TOOL_PLATFORM: {"product_family_code": "moodle"},
    claims.CONTEXT: {"id": "42"},
    claims.LAUNCH_PRESENTATION: {
        "return_url": "https://moodle.example.edu/mod/lti/return.php?course=42&sesskey=SECRET"
    },
}
CANVAS = {
    "iss": "https://canvas.instructure.com",
    claims.TOOL_PLATFORM: {"product_family_code": "canvas"},
    claims.CONTEXT: {"id": "4dde05e8ca1973bcca9bffc13e1548820eee93a3"},
    claims.LAUNCH_PRESENTATION: {
        "return_url": "https://school.instructure.com/courses/123/external_content/success/"
        "external_tool_redirect"
    },
}


def test_moodle_course_page_is_built_from_the_course_id():
    """Moodle: the site URL plus course/view.php; the return URL's session key is not kept."""
    assert course_link(MOODLE) == "https://moodle.example.edu/course/view.php?id=42"


def test_canvas_course_page_comes_from_the_tenant_return_url():
    """Canvas: the tenant's domain and course number, never the shared issuer."""
    assert course_link(CANVAS) == "https://school.instructure.com/courses/123"


def test_other_platforms_fall_back_to_the_lms_home_without_query():
    """Elsewhere, the return URL's origin; nothing at all without a usable return URL."""
    other = {
        "iss": "https://lms.example",
        claims.LAUNCH_PRESENTATION: {"return_url": "https://lms.example/d2l/home/7?token=x"},
    }
    assert course_link(other) == "https://lms.example/"
    assert course_link({"iss": "https://lms.example"}) is None
    javascript = {claims.LAUNCH_PRESENTATION: {"return_url": "javascript:alert(1)"}}
    assert course_link(javascript) is None


def test_launch_records_the_course_link(live):
    """A launch stores the course's LMS address with the course."""
    lms = TestLms(live)
    assert lms.launch(user=demo.USERS[1]).status_code == 303
    with live.db.session() as s:
        context = s.scalars(select(Context)).one()
    assert context.lms_url == live.url + "/"  # the demo LMS: its return URL's origin


def test_reminders_link_to_the_launch_address_unless_the_instructor_set_one(db, smtp):
    """The email's course link: the instructor's address if set, else the one from launches."""
    inbox, port = smtp
    with db.session() as s:
        rows = build_course(s, learners=1)
        s.get(Context, rows.context_id).lms_url = "https://school.instructure.com/courses/123"
    make_due(db, rows)
    settings = settings_for(db, port)
    assert run_reminders(db, settings, MORNING).sent == 1
    text, html = bodies(inbox.messages[0])
    assert "https://school.instructure.com/courses/123" in text
    assert 'href="https://school.instructure.com/courses/123"' in html
    with db.session() as s:
        schedule = s.scalars(select(CourseSchedule)).first() or CourseSchedule(
            context_id=rows.context_id
        )
        schedule.course_url = "https://school.instructure.com/courses/123/modules"
        s.add(schedule)
    assert run_reminders(db, settings, MORNING + timedelta(days=1)).sent == 1
    text, _ = bodies(inbox.messages[1])
    assert "https://school.instructure.com/courses/123/modules" in text

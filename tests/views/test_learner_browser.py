"""A full learner session in headless Chromium, inside an LMS page's iframe, keyboard only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.views.learner_support import LEARNER, publish_cards


@pytest.fixture
def lms_page() -> Iterator[tuple[str, dict[str, str]]]:
    """An LMS course page served on loopback under `localhost`, another site than the tool's
    127.0.0.1 (Chromium refuses to frame local addresses from pages it cannot place locally)."""
    frame: dict[str, str] = {}

    class CoursePage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = (
                f'<!doctype html><title>Course</title><h1>LMS course</h1><iframe id="tool" '
                f'title="Microreview" src="{frame["src"]}" width="390" height="700"></iframe>'
            )
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), CoursePage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_port}/course/101", frame
    server.shutdown()
    server.server_close()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_learner_completes_a_session_in_an_lms_iframe_with_the_keyboard(
    live, lms, lms_page, chromium
):
    """Answer every card with the keyboard inside a cross-site iframe; no cookie is ever set."""
    _, lt = lms.open_as(LEARNER)
    cards = publish_cards(live, units=2, per_unit=1)
    course_url, frame = lms_page
    frame["src"] = f"{live.url}/learner/?lt={lt}"
    context = chromium.new_context(viewport={"width": 390, "height": 844})  # a phone
    try:
        page = context.new_page()
        page.goto(course_url)
        tool = page.frame_locator("#tool")
        for number in range(1, len(cards) + 1):
            tool.get_by_role("heading", name=f"card {number} of {len(cards)}").wait_for()
            choice = tool.get_by_label("Lock out the machine")
            choice.focus()
            page.keyboard.press("Space")
            assert choice.is_checked()
            page.keyboard.press("Tab")
            page.keyboard.press("Enter")
            verdict = tool.get_by_role("status")
            verdict.wait_for()
            assert verdict.inner_text().strip() == "Correct"
            assert "Lock out the machine" in tool.locator("#right-answer").inner_text()
            page.keyboard.press("Enter")  # the focused "Next card" / "See your summary"
        tool.get_by_role("heading", name="Session complete").wait_for()
        assert "got 2 right" in tool.locator("#score").inner_text()
        assert context.cookies() == []
    finally:
        context.close()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_explanation_starts_on_the_why_line(live, lms, page):
    """Feedback HTML that opens with a paragraph still reads 'Why: ...' on one line."""
    from sqlalchemy import update

    from lti_tool.models import Card

    _, lt = lms.open_as(LEARNER)
    cards = publish_cards(live, units=1, per_unit=1)
    with live.db.session() as session:
        session.execute(
            update(Card)
            .where(Card.id == cards[0])
            .values(feedback_html="<p>Isolation first.</p><p>Then test.</p>")
        )
    page.goto(f"{live.url}/learner/?lt={lt}")
    page.get_by_label("Lock out the machine").check()
    page.locator("#answer-form [type=submit]").click()
    why = page.locator(".explanation strong")
    first = page.locator(".explanation p").first
    first.wait_for()
    why_box, first_box = why.bounding_box(), first.bounding_box()
    assert why_box and first_box
    assert abs(why_box["y"] - first_box["y"]) < why_box["height"] / 2

"""A full learner session in headless Chromium, inside an LMS page's iframe, keyboard only."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from tests.views.learner_support import LEARNER, lms, publish_cards  # noqa: F401

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Another site than the tool (127.0.0.1), but also on loopback: Chromium blocks public pages
# from framing local addresses (Local Network Access), so a public LMS name cannot be used.
LMS_PAGE = "http://localhost:9/course/101"


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_learner_completes_a_session_in_an_lms_iframe_with_the_keyboard(live, lms):
    """Answer every card with the keyboard inside a cross-site iframe; no cookie is ever set."""
    _, lt = lms.open_as(LEARNER)
    cards = publish_cards(live, units=2, per_unit=1)
    frame_src = f"{live.url}/learner/?lt={lt}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
            page = context.new_page()
            page.route(LMS_PAGE, lambda route: route.fulfill(
                content_type="text/html",
                body=f'<!doctype html><title>Course</title><h1>LMS course</h1>'
                     f'<iframe id="tool" title="Microreview" src="{frame_src}" '
                     f'style="width:100%;height:700px"></iframe>'))
            page.goto(LMS_PAGE)
            frame = page.frame_locator("#tool")
            for number in range(1, len(cards) + 1):
                frame.get_by_role("heading", name=f"card {number} of {len(cards)}").wait_for()
                choice = frame.get_by_label("Lock out the machine")
                choice.focus()
                page.keyboard.press("Space")
                assert choice.is_checked()
                page.keyboard.press("Tab")
                page.keyboard.press("Enter")
                verdict = frame.get_by_role("status")
                verdict.wait_for()
                assert verdict.inner_text().strip() == "Correct"
                assert "Lock out the machine" in frame.locator("#right-answer").inner_text()
                page.keyboard.press("Enter")  # the focused "Next card" / "See your summary"
            frame.get_by_role("heading", name="Session complete").wait_for()
            assert "got 2 right" in frame.locator("#score").inner_text()
            assert context.cookies() == []
        finally:
            browser.close()

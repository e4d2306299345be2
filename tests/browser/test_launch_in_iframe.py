"""What a person sees: launching inside an LMS iframe, with and without third-party cookies."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _cross_site_course_page(live) -> str:
    # The course page on "localhost" embeds the tool on "127.0.0.1": a different site, so the
    # tool's cookies in the iframe are third-party, as in a real LMS.
    return live.url.replace("127.0.0.1", "localhost") + "/demo/"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_launch_in_cross_site_iframe_uses_platform_storage(live, page):
    """Without the state cookie, the launch completes through LTI Platform Storage."""
    page.goto(_cross_site_course_page(live))
    page.get_by_role("link", name="Instructor: Ada Instructor").click()
    frame = page.frame_locator("iframe[name=tool]")
    frame.get_by_text("instructor view").wait_for(timeout=15000)
    cookies = page.context.cookies(live.url)
    assert not [c for c in cookies if c["name"].startswith("mr_state_")]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_iframe_launch_without_storage_or_cookie_offers_new_window(live, page):
    """With neither cookie nor platform storage, the page offers to open in a new window."""
    page.goto(_cross_site_course_page(live))
    page.evaluate("""() => { const a = document.createElement('a');
        a.href = document.querySelector('a[target=tool]').href.replace('&storage=1', '');
        a.target = 'tool'; a.id = 'nostorage'; a.textContent = 'x'; document.body.append(a); }""")
    page.click("#nostorage")
    frame = page.frame_locator("iframe[name=tool]")
    button = frame.get_by_role("link", name="Open Microreview in a new window")
    button.wait_for(timeout=15000)
    with page.context.expect_page() as popup_info:
        button.click()
    popup = popup_info.value
    popup.get_by_text("instructor view").wait_for(timeout=15000)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_instructor_adds_daily_review_by_deep_linking(live, page):
    """The instructor picks the daily review; the LMS shows the placed link."""
    page.goto(live.url + "/demo/")
    page.get_by_role("link", name="Add to course (Deep Linking)").click()
    frame = page.frame_locator("iframe[name=tool]")
    frame.get_by_role("button", name="Add to course").click()
    frame.get_by_text("Placed in the course").wait_for(timeout=15000)
    page.goto(live.url + "/demo/")
    assert page.get_by_text("Daily review of this course").count() >= 1

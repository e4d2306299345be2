"""Headless Chromium: imported HTML never runs script; upload -> progress -> preview works."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lti_tool.jobs import create_jobs
from lti_tool.models import Card, Unit
from lti_tool.views.course_content import JOBS_KEY
from tests.conftest import LiveServer
from tests.content.conftest import INSTRUCTOR, LEARNER, launch, topic_page
from tests.content.test_pages import upload

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

# Every payload sets window.__pwned and opens a dialog if it ever runs.
RUN = "window.__pwned='{0}';alert('{0}')"
LOCKOUT, FORKLIFT = (topic_page(t, 400).split("\n", 2)[2] for t in ("lockout", "forklift"))
HOSTILE_HTML = "\n".join(
    [
        "<!DOCTYPE html><html><head><title>Hostile</title>",
        f"<script>{RUN.format('head')}</script>",
        "<base href=\"javascript:alert('base')//\"></head>",
        f'<body onload="{RUN.format("body-onload")}"><h1>Hostile page</h1>',
        f"<p>{LOCKOUT}</p>",
        f'<p><img src="x" onerror="{RUN.format("img")}">',
        f'<a href="javascript:{RUN.format("link")}">Open the procedure</a></p>',
        f"<script>{RUN.format('body')}</script>",
        f'<svg onload="{RUN.format("svg")}"><script>{RUN.format("svg-script")}</script></svg>',
        f'<iframe src="javascript:{RUN.format("iframe")}"></iframe>',
        "<iframe srcdoc=\"&lt;script&gt;parent.__pwned='srcdoc'&lt;/script&gt;\"></iframe>",
        f'<object data="javascript:{RUN.format("object")}"></object>',
        "<embed src=\"javascript:alert('embed')\">",
        f'<p onmouseover="{RUN.format("hover")}"',
        " style=\"background:url(javascript:alert('css'))\">Hover</p>",
        "<math><mtext><table><mglyph><style>",
        f'<img src=x onerror="{RUN.format("mxss")}"></style></mglyph></table></mtext></math>',
        f'<form action="javascript:{RUN.format("form")}"><button>Go</button></form>',
        f'<details open ontoggle="{RUN.format("toggle")}"><summary>More</summary>x</details>',
        "<a href=\"data:text/html,&lt;script&gt;alert('data')&lt;/script&gt;\">Data link</a>",
        '<meta http-equiv="refresh" content="0;url=javascript:alert(\'meta\')">',
        f"<p>{FORKLIFT}</p></body></html>",
    ]
)
HOSTILE_QUESTION = "\n".join(
    [
        '<?xml version="1.0" encoding="UTF-8"?><quiz>',
        '<question type="shortanswer"><name><text>Lock</text></name>',
        '<questiontext format="html"><text><![CDATA[<p>What locks an isolator?',
        f'<img src=x onerror="{RUN.format("card")}">',
        f"<script>{RUN.format('card-script')}</script></p>]]></text></questiontext>",
        '<answer fraction="100"><text>padlock</text></answer></question></quiz>',
    ]
)


def _watch(page: Any) -> list[str]:
    """Record every dialog the page opens (none should)."""
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def _poke(page: Any) -> None:
    """Do what a reader would: hover, click links and buttons that are left."""
    for selector in (".unit-body p", ".unit-body img", ".unit-body a", "button"):
        for index in range(page.locator(selector).count()):
            target = page.locator(selector).nth(index)
            if target.is_visible():
                target.hover(timeout=2000)
                if selector == ".unit-body a":
                    target.click(timeout=2000, no_wait_after=True)
    page.wait_for_timeout(300)


def test_imported_html_never_runs_script_in_the_browser(
    content_live: LiveServer, lms, page, tmp_path: Path
):
    """Script, handlers, javascript: and data: URLs in a course stay inert on every page."""
    browser, lt = launch(lms, INSTRUCTOR)
    (tmp_path / "hostile.html").write_text(HOSTILE_HTML)
    (tmp_path / "quiz.xml").write_text(HOSTILE_QUESTION)
    for name in ("hostile.html", "quiz.xml"):
        assert upload(content_live, browser, lt, tmp_path / name).status_code == 200
    with content_live.db.session() as s:
        units = s.scalars(select(Unit.id)).all()
        card = s.scalar(select(Card.id).where(Card.origin == "imported"))
    _, learner_lt = launch(lms, LEARNER)
    urls = [f"/content/units/{u}?lt={lt}" for u in units] + [f"/content/cards/{card}?lt={lt}"]
    urls += [f"/learner/unit/{u}?lt={learner_lt}" for u in units]
    dialogs = _watch(page)
    page.set_content(f'<img src=x onerror="{RUN.format("control")}">')  # the harness sees it
    page.wait_for_function("window.__pwned === 'control'")
    assert dialogs == ["control"]
    dialogs.clear()
    for url in urls:
        page.goto(content_live.url + url)
        assert page.get_by_role("heading", level=1).count() == 1
        _poke(page)
        page.goto(content_live.url + url)  # clicked links may have navigated away
        assert page.evaluate("window.__pwned") is None, url
    assert dialogs == []
    page.goto(content_live.url + urls[0])
    assert "isolation" in page.locator("#unit-body").inner_text()


@pytest.fixture
def queued_jobs(content_live: LiveServer) -> Iterator[Any]:
    """A real (not immediate) job queue for the live tool: imports wait for a worker."""
    jobs = create_jobs(content_live.settings)
    content_live.app.extensions[JOBS_KEY] = jobs
    yield jobs
    jobs.huey.storage.flush_all()
    jobs.db.engine.dispose()


def test_upload_shows_progress_until_the_worker_finishes_then_the_preview(
    content_live: LiveServer, lms, page, tmp_path: Path, queued_jobs: Any
):
    """The progress page polls while the import waits, then shows the summary and units."""
    _, lt = launch(lms, INSTRUCTOR)
    archive = tmp_path / "handbook.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("01-lockout.md", topic_page("lockout"))
        handle.writestr("02-forklift.md", topic_page("forklift"))
    page.goto(f"{content_live.url}/content/upload?lt={lt}")
    assert "200 MiB" in page.locator("#limit-help").inner_text()
    page.set_input_files("#course", str(archive))
    page.get_by_role("button", name="Upload and import").click()
    page.locator("#import-bar").wait_for()
    assert "Waiting" in page.locator("#import-message").inner_text()
    assert queued_jobs.huey.execute(queued_jobs.huey.dequeue()) == "done"
    page.locator("#import-done").wait_for(timeout=15000)  # the poll saw "done" and reloaded
    assert "2 micro-units" in page.locator("#import-done").inner_text()
    page.get_by_role("link", name="Preview the micro-units").click()
    assert page.locator("tr.unit-row").count() == 2
    page.get_by_role("link", name="Forklift").click()
    assert "pallet" in page.locator("#unit-body").inner_text()

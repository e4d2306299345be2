"""Instructor content pages over real HTTP after a real launch: import, preview, edit, isolation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from bs4 import BeautifulSoup
from sqlalchemy import select

from lti_tool.models import Asset, Card, CardStatus, CourseImport, Unit
from tests.conftest import LiveServer
from tests.content.builders import BUILDERS, moodle_xml
from tests.content.conftest import INSTRUCTOR, LEARNER, launch, topic_page
from tests.lti.lms import TestLms

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def upload(live: LiveServer, browser: requests.Session, lt: str, path: Path) -> requests.Response:
    """Post a course file to the upload form and follow to the import page."""
    with path.open("rb") as handle:
        return browser.post(
            live.url + "/content/upload", data={"lt": lt}, files={"course": (path.name, handle)}
        )


def _page(response: requests.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def _row(live: LiveServer, model, **where):  # type: ignore[no-untyped-def]
    with live.db.session() as s:
        return s.scalars(select(model).filter_by(**where)).first()


def test_upload_imports_in_the_background_and_shows_summary_and_preview(
    content_live, lms, tmp_path
):
    """Upload -> import page with the summary -> units grouped by module with minutes."""
    browser, lt = launch(lms, INSTRUCTOR)
    form = _page(browser.get(content_live.url + "/content/upload", params={"lt": lt}))
    assert form.find(id="max-size").text == "200 MiB"
    assert "Moodle course backup" in form.text
    archive = tmp_path / "handbook.zip"
    _zip(
        archive,
        {
            "safety/01-lockout.md": topic_page("lockout"),
            "safety/02-forklift.md": topic_page("forklift"),
        },
    )
    done = upload(content_live, browser, lt, archive)
    assert done.status_code == 200 and "/content/imports/" in done.url
    assert "Imported" in _page(done).find(id="import-done").text
    status = browser.get(done.url.replace("?", "/status?")).json()
    assert (status["status"], status["progress"]) == ("done", 100)
    units = _page(browser.get(content_live.url + "/content/", params={"lt": lt}))
    assert [h.text.split("·")[0].strip() for h in units.select("section.module h2")] == ["Handbook"]
    rows = [r.select("td") for r in units.select("tr.unit-row")]
    assert [r[1].a.text for r in rows] == ["Lockout", "Forklift"]
    assert all(float(r[2].text) > 2 for r in rows)


def test_failed_import_page_shows_message_and_advice(content_live, lms, fixtures):
    """A Moodle 1.9 backup ends in a failed import that says what to do instead."""
    browser, lt = launch(lms, INSTRUCTOR)
    page = _page(upload(content_live, browser, lt, fixtures / "moodle19-backup/moodle.xml"))
    failed = page.find(id="import-failed").text
    assert "Moodle 1.9 backups are not supported" in failed
    assert "export it as a Common Cartridge" in failed
    assert _row(content_live, Unit) is None


@SQLITE
def test_empty_upload_gets_a_400_page_with_advice(content_live, lms, tmp_path):
    """An empty file is refused at once with a clear error page, not a stack trace."""
    browser, lt = launch(lms, INSTRUCTOR)
    empty = tmp_path / "empty.imscc"
    empty.write_bytes(b"")
    response = upload(content_live, browser, lt, empty)
    assert response.status_code == 400
    assert "The uploaded file is empty" in response.text and "Upload it again" in response.text


@SQLITE
def test_card_editor_saves_publishes_retires_and_adds_cards(content_live, lms, tmp_path):
    """Edit a card's prompt and answers, approve it, retire it, and add a manual card."""
    browser, lt = launch(lms, INSTRUCTOR)
    upload(content_live, browser, lt, moodle_xml(tmp_path))
    card = _row(content_live, Card, kind="short_answer")
    url = f"{content_live.url}/content/cards/{card.id}"
    editor = _page(browser.get(url, params={"lt": lt}))
    assert editor.find(id="answers").text == "padlock"
    saved = browser.post(
        url,
        data={"lt": lt, "prompt_html": "<p onclick='x()'>Name it</p>", "answers": "padlock\nhasp"},
    )
    assert saved.status_code == 200 and "Card saved" in saved.text
    stored = _row(content_live, Card, id=card.id)
    assert (stored.prompt_html, stored.data["answers"]) == ("<p>Name it</p>", ["padlock", "hasp"])
    browser.post(url + "/status", data={"lt": lt, "action": "retire"})
    assert _row(content_live, Card, id=card.id).status is CardStatus.RETIRED
    made = browser.post(
        content_live.url + "/content/cards/new",
        data={
            "lt": lt,
            "kind": "single_choice",
            "prompt_html": "Which lock?",
            "answers": "* Padlock\n- Cable tie",
        },
    )
    new = _row(content_live, Card, origin="manual")
    assert made.url.endswith(f"/content/cards/{new.id}?lt={lt}")
    assert new.status is CardStatus.DRAFT
    assert [(c["text"], c["correct"]) for c in new.data["choices"]] == [
        ("Padlock", True),
        ("Cable tie", False),
    ]


@SQLITE
def test_invalid_answers_are_refused_with_what_to_fix(content_live, lms, tmp_path):
    """A choice card without a right option is not saved; the editor says why (400)."""
    browser, lt = launch(lms, INSTRUCTOR)
    upload(content_live, browser, lt, moodle_xml(tmp_path))
    card = _row(content_live, Card, kind="single_choice")
    response = browser.post(
        f"{content_live.url}/content/cards/{card.id}",
        data={"lt": lt, "prompt_html": "x", "answers": "- A\n- B"},
    )
    assert response.status_code == 400 and "mark the right option" in response.text
    assert _row(content_live, Card, id=card.id).prompt_html == card.prompt_html


@SQLITE
def test_bulk_publish_and_critical_units(content_live, lms, tmp_path):
    """Publishing drafts publishes every generated card; checked units become critical."""
    browser, lt = launch(lms, INSTRUCTOR)
    archive = tmp_path / "handbook.zip"
    _zip(
        archive, {"01-lockout.md": topic_page("lockout"), "02-forklift.md": topic_page("forklift")}
    )
    upload(content_live, browser, lt, archive)
    drafts_url, params = content_live.url + "/content/cards", {"lt": lt, "status": "draft"}
    drafts = _page(browser.get(drafts_url, params=params)).select("tr.card-row")
    with content_live.db.session() as s:
        assert len(drafts) == len(s.scalars(select(Card.id).where(Card.status == "draft")).all())
    assert drafts
    published = browser.post(content_live.url + "/content/cards/publish-drafts", data={"lt": lt})
    assert len(_page(published).select("tr.card-row")) == len(drafts)
    assert _page(browser.get(drafts_url, params=params)).select("tr.card-row") == []
    lockout = _row(content_live, Unit, title="Lockout")
    browser.post(content_live.url + "/content/critical", data={"lt": lt, "critical": lockout.id})
    assert _row(content_live, Unit, id=lockout.id).critical is True
    assert _row(content_live, Unit, title="Forklift").critical is False


@SQLITE
def test_reimport_shows_what_changed(content_live, lms, tmp_path):
    """Re-importing a newer version lists unchanged, changed, added and removed units."""
    browser, lt = launch(lms, INSTRUCTOR)
    archive = tmp_path / "handbook.zip"
    _zip(
        archive, {"01-lockout.md": topic_page("lockout"), "02-forklift.md": topic_page("forklift")}
    )
    upload(content_live, browser, lt, archive)
    _zip(
        archive, {"01-lockout.md": topic_page("lockout"), "03-firstaid.md": topic_page("firstaid")}
    )
    form = browser.get(content_live.url + "/content/upload", params={"lt": lt})
    assert "Re-import a newer version" in form.text
    page = _page(upload(content_live, browser, lt, archive)).find(id="changes")
    assert page.find(id="units-unchanged").text == "1 unchanged"
    assert page.find(id="units-added").text == "1 added"
    assert page.find(id="units-removed").text == "1 removed"
    assert "Forklift" in page.text and "First Aid" in page.text


def _zip(path: Path, files: dict[str, str]) -> None:
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)


@SQLITE
def test_learner_is_refused_on_every_instructor_content_page(content_live, lms, tmp_path):
    """Learners get 403 on the content pages and cannot upload."""
    browser, lt = launch(lms, LEARNER)
    for path in ("/content/", "/content/upload", "/content/cards", "/content/cards/new"):
        assert browser.get(content_live.url + path, params={"lt": lt}).status_code == 403, path
    assert upload(content_live, browser, lt, moodle_xml(tmp_path)).status_code == 403
    assert _row(content_live, CourseImport) is None


def test_post_without_the_launch_token_is_refused(content_live, lms, tmp_path):
    """A form posted without `lt` (a cross-site request) is refused with 401."""
    browser, lt = launch(lms, INSTRUCTOR)
    upload(content_live, browser, lt, moodle_xml(tmp_path))
    response = browser.post(content_live.url + "/content/cards/publish-drafts", data={})
    assert response.status_code == 401


def test_other_course_cannot_see_or_fetch_units_cards_imports_or_figures(
    content_live, lms, tmp_path
):
    """Course B's instructor gets 404 for every page and figure of course A, and sees none of it."""
    browser_a, lt_a = launch(lms, INSTRUCTOR)
    upload(content_live, browser_a, lt_a, BUILDERS["html"](tmp_path))
    unit, card = _row(content_live, Unit), _row(content_live, Card)
    run, asset = _row(content_live, CourseImport), _row(content_live, Asset)
    assert (
        browser_a.get(
            f"{content_live.url}/content/assets/{asset.path}", params={"lt": lt_a}
        ).content
        == asset.data
    )
    browser_b, lt_b = launch(lms, INSTRUCTOR, context="SAFE-202")
    for path in (
        f"/content/units/{unit.id}",
        f"/content/cards/{card.id}",
        f"/content/imports/{run.id}",
        f"/content/imports/{run.id}/status",
        f"/content/assets/{asset.path}",
    ):
        assert browser_b.get(content_live.url + path, params={"lt": lt_b}).status_code == 404, path
    edit = browser_b.post(
        f"{content_live.url}/content/cards/{card.id}/status", data={"lt": lt_b, "action": "retire"}
    )
    assert edit.status_code == 404
    listing = browser_b.get(content_live.url + "/content/cards", params={"lt": lt_b}).text
    assert unit.title not in browser_b.get(content_live.url + "/content/", params={"lt": lt_b}).text
    assert card.prompt_text[:30] not in listing


@SQLITE
def test_learner_of_the_course_gets_figures_inline_and_sandboxed(content_live, lms, tmp_path):
    """Figures are served to any launch of their course, as images with a sandboxing CSP."""
    browser, lt = launch(lms, INSTRUCTOR)
    upload(content_live, browser, lt, BUILDERS["html"](tmp_path))
    learner, learner_lt = launch(lms, LEARNER)
    response = learner.get(
        content_live.url + "/content/assets/img/padlock.png", params={"lt": learner_lt}
    )
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert learner.get(content_live.url + "/content/assets/img/padlock.png").status_code == 401


@SQLITE
def test_unit_preview_points_figures_at_the_tool(content_live, lms, tmp_path):
    """The preview rewrites asset: figure sources to the tool's asset URL with the token."""
    browser, lt = launch(lms, INSTRUCTOR)
    upload(content_live, browser, lt, BUILDERS["html"](tmp_path))
    unit = _row(content_live, Unit)
    body = _page(browser.get(f"{content_live.url}/content/units/{unit.id}", params={"lt": lt}))
    src = body.find(id="unit-body").find("img")["src"]
    assert re.fullmatch(r"/content/assets/img/padlock\.png\?lt=[\w.-]+", src)
    assert browser.get(content_live.url + src).content == _row(content_live, Asset).data


def test_instructor_home_links_to_the_content_pages(content_live: LiveServer, lms: TestLms):
    """The course overview links to the micro-units and the import form."""
    browser, lt = launch(lms, INSTRUCTOR)
    home = _page(browser.get(content_live.url + "/instructor/", params={"lt": lt}))
    links = {a.text: a["href"] for a in home.find_all("a")}
    assert links["Import course material"].startswith("/content/upload?lt=")

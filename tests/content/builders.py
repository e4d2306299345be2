"""Small course files in the formats the shared fixtures do not cover, and DB read-backs."""

from __future__ import annotations

import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import docx
from sqlalchemy import select

from lti_tool.course_import import ANSWER_FIELDS, create_import, fit_key, run_import
from lti_tool.ingest.importer import ImportResult
from lti_tool.models import Asset, Card, CourseImport, Unit
from tests.content.conftest import Course, topic_page
from tests.ingest.conftest import pdf_bytes

# A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)
MOODLE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
 <question type="multichoice"><name><text>PPE</text></name>
  <questiontext format="html"><text>Which item protects hearing?</text></questiontext>
  <answer fraction="100"><text>Ear defenders</text></answer>
  <answer fraction="0"><text>Gloves</text></answer><single>true</single></question>
 <question type="shortanswer"><name><text>Lock</text></name>
  <questiontext format="html"><text>What do you fit to an isolator?</text></questiontext>
  <answer fraction="100"><text>{lock}</text></answer></question>
 <question type="numerical"><name><text>Pressure</text></name>
  <questiontext format="html"><text>Safe pressure in bar?</text></questiontext>
  <answer fraction="100"><text>0</text><tolerance>0.1</tolerance></answer></question>
</quiz>"""


def markdown_folder(tmp: Path) -> Path:
    """Two Markdown pages in a folder."""
    folder = tmp / "handbook"
    folder.mkdir()
    (folder / "01-lockout.md").write_text(topic_page("lockout"))
    (folder / "02-forklift.md").write_text(topic_page("forklift"))
    return folder


def html_site(tmp: Path) -> Path:
    """A zipped HTML site with one page and its figure."""
    upload = tmp / "site.zip"
    page = (
        "<!DOCTYPE html><html><head><title>Lockout</title></head><body><h1>Lockout</h1>"
        f"<p>{topic_page('lockout', 400)}</p><figure><img src='img/padlock.png' alt='A padlock'>"
        f"</figure><p>{topic_page('lockout', 300)}</p></body></html>"
    )
    with zipfile.ZipFile(upload, "w") as archive:
        archive.writestr("index.html", page)
        archive.writestr("img/padlock.png", PNG)
    return upload


def pdf_manual(tmp: Path) -> Path:
    """A text PDF with two headed parts."""
    body = "The operator tests the emergency stop button at the start of every shift."
    upload = tmp / "manual.pdf"
    lines = [(24, "Emergency Stops"), *[(11, body)] * 6, (24, "Guards"), *[(11, body)] * 6]
    upload.write_bytes(pdf_bytes(lines))
    return upload


def word_document(tmp: Path) -> Path:
    """A Word document with two headed parts."""
    document = docx.Document()
    document.add_heading("Lockout", level=1)
    document.add_paragraph(topic_page("lockout", 300).split("\n", 2)[2])
    document.add_heading("Forklifts", level=1)
    document.add_paragraph(topic_page("forklift", 300).split("\n", 2)[2])
    upload = tmp / "procedure.docx"
    document.save(str(upload))
    return upload


def moodle_xml(tmp: Path, lock: str = "padlock") -> Path:
    """A Moodle XML question export of three questions."""
    upload = tmp / "questions.xml"
    upload.write_text(MOODLE_XML.replace("{lock}", lock))
    return upload


BUILDERS = {
    "markdown": markdown_folder,
    "html": html_site,
    "pdf": pdf_manual,
    "docx": word_document,
    "moodle_xml": moodle_xml,
}


def import_path(course: Course, path: Path) -> CourseImport:
    """Import a file or folder into the course through the service, as the CLI does."""
    with course.db.session() as session:
        import_id = create_import(session, course.context_id, path).id
    return run_import(course.db, course.settings, import_id)


def snapshot(course: Course) -> dict[str, list[tuple[Any, ...]]]:
    """Every unit, card and asset row of the course, for before/after comparisons."""
    with course.db.session() as s:
        units = s.execute(
            select(Unit.id, Unit.key, Unit.content_hash, Unit.retired, Unit.title)
            .where(Unit.context_id == course.context_id)
            .order_by(Unit.id)
        ).all()
        cards = s.execute(
            select(Card.id, Card.key, Card.content_hash, Card.status, Card.prompt_html)
            .where(Card.context_id == course.context_id)
            .order_by(Card.id)
        ).all()
        assets = s.execute(
            select(Asset.id, Asset.path).where(Asset.context_id == course.context_id)
        ).all()
    return {
        "units": [tuple(r) for r in units],
        "cards": [tuple(r) for r in cards],
        "assets": [tuple(r) for r in assets],
    }


def assert_stored(course: Course, expected: ImportResult) -> None:
    """The course's rows hold exactly what the pure importer produced, linked and in order."""
    with course.db.session() as s:
        units = list(
            s.scalars(
                select(Unit).where(Unit.context_id == course.context_id).order_by(Unit.position)
            )
        )
        cards = {
            c.key: c for c in s.scalars(select(Card).where(Card.context_id == course.context_id))
        }
        assets = {
            a.path: a for a in s.scalars(select(Asset).where(Asset.context_id == course.context_id))
        }
    assert [(u.key, u.title, u.minutes, u.content_hash) for u in units] == [
        (fit_key(u.key), u.title or "Untitled", u.minutes, u.content_hash) for u in expected.units
    ]
    unit_keys = {u.id: u.key for u in units}
    assert sorted(cards) == sorted(fit_key(c.key) for c in expected.cards)
    for card in expected.cards:
        row = cards[fit_key(card.key)]
        assert (row.kind, row.origin, row.status.value) == (
            card.kind.value,
            card.origin.value,
            card.status.value,
        )
        assert row.data == _json({k: v for k, v in asdict(card).items() if k in ANSWER_FIELDS})
        assert unit_keys.get(row.unit_id) == (fit_key(card.unit_key) if card.unit_key else None)
    assert {p: a.data for p, a in assets.items()} == {p: a.data for p, a in expected.assets.items()}


def _json(value: Any) -> Any:
    """What a JSON column gives back for ``value`` (tuples become lists)."""
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value

"""Readers for the formats without a shared fixture: built here from small samples."""

from __future__ import annotations

from pathlib import Path

import docx

from lti_tool.ingest.detect import Format
from lti_tool.ingest.importer import import_course, read_course

MOODLE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
 <question type="category"><category><text>$course$/Safety</text></category></question>
 <question type="multichoice"><name><text>PPE</text></name>
  <questiontext format="html"><text>Which item protects hearing?</text></questiontext>
  <answer fraction="100"><text>Ear defenders</text></answer>
  <answer fraction="0"><text>Gloves</text></answer><single>true</single></question>
 <question type="shortanswer"><name><text>Lock</text></name>
  <questiontext format="html"><text>What do you fit to an isolator?</text></questiontext>
  <answer fraction="100"><text>padlock</text></answer>
  <answer fraction="100"><text>lock</text></answer></question>
 <question type="numerical"><name><text>Pressure</text></name>
  <questiontext format="html"><text>Safe pressure in bar?</text></questiontext>
  <answer fraction="100"><text>0</text><tolerance>0.1</tolerance></answer></question>
 <question type="cloze"><name><text>Cloze</text></name>
  <questiontext format="html"><text>Isolate the {1:MULTICHOICE:=energy~water} source.</text>
  </questiontext></question>
 <question type="essay"><name><text>Why</text></name>
  <questiontext format="html"><text>Explain why lockout matters.</text></questiontext></question>
</quiz>"""


def test_moodle_xml_questions_become_cards(tmp_path: Path) -> None:
    """A Moodle XML export yields one card per supported question, with its variants."""
    upload = tmp_path / "questions.xml"
    upload.write_text(MOODLE_XML)
    result = import_course(upload)
    assert result.source_format is Format.MOODLE_XML
    kinds = {c.kind.value: c for c in result.cards}
    assert set(kinds) == {"single_choice", "short_answer", "numeric", "fill_in", "recall"}
    assert kinds["short_answer"].answers == ["padlock", "lock"]
    assert kinds["numeric"].numeric[0].accepts(0.05)
    assert kinds["fill_in"].blanks[0].answers == ("energy",)


def test_markdown_folder_reads_in_order_with_index_first(tmp_path: Path) -> None:
    """Files are read index first, then by name; each folder is a module."""
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2-second.md").write_text("# Second\n\n" + "Guards stay closed. " * 60)
    (tmp_path / "b" / "1-first.md").write_text("# First\n\n" + "Wear a helmet on site. " * 60)
    (tmp_path / "b" / "index.md").write_text("---\ntitle: Overview\n---\n" + "Site rules. " * 60)
    course = read_course(tmp_path)
    assert [s.title for s in course.modules[0].sections] == ["Overview", "First", "Second"]


def test_pdf_headings_come_from_font_sizes(tmp_path: Path, make_pdf) -> None:
    """Large lines become headings that start modules; body lines become paragraphs."""
    body = "The operator tests the emergency stop button at the start of every shift."
    lines = [(24, "Emergency Stops"), *[(11, body)] * 6, (24, "Guards"), *[(11, body)] * 6]
    upload = tmp_path / "manual.pdf"
    upload.write_bytes(make_pdf(lines))
    course = read_course(upload)
    assert course.source_format == "pdf"
    assert [m.title for m in course.modules] == ["Emergency Stops", "Guards"]


def test_docx_headings_lists_and_tables(tmp_path: Path) -> None:
    """Word styles give headings; list paragraphs form one list; tables stay tables."""
    document = docx.Document()
    document.add_heading("Lockout", level=1)
    document.add_paragraph("Isolate every energy source before work. " * 10)
    document.add_paragraph("Switch off", style="List Bullet")
    document.add_paragraph("Lock and tag", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Source"
    table.cell(1, 0).text = "Electric"
    document.add_heading("Permits", level=1)
    document.add_paragraph("A permit names the person in charge. " * 10)
    upload = tmp_path / "procedure.docx"
    document.save(str(upload))
    course = read_course(upload)
    assert course.source_format == "docx"
    assert [m.title for m in course.modules] == ["Lockout", "Permits"]
    kinds = [b.kind.value for b in course.modules[0].sections[0].blocks]
    assert kinds == ["paragraph", "list", "table"]


def test_html_page_is_detected_by_content_not_extension(tmp_path: Path) -> None:
    """An HTML page saved as .txt is still read as HTML; scripts never survive."""
    upload = tmp_path / "page.txt"
    upload.write_text(
        "<!DOCTYPE html><html><head><title>Fire safety</title><script>x()</script></head>"
        "<body><h1>Fire safety</h1><p>"
        + "Keep exits clear at all times. " * 30
        + "</p></body></html>"
    )
    result = import_course(upload)
    assert result.source_format is Format.HTML
    assert result.title == "Fire safety"
    assert all("script" not in u.html for u in result.units)

"""Every real course export imports; the counts were checked against the source files."""

from __future__ import annotations

from pathlib import Path

import pytest

from lti_tool.ingest.exceptions import LegacyMoodleBackupError
from lti_tool.ingest.importer import import_course

# path: (format, units, questions, cards by kind). Question counts verified by hand:
# referencequiz has 18 question rows = 16 top-level (2 are Cloze sub-questions); minus
# description, 3 calculated and 2 drag-onto-image types = 10. all-question-types holds
# 14 <item> (4 CC + 10 Canvas copies of the same quiz): the 10 Canvas items minus text-only = 9.
EXPECTED = {
    "canvas-viewer-samples/all-question-types": ("common_cartridge", 0, 9, {
        "fill_in": 1, "matching": 1, "multiple_choice": 1, "numeric": 2, "recall": 2,
        "single_choice": 1, "true_false": 1}),
    "moodle-mbz/referencequiz.mbz": ("moodle_backup", 0, 10, {
        "fill_in": 3, "matching": 1, "multiple_choice": 2, "numeric": 1, "recall": 1,
        "short_answer": 1, "true_false": 1}),
    "moodle-mbz/backup-moodle2-course-with-studentquiz-m400.mbz": ("moodle_backup", 0, 15, {
        "matching": 1, "numeric": 1, "short_answer": 4, "single_choice": 1, "true_false": 8}),
    "moodle-mbz/backup-moodle2-course-2-311-with-questiondata.mbz": (
        "moodle_backup", 0, 2, {"true_false": 2}),
    "moodle-mbz/backup-moodle45-has-multiple-versions-disapproved.mbz": (
        "moodle_backup", 0, 1, {"true_false": 1}),
    "canvas-qti-cartridges/with_banks": ("common_cartridge", 0, 7, {
        "multiple_choice": 1, "recall": 1, "single_choice": 1, "true_false": 2}),
    "qti21/items": ("qti21", 0, 10, {
        "fill_in": 2, "matching": 3, "ordering": 1, "recall": 2, "single_choice": 2}),
    "qti21/package_test_qti_2.1": ("qti21", 0, 5, {
        "fill_in": 1, "multiple_choice": 1, "recall": 1, "single_choice": 2}),
}  # fmt: skip

# path: (format, units, minimum minutes, minimum generated cards)
TEXT_COURSES = {
    "canvas-allyworkshop/allyworkshop.imscc": ("common_cartridge", 8, 19.0, 16),
    "moodle-real-course-real-numbers": ("moodle_backup", 8, 5.0, 8),
    "moodle2-backup-unpacked": ("moodle_backup", 7, 0.5, 4),
    "canvas-viewer-samples/single-discussion": ("common_cartridge", 1, 2.0, 2),
}


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_fixture_imports_its_questions_as_cards(fixtures: Path, path: str) -> None:
    """Quiz-centred exports yield exactly their supported questions as imported cards."""
    fmt, units, questions, kinds = EXPECTED[path]
    result = import_course(fixtures / path)
    assert result.source_format.value == fmt
    assert result.summary.units == units
    assert result.summary.questions == questions
    assert result.summary.cards_by_kind == kinds
    assert all(c.origin.value == "imported" for c in result.cards)


@pytest.mark.parametrize("path", sorted(TEXT_COURSES))
def test_fixture_course_splits_into_units_with_generated_cards(fixtures: Path, path: str) -> None:
    """Content exports become units of a few minutes with draft cloze and recall cards."""
    fmt, units, minutes, generated = TEXT_COURSES[path]
    result = import_course(fixtures / path)
    assert result.source_format.value == fmt
    assert result.summary.units == units
    assert result.summary.minutes >= minutes
    drafts = [c for c in result.cards if c.origin.value == "generated"]
    assert len(drafts) >= generated
    assert all(c.status.value == "draft" for c in drafts)
    assert all(u.html and u.content_hash for u in result.units)


def test_moodle_course_backup_ties_quiz_questions_to_its_section(fixtures: Path) -> None:
    """The 2.4 backup's 7 quiz questions tie to the quiz's section; 2 bank-only ones by text."""
    result = import_course(fixtures / "moodle2-backup-unpacked")
    imported = [c for c in result.cards if c.origin.value == "imported"]
    assert sorted(c.link for c in imported) == ["module"] * 7 + ["similarity"] * 2
    assert all(c.unit_key for c in imported)
    assert result.assets, "the page's figure is kept as an asset"


def test_canvas_course_keeps_module_order(fixtures: Path) -> None:
    """Units of the Ally workshop follow the organization's module order."""
    result = import_course(fixtures / "canvas-allyworkshop/allyworkshop.imscc")
    assert result.units[0].title == "Accessibility FAQ"
    assert [u.module_index for u in result.units] == sorted(u.module_index for u in result.units)
    assert all(a.data and a.media_type.startswith("image/") for a in result.assets.values())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "fmt", "units"),
    [("text-openstax-business-ethics", "cnxml", 198), ("text-18f-handbook", "markdown", 225)],
)
def test_long_text_fixture_imports(fixtures: Path, path: str, fmt: str, units: int) -> None:
    """The two book-length fixtures import as hundreds of units of 2-5 minutes on average."""
    result = import_course(fixtures / path)
    assert result.source_format.value == fmt
    assert result.summary.units == units
    assert 2.0 <= result.summary.minutes / units <= 5.0


def test_qti12_folder_imports_and_reports_broken_items(fixtures: Path) -> None:
    """The QTI 1.2 item set imports; malformed and unsupported items become warnings."""
    result = import_course(fixtures / "qti12-items")
    assert result.summary.questions == 49
    assert any("not well-formed" in w for w in result.warnings)
    assert any("hot_spot" in w for w in result.warnings)


def test_every_small_canvas_sample_imports(fixtures: Path) -> None:
    """Each Canvas sample cartridge (folders and .imscc) imports without error."""
    folder = fixtures / "canvas-viewer-samples"
    for path in sorted(folder.iterdir()):
        assert import_course(path).summary.units + import_course(path).summary.cards >= 1, path


def test_moodle19_backup_is_refused_with_advice(fixtures: Path) -> None:
    """A Moodle 1.9 moodle.xml says it is unsupported and to export a Common Cartridge."""
    with pytest.raises(LegacyMoodleBackupError) as caught:
        import_course(fixtures / "moodle19-backup")
    assert "Common Cartridge" in str(caught.value)

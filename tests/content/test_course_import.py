"""The import service on SQLite and PostgreSQL: storing, re-importing, failing cleanly."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lti_tool import course_content, course_import
from lti_tool.course_content import edit_card
from lti_tool.course_import import ImportConfig, ImportStatus, run_import, store_upload
from lti_tool.db import utcnow
from lti_tool.ingest.exceptions import ArchiveLimitError
from lti_tool.ingest.importer import diff, import_course
from lti_tool.jobs import create_jobs
from lti_tool.models import Card, CardState, CardStatus, Context, CourseImport, Unit, User
from tests.content.builders import BUILDERS, assert_stored, import_path, moodle_xml, snapshot
from tests.content.conftest import Course, topic_page, write_course

REAL_EXPORTS = [
    "canvas-viewer-samples/all-question-types",  # Common Cartridge quiz (Canvas QTI)
    "canvas-viewer-samples/single-discussion",  # Common Cartridge text
    "moodle-mbz/referencequiz.mbz",  # Moodle 4.1 backup, gzip tar
    "moodle2-backup-unpacked",  # Moodle 2.4 backup folder, with a figure
    "qti12-items",  # standalone QTI 1.2 items
    "qti21/package_test_qti_2.1",  # QTI 2.1 content package
]
V1 = {
    "01-lockout.md": ("lockout", ""),
    "02-forklift.md": ("forklift", ""),
    "03-chemicals.md": ("chemicals", ""),
}
V2 = {
    "01-lockout.md": ("lockout", ""),
    "02-forklift.md": ("forklift", "2025"),
    "04-firstaid.md": ("firstaid", ""),
}


def pages(version: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Markdown pages of one version of the test course."""
    return {name: topic_page(topic, variant=variant) for name, (topic, variant) in version.items()}


@pytest.mark.parametrize("path", REAL_EXPORTS)
def test_real_export_is_stored_as_the_importer_made_it(course: Course, fixtures: Path, path: str):
    """Units in order, cards with their answers and unit links, and figures land in the DB."""
    expected = import_course(fixtures / path)
    run = import_path(course, fixtures / path)
    assert (run.status, run.progress) == (ImportStatus.DONE, 100)
    assert run.summary["cards_by_kind"] == expected.summary.cards_by_kind
    assert run.summary["format"] == expected.source_format.value
    assert_stored(course, expected)


def test_moodle_quiz_backup_yields_its_ten_supported_questions(course: Course, fixtures: Path):
    """The Moodle 4.1 reference quiz gives 10 published imported cards (18 rows, 8 unsupported)."""
    import_path(course, fixtures / "moodle-mbz/referencequiz.mbz")
    with course.db.session() as s:
        rows = list(s.scalars(select(Card).where(Card.context_id == course.context_id)))
    assert len(rows) == 10
    assert {(c.origin, c.status) for c in rows} == {("imported", CardStatus.PUBLISHED)}


@pytest.mark.parametrize("fmt", sorted(BUILDERS))
def test_built_course_file_is_stored_in_its_format(course: Course, tmp_path: Path, fmt: str):
    """Markdown, zipped HTML, PDF, Word and Moodle XML uploads are detected and stored."""
    upload = BUILDERS[fmt](tmp_path)
    expected = import_course(upload)
    run = import_path(course, upload)
    assert run.status == ImportStatus.DONE, run.message
    assert run.summary["format"] == fmt
    assert_stored(course, expected)


def test_zipped_html_site_keeps_its_figure_as_an_asset(course: Course, tmp_path: Path):
    """The site's image is stored with its bytes and the unit refers to it as asset:."""
    import_path(course, BUILDERS["html"](tmp_path))
    with course.db.session() as s:
        body = s.scalar(select(Unit.body_html).where(Unit.context_id == course.context_id))
    assert 'src="asset:img/padlock.png"' in body


@pytest.mark.slow
def test_openstax_book_is_stored_with_every_unit_and_card(course: Course, fixtures: Path):
    """The 61-module CNXML textbook imports completely."""
    expected = import_course(fixtures / "text-openstax-business-ethics")
    assert import_path(course, fixtures / "text-openstax-business-ethics").status == "done"
    assert_stored(course, expected)


def _cards(course: Course) -> dict[str, Card]:
    with course.db.session() as s:
        return {
            c.key: c for c in s.scalars(select(Card).where(Card.context_id == course.context_id))
        }


def _add_progress(course: Course) -> int:
    """A learner's memory state on every card of the course; returns how many."""
    with course.db.session() as s:
        context = s.get(Context, course.context_id)
        user = User(platform_id=context.platform_id, sub="learner-1")
        s.add(user)
        s.flush()
        ids = s.scalars(select(Card.id).where(Card.context_id == course.context_id)).all()
        s.add_all(
            CardState(user_id=user.id, card_id=i, context_id=course.context_id, due=utcnow())
            for i in ids
        )
    return len(ids)


def test_reimport_keeps_unchanged_cards_updates_changed_and_retires_removed(
    course: Course, tmp_path: Path
):
    """Card ids survive for unchanged and changed cards; removed ones are retired with progress."""
    folder = tmp_path / "course"
    old = import_course(write_course(folder, pages(V1)))
    import_path(course, folder)
    with course.db.session() as s:
        course_content.publish_drafts(s, course.context_id)
    states = _add_progress(course)
    before = _cards(course)
    new = import_course(write_course(folder, pages(V2)))
    run = import_path(course, folder)
    expected, after = diff(old, new).cards, _cards(course)
    assert expected.unchanged and expected.changed and expected.added and expected.removed
    for key in expected.unchanged:
        assert (after[key].id, after[key].status) == (before[key].id, CardStatus.PUBLISHED)
    new_cards = {c.key: c for c in new.cards}
    for key in expected.changed:
        assert after[key].id == before[key].id
        assert after[key].content_hash == new_cards[key].content_hash != before[key].content_hash
    for key in expected.removed:
        assert (after[key].id, after[key].status) == (before[key].id, CardStatus.RETIRED)
    assert all(after[key].status is CardStatus.DRAFT for key in expected.added)
    assert {k: len(v) for k, v in run.changes["cards"].items() if k != "unchanged"} == {
        "changed": len(expected.changed),
        "added": len(expected.added),
        "removed": len(expected.removed),
    }
    with course.db.session() as s:
        assert s.scalar(select(func.count()).select_from(CardState)) == states


def test_reimport_updates_changed_units_in_place_and_retires_removed_ones(
    course: Course, tmp_path: Path
):
    """Unit ids stay for unchanged and changed units; a removed unit is retired, a new one added."""
    folder = tmp_path / "course"
    import_path(course, write_course(folder, pages(V1)))
    before = {row[1]: row for row in snapshot(course)["units"]}
    run = import_path(course, write_course(folder, pages(V2)))
    after = {row[1]: row for row in snapshot(course)["units"]}
    lockout, forklift, chemicals = "01-lockout.md~1", "02-forklift.md~1", "03-chemicals.md~1"
    assert after[lockout] == before[lockout]
    assert after[forklift][0] == before[forklift][0] and after[forklift][4] == "Forklift 2025"
    assert after[chemicals][0] == before[chemicals][0] and after[chemicals][3] is True
    assert "04-firstaid.md~1" not in before and after["04-firstaid.md~1"][3] is False
    units = run.changes["units"]
    assert (units["unchanged"], [e["key"] for e in units["changed"]]) == (1, [forklift])
    assert [e["key"] for e in units["removed"]] == [chemicals]


def test_renamed_file_with_the_same_content_keeps_unit_and_card_ids(course: Course, tmp_path):
    """A unit whose content moved to a new key is matched by its content hash."""
    folder = tmp_path / "course"
    import_path(course, write_course(folder, pages(V1)))
    before = snapshot(course)
    renamed = pages(V1)
    renamed["01-lockout-procedure.md"] = renamed.pop("01-lockout.md")
    run = import_path(course, write_course(folder, renamed))
    after = snapshot(course)
    assert [r[0] for r in after["units"]] == [r[0] for r in before["units"]]
    assert [r[0] for r in after["cards"]] == [r[0] for r in before["cards"]]
    assert any(r[1] == "01-lockout-procedure.md~1" for r in after["units"])
    assert run.changes["cards"]["removed"] == [] and run.changes["cards"]["added"] == []


def test_instructor_edit_survives_reimport_of_the_same_source(course: Course, tmp_path: Path):
    """Editing a card does not make it 'changed': re-importing the same question keeps the edit."""
    import_path(course, moodle_xml(tmp_path))
    with course.db.session() as s:
        card = s.scalar(select(Card).where(Card.kind == "short_answer"))
        edit_card(card, "<p>Which device locks an isolator?</p>", {"answers": ["padlock", "lock"]})
    import_path(course, moodle_xml(tmp_path))
    edited = _cards(course)[card.key]
    assert (edited.id, edited.prompt_text, edited.data["answers"]) == (
        card.id,
        "Which device locks an isolator?",
        ["padlock", "lock"],
    )


def test_changed_question_is_updated_in_place(course: Course, tmp_path: Path):
    """A question whose right answer changed keeps its card id and gets the new answer."""
    import_path(course, moodle_xml(tmp_path, lock="padlock"))
    before = _cards(course)
    run = import_path(course, moodle_xml(tmp_path, lock="hasp"))
    after = _cards(course)
    [changed] = [k for k in after if after[k].data["answers"] == ["hasp"]]
    assert after[changed].id == before[changed].id
    assert [e["key"] for e in run.changes["cards"]["changed"]] == [changed]


def test_refused_file_is_recorded_with_advice_and_changes_nothing(
    course: Course, fixtures, tmp_path
):
    """A Moodle 1.9 backup fails with what to do; the course keeps its units and cards."""
    import_path(course, write_course(tmp_path / "course", pages(V1)))
    before = snapshot(course)
    run = import_path(course, fixtures / "moodle19-backup/moodle.xml")
    assert run.status == ImportStatus.FAILED
    assert "Moodle 1.9" in run.message
    assert "Common Cartridge" in run.summary["error"]["advice"]
    assert snapshot(course) == before


@pytest.mark.parametrize("first", [True, False], ids=["first-import", "re-import"])
def test_error_while_saving_leaves_nothing_half_imported(course, tmp_path, monkeypatch, first):
    """A failure after units and cards were written rolls all of them back."""
    folder = tmp_path / "course"
    if not first:
        import_path(course, write_course(folder, pages(V1)))
    before = snapshot(course)

    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(course_import, "_save_assets", broken)
    run = import_path(course, write_course(folder, pages(V2)))
    assert run.status == ImportStatus.FAILED and "unexpected error" in run.message
    assert "Nothing was changed" in run.summary["error"]["advice"]
    assert snapshot(course) == before


def test_upload_over_the_size_limit_is_refused_and_not_kept(course: Course, tmp_path: Path):
    """A file larger than the limit raises a clear error; no file and no import row remain."""
    config = ImportConfig(tmp_path / "uploads", max_upload_bytes=1024 * 1024)
    with course.db.session() as s, pytest.raises(ArchiveLimitError, match="larger than 1 MiB"):
        store_upload(s, config, course.context_id, "big.zip", io.BytesIO(b"x" * 1_500_000))
    assert list((tmp_path / "uploads").rglob("*.zip")) == []
    with course.db.session() as s:
        assert s.scalar(select(func.count()).select_from(CourseImport)) == 0


def test_stored_upload_runs_once_and_is_deleted_after_import(course: Course, tmp_path: Path):
    """The queued upload is imported, its file removed, and a second run does nothing."""
    config = ImportConfig.from_settings(course.settings)
    data = moodle_xml(tmp_path).read_bytes()
    with course.db.session() as s:
        row = store_upload(s, config, course.context_id, "../quiz export.xml", io.BytesIO(data))
    assert Path(row.stored_path).parent.parent.parent == config.upload_dir
    assert row.filename == "quiz_export.xml"
    first = run_import(course.db, course.settings, row.id)
    assert first.status == ImportStatus.DONE
    assert not Path(row.stored_path).exists()
    assert run_import(course.db, course.settings, row.id).finished_at == first.finished_at
    assert len(_cards(course)) == 3


def test_import_task_runs_through_the_job_queue(course: Course, tmp_path: Path):
    """The import_course task is queued in Huey's storage and imports when a worker runs it."""
    jobs = create_jobs(course.settings)
    try:
        with course.db.session() as s:
            row = course_import.create_import(s, course.context_id, moodle_xml(tmp_path))
        jobs.tasks["import_course"](row.id)
        assert jobs.huey.pending_count() == 1
        assert jobs.huey.execute(jobs.huey.dequeue()) == "done"
        assert Counter(c.origin for c in _cards(course).values()) == {"imported": 3}
    finally:
        jobs.huey.storage.flush_all()
        jobs.db.engine.dispose()

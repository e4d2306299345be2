"""`microreview course import`: scripted imports that print a JSON summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from lti_tool.cli import main
from lti_tool.ingest.importer import import_course
from lti_tool.models import Card, Context
from tests.content.conftest import Course


@pytest.fixture
def cli(course: Course, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run the command line against the test course's database."""
    monkeypatch.setenv("MICROREVIEW_DATABASE_URL", course.settings.database_url)
    monkeypatch.setenv("MICROREVIEW_DEMO_PLATFORM", "false")
    monkeypatch.setenv("MICROREVIEW_HUEY_SQLITE_PATH", course.settings.huey_sqlite_path)

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, ["course", "import", *args], catch_exceptions=False)

    return run


def test_course_import_creates_the_course_and_prints_units_minutes_and_cards(
    cli, course, fixtures: Path
):
    """A new context id is created for the platform; the JSON matches what was imported."""
    path = fixtures / "canvas-viewer-samples/single-discussion"
    result = cli("--issuer", "https://lms.example", "--context-id", "NEW-1", str(path))
    assert result.exit_code == 0, result.output
    printed, expected = json.loads(result.output), import_course(path).summary
    assert (printed["units"], printed["minutes"], printed["cards_by_kind"]) == (
        expected.units,
        expected.minutes,
        expected.cards_by_kind,
    )
    assert printed["changes"]["cards"]["added"] == expected.cards
    with course.db.session() as s:
        context = s.scalar(select(Context).where(Context.context_id == "NEW-1"))
        stored = s.scalar(select(func.count()).where(Card.context_id == context.id))
    assert stored == expected.cards


def test_course_import_again_reports_everything_unchanged(cli, fixtures: Path):
    """Importing the same export twice changes nothing and says so."""
    args = (
        "--issuer",
        "https://lms.example",
        "--context-id",
        "SAFE-101",
        str(fixtures / "moodle-mbz/referencequiz.mbz"),
    )
    first = json.loads(cli(*args).output)
    second = json.loads(cli(*args).output)
    assert second["changes"]["cards"] == {
        "unchanged": first["cards"],
        "changed": 0,
        "added": 0,
        "removed": 0,
    }


def test_course_import_for_an_unknown_platform_says_how_to_register_it(cli, fixtures: Path):
    """An issuer with no registration is a one-line error naming the command to run."""
    result = cli(
        "--issuer",
        "https://nowhere.example",
        "--context-id",
        "X",
        str(fixtures / "moodle-mbz/referencequiz.mbz"),
    )
    assert result.exit_code == 1
    assert "microreview platform add" in result.output


def test_course_import_of_a_refused_file_exits_with_the_advice(cli, fixtures: Path):
    """A Moodle 1.9 backup fails with a non-zero exit and what to do instead."""
    result = cli(
        "--issuer",
        "https://lms.example",
        "--context-id",
        "SAFE-101",
        str(fixtures / "moodle19-backup/moodle.xml"),
    )
    assert result.exit_code == 1
    assert "Moodle 1.9" in result.output and "Common Cartridge" in result.output

"""Public entry points: ``import_course`` (file -> units, cards, assets) and ``diff``."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .archive import Limits, opened
from .cards import Card, CardOptions, make_cards
from .detect import Format, detect
from .exceptions import EmptyCourseError
from .readers import reader_for
from .readers.base import ReadContext
from .splitter import SplitOptions, Unit, split_course
from .tree import Asset, Course

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportOptions:
    """Everything an import can be tuned with; the defaults suit most courses."""

    limits: Limits = field(default_factory=Limits)
    split: SplitOptions = field(default_factory=SplitOptions)
    cards: CardOptions = field(default_factory=CardOptions)
    format: Format | None = None


@dataclass(frozen=True)
class ImportSummary:
    """Counts shown to the instructor and printed by the CLI as JSON."""

    units: int
    minutes: float
    words: int
    questions: int
    cards: int
    cards_by_kind: dict[str, int]
    cards_by_origin: dict[str, int]
    assets: int
    warnings: int

    def as_dict(self) -> dict[str, object]:
        """The summary as plain JSON-ready data."""
        return dict(self.__dict__)


@dataclass
class ImportResult:
    """Outcome of one import: units in course order, their cards, figure assets, warnings."""

    title: str
    source_format: Format
    units: list[Unit]
    cards: list[Card]
    assets: dict[str, Asset]
    warnings: list[str]
    summary: ImportSummary


def read_course(path: Path | str, options: ImportOptions | None = None) -> Course:
    """Detect the format of ``path`` and read it into the neutral document tree."""
    options = options or ImportOptions()
    path = Path(path)
    with opened(path, options.limits) as source:
        fmt, view = detect(source)
        if options.format is not None:
            fmt = options.format
        course = Course(title=_default_title(path), source_format=fmt.value)
        ctx = ReadContext(view, course, options.limits, upload=path)
        logger.info("reading %s as %s", path.name, fmt.value)
        reader_for(fmt)(ctx)
    if not course.questions() and course.word_count() == 0:
        raise EmptyCourseError(f"{path.name} holds no text or questions that can be imported.")
    return course


def build_result(course: Course, options: ImportOptions | None = None) -> ImportResult:
    """Split a course tree into units and make their cards."""
    options = options or ImportOptions()
    units = split_course(course, options.split)
    cards, warnings = make_cards(course, units, options.cards)
    all_warnings = course.warnings + warnings
    return ImportResult(
        title=course.title,
        source_format=Format(course.source_format),
        units=units,
        cards=cards,
        assets=dict(course.assets),
        warnings=all_warnings,
        summary=summarize(units, cards, course, len(all_warnings)),
    )


def import_course(path: Path | str, options: ImportOptions | None = None) -> ImportResult:
    """Import one uploaded file or folder: read, split into units and make cards."""
    options = options or ImportOptions()
    return build_result(read_course(path, options), options)


def summarize(units: list[Unit], cards: list[Card], course: Course, warnings: int) -> ImportSummary:
    """Summary counts of an import."""
    return ImportSummary(
        units=len(units),
        minutes=round(sum(u.minutes for u in units), 1),
        words=sum(u.words for u in units),
        questions=len(course.questions()),
        cards=len(cards),
        cards_by_kind=dict(sorted(Counter(c.kind.value for c in cards).items())),
        cards_by_origin=dict(sorted(Counter(c.origin.value for c in cards).items())),
        assets=len(course.assets),
        warnings=warnings,
    )


def _default_title(path: Path) -> str:
    stem = path.name.split(".")[0] if path.is_file() else path.name
    return stem.replace("_", " ").replace("-", " ").strip().capitalize() or "Imported course"


@dataclass
class Changes:
    """How one kind of item (units or cards) changed between two imports."""

    unchanged: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class ImportDiff:
    """What a re-import changes: keys of units and cards by outcome.

    Unchanged items keep learners' progress; changed ones are updated in place (same key,
    new content hash); removed ones should be retired, added ones created.
    """

    units: Changes
    cards: Changes


def _compare(old: dict[str, str], new: dict[str, str]) -> Changes:
    """Compare key -> content-hash maps; an item whose hash moved to another key is unchanged."""
    changes = Changes()
    old_hashes = set(old.values())
    for key, digest in new.items():
        if old.get(key) == digest or (key not in old and digest in old_hashes):
            changes.unchanged.append(key)
        elif key in old:
            changes.changed.append(key)
        else:
            changes.added.append(key)
    new_hashes = set(new.values())
    changes.removed = [k for k, d in old.items() if k not in new and d not in new_hashes]
    return changes


def diff(old: ImportResult, new: ImportResult) -> ImportDiff:
    """Compare two imports of the same course by stable keys and content hashes."""
    return ImportDiff(
        units=_compare(
            {u.key: u.content_hash for u in old.units}, {u.key: u.content_hash for u in new.units}
        ),
        cards=_compare(
            {c.key: c.content_hash for c in old.cards}, {c.key: c.content_hash for c in new.cards}
        ),
    )

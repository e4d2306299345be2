"""Course import service: store an upload, run the import, persist units, cards and figures.

The pure pipeline lives in ``lti_tool.ingest``; this module gives it a database. Everything an
import writes (units, cards, assets, the run's summary and changes) commits in ONE transaction,
so a failed import leaves nothing behind. Re-importing matches the course's current rows by key,
then by content hash: unchanged rows keep their id (and so learners' progress), changed rows are
updated in place, new ones are inserted and removed ones retired, never deleted.

A card's ``content_hash`` is the hash of the *source* version it was last imported from, so an
instructor's edit survives a re-import of the same source, and a changed source replaces it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import uuid
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lti_tool.db import Database, utcnow
from lti_tool.ingest import importer
from lti_tool.ingest.archive import Limits
from lti_tool.ingest.cards import Card as IngestCard
from lti_tool.ingest.exceptions import ArchiveLimitError, CourseImportError
from lti_tool.ingest.splitter import Unit as IngestUnit
from lti_tool.ingest.tree import Asset as IngestAsset
from lti_tool.models import Asset, Card, CardStatus, Context, CourseImport, Unit
from lti_tool.settings import Settings

log = logging.getLogger(__name__)

MiB = 1024 * 1024
DEFAULT_MAX_UPLOAD_BYTES = 200 * MiB  # matches Flask's MAX_CONTENT_LENGTH in create_app
KEY_LENGTH = 200
ANSWER_FIELDS = (
    "choices",
    "answers",
    "blanks",
    "pairs",
    "sequence",
    "numeric",
    "distractors",
    "key_points",
)
#: What the upload form lists; detection is by content, so extensions are only a hint.
ACCEPTED_FORMATS = (
    ("Common Cartridge (Canvas, Moodle)", ".imscc, .zip"),
    ("Moodle course backup", ".mbz"),
    ("QTI 1.2 / 2.1 items or packages, Moodle XML quiz", ".xml, .zip"),
    ("OpenStax CNXML collection", ".zip"),
    ("HTML page or zipped site", ".html, .zip"),
    ("Markdown file or zipped folder", ".md, .zip"),
    ("PDF with a text layer", ".pdf"),
    ("Word document", ".docx"),
)
ACCEPT_ATTRIBUTE = ".imscc,.zip,.mbz,.gz,.tgz,.tar,.xml,.qti,.html,.htm,.md,.markdown,.pdf,.docx"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class ImportStatus(StrEnum):
    """Values of ``CourseImport.status``."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class ImportConfig:
    """Where uploads wait for their job, and how large they may be."""

    upload_dir: Path
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES

    @classmethod
    def from_settings(cls, settings: Settings) -> ImportConfig:
        """Config of an installation (``import_upload_dir``, ``import_max_upload_mb``)."""
        instance = Path(settings.huey_sqlite_path).parent
        upload_dir = settings.import_upload_dir or instance / "uploads"
        return cls(Path(upload_dir), settings.import_max_upload_mb * MiB)

    def options(self) -> importer.ImportOptions:
        """Ingest options with this installation's upload limit."""
        return importer.ImportOptions(limits=Limits(max_upload_bytes=self.max_upload_bytes))


def store_upload(
    session: Session, config: ImportConfig, context_id: int, filename: str, stream: IO[bytes]
) -> CourseImport:
    """Save an uploaded file for a course and record a queued import of it."""
    name = _UNSAFE_NAME.sub("_", Path(filename or "").name).strip("._")[:120]
    if not name:
        raise CourseImportError("No file was uploaded.", advice="Choose a course file to upload.")
    folder = config.upload_dir / str(context_id) / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    target, size = folder / name, 0
    try:
        with target.open("wb") as out:
            while chunk := stream.read(MiB):
                size += len(chunk)
                if size > config.max_upload_bytes:
                    raise ArchiveLimitError(
                        f"The upload is larger than {config.max_upload_bytes // MiB} MiB."
                    )
                out.write(chunk)
        if size == 0:
            raise CourseImportError("The uploaded file is empty.", advice="Upload it again.")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    row = CourseImport(context_id=context_id, filename=name, stored_path=str(target))
    session.add(row)
    session.flush()
    log.info("stored upload %s (%s bytes) as import %s", name, size, row.id)
    return row


def create_import(session: Session, context_id: int, path: Path) -> CourseImport:
    """Record a queued import of a file or folder already on disk (the CLI)."""
    row = CourseImport(context_id=context_id, filename=path.name, stored_path=str(path))
    session.add(row)
    session.flush()
    return row


def run_import(
    db: Database, settings: Settings, import_id: int, options: importer.ImportOptions | None = None
) -> CourseImport:
    """Run a queued import, committing progress as it goes and the result in one transaction."""
    config = ImportConfig.from_settings(settings)
    with db.session() as session:
        started = session.execute(
            update(CourseImport)
            .where(CourseImport.id == import_id, CourseImport.status == ImportStatus.QUEUED)
            .values(status=ImportStatus.RUNNING, progress=5, message="Reading the file")
        ).rowcount  # type: ignore[attr-defined]
        row = session.get(CourseImport, import_id)
    if row is None or not started:
        log.info("import %s is not queued; nothing to do", import_id)
        return _load(db, import_id)
    path = Path(row.stored_path)
    try:
        _execute(db, row.context_id, import_id, path, options or config.options())
    except CourseImportError as exc:
        log.info("import %s refused: %s", import_id, exc.message)
        _fail(db, import_id, exc.message, exc.title, exc.advice)
    except Exception:
        log.exception("import %s failed", import_id)
        _fail(
            db,
            import_id,
            "The import stopped because of an unexpected error.",
            "The import failed",
            "Nothing was changed. Try again; if it keeps failing, tell "
            "your administrator the time it happened.",
        )
    finally:
        _discard_upload(config, path)
    return _load(db, import_id)


def _execute(
    db: Database, context_id: int, import_id: int, path: Path, options: importer.ImportOptions
) -> None:
    course = importer.read_course(path, options)
    _progress(db, import_id, 40, "Splitting into micro-units and making cards")
    result = importer.build_result(course, options)
    _progress(db, import_id, 75, "Saving units and cards")
    with db.session() as session:
        changes = persist(session, context_id, result)
        row = session.get(CourseImport, import_id)
        assert row is not None
        row.summary = _summary(result)
        row.changes = changes
        row.status, row.progress, row.message = ImportStatus.DONE, 100, "Import finished"
        row.finished_at = utcnow()
    log.info("import %s done: %s units, %s cards", import_id, len(result.units), len(result.cards))


def _summary(result: importer.ImportResult) -> dict[str, Any]:
    return {
        **result.summary.as_dict(),
        "title": result.title,
        "format": result.source_format.value,
        "warning_messages": result.warnings[:50],
    }


def _progress(db: Database, import_id: int, percent: int, message: str) -> None:
    with db.session() as session:
        session.execute(
            update(CourseImport)
            .where(CourseImport.id == import_id)
            .values(progress=percent, message=message)
        )


def _fail(db: Database, import_id: int, message: str, title: str, advice: str) -> None:
    with db.session() as session:
        session.execute(
            update(CourseImport)
            .where(CourseImport.id == import_id)
            .values(
                status=ImportStatus.FAILED,
                message=message,
                finished_at=utcnow(),
                summary={"error": {"title": title, "advice": advice}},
            )
        )


def _load(db: Database, import_id: int) -> CourseImport:
    with db.session() as session:
        row = session.get(CourseImport, import_id)
    if row is None:
        raise LookupError(f"no course import {import_id}")
    return row


def _discard_upload(config: ImportConfig, path: Path) -> None:
    """Delete a stored upload once imported; files outside the upload folder (CLI) stay."""
    root = config.upload_dir.resolve()
    folder = path.resolve().parent
    if folder != root and folder.is_relative_to(root):
        shutil.rmtree(folder, ignore_errors=True)


# --- Persistence and re-import -------------------------------------------------------------


class _Keyed(Protocol):
    key: str
    content_hash: str


class _Row(Protocol):
    id: int
    key: str
    content_hash: str


I = TypeVar("I", bound=_Keyed)  # noqa: E741
R = TypeVar("R", bound=_Row)


def fit_key(key: str) -> str:
    """A key that fits the column: long keys keep their start and a hash of the whole."""
    if len(key) <= KEY_LENGTH:
        return key
    return key[: KEY_LENGTH - 41] + "~" + hashlib.sha256(key.encode()).hexdigest()[:40]


def match_rows(items: list[I], rows: list[R]) -> tuple[list[tuple[I, R | None, str]], list[R]]:
    """Pair new items with existing rows: by key, else by content hash; the rest are removed."""
    by_key = {r.key: r for r in rows}
    new_keys = {fit_key(i.key) for i in items}
    spare: dict[str, list[R]] = {}
    for r in rows:
        if r.key not in new_keys:
            spare.setdefault(r.content_hash, []).append(r)
    pairs: list[tuple[I, R | None, str]] = []
    claimed: set[int] = set()
    for item in items:
        row = by_key.get(fit_key(item.key))
        if row is None and spare.get(item.content_hash):
            row = spare[item.content_hash].pop(0)  # same content under a new key
        if row is None:
            pairs.append((item, None, "added"))
            continue
        claimed.add(row.id)
        outcome = "unchanged" if row.content_hash == item.content_hash else "changed"
        pairs.append((item, row, outcome))
    return pairs, [r for r in rows if r.id not in claimed]


def persist(session: Session, context_id: int, result: importer.ImportResult) -> dict[str, Any]:
    """Store an import's units, cards and assets for a course; returns what changed."""
    # Serializes two imports of one course on PostgreSQL (SQLite serializes writers anyway).
    session.execute(select(Context.id).where(Context.id == context_id).with_for_update())
    first = session.scalar(select(Unit.id).where(Unit.context_id == context_id).limit(1)) is None
    unit_ids, units = _save_units(session, context_id, result.units)
    cards = _save_cards(session, context_id, result.cards, unit_ids)
    _save_assets(session, context_id, result.assets)
    return {"first_import": first, "units": units, "cards": cards}


def _entry(key: str, title: str) -> dict[str, str]:
    return {"key": key, "title": title[:200]}


def _changes() -> dict[str, Any]:
    return {"unchanged": 0, "changed": [], "added": [], "removed": []}


def _save_units(
    session: Session, context_id: int, units: list[IngestUnit]
) -> tuple[dict[str, int], dict[str, Any]]:
    rows = list(session.scalars(select(Unit).where(Unit.context_id == context_id)))
    pairs, removed = match_rows(units, rows)
    changes, saved = _changes(), []
    for position, (unit, row, outcome) in enumerate(pairs):
        if row is None:
            row = Unit(context_id=context_id)
            session.add(row)
        elif row.retired:
            outcome = "added"  # back after an import had retired it
        _apply_unit(row, unit, position)
        saved.append((unit.key, row))
        _count(changes, outcome, _entry(unit.key, unit.title))
    for row in removed:
        if not row.retired:
            row.retired = True
            changes["removed"].append(_entry(row.key, row.title))
    session.flush()
    return {key: row.id for key, row in saved}, changes


def _apply_unit(row: Unit, unit: IngestUnit, position: int) -> None:
    row.key, row.position, row.retired = fit_key(unit.key), position, False
    row.module_index, row.module_title = unit.module_index, unit.module_title[:500]
    row.title, row.body_html = unit.title[:500] or "Untitled", unit.html
    row.words, row.minutes, row.key_terms = unit.words, unit.minutes, list(unit.key_terms)
    row.content_hash = unit.content_hash
    row.provenance = [asdict(p) for p in unit.provenance]


def _count(changes: dict[str, Any], outcome: str, entry: dict[str, str]) -> None:
    if outcome == "unchanged":
        changes["unchanged"] += 1
    else:
        changes[outcome].append(entry)


def _save_cards(
    session: Session, context_id: int, cards: list[IngestCard], unit_ids: dict[str, int]
) -> dict[str, Any]:
    rows = list(
        session.scalars(select(Card).where(Card.context_id == context_id, Card.origin != "manual"))
    )
    pairs, removed = match_rows(cards, rows)
    changes = _changes()
    for card, row, outcome in pairs:
        unit_id = unit_ids.get(card.unit_key) if card.unit_key else None
        if row is None:
            row = Card(context_id=context_id, status=CardStatus(card.status.value))
            session.add(row)
        if row.status is CardStatus.RETIRED and row.provenance.get("retired_by_import"):
            row.status, outcome = CardStatus(card.status.value), "added"
        if outcome != "unchanged":
            _apply_card_content(row, card)
        row.key, row.unit_id = fit_key(card.key), unit_id
        row.provenance = {**asdict(card.provenance), "link": card.link}
        _count(changes, outcome, _entry(card.key, card.title or card.prompt_text))
    for row in removed:
        if row.status is not CardStatus.RETIRED:
            row.status = CardStatus.RETIRED
            row.provenance = {**row.provenance, "retired_by_import": True}
            changes["removed"].append(_entry(row.key, row.title or row.prompt_text))
    session.flush()
    return changes


def _apply_card_content(row: Card, card: IngestCard) -> None:
    row.kind, row.origin = card.kind.value, card.origin.value
    row.title, row.prompt_html, row.prompt_text = (
        card.title[:500],
        card.prompt_html,
        card.prompt_text,
    )
    row.feedback_html, row.content_hash = card.feedback_html, card.content_hash
    full = asdict(card)
    row.data = {name: full[name] for name in ANSWER_FIELDS}


def _save_assets(session: Session, context_id: int, assets: dict[str, IngestAsset]) -> None:
    existing = dict(
        session.execute(select(Asset.path, Asset.id).where(Asset.context_id == context_id)).all()
    )
    for path, asset in assets.items():
        if path in existing:
            session.execute(
                update(Asset)
                .where(Asset.id == existing[path])
                .values(data=asset.data, content_type=asset.media_type)
            )
        else:
            session.add(
                Asset(
                    context_id=context_id, path=path, content_type=asset.media_type, data=asset.data
                )
            )
    session.flush()

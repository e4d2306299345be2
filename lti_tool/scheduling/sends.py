"""Send bookkeeping: every reminder or digest is claimed by a unique key before it is sent.

A claim commits before its message leaves, so a sweep that runs twice, runs on two workers at
once, or crashes halfway never sends one key twice. A batch of reminders is marked "sending"
just before it goes to the mail server; a claim that never got that far and is older than
`STALE_CLAIM` was left by a sweep that died, and is released for the next sweep to send. So a
crash loses at most the batches that were in flight (at most once: never a duplicate). Claims
go in batches of one `INSERT ... ON CONFLICT DO NOTHING RETURNING`; outcomes are settled in
batches too (see `bulk` for statements of constant text on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Table, delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.models.review import ReminderSend
from lti_tool.scheduling.bulk import among, insert_new
from lti_tool.scheduling.exceptions import MailError
from lti_tool.scheduling.mailer import BatchOutcome

SENT, CLAIMED, SENDING, FAILED = "sent", "claimed", "sending", "failed"
# Far longer than a sweep takes to claim a batch and hand it to the mail server.
STALE_CLAIM = timedelta(hours=1)
_ERROR_CHARS = 500


def claim(session_factory: Callable[[], Session], key: str, user_id: int | None, kind: str) -> bool:
    """Claim a send by its key in its own transaction; False when someone already has it."""
    with session_factory() as session:
        try:
            session.add(ReminderSend(key=key, user_id=user_id, kind=kind, status=CLAIMED))
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
    return True


def claim_batch(
    session: Session, wanted: Sequence[tuple[str, int | None]], kind: str, now: datetime
) -> set[str]:
    """Claim many (key, user id) sends in the caller's transaction; returns the keys won.

    Keys are inserted in sorted order, so two sweeps racing over the same keys wait for each
    other instead of deadlocking.
    """
    if not wanted:
        return set()
    table: Table = ReminderSend.__table__  # type: ignore[assignment]
    rows = [
        {"key": key, "user_id": user_id, "kind": kind, "status": CLAIMED, "created_at": now}
        for key, user_id in sorted(wanted)
    ]
    return set(insert_new(session, table, rows, [table.c.key]).scalars())


def settle(
    session_factory: Callable[[], Session], key: str, error: MailError | None, now: datetime
) -> None:
    """Record a claimed send's outcome; a send that never reached the server is released."""
    outcome = BatchOutcome()
    if error is None:
        outcome.sent.append(key)
    elif not error.connected:
        outcome.unsent.append(key)
    else:
        outcome.refused[key] = str(error)
    with session_factory() as session, session.begin():
        settle_batch(session, outcome, now)


def settle_batch(session: Session, outcome: BatchOutcome, now: datetime) -> None:
    """Record a batch's outcomes in the caller's transaction: sent, failed, or released."""
    if outcome.sent:
        session.execute(
            update(ReminderSend)
            .where(among(session, ReminderSend.key, outcome.sent))
            .values(status=SENT, sent_at=now)
        )
    for key, error in outcome.refused.items():  # rare: one statement each is fine
        session.execute(
            update(ReminderSend)
            .where(ReminderSend.key == key)
            .values(status=FAILED, error=error[:_ERROR_CHARS])
        )
    release(session, outcome.unsent)


def release(session: Session, keys: Iterable[str]) -> None:
    """Drop claims whose message certainly never left, so a later sweep sends them."""
    keys = list(keys)
    if keys:
        session.execute(delete(ReminderSend).where(among(session, ReminderSend.key, keys)))


def mark_sending(session: Session, keys: Iterable[str]) -> None:
    """Record that these claimed reminders are about to go to the mail server."""
    keys = list(keys)
    if keys:
        session.execute(
            update(ReminderSend)
            .where(among(session, ReminderSend.key, keys))
            .values(status=SENDING)
        )


def release_stale(session: Session, now: datetime, kind: str = "learner") -> int:
    """Release claims a dead sweep left before sending (never those marked sending)."""
    result = session.execute(
        delete(ReminderSend).where(
            ReminderSend.kind == kind,
            ReminderSend.status == CLAIMED,
            ReminderSend.created_at < now - STALE_CLAIM,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)

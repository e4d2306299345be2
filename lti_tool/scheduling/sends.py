"""Send bookkeeping: every reminder or digest is claimed by a unique key before it is sent.

A claim commits before its message leaves, so a sweep that runs twice, runs on two workers at
once, or crashes halfway never sends one key twice (at most once: a crash loses the claimed,
unsent messages of that day rather than risk a duplicate). Claims go in batches of one
`INSERT ... ON CONFLICT DO NOTHING RETURNING`; outcomes are settled in batches too (see `bulk`
for statements of constant text on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from sqlalchemy import Table, delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.models.review import ReminderSend
from lti_tool.scheduling.bulk import among, insert_new
from lti_tool.scheduling.exceptions import MailError
from lti_tool.scheduling.mailer import BatchOutcome

SENT, CLAIMED, FAILED = "sent", "claimed", "failed"
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

"""Transactional outbox: statements are stored with the change that caused them, then forwarded.

`enqueue` only inserts a row in the caller's transaction, so the statement commits (or rolls
back) with the learner's answer. `Forwarder` claims due rows in batches, sends them under their
fixed ids and records the outcome; a crashed forwarder's claim simply expires and the rows go
again under the same ids, which an LRS answers with 204 or 409 (both mean delivered).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Index,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column
from tincan import Statement

from xapi.client import LrsClient
from xapi.db import BigIntPk, XapiBase, one_of, utcnow
from xapi.exceptions import (
    LrsConflictError,
    LrsHttpError,
    LrsRejectedError,
    LrsTransportError,
)
from xapi.signing import StatementSigner, signed_request
from xapi.statements import statement_dict, statement_id
from xapi.vocabulary import XAPI_VERSION_1

logger = logging.getLogger(__name__)

_ERROR_CHARS = 2000
# Statuses after which a batch is worth splitting into single PUTs to find the bad statement.
_SPLIT_STATUSES = {400, 409, 413, 422}
# Answers to a single statement that no retry can change: it goes to the dead letters.
_PERMANENT_STATUSES = {400, 413, 422}


class OutboxStatus(StrEnum):
    """Where an outbox row stands."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class OutboxEntry(XapiBase):
    """One statement waiting for (or done with) delivery to one LRS."""

    __tablename__ = "xapi_outbox"
    __table_args__ = (
        UniqueConstraint("lrs_key", "statement_id"),
        Index("ix_xapi_outbox_due", "status", "next_attempt_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPk, primary_key=True, autoincrement=True)
    statement_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    lrs_key: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(10), default=XAPI_VERSION_1)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING.value)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]


# Compiled once and cached by SQLAlchemy: the learner's answer pays for one plain INSERT.
_INSERT = insert(OutboxEntry)


def enqueue(
    session: Session,
    statement: Statement | dict[str, Any],
    lrs_key: str,
    *,
    version: str = XAPI_VERSION_1,
    now: datetime | None = None,
) -> uuid.UUID:
    """Add a statement to the outbox in the caller's transaction; returns its id.

    One INSERT on the session's connection: no ORM unit of work, no flush of the caller's other
    pending objects, no commit. Pass a body from `StatementBuilder.build_body` for the cheapest
    path (a tincan Statement is converted with `statement_dict` first).
    """
    body = statement if isinstance(statement, dict) else statement_dict(statement, version)
    moment = now or utcnow()
    identifier = statement_id(body)
    session.connection().execute(
        _INSERT,
        {
            "statement_id": identifier,
            "lrs_key": lrs_key,
            "version": version,
            "body": json.dumps(body, separators=(",", ":")),
            "created_at": moment,
            "attempts": 0,
            "next_attempt_at": moment,
            "status": OutboxStatus.PENDING.value,
        },
    )
    return identifier


@dataclass(frozen=True)
class Claimed:
    """A claimed outbox row: what the forwarder needs to send it."""

    id: int
    statement_id: uuid.UUID
    lrs_key: str
    body: str
    attempts: int


@dataclass
class ForwardReport:
    """What one forwarding pass did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def handled(self) -> int:
        """Rows the pass touched."""
        return self.sent + self.retried + self.dead


@dataclass
class _Outcome:
    sent: list[int] = field(default_factory=list)
    dead: dict[int, str] = field(default_factory=dict)
    retry: dict[int, str] = field(default_factory=dict)


ClientFor = Callable[[str], LrsClient]


class Forwarder:
    """Sends due outbox rows in batches; one instance per worker, many workers may run at once."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        client_for: ClientFor,
        *,
        batch_size: int = 200,
        lease: timedelta = timedelta(minutes=2),
        backoff_base: float = 2.0,
        backoff_max: float = 600.0,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        signer: Callable[[], StatementSigner] | None = None,
    ):
        self.session_factory = session_factory
        self.client_for = client_for
        self.batch_size = batch_size
        self.lease = lease
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.clock = clock
        self.rng = rng or random.Random()
        # Signed statements: `signer` loads the signing key, once per pass (see forward_once).
        self.signer = signer
        self._signing: StatementSigner | None = None

    def claim(self) -> list[Claimed]:
        """Claim up to batch_size due rows by pushing their next attempt past the lease."""
        now = self.clock()
        # Oldest due first, in the order of the due index (no sort of the whole queue).
        due = (
            select(OutboxEntry.id)
            .where(OutboxEntry.status == OutboxStatus.PENDING.value)
            .where(OutboxEntry.next_attempt_at <= now)
            .order_by(OutboxEntry.next_attempt_at, OutboxEntry.id)
            .limit(self.batch_size)
        )
        claim = update(OutboxEntry).values(
            next_attempt_at=now + self.lease, attempts=OutboxEntry.attempts + 1
        )
        with self.session_factory() as session, session.begin():
            if session.get_bind().dialect.name == "postgresql":
                # One statement: the locked CTE runs once (a LIMIT subquery inside IN (...) may
                # be re-run), and SKIP LOCKED keeps concurrent forwarders apart.
                locked = (
                    due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
                )
                claim = claim.where(OutboxEntry.id == locked.c.id)
            else:
                # SQLite: one UPDATE ... RETURNING is atomic (single writer).
                claim = claim.where(OutboxEntry.id.in_(due.scalar_subquery())).where(
                    OutboxEntry.status == OutboxStatus.PENDING.value,
                    OutboxEntry.next_attempt_at <= now,
                )
            returning = claim.returning(
                OutboxEntry.id,
                OutboxEntry.statement_id,
                OutboxEntry.lrs_key,
                OutboxEntry.body,
                OutboxEntry.attempts,
            )
            rows = session.execute(returning, execution_options={"synchronize_session": False})
            claimed = [Claimed(*row) for row in rows]
        return sorted(claimed, key=lambda item: item.id)

    def forward_once(self) -> ForwardReport:
        """Claim one batch, send it per LRS, record the outcomes."""
        self._signing = self.signer() if self.signer else None  # before claiming: may fail
        claimed = self.claim()
        report = ForwardReport()
        groups: dict[str, list[Claimed]] = defaultdict(list)
        for item in claimed:
            groups[item.lrs_key].append(item)
        for lrs_key, items in groups.items():
            outcome = self._deliver(lrs_key, items)
            self._record(items, outcome)
            report.sent += len(outcome.sent)
            report.dead += len(outcome.dead)
            report.retried += len(outcome.retry)
            if outcome.retry:
                report.errors[lrs_key] = next(iter(outcome.retry.values()))
        return report

    def drain(self, max_passes: int = 1_000_000) -> ForwardReport:
        """Forward until nothing is due (or max_passes); returns the totals."""
        total = ForwardReport()
        for _ in range(max_passes):
            report = self.forward_once()
            total.sent += report.sent
            total.retried += report.retried
            total.dead += report.dead
            total.errors.update(report.errors)
            if report.handled == 0:
                break
        return total

    def run(self, stop: threading.Event, idle_seconds: float = 1.0) -> None:
        """Forward until `stop` is set, sleeping when nothing is due."""
        while not stop.is_set():
            try:
                report = self.forward_once()
            except Exception:
                logger.exception("outbox forwarding pass failed")
                report = ForwardReport()
            if report.handled < self.batch_size:
                stop.wait(idle_seconds)

    # -- delivery -------------------------------------------------------------------------

    def _deliver(self, lrs_key: str, items: list[Claimed]) -> _Outcome:
        outcome = _Outcome()
        try:
            client = self.client_for(lrs_key)
        except Exception as exc:
            logger.warning("no LRS client for %s: %s", lrs_key, type(exc).__name__)
            outcome.retry = {item.id: f"no LRS configured: {exc}" for item in items}
            return outcome
        if len(items) == 1:
            return self._put_each(client, items)
        try:
            client.request(
                "POST", "statements", **self._statements([item.body for item in items], batch=True)
            )
            outcome.sent = [item.id for item in items]
        except LrsHttpError as exc:
            if exc.status in _SPLIT_STATUSES:
                # Some statement is known or invalid: find out which, one PUT each.
                return self._put_each(client, items)
            outcome.retry = {item.id: str(exc)[:_ERROR_CHARS] for item in items}
        except LrsTransportError as exc:
            outcome.retry = {item.id: str(exc)[:_ERROR_CHARS] for item in items}
        return outcome

    def _put_each(self, client: LrsClient, items: list[Claimed]) -> _Outcome:
        outcome = _Outcome()
        for index, item in enumerate(items):
            try:
                client.request(
                    "PUT",
                    "statements",
                    params={"statementId": str(item.statement_id)},
                    **self._statements([item.body], batch=False),
                )
                outcome.sent.append(item.id)
            except LrsConflictError:
                outcome.sent.append(item.id)  # the LRS already has this id: delivered
            except (LrsRejectedError, LrsHttpError) as exc:
                if _is_permanent(exc):
                    outcome.dead[item.id] = exc.message[:_ERROR_CHARS]
                else:
                    _retry_rest(outcome, items[index:], str(exc))
                    break
            except LrsTransportError as exc:
                _retry_rest(outcome, items[index:], str(exc))
                break
        return outcome

    def _statements(self, bodies: list[str], *, batch: bool) -> dict[str, Any]:
        """Request content and Content-Type: JSON, or multipart/mixed with one signature each."""
        if self._signing is None:
            content = "[" + ",".join(bodies) + "]" if batch else bodies[0]
            return {"content": content, "headers": {"Content-Type": "application/json"}}
        body, content_type = signed_request(self._signing, bodies, batch=batch)
        return {"content": body, "headers": {"Content-Type": content_type}}

    def _record(self, items: list[Claimed], outcome: _Outcome) -> None:
        now = self.clock()
        attempts = {item.id: item.attempts for item in items}
        with self.session_factory() as session, session.begin():
            if outcome.sent:
                session.execute(
                    update(OutboxEntry)
                    .where(one_of(session, OutboxEntry.id, outcome.sent))
                    .values(status=OutboxStatus.SENT.value, sent_at=now, last_error=None),
                    execution_options={"synchronize_session": False},
                )
            for row_id, message in outcome.dead.items():
                logger.warning("outbox row %s moved to dead letters", row_id)
                self._set(session, row_id, status=OutboxStatus.DEAD.value, last_error=message)
            for row_id, message in outcome.retry.items():
                delay = self.backoff(attempts[row_id])
                self._set(
                    session,
                    row_id,
                    next_attempt_at=now + timedelta(seconds=delay),
                    last_error=message[:_ERROR_CHARS],
                )

    @staticmethod
    def _set(session: Session, row_id: int, **values: Any) -> None:
        session.execute(
            update(OutboxEntry).where(OutboxEntry.id == row_id).values(**values),
            execution_options={"synchronize_session": False},
        )

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after `attempts` failures: exponential, capped, with equal jitter."""
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** max(attempts - 1, 0))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)


def _is_permanent(exc: LrsHttpError) -> bool:
    """Only a refusal of the statement itself is final; auth, 404 and throttling are retried."""
    return exc.status in _PERMANENT_STATUSES


def _retry_rest(outcome: _Outcome, items: list[Claimed], message: str) -> None:
    for item in items:
        outcome.retry[item.id] = message[:_ERROR_CHARS]


@dataclass(frozen=True)
class QueueStats:
    """Outbox state of one LRS, for `microreview xapi status`."""

    lrs_key: str
    pending: int
    dead: int
    oldest_pending: datetime | None
    last_error: str | None


def queue_stats(session: Session) -> list[QueueStats]:
    """Queue depth, oldest pending, dead letters and last error per LRS key."""
    rows = session.execute(
        select(
            OutboxEntry.lrs_key,
            OutboxEntry.status,
            func.count(),
            func.min(OutboxEntry.created_at),
        ).group_by(OutboxEntry.lrs_key, OutboxEntry.status)
    ).all()
    counts: dict[str, dict[str, Any]] = defaultdict(dict)
    for lrs_key, status, count, oldest in rows:
        counts[lrs_key][status] = (count, oldest)
    stats = []
    for lrs_key, by_status in sorted(counts.items()):
        pending, oldest = by_status.get(OutboxStatus.PENDING.value, (0, None))
        dead = by_status.get(OutboxStatus.DEAD.value, (0, None))[0]
        last_error = session.scalar(
            select(OutboxEntry.last_error)
            .where(OutboxEntry.lrs_key == lrs_key, OutboxEntry.last_error.is_not(None))
            .order_by(OutboxEntry.next_attempt_at.desc())
            .limit(1)
        )
        stats.append(QueueStats(lrs_key, pending, dead, oldest, last_error))
    return stats


def retry(session: Session, *, dead: bool = False, lrs_key: str | None = None) -> int:
    """Make pending rows due now (and dead ones pending again if `dead`); returns rows changed."""
    statuses = [OutboxStatus.PENDING.value] + ([OutboxStatus.DEAD.value] if dead else [])
    query = update(OutboxEntry).where(OutboxEntry.status.in_(statuses))
    if lrs_key is not None:
        query = query.where(OutboxEntry.lrs_key == lrs_key)
    result = session.execute(
        query.values(status=OutboxStatus.PENDING.value, next_attempt_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def purge_sent(session: Session, older_than: datetime) -> int:
    """Delete rows delivered before `older_than`; returns how many."""
    result = session.execute(
        delete(OutboxEntry).where(
            OutboxEntry.status == OutboxStatus.SENT.value, OutboxEntry.sent_at < older_than
        ),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)

"""Retention: delete protocol and delivery records once nothing can need them any more.

Used nonces matter only until their tokens expire, service tokens until they expire, delivered
outbox rows only as a short audit trail (the LRS holds the statements), and reminder claims
only as long as a rerun could still send the same reminder. Dead letters are never purged:
an operator must see and retry them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from lti_tool.lti.launch import purge_expired
from lti_tool.models import ReminderSend, ServiceToken
from xapi.outbox import purge_sent


@dataclass(frozen=True)
class Retention:
    """How long delivered statements and reminder claims are kept."""

    outbox_days: int
    reminder_days: int


@dataclass(frozen=True)
class PurgeReport:
    """How many rows of each kind one pass deleted."""

    nonces: int
    service_tokens: int
    outbox: int
    reminder_sends: int

    @property
    def total(self) -> int:
        """All rows deleted."""
        return self.nonces + self.service_tokens + self.outbox + self.reminder_sends


def purge(session: Session, retention: Retention, now: datetime) -> PurgeReport:
    """Delete what retention allows, in the caller's transaction; returns the counts."""
    tokens = session.execute(
        delete(ServiceToken).where(ServiceToken.expires_at < now),
        execution_options={"synchronize_session": False},
    )
    sends = session.execute(
        delete(ReminderSend).where(
            ReminderSend.created_at < now - timedelta(days=retention.reminder_days)
        ),
        execution_options={"synchronize_session": False},
    )
    return PurgeReport(
        nonces=purge_expired(session, now),
        service_tokens=int(getattr(tokens, "rowcount", 0) or 0),
        outbox=purge_sent(session, now - timedelta(days=retention.outbox_days)),
        reminder_sends=int(getattr(sends, "rowcount", 0) or 0),
    )

"""Retention: old protocol and delivery records go; anything still useful stays."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from lti_tool.db import Database, utcnow
from lti_tool.housekeeping import Retention, purge
from lti_tool.models import Platform, ReminderSend, ServiceToken, UsedNonce
from xapi.outbox import OutboxEntry, OutboxStatus

RETENTION = Retention(outbox_days=7, reminder_days=35)


def _outbox(status: OutboxStatus, sent_days_ago: int | None) -> dict:
    now = utcnow()
    return {
        "statement_id": uuid.uuid4(),
        "lrs_key": "platform:1",
        "version": "1.0.3",
        "body": "{}",
        "created_at": now - timedelta(days=60),
        "attempts": 1,
        "next_attempt_at": now,
        "status": status.value,
        "sent_at": now - timedelta(days=sent_days_ago) if sent_days_ago is not None else None,
    }


def test_purge_deletes_only_what_retention_allows(database_url):
    """Expired nonces and tokens, old delivered statements and old reminder claims go; recent
    ones, pending statements and dead letters stay."""
    db = Database(database_url)
    now = utcnow()
    with db.session() as s:
        platform = Platform(
            issuer="https://lms",
            client_id="c",
            auth_login_url="a",
            auth_token_url="t",
            key_set_url="k",
        )
        s.add(platform)
        s.flush()
        s.add_all(
            [
                UsedNonce(issuer="i", nonce="old", expires_at=now - timedelta(minutes=1)),
                UsedNonce(issuer="i", nonce="live", expires_at=now + timedelta(minutes=5)),
                ServiceToken(
                    platform_id=platform.id,
                    scopes="a",
                    access_token="x",
                    expires_at=now - timedelta(seconds=1),
                ),
                ServiceToken(
                    platform_id=platform.id,
                    scopes="b",
                    access_token="y",
                    expires_at=now + timedelta(minutes=30),
                ),
                ReminderSend(key="old", created_at=now - timedelta(days=36)),
                ReminderSend(key="recent", created_at=now - timedelta(days=2)),
            ]
        )
        s.execute(
            OutboxEntry.__table__.insert(),
            [
                {**_outbox(OutboxStatus.SENT, 8), "lrs_key": "old-sent"},
                {**_outbox(OutboxStatus.SENT, 1), "lrs_key": "recent-sent"},
                {**_outbox(OutboxStatus.PENDING, None), "lrs_key": "pending"},
                {**_outbox(OutboxStatus.DEAD, None), "lrs_key": "dead"},
            ],
        )
    with db.session() as s:
        report = purge(s, RETENTION, now)
    assert (report.nonces, report.service_tokens, report.outbox, report.reminder_sends) == (
        1,
        1,
        1,
        1,
    )
    assert report.total == 4
    with db.session() as s:
        assert s.scalars(select(UsedNonce.nonce)).all() == ["live"]
        assert s.scalars(select(ServiceToken.scopes)).all() == ["b"]
        assert s.scalars(select(ReminderSend.key)).all() == ["recent"]
        assert sorted(s.scalars(select(OutboxEntry.lrs_key))) == ["dead", "pending", "recent-sent"]
    db.engine.dispose()


def test_purge_job_runs_on_its_schedule(database_url, tmp_path):
    """The hourly housekeeping task deletes through the same rules."""
    from lti_tool.jobs import create_jobs
    from lti_tool.settings import load_settings

    db = Database(database_url)
    with db.session() as s:
        s.add(UsedNonce(issuer="i", nonce="old", expires_at=utcnow() - timedelta(minutes=1)))
    settings = load_settings(database_url=database_url, huey_sqlite_path=str(tmp_path / "huey.db"))
    jobs = create_jobs(settings, immediate=True)
    assert jobs.tasks["purge_protocol_state"].call_local() == 1
    with db.session() as s:
        assert s.scalars(select(UsedNonce)).all() == []
    db.engine.dispose()

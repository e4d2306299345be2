"""A sweep over several SMTP connections: each learner once, whatever is refused or crashes."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from lti_tool.db import Database
from lti_tool.jobs import reminder_config, run_reminders
from lti_tool.models import User
from lti_tool.models.review import ReminderSend
from lti_tool.scheduling import reminders
from lti_tool.scheduling.mailer import Mailer, SmtpConfig
from lti_tool.scheduling.reminders import sweep
from lti_tool.scheduling.sends import release_stale
from lti_tool.settings import PROJECT_ROOT
from tests.scheduling.builders import build_course
from tests.scheduling.test_reminders import BASE, MORNING, make_due, settings_for

LEARNERS = 12
EVERYONE = [f"person{i}@example.org" for i in range(1, LEARNERS + 1)]


def course(db: Database) -> None:
    """A course whose learners all have reviews due this morning."""
    with db.session() as s:
        rows = build_course(s, units=1, cards_per_unit=2, learners=LEARNERS)
    make_due(db, rows)


def statuses(db: Database) -> Counter[str]:
    """How many claims are in each state."""
    with db.session() as s:
        return Counter(s.scalars(select(ReminderSend.status)))


def test_parallel_senders_and_concurrent_sweeps_send_each_learner_once(db, smtp, monkeypatch):
    """Two sweeps at once, each over four connections, together remind every learner once."""
    inbox, port = smtp
    monkeypatch.setattr(reminders, "BATCH", 2)
    course(db)
    settings = settings_for(db, port, reminder_smtp_connections=4)
    sent: list[int] = []

    def one_sweep() -> None:
        with Mailer(SmtpConfig.from_settings(settings)) as mailer:
            sent.append(sweep(db.sessions, mailer, reminder_config(settings), MORNING).sent)

    threads = [threading.Thread(target=one_sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m["To"] for m in inbox.messages) == sorted(EVERYONE)
    assert sum(sent) == LEARNERS
    assert statuses(db) == {"sent": LEARNERS}


def test_a_refused_recipient_does_not_hold_back_the_others(db, smtp, monkeypatch):
    """The server refuses one address: that reminder is recorded failed, the rest go out."""
    inbox, port = smtp
    monkeypatch.setattr(reminders, "BATCH", 3)

    async def handle_rcpt(self, server, session, envelope, address, options):
        if address == "person5@example.org":
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    monkeypatch.setattr(type(inbox), "handle_RCPT", handle_rcpt, raising=False)
    course(db)
    settings = settings_for(db, port, reminder_smtp_connections=2)
    report = run_reminders(db, settings, MORNING)
    assert (report.sent, report.failed) == (LEARNERS - 1, 1)
    assert "550" in report.errors[0]
    assert sorted(m["To"] for m in inbox.messages) == sorted(
        a for a in EVERYONE if a != "person5@example.org"
    )
    assert statuses(db) == {"sent": LEARNERS - 1, "failed": 1}
    assert run_reminders(db, settings, MORNING + timedelta(minutes=15)).sent == 0


def test_a_sender_crash_halfway_through_a_batch_then_a_rerun_reminds_each_learner_once(
    db, smtp, monkeypatch
):
    """A sender fails right after a message left: its batch's rest is released, the sweep
    stops and raises, and the next sweep sends every other learner their one reminder."""
    inbox, port = smtp
    monkeypatch.setattr(reminders, "BATCH", 4)
    real_send, sent = Mailer.send, itertools.count(1)

    def send_then_crash(self, mail):
        real_send(self, mail)
        if next(sent) == 3:
            raise RuntimeError("sender crashed")

    monkeypatch.setattr(Mailer, "send", send_then_crash)
    course(db)
    settings = settings_for(db, port, reminder_smtp_connections=2)
    with pytest.raises(RuntimeError, match="sender crashed"):
        run_reminders(db, settings, MORNING)
    assert statuses(db)["sending"] == 1  # the message in flight: it may have left, never resent
    monkeypatch.setattr(Mailer, "send", real_send)
    run_reminders(db, settings, MORNING + timedelta(minutes=15))
    assert sorted(m["To"] for m in inbox.messages) == sorted(EVERYONE)
    assert statuses(db) == {"sent": LEARNERS - 1, "sending": 1}
    run_reminders(db, settings, MORNING + timedelta(hours=2))  # not even when it is old
    assert len(inbox.messages) == LEARNERS


KILLED_SWEEP = """
import itertools, os, sys
from datetime import datetime
from lti_tool.db import Database
from lti_tool.jobs import run_reminders
from lti_tool.scheduling import reminders
from lti_tool.scheduling.mailer import Mailer
from lti_tool.settings import Settings

url, port, base, at = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
reminders.BATCH = 2
real_send, sent = Mailer.send, itertools.count(1)

def send(self, mail):
    real_send(self, mail)
    if next(sent) == 3:
        os._exit(9)  # killed halfway through a batch: nothing is settled or released

Mailer.send = send
settings = Settings(env="test", base_url=base, database_url=url, secret_key="s" * 40,
                    smtp_port=port, reminder_smtp_connections=2)
run_reminders(Database(url), settings, datetime.fromisoformat(at))
"""


def test_a_killed_sweep_never_causes_a_second_email(db, smtp):
    """Killed mid-batch, the sweep leaves claims behind: the rerun sends every unclaimed learner
    one reminder and nobody a second; an hour on, claims that never reached the mail server are
    released and sent; only the batch that was in flight may miss that day's email."""
    inbox, port = smtp
    course(db)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_SWEEP, db.url, str(port), BASE, MORNING.isoformat()],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert killed.returncode == 9, killed.stderr

    def left(status: str) -> set[str]:
        with db.session() as s:
            return set(
                s.scalars(
                    select(User.email)
                    .join(ReminderSend, ReminderSend.user_id == User.id)
                    .where(ReminderSend.status == status)
                )
            )

    assert len(inbox.messages) >= 3  # with two connections, one more may have left meanwhile
    in_flight, never_sent = left("sending"), left("claimed")
    assert 1 <= len(in_flight) <= 2 * 100  # one batch per connection was at the mail server
    assert in_flight | never_sent  # the kill left unsettled claims behind
    run_reminders(db, settings_for(db, port), MORNING + timedelta(minutes=15))
    assert left("claimed") == never_sent  # a claim this young may belong to a live sweep
    run_reminders(db, settings_for(db, port), MORNING + timedelta(minutes=61))
    received = Counter(m["To"] for m in inbox.messages)
    assert set(received.values()) == {1}
    assert never_sent <= set(received)  # released and sent by the later sweep
    assert set(EVERYONE) - set(received) <= in_flight  # only the in-flight batch may miss


def test_only_old_claims_that_never_reached_the_mail_server_are_released(db):
    """Old 'claimed' learner reminders go; young claims, 'sending' ones and digests stay."""
    with db.session() as s:
        s.add_all(
            [
                ReminderSend(key="old", kind="learner", status="claimed", created_at=MORNING),
                ReminderSend(
                    key="young",
                    kind="learner",
                    status="claimed",
                    created_at=MORNING + timedelta(minutes=50),
                ),
                ReminderSend(key="in-flight", kind="learner", status="sending", created_at=MORNING),
                ReminderSend(key="digest", kind="digest", status="claimed", created_at=MORNING),
            ]
        )
    with db.session() as s:
        assert release_stale(s, MORNING + timedelta(minutes=61)) == 1
    with db.session() as s:
        assert sorted(s.scalars(select(ReminderSend.key))) == ["digest", "in-flight", "young"]

"""Reminders against a real SMTP server: once a day, local hours, unsubscribe, signed links."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from lti_tool import create_app
from lti_tool.db import Database
from lti_tool.jobs import reminder_config, run_reminders
from lti_tool.models.review import CardState, ReminderPreference, ReminderSend
from lti_tool.scheduling import reminders
from lti_tool.scheduling.digest import send_digests
from lti_tool.scheduling.links import SessionLink, revoke_links
from lti_tool.scheduling.mailer import Mailer, SmtpConfig
from lti_tool.scheduling.reminder_mail import ReminderWriter
from lti_tool.scheduling.reminders import sweep
from lti_tool.settings import Settings
from tests.scheduling.builders import T0, build_course
from tests.scheduling.smtp import bodies, free_port

BASE = "http://tool.test"
MORNING = T0.replace(hour=9, minute=30)  # 09:30 UTC on a Monday


def settings_for(db: Database, port: int, **extra) -> Settings:
    """Settings that point the tool at the test database and SMTP server."""
    return Settings(
        env="test", base_url=BASE, database_url=db.url, secret_key="s" * 40, smtp_port=port, **extra
    )


def make_due(db: Database, rows, user_ids=None, due: datetime = T0 - timedelta(days=1)) -> None:
    """Give learners a reviewed state on every card, due at `due`."""
    with db.session() as s:
        for user_id in user_ids or rows.learner_ids:
            for card_id in rows.card_ids:
                s.add(
                    CardState(
                        user_id=user_id,
                        card_id=card_id,
                        context_id=rows.context_id,
                        state=2,
                        stability=3.0,
                        difficulty=5.0,
                        due=due,
                        last_review=due - timedelta(days=3),
                        reps=1,
                        lapses=0,
                    )
                )


def set_pref(db: Database, user_id: int, **values) -> None:
    """Store a learner's reminder preferences."""
    with db.session() as s:
        pref = s.get(ReminderPreference, user_id) or ReminderPreference(
            user_id=user_id, feed_secret=f"secret-{user_id}"
        )
        for name, value in values.items():
            setattr(pref, name, value)
        s.add(pref)


def links_in(text: str) -> list[str]:
    """Every URL of the tool in a text."""
    return re.findall(re.escape(BASE) + r"/\S+", text)


def test_due_learners_get_one_email_a_day_with_html_and_text(db, smtp):
    """Each learner with due reviews gets one reminder; running again the same day sends none."""
    inbox, port = smtp
    with db.session() as s:
        rows = build_course(s, learners=2)
    make_due(db, rows)
    settings = settings_for(db, port)
    assert run_reminders(db, settings, MORNING).sent == 2
    assert run_reminders(db, settings, MORNING + timedelta(hours=2)).sent == 0
    assert len(inbox.messages) == 2
    message = inbox.to("person1@example.org")[0]
    text, html = bodies(message)
    assert "6 reviews due today" in message["Subject"]
    assert "Forklift safety" in text and "Forklift safety" in html
    assert any("/reminders/open/" in link for link in links_in(text))
    assert message["List-Unsubscribe"].startswith(f"<{BASE}/reminders/unsubscribe/")
    assert run_reminders(db, settings, MORNING + timedelta(days=1)).sent == 2


def test_nothing_is_sent_to_learners_with_nothing_due(db, smtp):
    """Learners whose cards are due later get no reminder today."""
    inbox, port = smtp
    with db.session() as s:
        rows = build_course(s)
    make_due(db, rows, due=MORNING + timedelta(days=3))
    assert run_reminders(db, settings_for(db, port), MORNING).sent == 0
    assert inbox.messages == []


def test_reminders_wait_for_the_learners_local_hour_and_skip_the_night(db, smtp):
    """A learner in Los Angeles is not woken at 01:30; the reminder goes at their 09:00."""
    inbox, port = smtp
    with db.session() as s:
        rows = build_course(s)
    make_due(db, rows)
    learner = rows.learner_ids[0]
    set_pref(db, learner, time_zone="America/Los_Angeles", local_hour=9)
    settings = settings_for(db, port)
    assert run_reminders(db, settings, MORNING).sent == 0  # 01:30 in Los Angeles
    assert run_reminders(db, settings, MORNING + timedelta(hours=7)).sent == 0  # 08:30
    assert run_reminders(db, settings, MORNING + timedelta(hours=8)).sent == 1  # 09:30
    set_pref(db, learner, time_zone="Asia/Tokyo", local_hour=7)
    # 22:30 in Tokyo on the next UTC morning: quiet hours, although no reminder went that day
    assert run_reminders(db, settings, MORNING + timedelta(days=1, hours=4)).sent == 0
    assert len(inbox.messages) == 1


def test_unsubscribe_link_stops_reminders(db, smtp):
    """Following the email's unsubscribe link and confirming stops every later reminder."""
    inbox, port = smtp
    with db.session() as s:
        rows = build_course(s)
    make_due(db, rows)
    settings = settings_for(db, port)
    run_reminders(db, settings, MORNING)
    url = inbox.messages[0]["List-Unsubscribe"].strip("<>")
    client = create_app(settings).test_client()
    confirm = client.get(url.removeprefix(BASE))
    assert confirm.status_code == 200 and b"Stop receiving" in confirm.data
    done = client.post(url.removeprefix(BASE))
    assert done.status_code == 200 and b"You are unsubscribed" in done.data
    assert run_reminders(db, settings, MORNING + timedelta(days=1)).sent == 0
    tampered = client.post(url.removeprefix(BASE)[:-3] + "xyz")
    assert tampered.status_code == 403


def test_learner_given_address_is_used_when_the_lms_shares_none(db, smtp):
    """Without an LMS address there is no email, until the learner gives one."""
    inbox, port = smtp
    with db.session() as s:
        rows = build_course(s, email=False)
    make_due(db, rows)
    settings = settings_for(db, port)
    assert run_reminders(db, settings, MORNING).sent == 0
    set_pref(db, rows.learner_ids[0], email="me@private.example")
    assert run_reminders(db, settings, MORNING).sent == 1
    assert inbox.messages[0]["To"] == "me@private.example"


def test_signed_link_opens_that_learners_review_directly(db, smtp):
    """The email's review link opens the learner's own session without the LMS."""
    inbox, port = smtp
    with db.session() as s:
        rows = build_course(s)
    make_due(db, rows)
    settings = settings_for(db, port)
    run_reminders(db, settings, MORNING)
    link = next(u for u in links_in(bodies(inbox.messages[0])[0]) if "/open/" in u)
    client = create_app(settings).test_client()
    opened = client.get(link.removeprefix(BASE))
    assert opened.status_code == 303
    review = client.get(opened.headers["Location"])
    assert review.status_code == 200 and b'id="answer-form"' in review.data


def test_signed_links_refuse_tampering_expiry_and_revocation(db, smtp, monkeypatch):
    """A changed, expired or revoked review link is refused with 403."""
    inbox, port = smtp
    with db.session() as s:
        rows = build_course(s, learners=2)
    make_due(db, rows)
    settings = settings_for(db, port, reminder_link_ttl=3600)
    run_reminders(db, settings, MORNING)
    client = create_app(settings).test_client()
    link = next(u for u in links_in(bodies(inbox.to("person1@example.org")[0])[0]) if "/open/" in u)
    path = link.removeprefix(BASE)
    token = path.rsplit("/", 1)[1]
    payload = token.partition(".")[0]
    other = next(
        u for u in links_in(bodies(inbox.to("person2@example.org")[0])[0]) if "/open/" in u
    )
    forged = payload + "." + other.rsplit("/", 1)[1].partition(".")[2]
    assert client.get(f"/reminders/open/{forged}").status_code == 403
    assert client.get(path[:-2] + "AA").status_code == 403
    real_timestamp = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real_timestamp(self) - 7200)
    old = reminder_config(settings).signer.session_token(
        SessionLink(rows.learner_ids[0], rows.context_id, rows.placement_id, 1)
    )
    monkeypatch.undo()
    assert client.get(f"/reminders/open/{old}").status_code == 403
    assert client.get(path).status_code == 303
    with db.session() as s:
        revoke_links(s.get(ReminderPreference, rows.learner_ids[0]))
    assert client.get(path).status_code == 403


def test_a_crashed_or_concurrent_sweep_never_sends_twice(db, smtp):
    """A reminder claimed by a crashed run is not resent; two sweeps at once send each once."""
    inbox, port = smtp
    with db.session() as s:
        rows = build_course(s, learners=6)
    make_due(db, rows)
    with db.session() as s:
        s.add(
            ReminderSend(
                key=f"learner:{rows.learner_ids[0]}:{MORNING.date()}",
                user_id=rows.learner_ids[0],
                status="claimed",
            )
        )
    settings = settings_for(db, port)
    config = reminder_config(settings)

    def one_sweep() -> None:
        with Mailer(SmtpConfig.from_settings(settings)) as mailer:
            sweep(db.sessions, mailer, config, MORNING)

    threads = [threading.Thread(target=one_sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recipients = sorted(m["To"] for m in inbox.messages)
    assert recipients == [f"person{i}@example.org" for i in range(2, 7)]


def test_an_unreachable_mail_server_leaves_the_reminder_for_the_next_run(db, smtp):
    """When the SMTP server is down nothing is lost: the next sweep sends the reminder."""
    _inbox, port = smtp
    with db.session() as s:
        rows = build_course(s)
    make_due(db, rows)
    down = run_reminders(db, settings_for(db, free_port()), MORNING)
    assert (down.sent, down.failed) == (0, 1)
    assert run_reminders(db, settings_for(db, port), MORNING + timedelta(minutes=15)).sent == 1
    with db.session() as s:
        assert s.scalars(select(ReminderSend.status)).all() == ["sent"]


def test_weekly_digest_lists_learners_overdue_on_critical_units(db, smtp):
    """Instructors get one digest a week naming learners overdue on critical units."""
    inbox, port = smtp
    with db.session() as s:
        rows = build_course(s, learners=2, critical=(0,))
    make_due(db, rows, user_ids=[rows.learner_ids[0]], due=T0 - timedelta(days=5))
    make_due(db, rows, user_ids=[rows.learner_ids[1]], due=T0 + timedelta(days=5))
    settings = settings_for(db, port)
    with Mailer(SmtpConfig.from_settings(settings)) as mailer:
        assert send_digests(db.sessions, mailer, MORNING, overdue_days=2) == 1
        assert send_digests(db.sessions, mailer, MORNING + timedelta(days=2), overdue_days=2) == 0
    digest = inbox.to("person0@example.org")[0]
    text, html = bodies(digest)
    assert "Person 1" in text and "Person 2" not in text
    assert "3 cards overdue" in text  # only the critical unit's cards count
    assert "<td>Person 1</td>" in html


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland"])
def test_calendar_feed_lists_review_days_and_parses_back(db, smtp, zone):
    """The secret iCal feed has one all-day event per review day with the count due."""
    from icalendar import Calendar

    _, port = smtp
    with db.session() as s:
        rows = build_course(s, units=1, cards_per_unit=3)
    learner = rows.learner_ids[0]
    now = datetime.now(T0.tzinfo)
    with db.session() as s:
        for card_id, days in zip(rows.card_ids, (-2, 3, 3), strict=True):
            s.add(
                CardState(
                    user_id=learner,
                    card_id=card_id,
                    context_id=rows.context_id,
                    state=2,
                    stability=4.0,
                    difficulty=5.0,
                    due=now + timedelta(days=days),
                    last_review=now - timedelta(days=4),
                    reps=1,
                    lapses=0,
                )
            )
    set_pref(db, learner, time_zone=zone, feed_secret="feed-secret-1")
    client = create_app(settings_for(db, port)).test_client()
    response = client.get("/reminders/calendar/feed-secret-1.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.data).walk("VEVENT")
    summaries = {e.decoded("dtstart"): str(e.get("summary")) for e in events}
    assert len(events) == 2
    counts = sorted(summaries.values())
    assert counts == ["Microreview: 1 card to review", "Microreview: 2 cards to review"]
    assert client.get("/reminders/calendar/wrong.ics").status_code == 404


@pytest.mark.parametrize("connections", [1, 3])
def test_a_sweep_in_batches_sends_everyone_once_over_its_connections(
    db, smtp, monkeypatch, connections
):
    """Claimed in batches, every due learner gets one email, over at most N SMTP connections."""
    inbox, port = smtp
    peers: list[object] = []
    real_handle = type(inbox).handle_DATA

    async def handle_data(self, server, session, envelope):
        peers.append(session.peer)
        return await real_handle(self, server, session, envelope)

    monkeypatch.setattr(type(inbox), "handle_DATA", handle_data)
    monkeypatch.setattr(reminders, "BATCH", 2)
    with db.session() as s:
        rows = build_course(s, learners=5)
    make_due(db, rows)
    settings = settings_for(db, port, reminder_smtp_connections=connections)
    report = run_reminders(db, settings, MORNING)
    assert report.sent == 5
    assert sorted(m["To"] for m in inbox.messages) == [
        f"person{i}@example.org" for i in range(1, 6)
    ]
    assert 1 <= len(set(peers)) <= connections
    with db.session() as s:
        assert set(s.scalars(select(ReminderSend.status))) == {"sent"}
        assert s.scalar(select(func.count()).select_from(ReminderPreference)) == 5


def test_a_sweep_that_fails_while_writing_releases_only_what_was_not_sent(db, smtp, monkeypatch):
    """An error mid-sweep keeps sent reminders sent; the unsent ones go out on the next run."""
    inbox, port = smtp
    monkeypatch.setattr(reminders, "BATCH", 2)
    with db.session() as s:
        rows = build_course(s, learners=5)
    make_due(db, rows)
    settings = settings_for(db, port)
    real_mail, written = ReminderWriter.mail, []

    def failing_mail(self, recipient, secrets, links):
        if len(written) == 3:
            raise RuntimeError("template broke")
        written.append(recipient.user_id)
        return real_mail(self, recipient, secrets, links)

    monkeypatch.setattr(ReminderWriter, "mail", failing_mail)
    with pytest.raises(RuntimeError):
        run_reminders(db, settings, MORNING)
    assert len(inbox.messages) == 2  # the first batch went out before the error
    monkeypatch.setattr(ReminderWriter, "mail", real_mail)
    assert run_reminders(db, settings, MORNING + timedelta(minutes=15)).sent == 3
    assert sorted(m["To"] for m in inbox.messages) == [
        f"person{i}@example.org" for i in range(1, 6)
    ]


def test_an_unreachable_server_releases_every_claim_of_the_sweep(db, smtp, monkeypatch):
    """With the SMTP server down, no claim is kept: the next run reminds every learner once."""
    inbox, port = smtp
    monkeypatch.setattr(reminders, "BATCH", 2)
    with db.session() as s:
        rows = build_course(s, learners=5)
    make_due(db, rows)
    down = run_reminders(db, settings_for(db, free_port()), MORNING)
    assert (down.sent, down.failed) == (0, 5)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ReminderSend)) == 0
    assert run_reminders(db, settings_for(db, port), MORNING + timedelta(minutes=15)).sent == 5
    assert len(inbox.messages) == 5

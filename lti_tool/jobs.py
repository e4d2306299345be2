"""Background jobs (Huey): xAPI delivery, reminders sweep, grade sync, FSRS fitting, imports.

Storage is SQLite in the instance directory by default and Redis when `redis_url` is set, so
several consumers on several machines share one queue. Run a consumer with
`huey_consumer lti_tool.jobs.huey` (the `huey` attribute is built from the settings on first use).
Each task body is a plain function (`run_*`) that tests and the CLI can call directly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey, crontab

from lti_tool import housekeeping
from lti_tool.db import Database, utcnow
from lti_tool.lrs_connections import ClientPool
from lti_tool.lti.ags import send_pending_scores
from lti_tool.runtime import make_http_session
from lti_tool.scheduling import digest, fitting, reminders
from lti_tool.scheduling.links import LinkSigner
from lti_tool.scheduling.mailer import Mailer, SmtpConfig
from lti_tool.secret_box import SecretBox
from lti_tool.settings import Settings, load_settings
from lti_tool.statement_signing import forwarder_signer
from xapi.outbox import Forwarder, ForwardReport

log = logging.getLogger(__name__)
GRADE_BATCH = 100


def create_huey(settings: Settings, immediate: bool = False) -> Huey:
    """Huey on Redis when configured, else on a SQLite file beside the database."""
    if settings.redis_url:
        return RedisHuey(name=settings.huey_name, url=settings.redis_url, immediate=immediate)
    path = Path(settings.huey_sqlite_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name=settings.huey_name, filename=str(path), immediate=immediate)


def reminder_config(settings: Settings) -> reminders.ReminderConfig:
    """Reminder settings of an installation."""
    return reminders.ReminderConfig(
        base_url=settings.base_url.rstrip("/"),
        signer=LinkSigner(settings.secret_key, settings.reminder_link_ttl),
        default_zone=settings.reminder_time_zone,
        default_hour=settings.reminder_hour,
        quiet_start=settings.reminder_quiet_start,
        connections=settings.reminder_smtp_connections,
    )


def run_reminders(db: Database, settings: Settings, now: datetime) -> reminders.SweepReport:
    """One reminders sweep, plus the weekly instructor digests on the digest weekday."""
    if not settings.reminders_enabled:
        return reminders.SweepReport()
    with Mailer(SmtpConfig.from_settings(settings)) as mailer:
        report = reminders.sweep(db.sessions, mailer, reminder_config(settings), now)
        if now.weekday() == settings.digest_weekday and now.hour >= settings.reminder_hour:
            digest.send_digests(db.sessions, mailer, now, settings.digest_overdue_days)
    log.info("reminders: %s sent, %s failed", report.sent, report.failed)
    return report


def run_grade_sync(db: Database, settings: Settings, now: datetime) -> tuple[int, int]:
    """Send every due score to its LMS; failures back off and wait for a later run."""
    http = make_http_session()
    sent = failed = 0
    while True:
        with db.session() as session:
            batch_sent, batch_failed = send_pending_scores(
                session, http, now, settings.http_timeout, limit=GRADE_BATCH
            )
        sent, failed = sent + batch_sent, failed + batch_failed
        if batch_sent + batch_failed < GRADE_BATCH:
            return sent, failed


def run_xapi_forwarding(db: Database, settings: Settings) -> ForwardReport:
    """Deliver every due outbox statement to its platform's LRS (retries back off)."""
    pool = ClientPool(
        db.sessions, SecretBox(settings.secret_key), settings.base_url, settings.http_timeout
    )
    try:
        return Forwarder(
            db.sessions,
            pool,
            batch_size=settings.xapi_batch_size,
            signer=forwarder_signer(settings, db.sessions),
        ).drain()
    finally:
        pool.close()


def run_fitting(
    db: Database, settings: Settings, now: datetime, context_id: int | None = None
) -> list[fitting.FitResult]:
    """Fit one course's FSRS parameters, or every course with enough new reviews."""
    with db.session() as session:
        ids = (
            [context_id]
            if context_id is not None
            else fitting.courses_to_refit(session, settings.fitting_min_reviews)
        )
    results = []
    for course in ids:
        with db.session() as session:
            results.append(fitting.fit_course(session, course, now, settings.fitting_min_reviews))
    return results


@dataclass
class Jobs:
    """One Huey instance with the tool's tasks registered on it."""

    settings: Settings
    huey: Huey
    tasks: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def db(self) -> Database:
        """The database the tasks use (opened on first task)."""
        return Database(self.settings.database_url)


def create_jobs(settings: Settings, immediate: bool = False) -> Jobs:
    """Build Huey for these settings and register every task and schedule."""
    jobs = Jobs(settings, create_huey(settings, immediate))
    h = jobs.huey
    retention = housekeeping.Retention(
        outbox_days=settings.xapi_outbox_keep_days,
        reminder_days=settings.reminder_sends_keep_days,
    )

    @h.periodic_task(crontab(minute="*/15"), name="reminders_sweep")
    def reminders_sweep() -> int:
        return run_reminders(jobs.db, settings, utcnow()).sent

    @h.periodic_task(crontab(minute="*"), retries=3, retry_delay=30, name="grade_sync")
    def grade_sync() -> tuple[int, int]:
        return run_grade_sync(jobs.db, settings, utcnow())

    @h.task(retries=2, retry_delay=60, name="fit_course")
    def fit_course(context_id: int) -> bool:
        return any(r.fitted for r in run_fitting(jobs.db, settings, utcnow(), context_id))

    @h.periodic_task(crontab(minute="30", hour="3"), name="fit_courses")
    def fit_courses() -> int:
        return sum(r.fitted for r in run_fitting(jobs.db, settings, utcnow()))

    @h.task(name="import_course")
    def import_course(import_id: int) -> str:
        # Imported here: the import service pulls in the whole ingest pipeline.
        from lti_tool.course_import import run_import

        return str(run_import(jobs.db, settings, import_id).status)

    @h.periodic_task(crontab(minute="*"), name="xapi_flush")
    def xapi_flush() -> int:
        return run_xapi_forwarding(jobs.db, settings).handled

    @h.periodic_task(crontab(minute="7"), name="purge_protocol_state")
    def purge_protocol_state() -> int:
        with jobs.db.session() as session:
            return housekeeping.purge(session, retention, utcnow()).total

    jobs.tasks.update(
        xapi_flush=xapi_flush,
        purge_protocol_state=purge_protocol_state,
        reminders_sweep=reminders_sweep,
        grade_sync=grade_sync,
        fit_course=fit_course,
        fit_courses=fit_courses,
        import_course=import_course,
    )
    return jobs


_default: Jobs | None = None


def default_jobs() -> Jobs:
    """The jobs of the installation's settings (what `huey_consumer lti_tool.jobs.huey` runs)."""
    global _default
    if _default is None:
        _default = create_jobs(load_settings())
    return _default


def __getattr__(name: str) -> Any:
    if name == "huey":
        return default_jobs().huey
    raise AttributeError(name)

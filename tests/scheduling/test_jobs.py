"""Background jobs through Huey's real storage: SQLite by default, Redis when configured."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import redis

from lti_tool.jobs import create_huey, create_jobs, run_fitting
from lti_tool.models.review import CourseSchedule, ReviewLog, ReviewSession
from lti_tool.scheduling.scheduler import DEFAULT_PARAMETERS
from lti_tool.settings import Settings
from tests.scheduling.builders import T0, build_course

REDIS_URL = "redis://127.0.0.1:6379/0"


def add_history(db, rows, learners: int = 1, days: int = 60) -> int:
    """A plausible review history: every card reviewed on growing intervals, some lapses."""
    count = 0
    with db.session() as s:
        review = ReviewSession(
            user_id=rows.learner_ids[0],
            context_id=rows.context_id,
            plan=[],
            local_day=T0.date(),
            started_at=T0,
        )
        s.add(review)
        s.flush()
        for user_id in rows.learner_ids[:learners]:
            for index, card_id in enumerate(rows.card_ids):
                when, gap = T0, 1
                while when < T0 + timedelta(days=days):
                    rating = 1 if (count + index) % 7 == 0 else 3
                    s.add(
                        ReviewLog(
                            session_id=review.id,
                            position=count,
                            user_id=user_id,
                            card_id=card_id,
                            context_id=rows.context_id,
                            rating=rating,
                            correct=rating > 1,
                            reviewed_at=when,
                        )
                    )
                    count += 1
                    gap = 1 if rating == 1 else gap * 2
                    when += timedelta(days=gap)
    return count


def settings_for(db, tmp_path, **extra) -> Settings:
    """Settings for jobs against the test database, with a unique queue name."""
    return Settings(
        env="test",
        database_url=db.url,
        secret_key="s" * 40,
        huey_sqlite_path=str(tmp_path / "huey.db"),
        huey_name=f"mr-test-{uuid.uuid4().hex[:8]}",
        **extra,
    )


def test_fitting_stores_course_parameters_once_there_are_enough_reviews(db, tmp_path):
    """A course with a long enough history gets its own FSRS parameters and their date."""
    with db.session() as s:
        rows = build_course(s, units=4, cards_per_unit=5, learners=3)
    settings = settings_for(db, tmp_path, fitting_min_reviews=50)
    assert run_fitting(db, settings, T0)[0:] == []  # nothing logged yet
    add_history(db, rows, learners=3)
    results = run_fitting(db, settings, T0 + timedelta(days=61))
    assert [r.fitted for r in results] == [True]
    with db.session() as s:
        schedule = s.get(CourseSchedule, rows.context_id)
        assert len(schedule.parameters) == 21
        assert tuple(schedule.parameters) != DEFAULT_PARAMETERS
        assert schedule.parameters_fitted_at == T0 + timedelta(days=61)


def test_fitting_waits_for_enough_reviews(db, tmp_path):
    """Below the minimum number of reviews the defaults stay."""
    with db.session() as s:
        rows = build_course(s, units=1, cards_per_unit=2)
    add_history(db, rows, days=10)
    settings = settings_for(db, tmp_path, fitting_min_reviews=400)
    [result] = run_fitting(db, settings, T0, context_id=rows.context_id)
    assert not result.fitted and "needs 400 reviews" in result.reason


def _run_queued(huey) -> object:
    """Take one task from the queue's storage and execute it like a consumer does."""
    task = huey.dequeue()
    assert task is not None
    return huey.execute(task)


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_fit_course_task_runs_through_the_queue(db, tmp_path, backend):
    """Enqueued, stored, dequeued and executed: the task fits the course on either storage."""
    with db.session() as s:
        rows = build_course(s, units=4, cards_per_unit=5, learners=3)
    add_history(db, rows, learners=3)
    redis_url = REDIS_URL if backend == "redis" else ""
    jobs = create_jobs(settings_for(db, tmp_path, redis_url=redis_url, fitting_min_reviews=50))
    try:
        assert type(jobs.huey).__name__ == ("RedisHuey" if redis_url else "SqliteHuey")
        jobs.tasks["fit_course"](rows.context_id)
        assert jobs.huey.pending_count() == 1
        assert _run_queued(jobs.huey) is True
        assert jobs.huey.pending_count() == 0
        with db.session() as s:
            assert s.get(CourseSchedule, rows.context_id).parameters_fitted_at is not None
    finally:
        jobs.huey.storage.flush_all()
        jobs.db.engine.dispose()


def test_redis_queues_of_two_installations_do_not_mix(tmp_path):
    """Queues on one Redis server are separated by their names."""
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()
    first = create_huey(Settings(redis_url=REDIS_URL, huey_name=f"mr-a-{uuid.uuid4().hex[:6]}"))
    second = create_huey(Settings(redis_url=REDIS_URL, huey_name=f"mr-b-{uuid.uuid4().hex[:6]}"))
    try:
        task = first.task()(lambda: 1)
        task()
        assert (first.pending_count(), second.pending_count()) == (1, 0)
    finally:
        first.storage.flush_all()
        second.storage.flush_all()


def test_periodic_tasks_are_scheduled(db, tmp_path):
    """Reminders, grade sync and fitting are registered as periodic tasks."""
    jobs = create_jobs(settings_for(db, tmp_path))
    at_night = {t.name for t in jobs.huey.read_periodic(T0.replace(minute=30, hour=3))}
    assert at_night == {"reminders_sweep", "grade_sync", "fit_courses", "xapi_flush"}
    midday = {t.name for t in jobs.huey.read_periodic(T0.replace(minute=7, hour=12))}
    assert midday == {"grade_sync", "xapi_flush", "purge_protocol_state"}

"""Daily sessions against the database: start, resume, answer once, finish, grade, statements."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lti_tool.models import ScoreSubmission
from lti_tool.models.review import CardState, CourseSchedule, ReviewLog, ReviewSession
from lti_tool.scheduling import sessions
from lti_tool.scheduling.exceptions import SessionNotFoundError, StaleAnswerError
from tests.scheduling.builders import RIGHT, T0, WRONG, build_course, outbox_count
from xapi.outbox import OutboxEntry

BASE = "https://tool.example.org"


def learner_of(rows, zone: str = "UTC", index: int = 0) -> sessions.Learner:
    """The scheduling view of a built course's learner."""
    return sessions.Learner(rows.learner_ids[index], rows.context_id, rows.placement_id, zone, BASE)


def finish_session(session, learner, review, now, answer=RIGHT):
    """Answer every remaining card of a session."""
    outcome = None
    while review.remaining:
        outcome = sessions.answer(
            session, learner, review, review.position, answer, now, timedelta(seconds=8)
        )
    return outcome


def test_first_session_plans_new_cards_interleaving_units(db):
    """A new learner's first session holds new cards up to the daily limit, units alternating."""
    with db.session() as s:
        rows = build_course(s, units=3, cards_per_unit=4)
        s.add(CourseSchedule(context_id=rows.context_id, new_per_day=6))
    with db.session() as s:
        review, _ = sessions.start_or_resume(s, learner_of(rows), T0)
        assert review is not None
        plan = list(review.plan)
        assert len(plan) == 6
        unit_of = {cid: i // 4 for i, cid in enumerate(rows.card_ids)}
        units = [unit_of[c] for c in plan]
        assert all(a != b for a, b in itertools.pairwise(units))
        assert outbox_count(s) == 1  # the session's "initialized" statement


def test_an_unfinished_session_is_resumed_where_it_stopped(db):
    """Launching again the same day continues the open session at the next card."""
    with db.session() as s:
        rows = build_course(s)
    learner = learner_of(rows)
    with db.session() as s:
        review, _ = sessions.start_or_resume(s, learner, T0)
        sessions.answer(s, learner, review, 0, RIGHT, T0, timedelta(seconds=5))
        first_id = review.id
    with db.session() as s:
        again, _ = sessions.start_or_resume(s, learner, T0 + timedelta(hours=2))
        assert again.id == first_id
        assert again.position == 1


def test_answering_the_same_card_twice_counts_once(db):
    """A repeated POST of one answer returns the first outcome and changes nothing."""
    with db.session() as s:
        rows = build_course(s)
    learner = learner_of(rows)
    with db.session() as s:
        review, _ = sessions.start_or_resume(s, learner, T0)
        first = sessions.answer(s, learner, review, 0, RIGHT, T0, timedelta(seconds=5))
    with db.session() as s:
        review = s.get(ReviewSession, review.id)
        repeat = sessions.answer(
            s, learner, review, 0, WRONG, T0 + timedelta(seconds=3), timedelta(seconds=5)
        )
        assert repeat.duplicate and repeat.grade.correct is True
        assert repeat.due == first.due
        assert s.scalar(select(func.count()).select_from(ReviewLog)) == 1
        state = s.scalars(select(CardState)).one()
        assert state.reps == 1
        answered = [e for e in s.scalars(select(OutboxEntry)) if "answered" in e.body]
        assert len(answered) == 1


def test_an_answer_ahead_of_the_session_is_refused(db):
    """A card the session has not reached cannot be answered."""
    with db.session() as s:
        rows = build_course(s)
    learner = learner_of(rows)
    with db.session() as s:
        review, _ = sessions.start_or_resume(s, learner, T0)
        with pytest.raises(StaleAnswerError):
            sessions.answer(s, learner, review, 2, RIGHT, T0, timedelta(seconds=5))


def test_another_learners_session_is_not_found(db):
    """A learner cannot reach someone else's session by its id."""
    with db.session() as s:
        rows = build_course(s, learners=2)
    with db.session() as s:
        review, _ = sessions.start_or_resume(s, learner_of(rows), T0)
        with pytest.raises(SessionNotFoundError):
            sessions.find_session(s, learner_of(rows, index=1), str(review.public_id))


def test_each_answer_commits_log_state_and_statement_together(db):
    """After an answer the review log, card state and answered statement are all stored."""
    with db.session() as s:
        rows = build_course(s)
    learner = learner_of(rows)
    with db.session() as s:
        review, _ = sessions.start_or_resume(s, learner, T0)
        sessions.answer(s, learner, review, 0, WRONG, T0, timedelta(seconds=5))
    with db.session() as s:
        log = s.scalars(select(ReviewLog)).one()
        assert log.correct is False and log.rating == 1
        state = s.scalars(select(CardState)).one()
        assert state.card_id == log.card_id and state.due > T0
        entry = s.scalars(
            select(OutboxEntry).where(OutboxEntry.statement_id == log.statement_id)
        ).one()
        body = json.loads(entry.body)
        assert entry.lrs_key == f"platform:{rows.platform_id}"
        assert body["verb"]["id"].endswith("/answered")
        assert body["actor"]["account"] == {"homePage": "https://lms.example.edu", "name": "user-1"}
        assert body["result"]["success"] is False


def test_finishing_a_session_queues_mastery_and_closing_statements(db):
    """The last answer ends the session: completed and terminated statements, a pending grade."""
    with db.session() as s:
        rows = build_course(s, units=2, cards_per_unit=2, lineitem="https://lms.example.edu/li/1")
    learner = learner_of(rows)
    with db.session() as s:
        review, _ = sessions.start_or_resume(s, learner, T0)
        outcome = finish_session(s, learner, review, T0)
        assert outcome.finished
    with db.session() as s:
        bodies = [
            json.loads(e.body) for e in s.scalars(select(OutboxEntry).order_by(OutboxEntry.id))
        ]
        verbs = [b["verb"]["id"].rsplit("/", 1)[-1] for b in bodies]
        assert verbs == ["initialized"] + ["answered"] * 4 + ["completed", "terminated"]
        score = s.scalars(select(ScoreSubmission)).one()
        assert score.score_given == 100.0
        assert score.activity_progress == "Completed"
        assert score.grading_progress == "FullyGraded"


def test_mastery_counts_only_cards_at_the_retention_target(db):
    """Wrong answers and unseen cards lower the grade; activity stays in progress until all seen."""
    with db.session() as s:
        rows = build_course(s, units=2, cards_per_unit=2, lineitem="https://lms.example.edu/li/1")
        s.add(CourseSchedule(context_id=rows.context_id, new_per_day=2))
    learner = learner_of(rows)
    with db.session() as s:
        review, _ = sessions.start_or_resume(s, learner, T0)
        sessions.answer(s, learner, review, 0, RIGHT, T0, timedelta(seconds=5))
        sessions.answer(s, learner, review, 1, WRONG, T0, timedelta(seconds=5))
    with db.session() as s:
        score = s.scalars(select(ScoreSubmission)).one()
        assert score.score_given == 25.0  # 1 of 4 published cards retained
        assert score.activity_progress == "InProgress"


def test_new_per_day_limit_holds_across_sessions_of_one_day(db):
    """Once today's new cards are used up, a second launch that day offers none."""
    with db.session() as s:
        rows = build_course(s, units=2, cards_per_unit=5)
        s.add(CourseSchedule(context_id=rows.context_id, new_per_day=3))
    learner = learner_of(rows)
    with db.session() as s:
        review, _ = sessions.start_or_resume(s, learner, T0)
        assert len(review.plan) == 3
        finish_session(s, learner, review, T0)
    with db.session() as s:
        review, plan = sessions.start_or_resume(s, learner, T0 + timedelta(hours=3))
        assert review is None and plan.next_due is not None
    with db.session() as s:
        tomorrow, _ = sessions.start_or_resume(s, learner, T0 + timedelta(days=1))
        assert tomorrow is not None and len(tomorrow.plan) == 3


def test_wrong_cards_come_back_before_right_ones(db):
    """A card answered wrong is due sooner than one answered right, and leads the next session."""
    with db.session() as s:
        rows = build_course(s, units=1, cards_per_unit=2)
        s.add(CourseSchedule(context_id=rows.context_id, new_per_day=2))
    learner = learner_of(rows)
    with db.session() as s:
        review, _ = sessions.start_or_resume(s, learner, T0)
        wrong_card = review.plan[0]
        sessions.answer(s, learner, review, 0, WRONG, T0, timedelta(seconds=5))
        sessions.answer(s, learner, review, 1, RIGHT, T0, timedelta(seconds=5))
    with db.session() as s:
        states = {st.card_id: st for st in s.scalars(select(CardState))}
        assert states[wrong_card].due < min(st.due for c, st in states.items() if c != wrong_card)
        review, _ = sessions.start_or_resume(s, learner, states[wrong_card].due)
        assert review.plan[0] == wrong_card


def test_extra_round_offers_cards_when_nothing_is_due(db):
    """With nothing due, an extra round still gives the learner cards to practise."""
    with db.session() as s:
        rows = build_course(s, units=1, cards_per_unit=2)
    learner = learner_of(rows)
    with db.session() as s:
        review, _ = sessions.start_or_resume(s, learner, T0)
        finish_session(s, learner, review, T0)
    with db.session() as s:
        none, _ = sessions.start_or_resume(s, learner, T0 + timedelta(minutes=5))
        extra, _ = sessions.start_or_resume(s, learner, T0 + timedelta(minutes=5), extra=True)
        assert none is None
        assert extra is not None and extra.extra and len(extra.plan) == 2


def test_todays_new_cards_are_loaded_in_the_planners_interleaved_order(db):
    """The database picks the same first new cards as interleaving all of them would."""
    from lti_tool.models import Unit
    from lti_tool.scheduling import planner
    from tests.scheduling.builders import add_card

    with db.session() as s:
        rows = build_course(s, units=3, cards_per_unit=3)
        units = [s.get(Unit, unit_id) for unit_id in rows.unit_ids]
        units[0].position, units[1].position, units[2].position = 5, 1, 5  # a tie, reordered
        loose = [add_card(s, rows.context_id, None, f"loose{i}").id for i in range(2)]
        extra = add_card(s, rows.context_id, rows.unit_ids[1], "late").id
    learner = learner_of(rows)
    day = (T0 - timedelta(hours=9), T0 + timedelta(hours=15))
    with db.session() as s:
        every = planner.load_candidates(s, learner.user_id, rows.context_id)
        expected = planner.interleave(sorted(every, key=lambda c: (c.unit_position, c.card_id)))
        assert {c.card_id for c in every} >= {*loose, extra}
        for limit in (1, 3, 7, len(every)):
            today = planner.load_today(s, learner.user_id, rows.context_id, day, limit, 60)
            assert [c.card_id for c in today] == [c.card_id for c in expected[:limit]]


def test_todays_new_cards_respect_what_the_day_already_started(db):
    """New cards already met today count against the day's allowance."""
    from lti_tool.scheduling import planner

    with db.session() as s:
        rows = build_course(s, units=2, cards_per_unit=4)
    learner = learner_of(rows)
    with db.session() as s:
        review, _ = sessions.start_or_resume(s, learner, T0)
        for position in range(3):
            sessions.answer(s, learner, review, position, RIGHT, T0, timedelta(seconds=5))
    day = (T0 - timedelta(hours=9), T0 + timedelta(hours=15))
    with db.session() as s:
        today = planner.load_today(s, learner.user_id, rows.context_id, day, 5, 60)
        assert len([c for c in today if c.is_new]) == 2

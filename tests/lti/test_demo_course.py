"""The demo course's sample content: a newcomer's first learner launch shows a real card."""

from __future__ import annotations

from collections import Counter

import requests
from sqlalchemy import select

from lti_tool.demo import platform as demo
from lti_tool.demo.sample_course import QUESTIONS, seed_sample_course
from lti_tool.models import Card, Context, Unit


def _seed(live) -> bool:  # type: ignore[no-untyped-def]
    with live.db.session() as s:
        return seed_sample_course(s, demo.DemoPlatform(live.url).ensure_registered(s))


def test_sample_course_is_seeded_once_with_units_and_published_questions(live):
    """Five units, the hand-written questions published, drafted cards left for review; a
    second run changes nothing."""
    assert _seed(live) is True
    assert _seed(live) is False
    with live.db.session() as s:
        units = s.scalars(select(Unit.title).order_by(Unit.position)).all()
        statuses = Counter(c.status.value for c in s.scalars(select(Card)))
    assert len(units) == 5 and units[0] == "Report every near miss"
    assert statuses["published"] == len(QUESTIONS)
    assert statuses["draft"] > 0  # generated cloze and recall cards await the instructor


def test_course_with_content_is_left_alone(lms, live):
    """A demo course that already has units (an instructor imported something) is not seeded."""
    assert lms.launch(user=demo.USERS[0]).status_code == 303
    with live.db.session() as s:
        context_id = s.scalars(
            select(Context.id).where(Context.context_id == demo.CONTEXT_ID)
        ).one()
        s.add(Unit(context_id=context_id, key="mine", position=0, title="My own unit"))
    assert _seed(live) is False
    with live.db.session() as s:
        assert s.scalars(select(Unit.title)).all() == ["My own unit"]


def test_first_learner_launch_shows_a_question(lms, live):
    """After seeding, a learner's launch lands on a review with a question to answer."""
    _seed(live)
    response = lms.launch(user=demo.USERS[1])
    page = requests.get(live.url + response.headers["Location"])
    assert page.status_code == 200
    assert 'id="answer-form"' in page.text
    prompts = [prompt for _, _, prompt, _, _ in QUESTIONS]
    assert any(prompt.replace("'", "&#39;") in page.text for prompt in prompts)

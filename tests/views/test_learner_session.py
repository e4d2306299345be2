"""A learner's daily review over real HTTP: launch, answer, feedback, summary, grade at the LMS."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select

from lti_tool.db import utcnow
from lti_tool.demo.models import DemoScore
from lti_tool.demo.platform import USERS
from lti_tool.jobs import run_grade_sync
from lti_tool.models.review import ReviewLog
from tests.scheduling.builders import outbox_count
from tests.views.learner_support import LEARNER, answer_form, page, publish_cards

OTHER = USERS[2]


def _next_link(html) -> str:
    link = html.find(id="next")
    assert link is not None
    return str(link["href"])


def test_learner_reviews_every_card_and_the_grade_reaches_the_lms(live, lms):
    """A full session: each answer shows feedback, the summary follows, the LMS gets 100."""
    browser, lt = lms.open_as(LEARNER)
    cards = publish_cards(live)
    html = page(browser.get(f"{live.url}/learner/", params={"lt": lt}))
    for number in range(1, len(cards) + 1):
        assert f"card {number} of {len(cards)}" in html.get_text()
        action, fields = answer_form(html)
        feedback = page(browser.post(live.url + action, data={**fields, "choice": "a"}))
        assert feedback.find(id="verdict").get_text(strip=True) == "Correct"
        assert "Lock out the machine" in feedback.find(id="right-answer").get_text()
        assert feedback.find("a", string=lambda s: s and "micro-unit" in s) is not None
        html = page(browser.get(live.url + _next_link(feedback)))
    assert "Session complete" in html.get_text()
    assert "You reviewed 4 cards and got 4 right" in " ".join(
        html.find(id="score").get_text().split()
    )
    sent, failed = run_grade_sync(live.db, live.settings, utcnow())
    assert (sent, failed) == (1, 0)
    with live.db.session() as session:
        score = session.scalars(select(DemoScore)).one()
        assert score.user_id == LEARNER.sub
        assert score.score_given == 100.0 and score.score_maximum == 100.0
        assert score.activity_progress == "Completed"
        assert score.grading_progress == "FullyGraded"


def test_a_wrong_answer_shows_the_right_one_and_an_explanation(live, lms):
    """Feedback for a wrong answer names the right answer and the card's explanation."""
    browser, lt = lms.open_as(LEARNER)
    publish_cards(live, units=1, per_unit=1)
    action, fields = answer_form(page(browser.get(f"{live.url}/learner/", params={"lt": lt})))
    feedback = page(browser.post(live.url + action, data={**fields, "choice": "b"}))
    assert feedback.find(id="verdict").get_text(strip=True) == "Not quite"
    assert "Lock out the machine" in feedback.find(id="right-answer").get_text()
    assert "Because safety first." in feedback.get_text()
    assert "Keep working" in feedback.get_text()  # what the learner answered


def test_double_submits_never_double_count(live, lms):
    """A resent answer (refresh, double click, concurrent retry) is recorded once."""
    browser, lt = lms.open_as(LEARNER)
    publish_cards(live)
    action, fields = answer_form(page(browser.get(f"{live.url}/learner/", params={"lt": lt})))
    data = {**fields, "choice": "a"}
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: browser.post(live.url + action, data=data), range(4)))
    responses.append(browser.post(live.url + action, data={**fields, "choice": "b"}))
    assert [r.status_code for r in responses] == [200] * 5
    assert {page(r).find(id="verdict").get_text(strip=True) for r in responses} == {"Correct"}
    with live.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ReviewLog)) == 1
        answered = outbox_count(session)
    assert answered == 3  # launched + initialized + one answered
    html = page(browser.get(f"{live.url}/learner/", params={"lt": lt}))
    assert "card 2 of 4" in html.get_text()


def test_nothing_due_page_shows_next_review_and_offers_an_extra_round(live, lms):
    """After today's work the learner sees when the next review is and can practise more."""
    browser, lt = lms.open_as(LEARNER)
    publish_cards(live, units=1, per_unit=1)
    action, fields = answer_form(page(browser.get(f"{live.url}/learner/", params={"lt": lt})))
    browser.post(live.url + action, data={**fields, "choice": "a"})
    html = page(browser.get(f"{live.url}/learner/", params={"lt": lt}))
    assert "You are up to date" in html.get_text()
    assert html.find(id="next-due") is not None
    extra = browser.post(f"{live.url}/learner/extra", data={"lt": lt})
    assert "Extra round" in page(extra).get_text()


def test_answers_need_the_learners_own_launch_token(live, lms):
    """Without a launch token, or with another learner's, an answer is refused."""
    browser, lt = lms.open_as(LEARNER)
    publish_cards(live, units=1, per_unit=1)
    action, fields = answer_form(page(browser.get(f"{live.url}/learner/", params={"lt": lt})))
    anonymous = browser.post(live.url + action, data={"position": "0", "choice": "a"})
    assert anonymous.status_code == 401
    _, other_lt = lms.open_as(OTHER)
    foreign = browser.post(live.url + action, data={**fields, "lt": other_lt, "choice": "a"})
    assert foreign.status_code == 404


def test_unit_page_opens_from_feedback(live, lms):
    """The micro-unit link in feedback opens the unit's material."""
    browser, lt = lms.open_as(LEARNER)
    publish_cards(live, units=1, per_unit=1)
    action, fields = answer_form(page(browser.get(f"{live.url}/learner/", params={"lt": lt})))
    feedback = page(browser.post(live.url + action, data={**fields, "choice": "a"}))
    link = feedback.find("a", string=lambda s: s and "micro-unit" in s)
    unit = browser.get(live.url + link["href"])
    assert unit.status_code == 200
    assert "How to do step 0 safely." in unit.text


def test_grade_sync_retries_when_the_lms_is_down(live, lms):
    """A score the LMS does not accept stays pending and is sent by a later run."""
    from lti_tool.models import Placement, ScoreSubmission

    browser, lt = lms.open_as(LEARNER)
    publish_cards(live, units=1, per_unit=1)
    action, fields = answer_form(page(browser.get(f"{live.url}/learner/", params={"lt": lt})))
    browser.post(live.url + action, data={**fields, "choice": "a"})
    with live.db.session() as session:
        placement = session.scalars(select(Placement)).one()
        good_url, placement.lineitem_url = placement.lineitem_url, live.url + "/demo/nowhere/1"
    assert run_grade_sync(live.db, live.settings, utcnow()) == (0, 1)
    with live.db.session() as session:
        session.scalars(select(Placement)).one().lineitem_url = good_url
        assert session.scalars(select(ScoreSubmission)).one().status == "pending"
    later = utcnow() + timedelta(hours=7)
    assert run_grade_sync(live.db, live.settings, later) == (1, 0)
    with live.db.session() as session:
        assert session.scalar(select(func.count()).select_from(DemoScore)) == 1


def test_reminder_settings_are_one_link_away_from_a_card(live, lms):
    """A learner can set up reminders before finishing today's review."""
    browser, lt = lms.open_as(LEARNER)
    publish_cards(live)
    card = page(browser.get(f"{live.url}/learner/", params={"lt": lt}))
    assert card.find(id="answer-form") is not None
    link = card.find("a", string="Reminder settings")
    assert link is not None
    settings = browser.get(live.url + link["href"])
    assert settings.status_code == 200 and "Reminder settings" in settings.text

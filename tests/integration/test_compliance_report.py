"""The compliance report is built from the LRS and matches what learners did."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from lti_tool.cli import main
from lti_tool.db import utcnow
from lti_tool.demo import platform as demo
from lti_tool.jobs import run_xapi_forwarding
from lti_tool.lrs_connections import lrs_key
from lti_tool.models import Context, Platform
from lti_tool.reports.compliance import retention
from tests.lti.lms import TestLms
from xapi import events as xev
from xapi.outbox import enqueue
from xapi.statements import StatementBuilder
from xapi.vocabulary import InteractionType, Vocabulary


def _record(live, context_pk: int, platform_id: int, issuer: str) -> None:
    """Two learners' answers and one mastery, written through the outbox like the tool does."""
    builder = StatementBuilder(Vocabulary(live.url))
    course = xev.ActivityRef(id=str(context_pk), title="Safety")
    critical = xev.ActivityRef(id="u1", title="Lockout procedure", critical=True)
    plain = xev.ActivityRef(id="u2", title="History", critical=False)
    now = utcnow()

    def placement(sub):
        return xev.Placement(
            course=course,
            registration=uuid.uuid4(),
            lti=xev.LtiContext(deployment_id=demo.DEPLOYMENT_ID),
        )

    def answer(sub, card, unit, ok, days_ago, stability=10.0):
        return xev.CardAnswered(
            actor=xev.Actor(issuer=issuer, sub=sub),
            placement=placement(sub),
            occurred_at=now - timedelta(days=days_ago),
            card=xev.CardInteraction(
                card_id=card,
                title=card,
                prompt="?",
                interaction_type=InteractionType.TRUE_FALSE,
                correct_responses=("true",),
            ),
            unit=unit,
            result=xev.AnswerResult(
                response="true" if ok else "false", success=ok, duration=timedelta(seconds=5)
            ),
            memory=xev.MemoryState(
                retrievability=0.95, stability=stability, next_due=now + timedelta(days=5)
            ),
        )

    events = [
        answer("ann", "c1", critical, True, 3),
        answer("ann", "c1", critical, True, 1),
        answer("ann", "c2", critical, False, 2),
        answer("ann", "c9", plain, True, 1),
        answer("bob", "c1", critical, False, 1),
        xev.UnitMastered(
            actor=xev.Actor(issuer=issuer, sub="ann"),
            placement=placement("ann"),
            occurred_at=now - timedelta(days=1),
            unit=critical,
            memory=xev.MemoryState(
                retrievability=0.96, stability=12.0, next_due=now + timedelta(days=9)
            ),
        ),
    ]
    with live.db.session() as s:
        for event in events:
            enqueue(s, builder.build(event), lrs_key(platform_id))
    # the learner launch before these added one "launched" statement
    assert run_xapi_forwarding(live.db, live.settings).handled == len(events) + 1


def test_report_from_the_lrs_matches_what_learners_did(live):
    """Per learner and critical unit: answers, success rate, mastery and predicted retention."""
    TestLms(live).launch(user=demo.USERS[1])  # creates the course and its platform rows
    with live.db.session() as s:
        context = s.scalars(select(Context)).one()
        platform = s.get(Platform, context.platform_id)
        ids = (context.id, platform.id, platform.issuer)
    _record(live, *ids)
    env = {
        "MICROREVIEW_DATABASE_URL": live.settings.database_url,
        "MICROREVIEW_BASE_URL": live.url,
        "MICROREVIEW_SECRET_KEY": live.settings.secret_key,
    }
    args = ["xapi", "report", "--issuer", ids[2], "--context-id", demo.CONTEXT_ID]
    out = CliRunner().invoke(main, [*args, "--format", "json"], env=env, catch_exceptions=False)
    assert out.exit_code == 0, out.output
    rows = {r["learner"].split("|")[1]: r for r in json.loads(out.output)}
    assert set(rows) == {"ann", "bob"}  # the non-critical unit is left out
    ann, bob = rows["ann"], rows["bob"]
    assert ann["unit_title"] == "Lockout procedure" and ann["critical"] is True
    assert ann["answers"] == 3 and ann["success_rate"] == round(2 / 3, 4)
    assert ann["last_mastered"] is not None and bob["last_mastered"] is None
    assert bob["success_rate"] == 0.0
    expected = (retention(10.0, 1) + retention(10.0, 2)) / 2
    assert abs(ann["predicted_retention"] - expected) < 0.01
    every = CliRunner().invoke(main, [*args, "--all-units"], env=env, catch_exceptions=False)
    table = list(csv.DictReader(io.StringIO(every.output)))
    assert {r["unit_title"] for r in table} == {"Lockout procedure", "History"}


def test_retention_curve_is_fsrs():
    """At elapsed time equal to stability, predicted recall is 90 %; it falls with time."""
    assert abs(retention(10.0, 10.0) - 0.9) < 1e-9
    assert retention(10.0, 30.0) < retention(10.0, 20.0) < 0.9 < retention(10.0, 1.0)

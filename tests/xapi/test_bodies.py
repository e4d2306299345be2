"""The direct body builder gives exactly the tincan builder's JSON, for every event kind."""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from xapi import events as ev
from xapi import vocabulary as v
from xapi.exceptions import StatementBuildError
from xapi.lrs.validation import check_statement
from xapi.statements import StatementBuilder, to_json

from .test_statements import CARDS, SESSION

UNIT = ev.ActivityRef("unit-3", "Checking the load plate", description="Read it", critical=True)
PLAIN_UNIT = ev.ActivityRef("unit-4", "Lifting", critical=False)
MEMORY = ev.MemoryState(0.912345, 46.0, datetime(2026, 3, 1, 7, 5, 1, 999999, tzinfo=UTC))
LOCAL = timezone(timedelta(hours=2))


def _placements(placement: ev.Placement) -> list[ev.Placement]:
    """The fixture's full placement, and a bare one (no module, platform, instructor, roles)."""
    bare = ev.Placement(
        course=ev.ActivityRef("course-9", "Ladders", description="Safe use"),
        registration=uuid.UUID("11111111-2222-4333-8444-555555555555"),
        lti=ev.LtiContext(deployment_id="dep-2"),
        language="de-CH",
    )
    return [placement, bare]


def _events(learner: ev.Actor, placement: ev.Placement, make_answer) -> list[ev.AnyEvent]:
    """Every event kind, with and without its optional parts."""
    common = {"actor": learner, "placement": placement}
    answers = [
        make_answer(placement=placement, session_id=SESSION),
        make_answer(placement=placement, success=False, memory=None, unit=PLAIN_UNIT),
        make_answer(
            placement=placement,
            result=ev.AnswerResult("x", True, timedelta(0), score_raw=3, score_min=0, score_max=5),
            occurred_at=datetime(2026, 5, 1, 12, 0, tzinfo=LOCAL),
        ),
    ]
    for kind, pattern, parts in CARDS:
        card = ev.CardInteraction("card-x", "Card", "Prompt?", kind, pattern, **parts)
        answers.append(make_answer(placement=placement, card=card))
    return [
        ev.Launched(**common),
        ev.Launched(**common, unit=UNIT),
        ev.SessionInitialized(**common, session_id=SESSION),
        *answers,
        ev.UnitExperienced(**common, unit=UNIT, duration=timedelta(minutes=2), session_id=SESSION),
        ev.UnitExperienced(**common, unit=PLAIN_UNIT),
        ev.UnitMastered(**common, unit=UNIT, memory=MEMORY, session_id=SESSION),
        ev.SessionCompleted(**common, session_id=SESSION, duration=timedelta(hours=1, seconds=3.5)),
        ev.SessionTerminated(**common, session_id=SESSION, duration=timedelta(milliseconds=1)),
        ev.StatementVoided(actor=learner, target_id=uuid.uuid4()),
    ]


SETTINGS = list(itertools.product([False, True], [False, True]))


@pytest.mark.parametrize("version", [v.XAPI_VERSION_1, v.XAPI_VERSION_2])
@pytest.mark.parametrize(("by_email", "names"), SETTINGS)
def test_body_builder_matches_tincan_builder_for_every_event(
    vocabulary, learner, placement, make_answer, version, by_email, names
):
    """build_body gives the same JSON as statement_dict(build()) for every event and setting."""
    builder = StatementBuilder(vocabulary, identify_by_email=by_email, include_names=names)
    checked = 0
    for where in _placements(placement):
        for event in _events(learner, where, make_answer):
            body = builder.build_body(event, version)
            expected = to_json(builder.build(event), version)
            assert json.dumps(body, separators=(",", ":"), sort_keys=True) == expected
            check_statement(body, version)
            checked += 1
    assert checked == 2 * len(_events(learner, placement, make_answer))


def test_body_builder_gives_a_fresh_dict_each_time(builder, make_answer):
    """Changing one body (as a caller may) leaves the next one built untouched."""
    event = make_answer()
    first = builder.build_body(event)
    first["context"]["contextActivities"]["category"][0]["id"] = "changed"
    first["object"]["definition"]["name"]["en"] = "changed"
    assert builder.build_body(event) == json.loads(to_json(builder.build(event)))


def _bad_events(learner, placement, make_answer) -> list[ev.AnyEvent]:
    unknown_choice = ev.CardInteraction(
        "c", "Card", "?", v.InteractionType.CHOICE, ("z",), choices=(ev.Component("a", "A"),)
    )
    twice = (ev.Component("a", "A"), ev.Component("a", "B"))
    duplicate = ev.CardInteraction("c", "Card", "?", v.InteractionType.CHOICE, ("a",), twice)
    target = uuid.uuid4()
    return [
        make_answer(card=unknown_choice),
        make_answer(card=duplicate),
        make_answer(result=ev.AnswerResult("b", True, timedelta(1), score_scaled=1.5)),
        make_answer(result=ev.AnswerResult("b", True, timedelta(1), score_min=5, score_max=1)),
        make_answer(occurred_at=datetime(2026, 1, 1)),
        ev.StatementVoided(actor=learner, target_id=target, statement_id=target),
        ev.SessionCompleted(
            actor=learner, placement=placement, session_id=SESSION, duration=timedelta(-1)
        ),
        replace(make_answer(), memory=replace(MEMORY, next_due=datetime(2026, 1, 1))),
    ]


def test_body_builder_refuses_what_the_tincan_builder_refuses(
    builder, learner, placement, make_answer
):
    """Bad scores, patterns, naive times, self-voiding, negative durations fail in both."""
    for event in _bad_events(learner, placement, make_answer):
        with pytest.raises(StatementBuildError):
            to_json(builder.build(event))
        with pytest.raises(StatementBuildError):
            builder.build_body(event)


def test_body_builder_refuses_unknown_versions(builder, make_answer):
    """Only 1.0.3 and 2.0.0 bodies exist."""
    with pytest.raises(StatementBuildError):
        builder.build_body(make_answer(), "1.0.2")

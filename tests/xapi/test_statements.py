"""Statement builders: every event, xAPI 1.0.3 shape rules, the 2.0.0 body variant."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from xapi import events as ev
from xapi import vocabulary as v
from xapi.exceptions import SessionOrderError, StatementBuildError
from xapi.lrs.validation import check_statement
from xapi.statements import (
    StatementBuilder,
    check_session_order,
    format_duration,
    statement_dict,
    to_json,
)

TIMESTAMP_MS_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SESSION = uuid.UUID("0b7f3c4e-1111-4a2b-8c3d-123456789abc")


def _all_events(learner, placement, make_answer) -> list[ev.AnyEvent]:
    unit = ev.ActivityRef("unit-3", "Checking the load plate", critical=True)
    memory = ev.MemoryState(0.91, 46.0, datetime(2026, 3, 1, tzinfo=UTC))
    common = {"actor": learner, "placement": placement}
    return [
        ev.Launched(**common),
        ev.SessionInitialized(**common, session_id=SESSION),
        make_answer(session_id=SESSION),
        ev.UnitExperienced(**common, unit=unit, duration=timedelta(minutes=2), session_id=SESSION),
        ev.UnitMastered(**common, unit=unit, memory=memory, session_id=SESSION),
        ev.SessionCompleted(**common, session_id=SESSION, duration=timedelta(minutes=4)),
        ev.SessionTerminated(
            **common, session_id=SESSION, duration=timedelta(minutes=4, seconds=3)
        ),
        ev.StatementVoided(actor=learner, target_id=uuid.uuid4()),
    ]


def test_every_event_builds_a_statement_valid_under_xapi_103(
    builder, learner, placement, make_answer
):
    """Each event type becomes a statement the 1.0.3 validation rules accept."""
    for event in _all_events(learner, placement, make_answer):
        body = statement_dict(builder.build(event), v.XAPI_VERSION_1)
        check_statement(body, v.XAPI_VERSION_1)
        assert body["id"] == str(event.statement_id)
        assert TIMESTAMP_MS_UTC.match(body["timestamp"]), body["timestamp"]
        assert "version" not in body


def test_statement_id_and_timestamp_are_fixed_by_the_event(builder, make_answer):
    """Building the same event twice gives the same id and timestamp (safe retries)."""
    event = make_answer()
    first, second = (statement_dict(builder.build(event)) for _ in range(2))
    assert first == second
    assert first["timestamp"] == "2026-01-20T08:30:15.123Z"


def test_actor_is_the_lti_account_without_personal_data(builder, make_answer):
    """Actor is account {homePage: issuer, name: sub}; no name or email by default."""
    actor = statement_dict(builder.build(make_answer()))["actor"]
    assert actor == {
        "objectType": "Agent",
        "account": {"homePage": "https://moodle.example.edu", "name": "learner-17"},
    }


def test_email_identifies_the_actor_only_when_the_operator_turns_it_on(vocabulary, make_answer):
    """identify_by_email switches the IFI to mbox."""
    builder = StatementBuilder(vocabulary, identify_by_email=True, include_names=True)
    actor = statement_dict(builder.build(make_answer()))["actor"]
    assert actor["mbox"] == "mailto:lee@example.edu"
    assert actor["name"] == "Lee Learner"
    assert "account" not in actor


def test_answer_context_places_card_in_unit_module_and_course(builder, make_answer, vocabulary):
    """Context: registration, parent unit, grouping module+course, profile category, LTI ids."""
    context = statement_dict(builder.build(make_answer(session_id=SESSION)))["context"]
    activities = context["contextActivities"]
    assert context["registration"] == "6f1c1a52-3b0e-4d4e-9a51-4f2a0d4c6b10"
    assert [a["id"] for a in activities["parent"]] == [
        vocabulary.activity(v.ActivityKind.UNIT, "unit-3")
    ]
    assert {a["id"] for a in activities["grouping"]} == {
        vocabulary.activity(v.ActivityKind.COURSE, "course-7"),
        vocabulary.activity(v.ActivityKind.MODULE, "module-2"),
    }
    assert activities["category"][0]["id"] == vocabulary.profile
    assert activities["category"][0]["definition"]["type"] == v.ACTIVITY_TYPE_PROFILE
    assert context["platform"] == "Moodle 4.5"
    assert context["language"] == "en"
    assert context["instructor"]["account"]["name"] == "teacher-1"
    extensions = context["extensions"]
    assert extensions[vocabulary.extension(v.EXT_LTI_DEPLOYMENT_ID)] == "dep-1"
    assert extensions[vocabulary.extension(v.EXT_LTI_CONTEXT_ID)] == "ctx-42"
    assert extensions[vocabulary.extension(v.EXT_LTI_RESOURCE_LINK_ID)] == "rl-9"
    assert extensions[vocabulary.extension(v.EXT_SESSION_ID)] == str(SESSION)


def test_answer_result_has_success_response_score_duration_and_memory(
    builder, make_answer, vocabulary
):
    """Result carries success, response, score, ISO 8601 duration and FSRS extensions."""
    result = statement_dict(builder.build(make_answer(success=False)))["result"]
    assert result["success"] is False
    assert result["response"] == "a"
    assert result["score"] == {"scaled": 0.0}
    assert result["duration"] == "PT7.25S"
    extensions = result["extensions"]
    assert extensions[vocabulary.extension(v.EXT_RETRIEVABILITY)] == 0.93
    assert extensions[vocabulary.extension(v.EXT_STABILITY)] == 11.2
    assert extensions[vocabulary.extension(v.EXT_NEXT_DUE)] == "2026-02-01T09:00:00.000Z"


def test_critical_flag_is_an_activity_extension_of_the_unit(
    builder, learner, placement, vocabulary
):
    """A critical unit carries the critical extension in its definition."""
    unit = ev.ActivityRef("unit-3", "Checking the load plate", critical=True)
    event = ev.UnitExperienced(actor=learner, placement=placement, unit=unit)
    definition = statement_dict(builder.build(event))["object"]["definition"]
    assert definition["type"] == v.ACTIVITY_TYPE_LESSON
    assert definition["extensions"] == {vocabulary.extension(v.EXT_CRITICAL): True}


CARDS = [
    (
        v.InteractionType.CHOICE,
        ("b",),
        {"choices": (ev.Component("a", "A"), ev.Component("b", "B"))},
    ),
    (v.InteractionType.TRUE_FALSE, ("true",), {}),
    (v.InteractionType.FILL_IN, ("{case_matters=false}lockout",), {}),
    (v.InteractionType.LONG_FILL_IN, ("{lang=en}isolate, lock, tag, verify",), {}),
    (
        v.InteractionType.MATCHING,
        ("s1[.]t2[,]s2[.]t1",),
        {
            "source": (ev.Component("s1", "Red"), ev.Component("s2", "Blue")),
            "target": (ev.Component("t1", "Water"), ev.Component("t2", "Fire")),
        },
    ),
    (
        v.InteractionType.SEQUENCING,
        ("isolate[,]lock[,]verify",),
        {"choices": tuple(ev.Component(s, s.title()) for s in ("isolate", "lock", "verify"))},
    ),
    (v.InteractionType.NUMERIC, ("2[:]2.5",), {}),
]


@pytest.mark.parametrize(("kind", "pattern", "parts"), CARDS, ids=[c[0].value for c in CARDS])
def test_cards_become_cmi_interaction_definitions(builder, make_answer, kind, pattern, parts):
    """Every card type becomes a valid cmi.interaction with its correctResponsesPattern."""
    card = ev.CardInteraction("card-x", "Card", "Prompt?", kind, pattern, **parts)
    body = statement_dict(builder.build(make_answer(card=card)))
    check_statement(body, v.XAPI_VERSION_1)
    definition = body["object"]["definition"]
    assert definition["type"] == v.ACTIVITY_TYPE_INTERACTION
    assert definition["interactionType"] == kind.value
    assert definition["correctResponsesPattern"] == list(pattern)
    for key, components in parts.items():
        assert [c["id"] for c in definition[key]] == [c.id for c in components]


def test_card_pattern_naming_an_unknown_choice_is_refused(builder, make_answer):
    """A correct response that is not one of the choices is a build error, not a bad statement."""
    card = ev.CardInteraction(
        "c", "Card", "?", v.InteractionType.CHOICE, ("z",), choices=(ev.Component("a", "A"),)
    )
    with pytest.raises(StatementBuildError):
        builder.build(make_answer(card=card))


def test_completed_and_terminated_carry_durations(builder, learner, placement, make_answer):
    """cmi5 rule: completed and terminated have a result duration; completed has completion."""
    events = _all_events(learner, placement, make_answer)
    completed = statement_dict(builder.build(events[5]))
    terminated = statement_dict(builder.build(events[6]))
    assert completed["verb"]["id"] == v.VERB_COMPLETED
    assert completed["result"] == {"completion": True, "duration": "PT4M"}
    assert terminated["verb"]["id"] == v.VERB_TERMINATED
    assert terminated["result"]["duration"] == "PT4M3S"


def test_session_order_accepts_initialized_first_and_terminated_last(
    learner, placement, make_answer
):
    """A well-ordered session passes the cmi5-like order check."""
    check_session_order(_all_events(learner, placement, make_answer))


def test_session_order_refuses_events_after_terminated(learner, placement, make_answer):
    """Nothing may follow terminated in the same session."""
    events = _all_events(learner, placement, make_answer)
    with pytest.raises(SessionOrderError):
        check_session_order([*events, make_answer(session_id=SESSION)])


def test_session_order_refuses_answers_before_initialized(make_answer):
    """An answer cannot open a session."""
    with pytest.raises(SessionOrderError):
        check_session_order([make_answer(session_id=SESSION)])


def test_voiding_statement_targets_the_earlier_statement(builder, learner):
    """Corrections are voiding statements with a StatementRef object."""
    target = uuid.uuid4()
    body = statement_dict(builder.build(ev.StatementVoided(actor=learner, target_id=target)))
    assert body["verb"]["id"] == v.VERB_VOIDED
    assert body["object"] == {"objectType": "StatementRef", "id": str(target)}


def test_version_2_body_adds_context_agents_and_stays_valid(builder, make_answer):
    """The 2.0.0 body lists the instructor in contextAgents and passes the 2.0 rules."""
    body = statement_dict(builder.build(make_answer()), v.XAPI_VERSION_2)
    check_statement(body, v.XAPI_VERSION_2)
    (agent,) = body["context"]["contextAgents"]
    assert agent["objectType"] == "contextAgent"
    assert agent["relevantTypes"] == [v.ROLE_INSTRUCTOR]
    assert agent["agent"]["account"]["name"] == "teacher-1"
    with pytest.raises(Exception, match="unknown properties"):
        check_statement(statement_dict(builder.build(make_answer()), v.XAPI_VERSION_2), "1.0.3")


def test_naive_event_time_is_refused(builder, make_answer):
    """Timestamps must be UTC-aware."""
    with pytest.raises(StatementBuildError):
        builder.build(make_answer(occurred_at=datetime(2026, 1, 1, 12, 0)))


def test_score_outside_range_is_refused(builder, make_answer):
    """score.scaled outside -1..1 never reaches an LRS."""
    bad = ev.AnswerResult("b", True, timedelta(seconds=1), score_scaled=1.5)
    with pytest.raises(StatementBuildError):
        builder.build(make_answer(result=bad))


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(hours=1, seconds=0.5), "PT1H0.5S"),
        (timedelta(days=1), "PT24H"),
    ],
)
def test_durations_are_iso_8601(duration, text):
    """Durations format as ISO 8601 with millisecond precision."""
    assert format_duration(duration) == text


def test_to_json_is_compact_and_sorted(builder, make_answer):
    """to_json gives stable text (same event, same bytes)."""
    event = make_answer()
    assert to_json(builder.build(event)) == to_json(builder.build(event))
    assert ", " not in to_json(builder.build(event))[:50]

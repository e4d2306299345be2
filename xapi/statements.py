"""Builders: domain event -> tincan Statement, and statement -> xAPI 1.0.3 or 2.0.0 JSON body."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any

from tincan import (
    Activity,
    ActivityDefinition,
    ActivityList,
    Agent,
    AgentAccount,
    Context,
    ContextActivities,
    Extensions,
    LanguageMap,
    Result,
    Score,
    Statement,
    StatementRef,
    Verb,
)

from xapi import events as ev
from xapi import vocabulary as v
from xapi.bodies import (
    Body,
    BodyBuilder,
    add_context_agents,
    format_duration,
    format_timestamp,
    score_values,
)
from xapi.exceptions import SessionOrderError, StatementBuildError
from xapi.interactions import interaction_definition

_Builder = Callable[[Any], Statement]


class StatementBuilder:
    """Turns domain events into statements with the tool's vocabulary and privacy settings."""

    def __init__(
        self,
        vocabulary: v.Vocabulary,
        *,
        identify_by_email: bool = False,
        include_names: bool = False,
    ):
        self.vocabulary = vocabulary
        self.identify_by_email = identify_by_email
        self.include_names = include_names
        self._builders: dict[type, _Builder] = {
            ev.Launched: self._launched,
            ev.SessionInitialized: self._initialized,
            ev.SessionCompleted: self._completed,
            ev.SessionTerminated: self._terminated,
            ev.CardAnswered: self._answered,
            ev.UnitExperienced: self._experienced,
            ev.UnitMastered: self._mastered,
            ev.StatementVoided: self._voided,
        }

    def build(self, event: ev.AnyEvent) -> Statement:
        """The statement recording `event`, with the id and timestamp the event fixed."""
        builder = self._builders.get(type(event))
        if builder is None:
            raise StatementBuildError(f"no statement builder for {type(event).__name__}")
        if event.occurred_at.tzinfo is None:
            raise StatementBuildError("event time must be timezone-aware (UTC)")
        statement = builder(event)
        statement.id = event.statement_id
        statement.timestamp = event.occurred_at.astimezone(UTC)
        return statement

    def build_body(self, event: ev.AnyEvent, version: str = v.XAPI_VERSION_1) -> Body:
        """`statement_dict(self.build(event), version)`, built directly (the outbox's hot path)."""
        bodies = BodyBuilder(
            self.vocabulary,
            identify_by_email=self.identify_by_email,
            include_names=self.include_names,
        )
        return bodies.build(event, version)

    # -- parts ------------------------------------------------------------------------------

    def agent(self, actor: ev.Actor) -> Agent:
        """The xAPI Agent for an LTI user: account {homePage: issuer, name: sub} by default."""
        name = actor.name if self.include_names else None
        if self.identify_by_email and actor.email:
            return Agent(mbox=f"mailto:{actor.email}", name=name)
        return Agent(account=AgentAccount(home_page=actor.issuer, name=actor.sub), name=name)

    def activity(self, kind: v.ActivityKind, ref: ev.ActivityRef, lang: str) -> Activity:
        """A course, module or unit activity with its definition."""
        definition = ActivityDefinition(
            type=v.ACTIVITY_TYPES[kind], name=LanguageMap({lang: ref.title})
        )
        if ref.description:
            definition.description = LanguageMap({lang: ref.description})
        if ref.critical is not None:
            definition.extensions = Extensions(
                {self.vocabulary.extension(v.EXT_CRITICAL): ref.critical}
            )
        return Activity(id=self.vocabulary.activity(kind, ref.id), definition=definition)

    def card_activity(self, card: ev.CardInteraction, lang: str) -> Activity:
        """A card as a cmi.interaction activity."""
        definition = interaction_definition(card, lang)
        return Activity(
            id=self.vocabulary.activity(v.ActivityKind.CARD, card.card_id), definition=definition
        )

    def context(
        self,
        event: ev.PlacedEvent,
        parents: Sequence[Activity] = (),
        groupings: Sequence[Activity] = (),
        session_id: uuid.UUID | None = None,
    ) -> Context:
        """Context: registration, parent/grouping/category, platform, language, LTI extensions."""
        placement = event.placement
        lti = placement.lti
        category = Activity(
            id=self.vocabulary.profile,
            definition=ActivityDefinition(type=v.ACTIVITY_TYPE_PROFILE),
        )
        activities = ContextActivities(category=ActivityList([category]))
        if parents:
            activities.parent = ActivityList(list(parents))
        if groupings:
            activities.grouping = ActivityList(list(groupings))
        context = Context(
            registration=placement.registration,
            context_activities=activities,
            language=placement.language,
            extensions=Extensions(self._lti_extensions(lti, session_id)),
        )
        if lti.platform:
            context.platform = lti.platform
        if lti.instructor is not None:
            context.instructor = self.agent(lti.instructor)
        return context

    def _lti_extensions(self, lti: ev.LtiContext, session_id: uuid.UUID | None) -> dict[str, Any]:
        ext = self.vocabulary.extension
        values: dict[str, Any] = {ext(v.EXT_LTI_DEPLOYMENT_ID): lti.deployment_id}
        if lti.context_id:
            values[ext(v.EXT_LTI_CONTEXT_ID)] = lti.context_id
        if lti.resource_link_id:
            values[ext(v.EXT_LTI_RESOURCE_LINK_ID)] = lti.resource_link_id
        if lti.roles:
            values[ext(v.EXT_LTI_ROLES)] = list(lti.roles)
        if session_id is not None:
            values[ext(v.EXT_SESSION_ID)] = str(session_id)
        return values

    def _memory_extensions(self, memory: ev.MemoryState) -> Extensions:
        ext = self.vocabulary.extension
        return Extensions(
            {
                ext(v.EXT_RETRIEVABILITY): round(memory.retrievability, 4),
                ext(v.EXT_STABILITY): round(memory.stability, 4),
                ext(v.EXT_NEXT_DUE): format_timestamp(memory.next_due),
            }
        )

    def _unit_position(
        self, placement: ev.Placement, unit: ev.ActivityRef | None
    ) -> tuple[list[Activity], list[Activity]]:
        """(parents, groupings) of a unit: its module (or course) as parent, the course grouping."""
        lang = placement.language
        course = self.activity(v.ActivityKind.COURSE, placement.course, lang)
        if unit is None:
            return [], []
        if placement.module is None:
            return [course], []
        return [self.activity(v.ActivityKind.MODULE, placement.module, lang)], [course]

    def _statement(self, event: ev.Event, verb: str, obj: Any, **parts: Any) -> Statement:
        verb_obj = Verb(id=verb, display=LanguageMap({"en-US": v.VERB_DISPLAY[verb]}))
        return Statement(actor=self.agent(event.actor), verb=verb_obj, object=obj, **parts)

    # -- one builder per event ----------------------------------------------------------------

    def _launched(self, event: ev.Launched) -> Statement:
        placement = event.placement
        lang = placement.language
        if event.unit is None:
            obj = self.activity(v.ActivityKind.COURSE, placement.course, lang)
        else:
            obj = self.activity(v.ActivityKind.UNIT, event.unit, lang)
        parents, groupings = self._unit_position(placement, event.unit)
        return self._statement(
            event, v.VERB_LAUNCHED, obj, context=self.context(event, parents, groupings)
        )

    def _session(self, event: ev.SessionEvent, verb: str, result: Result | None) -> Statement:
        placement = event.placement
        obj = self.activity(v.ActivityKind.COURSE, placement.course, placement.language)
        groupings = []
        if placement.module is not None:
            groupings = [self.activity(v.ActivityKind.MODULE, placement.module, placement.language)]
        context = self.context(event, (), groupings, session_id=event.session_id)
        return self._statement(event, verb, obj, context=context, result=result)

    def _initialized(self, event: ev.SessionInitialized) -> Statement:
        return self._session(event, v.VERB_INITIALIZED, None)

    def _completed(self, event: ev.SessionCompleted) -> Statement:
        result = Result(completion=True, duration=event.duration)
        return self._session(event, v.VERB_COMPLETED, result)

    def _terminated(self, event: ev.SessionTerminated) -> Statement:
        return self._session(event, v.VERB_TERMINATED, Result(duration=event.duration))

    def _answered(self, event: ev.CardAnswered) -> Statement:
        placement = event.placement
        lang = placement.language
        unit = self.activity(v.ActivityKind.UNIT, event.unit, lang)
        parents, groupings = self._unit_position(placement, event.unit)
        context = self.context(event, [unit], groupings + parents, event.session_id)
        return self._statement(
            event,
            v.VERB_ANSWERED,
            self.card_activity(event.card, lang),
            context=context,
            result=self._answer_result(event.result, event.memory),
        )

    def _answer_result(self, answer: ev.AnswerResult, memory: ev.MemoryState | None) -> Result:
        result = Result(success=answer.success, response=answer.response, duration=answer.duration)
        score = _score(answer)
        if score is not None:
            result.score = score
        if memory is not None:
            result.extensions = self._memory_extensions(memory)
        return result

    def _experienced(self, event: ev.UnitExperienced) -> Statement:
        placement = event.placement
        obj = self.activity(v.ActivityKind.UNIT, event.unit, placement.language)
        parents, groupings = self._unit_position(placement, event.unit)
        context = self.context(event, parents, groupings, event.session_id)
        result = Result(duration=event.duration) if event.duration is not None else None
        return self._statement(event, v.VERB_EXPERIENCED, obj, context=context, result=result)

    def _mastered(self, event: ev.UnitMastered) -> Statement:
        placement = event.placement
        obj = self.activity(v.ActivityKind.UNIT, event.unit, placement.language)
        parents, groupings = self._unit_position(placement, event.unit)
        context = self.context(event, parents, groupings, event.session_id)
        result = Result(
            success=True, completion=True, extensions=self._memory_extensions(event.memory)
        )
        return self._statement(event, v.VERB_MASTERED, obj, context=context, result=result)

    def _voided(self, event: ev.StatementVoided) -> Statement:
        if event.target_id == event.statement_id:
            raise StatementBuildError("a statement cannot void itself")
        return self._statement(event, v.VERB_VOIDED, StatementRef(id=event.target_id))


def _score(answer: ev.AnswerResult) -> Score | None:
    present = score_values(answer)
    return None if present is None else Score(**present)


def check_session_order(events: Sequence[ev.AnyEvent]) -> None:
    """Raise SessionOrderError unless each session starts with initialized and ends with terminated.

    `events` is in the order they happened; events without a session id are ignored.
    """
    started: set[uuid.UUID] = set()
    ended: set[uuid.UUID] = set()
    for event in events:
        session_id = getattr(event, "session_id", None)
        if session_id is None:
            continue
        if isinstance(event, ev.SessionInitialized):
            if session_id in started:
                raise SessionOrderError(f"session {session_id} initialized twice")
            started.add(session_id)
            continue
        if session_id not in started:
            raise SessionOrderError(f"session {session_id}: event before initialized")
        if session_id in ended:
            raise SessionOrderError(f"session {session_id}: event after terminated")
        if isinstance(event, ev.SessionTerminated):
            ended.add(session_id)


def statement_dict(statement: Statement, version: str = v.XAPI_VERSION_1) -> dict[str, Any]:
    """The JSON object to send for `statement` under xAPI `version` (1.0.3 or 2.0.0)."""
    if version not in v.SUPPORTED_VERSIONS:
        raise StatementBuildError(f"unsupported xAPI version {version}")
    body: dict[str, Any] = statement.as_version(v.XAPI_VERSION_1)
    # The LRS records the version it accepted the statement under; we never claim one.
    body.pop("version", None)
    if statement.timestamp is not None:
        body["timestamp"] = format_timestamp(statement.timestamp)
    result = statement.result
    if result is not None and result.duration is not None:
        body["result"]["duration"] = format_duration(result.duration)
    if version == v.XAPI_VERSION_2:
        add_context_agents(body)
    return body


def to_json(statement: Statement, version: str = v.XAPI_VERSION_1) -> str:
    """`statement_dict` as compact JSON text."""
    return json.dumps(statement_dict(statement, version), separators=(",", ":"), sort_keys=True)


def statement_id(statement: Statement | dict[str, Any]) -> uuid.UUID:
    """The id of a statement object or body; refuses statements without one."""
    raw = statement.get("id") if isinstance(statement, dict) else statement.id
    if not raw:
        raise StatementBuildError("statement has no id: ids must be fixed when the event happens")
    return uuid.UUID(str(raw))


__all__ = [
    "StatementBuilder",
    "check_session_order",
    "format_duration",
    "format_timestamp",
    "statement_dict",
    "statement_id",
    "to_json",
]

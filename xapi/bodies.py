"""Statement bodies straight from events, as plain JSON-ready dicts (no tincan objects).

The outbox's hot path: building through tincan's object model costs far more than the learner's
answer itself. `BodyBuilder.build(event, version)` gives exactly the JSON that
`statement_dict(StatementBuilder.build(event), version)` gives (a test holds the two equal for
every event kind), so either may feed the outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from xapi import events as ev
from xapi import vocabulary as v
from xapi.exceptions import StatementBuildError
from xapi.interactions import CHOICE_LIKE, check_card

Body = dict[str, Any]


def format_timestamp(value: datetime) -> str:
    """UTC timestamp with milliseconds and a Z, valid under both ISO 8601 and RFC 3339."""
    if value.tzinfo is None:
        raise StatementBuildError("timestamps must be timezone-aware")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def format_duration(value: timedelta) -> str:
    """ISO 8601 duration such as PT1H2M3.45S (millisecond precision)."""
    if value < timedelta(0):
        raise StatementBuildError("a duration cannot be negative")
    millis = round(value.total_seconds() * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if rest or text == "PT":
        text += f"{seconds}S"
    return text


def score_values(answer: ev.AnswerResult) -> dict[str, float] | None:
    """The score parts an answer has (scaled, raw, min, max), checked; None without any."""
    values = {
        "scaled": answer.score_scaled,
        "raw": answer.score_raw,
        "min": answer.score_min,
        "max": answer.score_max,
    }
    present = {key: value for key, value in values.items() if value is not None}
    if not present:
        return None
    scaled = present.get("scaled")
    if scaled is not None and not -1 <= scaled <= 1:
        raise StatementBuildError("score.scaled must be between -1 and 1")
    low, high, raw = present.get("min"), present.get("max"), present.get("raw")
    if low is not None and high is not None and low > high:
        raise StatementBuildError("score.min must not exceed score.max")
    if raw is not None and ((low is not None and raw < low) or (high is not None and raw > high)):
        raise StatementBuildError("score.raw must lie between score.min and score.max")
    return present


def add_context_agents(body: Body) -> None:
    """xAPI 2.0: the instructor also appears as a contextAgent with the instructor role."""
    context = body.get("context")
    if not context or "instructor" not in context:
        return
    context["contextAgents"] = [
        {
            "objectType": "contextAgent",
            "agent": context["instructor"],
            "relevantTypes": [v.ROLE_INSTRUCTOR],
        }
    ]


def _lang(lang: str, text: str) -> dict[str, str]:
    return {lang: text}


class BodyBuilder:
    """Turns domain events into statement bodies with the tool's vocabulary and privacy settings."""

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

    def build(self, event: ev.AnyEvent, version: str = v.XAPI_VERSION_1) -> Body:
        """The JSON body recording `event` under xAPI `version`, with the event's id and time."""
        if version not in v.SUPPORTED_VERSIONS:
            raise StatementBuildError(f"unsupported xAPI version {version}")
        builder = _BUILDERS.get(type(event))
        if builder is None:
            raise StatementBuildError(f"no statement builder for {type(event).__name__}")
        if event.occurred_at.tzinfo is None:
            raise StatementBuildError("event time must be timezone-aware (UTC)")
        body = builder(self, event)
        body["id"] = str(event.statement_id)
        body["timestamp"] = format_timestamp(event.occurred_at)
        if version == v.XAPI_VERSION_2:
            add_context_agents(body)
        return body

    # -- parts ------------------------------------------------------------------------------

    def agent(self, actor: ev.Actor) -> Body:
        """The Agent of an LTI user: account {homePage: issuer, name: sub} by default."""
        agent: Body = {"objectType": "Agent"}
        if self.include_names and actor.name is not None:
            agent["name"] = actor.name
        if self.identify_by_email and actor.email:
            agent["mbox"] = f"mailto:{actor.email}"
        else:
            agent["account"] = {"homePage": actor.issuer, "name": actor.sub}
        return agent

    def activity(self, kind: v.ActivityKind, ref: ev.ActivityRef, lang: str) -> Body:
        """A course, module or unit activity with its definition."""
        definition: Body = {"type": v.ACTIVITY_TYPES[kind], "name": _lang(lang, ref.title)}
        if ref.description:
            definition["description"] = _lang(lang, ref.description)
        if ref.critical is not None:
            definition["extensions"] = {self.vocabulary.extension(v.EXT_CRITICAL): ref.critical}
        return {
            "objectType": "Activity",
            "id": self.vocabulary.activity(kind, ref.id),
            "definition": definition,
        }

    def card_activity(self, card: ev.CardInteraction, lang: str) -> Body:
        """A card as a cmi.interaction activity."""
        check_card(card)
        definition: Body = {
            "type": v.ACTIVITY_TYPE_INTERACTION,
            "name": _lang(lang, card.title),
            "description": _lang(lang, card.prompt),
            "interactionType": card.interaction_type.value,
        }
        if card.correct_responses:
            definition["correctResponsesPattern"] = list(card.correct_responses)
        if card.interaction_type in CHOICE_LIKE:
            definition["choices"] = _components(card.choices, lang)
        if card.interaction_type is v.InteractionType.MATCHING:
            definition["source"] = _components(card.source, lang)
            definition["target"] = _components(card.target, lang)
        return {
            "objectType": "Activity",
            "id": self.vocabulary.activity(v.ActivityKind.CARD, card.card_id),
            "definition": definition,
        }

    def context(
        self,
        event: ev.PlacedEvent,
        parents: Sequence[Body] = (),
        groupings: Sequence[Body] = (),
        session_id: uuid.UUID | None = None,
    ) -> Body:
        """Context: registration, parent/grouping/category, platform, language, LTI extensions."""
        placement = event.placement
        lti = placement.lti
        category = {
            "objectType": "Activity",
            "id": self.vocabulary.profile,
            "definition": {"type": v.ACTIVITY_TYPE_PROFILE},
        }
        activities: Body = {"category": [category]}
        if parents:
            activities["parent"] = list(parents)
        if groupings:
            activities["grouping"] = list(groupings)
        context: Body = {
            "registration": str(placement.registration),
            "contextActivities": activities,
            "extensions": self._lti_extensions(lti, session_id),
        }
        if placement.language is not None:
            context["language"] = placement.language
        if lti.platform:
            context["platform"] = lti.platform
        if lti.instructor is not None:
            context["instructor"] = self.agent(lti.instructor)
        return context

    def _lti_extensions(self, lti: ev.LtiContext, session_id: uuid.UUID | None) -> Body:
        ext = self.vocabulary.extension
        values: Body = {ext(v.EXT_LTI_DEPLOYMENT_ID): lti.deployment_id}
        if lti.context_id:
            values[ext(v.EXT_LTI_CONTEXT_ID)] = lti.context_id
        if lti.resource_link_id:
            values[ext(v.EXT_LTI_RESOURCE_LINK_ID)] = lti.resource_link_id
        if lti.roles:
            values[ext(v.EXT_LTI_ROLES)] = list(lti.roles)
        if session_id is not None:
            values[ext(v.EXT_SESSION_ID)] = str(session_id)
        return values

    def _memory_extensions(self, memory: ev.MemoryState) -> Body:
        ext = self.vocabulary.extension
        return {
            ext(v.EXT_RETRIEVABILITY): round(memory.retrievability, 4),
            ext(v.EXT_STABILITY): round(memory.stability, 4),
            ext(v.EXT_NEXT_DUE): format_timestamp(memory.next_due),
        }

    def _unit_position(
        self, placement: ev.Placement, unit: ev.ActivityRef | None
    ) -> tuple[list[Body], list[Body]]:
        """(parents, groupings) of a unit: its module (or course) as parent, the course grouping."""
        if unit is None:
            return [], []
        lang = placement.language
        course = self.activity(v.ActivityKind.COURSE, placement.course, lang)
        if placement.module is None:
            return [course], []
        return [self.activity(v.ActivityKind.MODULE, placement.module, lang)], [course]

    def _statement(self, event: ev.Event, verb: str, obj: Body, **parts: Body | None) -> Body:
        body: Body = {
            "actor": self.agent(event.actor),
            "verb": {"id": verb, "display": {"en-US": v.VERB_DISPLAY[verb]}},
            "object": obj,
        }
        body.update((key, value) for key, value in parts.items() if value is not None)
        return body

    # -- one builder per event ----------------------------------------------------------------

    def _launched(self, event: ev.Launched) -> Body:
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

    def _session(self, event: ev.SessionEvent, verb: str, result: Body | None) -> Body:
        placement = event.placement
        obj = self.activity(v.ActivityKind.COURSE, placement.course, placement.language)
        groupings = []
        if placement.module is not None:
            groupings = [self.activity(v.ActivityKind.MODULE, placement.module, placement.language)]
        context = self.context(event, (), groupings, session_id=event.session_id)
        return self._statement(event, verb, obj, context=context, result=result)

    def _initialized(self, event: ev.SessionInitialized) -> Body:
        return self._session(event, v.VERB_INITIALIZED, None)

    def _completed(self, event: ev.SessionCompleted) -> Body:
        result = {"completion": True, "duration": format_duration(event.duration)}
        return self._session(event, v.VERB_COMPLETED, result)

    def _terminated(self, event: ev.SessionTerminated) -> Body:
        return self._session(
            event, v.VERB_TERMINATED, {"duration": format_duration(event.duration)}
        )

    def _answered(self, event: ev.CardAnswered) -> Body:
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

    def _answer_result(self, answer: ev.AnswerResult, memory: ev.MemoryState | None) -> Body:
        result: Body = {
            "success": answer.success,
            "response": answer.response,
            "duration": format_duration(answer.duration),
        }
        score = score_values(answer)
        if score is not None:
            result["score"] = {key: float(value) for key, value in score.items()}
        if memory is not None:
            result["extensions"] = self._memory_extensions(memory)
        return result

    def _experienced(self, event: ev.UnitExperienced) -> Body:
        placement = event.placement
        obj = self.activity(v.ActivityKind.UNIT, event.unit, placement.language)
        parents, groupings = self._unit_position(placement, event.unit)
        context = self.context(event, parents, groupings, event.session_id)
        result = None
        if event.duration is not None:
            result = {"duration": format_duration(event.duration)}
        return self._statement(event, v.VERB_EXPERIENCED, obj, context=context, result=result)

    def _mastered(self, event: ev.UnitMastered) -> Body:
        placement = event.placement
        obj = self.activity(v.ActivityKind.UNIT, event.unit, placement.language)
        parents, groupings = self._unit_position(placement, event.unit)
        context = self.context(event, parents, groupings, event.session_id)
        result = {
            "success": True,
            "completion": True,
            "extensions": self._memory_extensions(event.memory),
        }
        return self._statement(event, v.VERB_MASTERED, obj, context=context, result=result)

    def _voided(self, event: ev.StatementVoided) -> Body:
        if event.target_id == event.statement_id:
            raise StatementBuildError("a statement cannot void itself")
        target = {"objectType": "StatementRef", "id": str(event.target_id)}
        return self._statement(event, v.VERB_VOIDED, target)


def _components(items: tuple[ev.Component, ...], lang: str) -> list[Body]:
    return [{"id": item.id, "description": _lang(lang, item.text)} for item in items]


_BUILDERS: dict[type, Callable[[BodyBuilder, Any], Body]] = {
    ev.Launched: BodyBuilder._launched,
    ev.SessionInitialized: BodyBuilder._initialized,
    ev.SessionCompleted: BodyBuilder._completed,
    ev.SessionTerminated: BodyBuilder._terminated,
    ev.CardAnswered: BodyBuilder._answered,
    ev.UnitExperienced: BodyBuilder._experienced,
    ev.UnitMastered: BodyBuilder._mastered,
    ev.StatementVoided: BodyBuilder._voided,
}

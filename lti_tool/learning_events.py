"""Glue between the tool's rows and xAPI: build domain events, statements, and outbox rows.

Every function only adds outbox rows to the caller's session, so statements commit (or roll
back) together with the answer or session change that caused them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.ingest.cards import CardKind
from lti_tool.lti import claims
from lti_tool.models import Card, Context, Deployment, Membership, Placement, Platform, Unit, User
from lti_tool.scheduling.grading import Grade, normalize, parse_number
from xapi import events as xev
from xapi.outbox import enqueue
from xapi.statements import StatementBuilder
from xapi.vocabulary import InteractionType, Vocabulary

SEP = "[,]"
PAIR = "[.]"


@lru_cache(maxsize=8)
def builder_for(base_url: str) -> StatementBuilder:
    """The statement builder of one installation (its IRIs live under base_url)."""
    return StatementBuilder(Vocabulary(base_url))


def lrs_key(platform_id: int) -> str:
    """The outbox key of a platform's LRS."""
    return f"platform:{platform_id}"


@dataclass(frozen=True)
class EventScope:
    """What every statement of one learner in one placement repeats."""

    base_url: str
    platform_id: int
    actor: xev.Actor
    placement: xev.Placement
    context_id: int


def scope_to_dict(scope: EventScope) -> dict[str, Any]:
    """A scope as JSON-ready data, to keep with a review session."""
    lti, course = scope.placement.lti, scope.placement.course
    return {
        "base_url": scope.base_url,
        "platform_id": scope.platform_id,
        "context_id": scope.context_id,
        "issuer": scope.actor.issuer,
        "sub": scope.actor.sub,
        "course_title": course.title,
        "registration": str(scope.placement.registration),
        "deployment_id": lti.deployment_id,
        "lti_context_id": lti.context_id,
        "resource_link_id": lti.resource_link_id,
        "roles": list(lti.roles),
        "platform": lti.platform,
    }


def scope_from_dict(data: dict[str, Any]) -> EventScope:
    """A scope kept with a review session."""
    lti = xev.LtiContext(
        deployment_id=data["deployment_id"],
        context_id=data["lti_context_id"],
        resource_link_id=data["resource_link_id"],
        roles=tuple(data["roles"]),
        platform=data["platform"],
    )
    course = xev.ActivityRef(id=str(data["context_id"]), title=data["course_title"])
    return EventScope(
        base_url=data["base_url"],
        platform_id=data["platform_id"],
        actor=xev.Actor(issuer=data["issuer"], sub=data["sub"]),
        placement=xev.Placement(
            course=course, registration=uuid.UUID(data["registration"]), lti=lti
        ),
        context_id=data["context_id"],
    )


def scope_for(
    session: Session, base_url: str, user_id: int, context_id: int, placement_id: int | None
) -> EventScope:
    """Actor, course, registration and LTI ids of a learner's placement."""
    context = session.get(Context, context_id)
    user = session.get(User, user_id)
    assert context is not None and user is not None
    platform = session.get(Platform, context.platform_id)
    assert platform is not None
    deployment = session.get(Deployment, context.deployment_id) if context.deployment_id else None
    placement = session.get(Placement, placement_id) if placement_id else None
    roles = session.scalar(
        select(Membership.roles).where(
            Membership.context_id == context_id, Membership.user_id == user_id
        )
    )
    lti = xev.LtiContext(
        deployment_id=deployment.deployment_id if deployment else "",
        context_id=context.context_id,
        resource_link_id=placement.resource_link_id if placement else None,
        roles=tuple(roles or ()),
        platform=platform.product or platform.name or None,
    )
    registration = uuid.uuid5(uuid.NAMESPACE_URL, f"{base_url}/registration/{context_id}/{user_id}")
    course = xev.ActivityRef(id=str(context_id), title=context.title or context.context_id)
    return EventScope(
        base_url=base_url,
        platform_id=platform.id,
        actor=xev.Actor(issuer=platform.issuer, sub=user.sub),
        placement=xev.Placement(course=course, registration=registration, lti=lti),
        context_id=context_id,
    )


def _emit(session: Session, scope: EventScope, event: xev.AnyEvent, now: datetime) -> uuid.UUID:
    statement = builder_for(scope.base_url).build_body(event)
    enqueue(session, statement, lrs_key(scope.platform_id), now=now)
    return event.statement_id


def session_started(
    session: Session, scope: EventScope, session_id: uuid.UUID, now: datetime
) -> uuid.UUID:
    """Enqueue the 'initialized' statement of a review session."""
    event = xev.SessionInitialized(
        actor=scope.actor, placement=scope.placement, session_id=session_id, occurred_at=now
    )
    return _emit(session, scope, event, now)


def session_finished(
    session: Session, scope: EventScope, session_id: uuid.UUID, started: datetime, now: datetime
) -> None:
    """Enqueue 'completed' and then 'terminated' for a session the learner finished."""
    duration = max(timedelta(0), now - started)
    common: dict[str, Any] = {
        "actor": scope.actor,
        "placement": scope.placement,
        "session_id": session_id,
        "duration": duration,
    }
    _emit(session, scope, xev.SessionCompleted(occurred_at=now, **common), now)
    later = now + timedelta(milliseconds=1)  # terminated is always the last statement
    _emit(session, scope, xev.SessionTerminated(occurred_at=later, **common), now)


@dataclass(frozen=True)
class Memory:
    """The memory numbers an answer statement reports."""

    retrievability: float
    stability: float
    next_due: datetime


def card_answered(
    session: Session,
    scope: EventScope,
    card: Card,
    unit: Unit | None,
    grade: Grade,
    memory: Memory,
    duration: timedelta,
    session_id: uuid.UUID,
    now: datetime,
) -> uuid.UUID:
    """Enqueue the 'answered' statement of one card; returns its statement id."""
    success = grade.correct if grade.correct is not None else grade.self_rating != "again"
    score = 1.0 if success else 0.0
    result = xev.AnswerResult(
        response=response_pattern(card, grade),
        success=bool(success),
        duration=duration,
        score_scaled=score if grade.correct is not None else None,
    )
    event = xev.CardAnswered(
        actor=scope.actor,
        placement=scope.placement,
        card=interaction(card, scope.context_id),
        unit=unit_ref(unit, scope),
        result=result,
        memory=xev.MemoryState(
            retrievability=memory.retrievability,
            stability=memory.stability,
            next_due=memory.next_due,
        ),
        session_id=session_id,
        occurred_at=now,
    )
    return _emit(session, scope, event, now)


def unit_ref(unit: Unit | None, scope: EventScope) -> xev.ActivityRef:
    """The unit activity of a card (the course as a whole for cards tied to no unit)."""
    if unit is None:
        return xev.ActivityRef(id=f"{scope.context_id}/course", title=scope.placement.course.title)
    return xev.ActivityRef(
        id=f"{unit.context_id}/{unit.key}", title=unit.title or unit.key, critical=unit.critical
    )


def _components(prefix: str, texts: list[str]) -> tuple[xev.Component, ...]:
    return tuple(xev.Component(f"{prefix}{i}", t or f"{prefix}{i}") for i, t in enumerate(texts))


def _true_false_answer(data: dict[str, Any]) -> str | None:
    right = [normalize(c["text"]) for c in data.get("choices", []) if c.get("correct")]
    return right[0] if len(right) == 1 and right[0] in ("true", "false") else None


def interaction(card: Card, context_id: int) -> xev.CardInteraction:
    """A card as a cmi.interaction with its correct-responses pattern."""
    data, kind = card.data or {}, card.kind
    common: dict[str, Any] = {
        "card_id": f"{context_id}/{card.key}",
        "title": card.title or card.prompt_text[:80] or card.key,
        "prompt": card.prompt_text or card.title or card.key,
    }
    choices = data.get("choices", [])
    if kind == CardKind.TRUE_FALSE and _true_false_answer(data):
        return xev.CardInteraction(
            interaction_type=InteractionType.TRUE_FALSE,
            correct_responses=(str(_true_false_answer(data)),),
            **common,
        )
    if kind in (CardKind.SINGLE_CHOICE, CardKind.MULTIPLE_CHOICE, CardKind.TRUE_FALSE) and choices:
        right = SEP.join(sorted(c["ident"] for c in choices if c.get("correct")))
        return xev.CardInteraction(
            interaction_type=InteractionType.CHOICE,
            choices=tuple(xev.Component(c["ident"], c["text"] or c["ident"]) for c in choices),
            correct_responses=(right,) if right else (),
            **common,
        )
    return _other_interaction(kind, data, common)


def _other_interaction(
    kind: str, data: dict[str, Any], common: dict[str, Any]
) -> xev.CardInteraction:
    pairs, items = data.get("pairs", []), data.get("sequence", [])
    if kind == CardKind.MATCHING and pairs:
        targets = _targets(data)
        pattern = SEP.join(f"s{i}{PAIR}t{targets.index(p['answer'])}" for i, p in enumerate(pairs))
        return xev.CardInteraction(
            interaction_type=InteractionType.MATCHING,
            source=_components("s", [p["prompt"] for p in pairs]),
            target=_components("t", targets),
            correct_responses=(pattern,),
            **common,
        )
    if kind == CardKind.ORDERING and items:
        return xev.CardInteraction(
            interaction_type=InteractionType.SEQUENCING,
            choices=_components("i", list(items)),
            correct_responses=(SEP.join(f"i{i}" for i in range(len(items))),),
            **common,
        )
    if kind == CardKind.NUMERIC and data.get("numeric"):
        return xev.CardInteraction(
            interaction_type=InteractionType.NUMERIC,
            correct_responses=tuple(_numeric_pattern(n) for n in data["numeric"]),
            **common,
        )
    if kind in (CardKind.SHORT_ANSWER, CardKind.CLOZE, CardKind.FILL_IN):
        blanks = data.get("blanks", [])
        if blanks:
            right = SEP.join(str(b["answers"][0]) for b in blanks if b.get("answers"))
            correct: tuple[str, ...] = (right,)
        else:
            correct = tuple(str(a) for a in data.get("answers", []))
        return xev.CardInteraction(
            interaction_type=InteractionType.FILL_IN, correct_responses=correct, **common
        )
    return xev.CardInteraction(interaction_type=InteractionType.LONG_FILL_IN, **common)


def _targets(data: dict[str, Any]) -> list[str]:
    """Matching targets: the pairs' answers then distractors, each once, in a stable order."""
    seen: list[str] = []
    for text in [p["answer"] for p in data.get("pairs", [])] + list(data.get("distractors", [])):
        if text not in seen:
            seen.append(text)
    return seen


def _numeric_pattern(spec: dict[str, Any]) -> str:
    if spec.get("low") is not None and spec.get("high") is not None:
        return f"{spec['low']:g}[:]{spec['high']:g}"
    value, tolerance = float(spec.get("value") or 0), float(spec.get("tolerance") or 0)
    if tolerance:
        return f"{value - tolerance:g}[:]{value + tolerance:g}"
    return f"{value:g}"


def response_pattern(card: Card, grade: Grade) -> str:
    """The learner's response in cmi.interaction response format."""
    response, data = grade.response, card.data or {}
    if grade.self_rating is not None:
        return grade.self_rating
    if "choice" in response:
        if card.kind == CardKind.TRUE_FALSE and _true_false_answer(data):
            texts = {c["ident"]: normalize(c["text"]) for c in data.get("choices", [])}
            return next((texts.get(i, "") for i in response["choice"]), "")
        return SEP.join(response["choice"])
    if "matches" in response:
        targets = _targets(data)
        return SEP.join(
            f"s{i}{PAIR}t{targets.index(given)}"
            for i, given in enumerate(response["matches"])
            if given in targets
        )
    if "positions" in response:
        ranked = sorted(
            (int(p), i) for i, p in enumerate(response["positions"]) if str(p).isdigit()
        )
        return SEP.join(f"i{i}" for _, i in ranked)
    if "number" in response:
        number = parse_number(response["number"])
        return f"{number:g}" if number is not None else ""
    if "blanks" in response:
        return SEP.join(response["blanks"].values())
    return str(response.get("text", ""))


def launched(
    session: Session,
    base_url: str,
    platform: Platform,
    deployment: Deployment,
    context_id: int,
    user_id: int,
    body: dict[str, Any],
    now: datetime,
) -> uuid.UUID:
    """Enqueue the 'launched' statement of a launch, from what the launch already holds."""
    context = body.get(claims.CONTEXT) or {}
    link = body.get(claims.RESOURCE_LINK) or {}
    lti = xev.LtiContext(
        deployment_id=deployment.deployment_id,
        context_id=context.get("id"),
        resource_link_id=link.get("id"),
        roles=tuple(str(r) for r in body.get(claims.ROLES) or ()),
        platform=platform.product or platform.name or None,
    )
    registration = uuid.uuid5(uuid.NAMESPACE_URL, f"{base_url}/registration/{context_id}/{user_id}")
    title = context.get("title") or context.get("id") or link.get("title") or "Course"
    scope = EventScope(
        base_url=base_url,
        platform_id=platform.id,
        actor=xev.Actor(issuer=platform.issuer, sub=str(body["sub"])),
        placement=xev.Placement(
            course=xev.ActivityRef(id=str(context_id), title=str(title)),
            registration=registration,
            lti=lti,
        ),
        context_id=context_id,
    )
    event = xev.Launched(actor=scope.actor, placement=scope.placement, occurred_at=now)
    return _emit(session, scope, event, now)

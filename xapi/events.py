"""Domain events that become xAPI statements: plain dataclasses, no xAPI knowledge needed to fill.

Each event fixes its statement id and time when it is created, so a retried delivery can never
turn into a second statement.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from xapi.vocabulary import InteractionType


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Actor:
    """A learner or instructor as the LMS knows them: LTI issuer and subject."""

    issuer: str
    sub: str
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ActivityRef:
    """One of the tool's activities (course, module or unit) by local id and title."""

    id: str
    title: str
    description: str | None = None
    critical: bool | None = None


@dataclass(frozen=True)
class Component:
    """One choice, source, target or step of an interaction."""

    id: str
    text: str


@dataclass(frozen=True)
class CardInteraction:
    """A card as a cmi.interaction definition."""

    card_id: str
    title: str
    prompt: str
    interaction_type: InteractionType
    correct_responses: tuple[str, ...] = ()
    choices: tuple[Component, ...] = ()
    source: tuple[Component, ...] = ()
    target: tuple[Component, ...] = ()


@dataclass(frozen=True)
class LtiContext:
    """Where the learner launched from: LTI ids, roles, platform product and course instructor."""

    deployment_id: str
    context_id: str | None = None
    resource_link_id: str | None = None
    roles: tuple[str, ...] = ()
    platform: str | None = None
    instructor: Actor | None = None


@dataclass(frozen=True)
class Placement:
    """A learner's enrolment in one placement: course, optional module, registration, LTI ids."""

    course: ActivityRef
    registration: uuid.UUID
    lti: LtiContext
    module: ActivityRef | None = None
    language: str = "en"


@dataclass(frozen=True)
class AnswerResult:
    """How a card was answered: the learner's response, success, score and time taken."""

    response: str
    success: bool
    duration: timedelta
    score_scaled: float | None = None
    score_raw: float | None = None
    score_min: float | None = None
    score_max: float | None = None


@dataclass(frozen=True)
class MemoryState:
    """FSRS state of an item after an event."""

    retrievability: float
    stability: float
    next_due: datetime


@dataclass(frozen=True, kw_only=True)
class Event:
    """Fields every event has: who, when, and the statement id fixed now."""

    actor: Actor
    occurred_at: datetime = field(default_factory=_now)
    statement_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True, kw_only=True)
class PlacedEvent(Event):
    """An event inside a placement (everything but voiding)."""

    placement: Placement


@dataclass(frozen=True, kw_only=True)
class Launched(PlacedEvent):
    """The learner launched the tool from the LMS (object: the unit if given, else the course)."""

    unit: ActivityRef | None = None


@dataclass(frozen=True, kw_only=True)
class SessionInitialized(PlacedEvent):
    """A review session started (always the first statement of the session)."""

    session_id: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class SessionCompleted(PlacedEvent):
    """The learner finished every card the session planned."""

    session_id: uuid.UUID
    duration: timedelta


@dataclass(frozen=True, kw_only=True)
class SessionTerminated(PlacedEvent):
    """A review session ended (always the last statement of the session)."""

    session_id: uuid.UUID
    duration: timedelta


@dataclass(frozen=True, kw_only=True)
class CardAnswered(PlacedEvent):
    """The learner answered a card of a unit."""

    card: CardInteraction
    unit: ActivityRef
    result: AnswerResult
    memory: MemoryState | None = None
    session_id: uuid.UUID | None = None


@dataclass(frozen=True, kw_only=True)
class UnitExperienced(PlacedEvent):
    """The learner read or watched a unit's material."""

    unit: ActivityRef
    duration: timedelta | None = None
    session_id: uuid.UUID | None = None


@dataclass(frozen=True, kw_only=True)
class UnitMastered(PlacedEvent):
    """Every card of a unit reached the retention target for this learner."""

    unit: ActivityRef
    memory: MemoryState
    session_id: uuid.UUID | None = None


@dataclass(frozen=True, kw_only=True)
class StatementVoided(Event):
    """An earlier statement is withdrawn (the only correction xAPI allows)."""

    target_id: uuid.UUID


SessionEvent = SessionInitialized | SessionCompleted | SessionTerminated
AnyEvent = (
    Launched
    | SessionInitialized
    | SessionCompleted
    | SessionTerminated
    | CardAnswered
    | UnitExperienced
    | UnitMastered
    | StatementVoided
)

"""Cards as cmi.interaction activity definitions, checked against the xAPI interaction rules."""

from __future__ import annotations

from tincan import ActivityDefinition, InteractionComponent, InteractionComponentList, LanguageMap

from xapi.events import CardInteraction, Component
from xapi.exceptions import StatementBuildError
from xapi.vocabulary import ACTIVITY_TYPE_INTERACTION, InteractionType

CHOICE_LIKE = frozenset({InteractionType.CHOICE, InteractionType.SEQUENCING})


def _check_unique(items: tuple[Component, ...]) -> None:
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        raise StatementBuildError("interaction component ids must be unique")


def _components(items: tuple[Component, ...], lang: str) -> InteractionComponentList:
    return InteractionComponentList(
        [
            InteractionComponent(id=item.id, description=LanguageMap({lang: item.text}))
            for item in items
        ]
    )


def _check_pattern(card: CardInteraction) -> None:
    kind = card.interaction_type
    if kind is InteractionType.TRUE_FALSE and any(
        pattern not in {"true", "false"} for pattern in card.correct_responses
    ):
        raise StatementBuildError("a true-false card's correct response is 'true' or 'false'")
    if kind in CHOICE_LIKE:
        known = {choice.id for choice in card.choices}
        for pattern in card.correct_responses:
            if any(part not in known for part in pattern.split("[,]")):
                raise StatementBuildError(f"card {card.card_id}: pattern names an unknown choice")
    if kind is InteractionType.MATCHING:
        sources = {item.id for item in card.source}
        targets = {item.id for item in card.target}
        for pattern in card.correct_responses:
            for pair in pattern.split("[,]"):
                source, _, target = pair.partition("[.]")
                if source not in sources or target not in targets:
                    raise StatementBuildError(f"card {card.card_id}: bad matching pair {pair!r}")


def check_card(card: CardInteraction) -> None:
    """Raise StatementBuildError unless the card makes a valid cmi.interaction definition."""
    kind = card.interaction_type
    if kind in CHOICE_LIKE and not card.choices:
        raise StatementBuildError(f"card {card.card_id}: a {kind} card needs choices")
    if kind is InteractionType.MATCHING and not (card.source and card.target):
        raise StatementBuildError(f"card {card.card_id}: a matching card needs source and target")
    _check_pattern(card)
    if kind in CHOICE_LIKE:
        _check_unique(card.choices)
    if kind is InteractionType.MATCHING:
        _check_unique(card.source)
        _check_unique(card.target)


def interaction_definition(card: CardInteraction, lang: str) -> ActivityDefinition:
    """The cmi.interaction definition of a card, with components and correctResponsesPattern."""
    check_card(card)
    kind = card.interaction_type
    definition = ActivityDefinition(
        type=ACTIVITY_TYPE_INTERACTION,
        name=LanguageMap({lang: card.title}),
        description=LanguageMap({lang: card.prompt}),
        interaction_type=kind.value,
    )
    if card.correct_responses:
        definition.correct_responses_pattern = list(card.correct_responses)
    if kind in CHOICE_LIKE:
        definition.choices = _components(card.choices, lang)
    if kind is InteractionType.MATCHING:
        definition.source = _components(card.source, lang)
        definition.target = _components(card.target, lang)
    return definition

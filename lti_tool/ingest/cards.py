"""Review cards: the course's own questions, plus cloze and recall cards where a unit has few.

Plugging in another generator (for example a hosted AI service): implement ``CardGenerator``
(one method, ``generate(unit, needed) -> list[Card]``) and pass it in
``CardOptions(generators=(MyGenerator(),))``. It runs after the built-in generators for units
that still have fewer than ``min_cards_per_unit`` cards; its cards must use
``CardOrigin.GENERATED`` and ``CardStatus.DRAFT`` so an instructor reviews them. See
docs/ingest.md.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Protocol

from . import cloze
from .htmlblocks import strip_local_references
from .linking import UnitIndex, link_question
from .sanitize import clean_html
from .splitter import Unit, content_hash
from .tree import Blank, Choice, Course, NumericAnswer, Pair, Provenance, Question


class CardKind(StrEnum):
    """Kinds of card: the question kinds, plus generated cloze."""

    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    TRUE_FALSE = "true_false"
    SHORT_ANSWER = "short_answer"
    FILL_IN = "fill_in"
    MATCHING = "matching"
    ORDERING = "ordering"
    NUMERIC = "numeric"
    CLOZE = "cloze"
    RECALL = "recall"


class CardOrigin(StrEnum):
    """Where a card came from."""

    IMPORTED = "imported"
    GENERATED = "generated"
    MANUAL = "manual"


class CardStatus(StrEnum):
    """Life cycle of a card: only published cards reach learners."""

    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


@dataclass
class Card:
    """A review card tied to a unit (``unit_key``), with everything needed to ask and check it."""

    key: str
    kind: CardKind
    origin: CardOrigin
    status: CardStatus
    prompt_html: str
    prompt_text: str
    provenance: Provenance
    unit_key: str | None = None
    link: str = "unit"
    title: str = ""
    choices: list[Choice] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    blanks: list[Blank] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    sequence: list[str] = field(default_factory=list)
    numeric: list[NumericAnswer] = field(default_factory=list)
    distractors: list[str] = field(default_factory=list)
    key_points: list[str] = field(default_factory=list)
    feedback_html: str = ""
    content_hash: str = ""

    def compute_hash(self) -> str:
        """Hash of what the learner sees and what counts as right (not status or provenance)."""
        content = {
            k: v
            for k, v in asdict(self).items()
            if k not in ("key", "status", "provenance", "unit_key", "link", "content_hash",
                         "origin", "prompt_html", "feedback_html", "title")
        }  # fmt: skip
        return content_hash(json.dumps(content, sort_keys=True, default=str))


class CardGenerator(Protocol):
    """Makes extra cards for a unit (e.g. a hosted AI service); see the module docstring."""

    def generate(self, unit: Unit, needed: int) -> list[Card]:
        """Up to ``needed`` draft cards for ``unit``."""
        ...


@dataclass(frozen=True)
class CardOptions:
    """How many cards a unit should have, and how imported cards start."""

    min_cards_per_unit: int = 3
    max_cloze_per_unit: int = 2
    recall_cards: bool = True
    imported_status: CardStatus = CardStatus.PUBLISHED
    engine: str = "auto"
    generators: tuple[CardGenerator, ...] = ()


def make_cards(
    course: Course, units: list[Unit], options: CardOptions
) -> tuple[list[Card], list[str]]:
    """Imported cards from the course's questions, then generated cards per unit."""
    cards, warnings = imported_cards(course, units, options)
    per_unit: dict[str | None, int] = {}
    for card in cards:
        per_unit[card.unit_key] = per_unit.get(card.unit_key, 0) + 1
    total_words = sum(u.words for u in units)
    for unit in units:
        needed = options.min_cards_per_unit - per_unit.get(unit.key, 0)
        if needed <= 0:
            continue
        made = generated_cards(unit, needed, options, total_words)
        for generator in options.generators:
            if len(made) < needed:
                made += generator.generate(unit, needed - len(made))
        cards.extend(made)
    return _dedupe(cards), warnings


def imported_cards(
    course: Course, units: list[Unit], options: CardOptions
) -> tuple[list[Card], list[str]]:
    """One card per course question, tied to a unit by module and similarity."""
    index = UnitIndex(units)
    located: list[tuple[Question, int | None]] = [
        (q, i) for i, m in enumerate(course.modules) for q in m.questions
    ] + [(q, None) for q in course.question_bank]
    cards, unlinked = [], 0
    for question, module_index in located:
        link = link_question(question, module_index, index)
        card = card_from_question(question, options.imported_status)
        card.unit_key = link.unit.key if link.unit else None
        card.link = link.method
        unlinked += link.unit is None
        cards.append(card)
    warnings = []
    if unlinked:
        warnings.append(
            f"{unlinked} imported questions match no unit; they are kept for the course as a whole."
        )
    return cards, warnings


def card_from_question(question: Question, status: CardStatus) -> Card:
    """A card that asks a course question as the course asked it."""
    card = Card(
        key=f"q:{question.provenance}",
        kind=CardKind(question.kind.value),
        origin=CardOrigin.IMPORTED,
        status=status,
        prompt_html=clean_html(strip_local_references(question.prompt_html)),
        prompt_text=question.prompt_text,
        provenance=question.provenance,
        title=question.title,
        choices=list(question.choices),
        answers=list(question.answers),
        blanks=list(question.blanks),
        pairs=list(question.pairs),
        sequence=list(question.sequence),
        numeric=list(question.numeric),
        distractors=list(question.distractors),
        feedback_html=clean_html(strip_local_references(question.feedback_html)),
    )
    card.content_hash = card.compute_hash()
    return card


def generated_cards(unit: Unit, needed: int, options: CardOptions, total_words: int) -> list[Card]:
    """Cloze cards on key terms, then a self-rated recall card against the key points."""
    sentences = cloze.candidate_sentences(unit.text, unit.key_terms, options.engine, total_words)
    limit = min(options.max_cloze_per_unit, needed - (1 if options.recall_cards else 0))
    made = [_cloze_card(unit, item) for item in cloze.make_clozes(sentences, unit.key_terms, limit)]
    if options.recall_cards and len(made) < needed and unit.words >= cloze.MIN_WORDS:
        made.append(_recall_card(unit, cloze.key_points(sentences, unit.key_terms)))
    return made


def _cloze_card(unit: Unit, item: cloze.ClozeItem) -> Card:
    html = f"<p>{_escape(item.text)}</p>"
    card = Card(
        key=f"cloze:{unit.key}:{item.term.lower()}",
        kind=CardKind.CLOZE,
        origin=CardOrigin.GENERATED,
        status=CardStatus.DRAFT,
        prompt_html=html,
        prompt_text=item.text,
        provenance=unit.provenance[0],
        unit_key=unit.key,
        title=unit.title,
        answers=list(item.answers),
        key_points=[item.sentence],
    )
    card.content_hash = card.compute_hash()
    return card


def _recall_card(unit: Unit, points: list[str]) -> Card:
    prompt = (
        f"Recall the main points of “{unit.title}”." if unit.title else "Recall the main points."
    )
    card = Card(
        key=f"recall:{unit.key}",
        kind=CardKind.RECALL,
        origin=CardOrigin.GENERATED,
        status=CardStatus.DRAFT,
        prompt_html=f"<p>{_escape(prompt)}</p>",
        prompt_text=prompt,
        provenance=unit.provenance[0],
        unit_key=unit.key,
        title=unit.title,
        key_points=points or unit.key_terms[:5],
    )
    card.content_hash = card.compute_hash()
    return card


def _dedupe(cards: list[Card]) -> list[Card]:
    """Drop exact repeats (the same question in a quiz and in its bank), keep the first."""
    seen: set[str] = set()
    kept = []
    for card in cards:
        if card.content_hash not in seen:
            seen.add(card.content_hash)
            kept.append(card)
    return kept


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

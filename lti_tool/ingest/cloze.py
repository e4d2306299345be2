"""Cloze deletions: blank a unit's key term in a self-contained key sentence.

Quality filters (after studies of generated cloze items): the blank is a key term that passed
the noun-phrase filter, the sentence stands alone (no leading pronoun or connective), has a
useful length, and does not give the answer away elsewhere (same word or stem again).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .sentences import split_sentences

BLANK = "_____"
#: A sentence proper ends with a full stop or exclamation mark (headings and questions do not).
_COMPLETE = re.compile(r"[.!][\"')\]’”]*$")  # noqa: RUF001 - typographic quotes
MIN_WORDS, MAX_WORDS, IDEAL_WORDS = 8, 40, 20
#: Sentences starting with these lean on the sentence before: not self-contained.
DEPENDENT_STARTS = frozenset(
    [
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "they",
        "them",
        "their",
        "he",
        "she",
        "his",
        "her",
        "however",
        "but",
        "and",
        "or",
        "so",
        "also",
        "such",
        "then",
        "thus",
        "therefore",
        "here",
        "there",
        "which",
        "another",
        "other",
        "both",
        "either",
    ]
)


@dataclass(frozen=True)
class ClozeItem:
    """A sentence with one term blanked, and the accepted answers."""

    sentence: str
    term: str
    text: str
    answers: tuple[str, ...]


def _stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ations", "ation", "ings", "ing", "ies", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _tokens(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z0-9'-]*", text)


def candidate_sentences(
    text: str, terms: list[str], engine: str = "auto", total_words: int = 0
) -> list[str]:
    """Self-contained sentences of a useful length that contain at least one key term."""
    lowered_terms = [t.lower() for t in terms]
    found = []
    for line in text.split("\n"):
        if len(line.split()) < MIN_WORDS or not any(t in line.lower() for t in lowered_terms):
            continue
        for sentence in split_sentences(line, engine, total_words):
            words = sentence.split()
            if not MIN_WORDS <= len(words) <= MAX_WORDS or not _COMPLETE.search(sentence):
                continue
            if not sentence[0].isalnum() and sentence[0] not in "\"'“‘(":  # noqa: RUF001
                continue
            if words[0].lower().strip("\"'(") in DEPENDENT_STARTS:
                continue
            found.append(sentence)
    return found


def blank_term(sentence: str, term: str) -> ClozeItem | None:
    """Blank the first whole-word occurrence of ``term``, if nothing else gives it away."""
    pattern = re.compile(r"(?<![\w-])" + re.escape(term) + r"(?![\w-])", re.IGNORECASE)
    matches = list(pattern.finditer(sentence))
    if len(matches) != 1:
        return None
    match = matches[0]
    rest = sentence[: match.start()] + " " + sentence[match.end() :]
    term_stems = {_stem(w) for w in _tokens(term) if len(w) >= 4}
    if term_stems & {_stem(w) for w in _tokens(rest)}:
        return None
    if len(_tokens(rest)) < MIN_WORDS - 2:
        return None
    text = sentence[: match.start()] + BLANK + sentence[match.end() :]
    answers = tuple(dict.fromkeys([match.group(0), term, term.lower()]))
    return ClozeItem(sentence, term, text, answers)


def make_clozes(sentences: list[str], terms: list[str], limit: int) -> list[ClozeItem]:
    """Up to ``limit`` cloze items, best key terms first, one per term and per sentence."""
    chosen: list[ClozeItem] = []
    used_sentences: set[str] = set()
    for rank, term in enumerate(terms):
        best: tuple[float, ClozeItem] | None = None
        for sentence in sentences:
            if sentence in used_sentences:
                continue
            item = blank_term(sentence, term)
            if item is None:
                continue
            score = _score(sentence, terms, rank)
            if best is None or score > best[0]:
                best = (score, item)
        if best is not None:
            chosen.append(best[1])
            used_sentences.add(best[1].sentence)
        if len(chosen) >= limit:
            break
    return chosen


def _score(sentence: str, terms: list[str], rank: int) -> float:
    lowered = sentence.lower()
    context = sum(1 for t in terms if t.lower() in lowered)
    length_fit = 1.0 - abs(len(sentence.split()) - IDEAL_WORDS) / MAX_WORDS
    return context + length_fit - 0.1 * rank


def key_points(sentences: list[str], terms: list[str], limit: int = 3) -> list[str]:
    """The sentences carrying the most key terms, in reading order."""
    lowered = [t.lower() for t in terms]
    scored = [(sum(t in s.lower() for t in lowered), i) for i, s in enumerate(sentences)]
    best = sorted(i for _, i in sorted(scored, key=lambda x: (-x[0], x[1]))[:limit])
    return [sentences[i] for i in best]

"""Tie each question to the unit it tests: by module first, then by text similarity."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from .splitter import Unit
from .stopwords import STOP_WORDS
from .tree import Question

#: Lowest similarity that ties a question without a module to a unit.
MIN_SIMILARITY = 0.05
_WORD = re.compile(r"[a-z][a-z0-9]{2,}")


@dataclass(frozen=True)
class Link:
    """The unit a question was tied to (None if no unit fits) and how."""

    unit: Unit | None
    method: str
    score: float


def _terms(text: str) -> list[str]:
    return [w.rstrip("s") for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]


def question_text(question: Question) -> str:
    """All words a question shows or expects (prompt, options, answers)."""
    parts = [question.prompt_text, *question.answers, *(c.text for c in question.choices)]
    parts += [p.prompt + " " + p.answer for p in question.pairs] + question.sequence
    parts += [a for b in question.blanks for a in b.answers]
    return " ".join(parts)


class UnitIndex:
    """TF-IDF vectors of the units, for cosine similarity with a question."""

    def __init__(self, units: list[Unit]) -> None:
        self.units = units
        counts = [Counter(_terms(u.text)) for u in units]
        df: Counter[str] = Counter()
        for c in counts:
            df.update(c.keys())
        n = len(units)
        self.idf = {t: math.log((n + 1) / (d + 0.5)) for t, d in df.items()}
        self.vectors = [
            {t: (1 + math.log(c)) * self.idf[t] for t, c in cnt.items()} for cnt in counts
        ]
        self.norms = [math.sqrt(sum(v * v for v in vec.values())) or 1.0 for vec in self.vectors]

    def best(self, text: str, candidates: list[int]) -> tuple[int | None, float]:
        """Index of the candidate unit most similar to ``text`` and the cosine score."""
        query = {t: self.idf.get(t, 0.0) for t in set(_terms(text))}
        qnorm = math.sqrt(sum(v * v for v in query.values())) or 1.0
        best, best_score = None, 0.0
        for i in candidates:
            vec = self.vectors[i]
            score = sum(w * vec.get(t, 0.0) for t, w in query.items()) / (qnorm * self.norms[i])
            if score > best_score:
                best, best_score = i, score
        return best, best_score


def link_question(question: Question, module_index: int | None, index: UnitIndex) -> Link:
    """The unit a question tests: the most similar unit of its module, else of the course."""
    text = question_text(question)
    in_module = [i for i, u in enumerate(index.units) if u.module_index == module_index]
    if in_module:
        best, score = index.best(text, in_module)
        return Link(index.units[best if best is not None else in_module[0]], "module", score)
    best, score = index.best(text, list(range(len(index.units))))
    if best is not None and score >= MIN_SIMILARITY:
        return Link(index.units[best], "similarity", score)
    return Link(None, "none", score)

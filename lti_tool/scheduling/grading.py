"""Answer checking per card kind; plain functions over a card's kind, data and the form values.

Form fields: `choice` (one or more choice idents), `text` (short answer, cloze), `blank-<ident>`
(fill-in), `match-<i>` (matching: the chosen answer for pair i), `order-<i>` (ordering: the
position 1..n given to sequence item i), `number` (numeric), `rating` (recall, self-rated).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lti_tool.ingest.cards import CardKind

Answer = Mapping[str, Sequence[str]]
RATINGS = ("again", "hard", "good", "easy")
_ARTICLES = re.compile(r"^(a|an|the)\s+")
_SPACES = re.compile(r"\s+")
_EDGE_PUNCT = ".,;:!?\"'()[]\u201c\u201d\u2018\u2019"


@dataclass(frozen=True)
class Grade:
    """The verdict on one answer: correct (None when self-rated) and what to show back."""

    correct: bool | None
    response: dict[str, Any]
    expected: list[str] = field(default_factory=list)
    self_rating: str | None = None


def normalize(text: str) -> str:
    """Canonical form for comparing typed answers: case, width, spacing, edge punctuation."""
    text = unicodedata.normalize("NFKC", text).casefold().strip().strip(_EDGE_PUNCT).strip()
    return _SPACES.sub(" ", text)


def text_matches(given: str, accepted: Sequence[str]) -> bool:
    """Whether a typed answer equals one of the accepted variants (articles optional)."""
    mine = normalize(given)
    if not mine:
        return False
    variants = {normalize(a) for a in accepted if a}
    variants |= {_ARTICLES.sub("", v) for v in variants}
    return mine in variants or _ARTICLES.sub("", mine) in variants


def parse_number(text: str) -> float | None:
    """A number as people type it: '3.5', '3,5', '1 200', '-2e3'; None when not a number."""
    cleaned = text.strip().replace("\u2212", "-").replace(" ", "").replace("\u00a0", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    else:
        cleaned = cleaned.replace(",", "")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _first(answer: Answer, name: str) -> str:
    values = answer.get(name) or []
    return values[0] if values else ""


def _choices(data: dict[str, Any], answer: Answer) -> Grade:
    chosen = sorted(set(answer.get("choice") or []))
    right = sorted(c["ident"] for c in data.get("choices", []) if c.get("correct"))
    texts = [c["text"] for c in data.get("choices", []) if c.get("correct")]
    return Grade(bool(chosen) and chosen == right, {"choice": chosen}, texts)


def _single(data: dict[str, Any], answer: Answer) -> Grade:
    chosen = _first(answer, "choice")
    right = {c["ident"] for c in data.get("choices", []) if c.get("correct")}
    texts = [c["text"] for c in data.get("choices", []) if c.get("correct")]
    return Grade(chosen in right, {"choice": [chosen] if chosen else []}, texts)


def _text(data: dict[str, Any], answer: Answer) -> Grade:
    given = _first(answer, "text")[:500]
    accepted = list(data.get("answers", []))
    return Grade(text_matches(given, accepted), {"text": given}, accepted[:1])


def _fill_in(data: dict[str, Any], answer: Answer) -> Grade:
    blanks = data.get("blanks", [])
    given = {b["ident"]: _first(answer, f"blank-{b['ident']}")[:300] for b in blanks}
    correct = bool(blanks) and all(text_matches(given[b["ident"]], b["answers"]) for b in blanks)
    expected = [str(b["answers"][0]) for b in blanks if b.get("answers")]
    return Grade(correct, {"blanks": given}, expected)


def _matching(data: dict[str, Any], answer: Answer) -> Grade:
    pairs = data.get("pairs", [])
    given = [_first(answer, f"match-{i}") for i in range(len(pairs))]
    correct = bool(pairs) and all(
        normalize(g) == normalize(p["answer"]) for g, p in zip(given, pairs, strict=True)
    )
    return Grade(correct, {"matches": given}, [f"{p['prompt']} → {p['answer']}" for p in pairs])


def _ordering(data: dict[str, Any], answer: Answer) -> Grade:
    items = data.get("sequence", [])
    positions = [_first(answer, f"order-{i}") for i in range(len(items))]
    correct = bool(items) and positions == [str(i + 1) for i in range(len(items))]
    return Grade(correct, {"positions": positions}, list(items))


def _numeric(data: dict[str, Any], answer: Answer) -> Grade:
    given = _first(answer, "number")[:100]
    number = parse_number(given)
    correct = number is not None and any(_accepts(n, number) for n in data.get("numeric", []))
    return Grade(correct, {"number": given}, [_describe(n) for n in data.get("numeric", [])[:1]])


def _accepts(spec: dict[str, Any], number: float) -> bool:
    low, high, value = spec.get("low"), spec.get("high"), spec.get("value")
    if low is not None and high is not None:
        return float(low) <= number <= float(high)
    if value is None:
        return False
    return abs(number - float(value)) <= float(spec.get("tolerance") or 0.0) + 1e-12


def _describe(spec: dict[str, Any]) -> str:
    if spec.get("low") is not None and spec.get("high") is not None:
        return f"between {spec['low']:g} and {spec['high']:g}"
    tolerance = float(spec.get("tolerance") or 0.0)
    value = float(spec.get("value") or 0.0)
    return f"{value:g} (± {tolerance:g})" if tolerance else f"{value:g}"


def _recall(data: dict[str, Any], answer: Answer) -> Grade:
    rating = _first(answer, "rating")
    if rating not in RATINGS:
        rating = "again"
    return Grade(None, {"rating": rating}, list(data.get("key_points", [])), self_rating=rating)


_CHECKERS: dict[str, Callable[[dict[str, Any], Answer], Grade]] = {
    CardKind.SINGLE_CHOICE: _single,
    CardKind.TRUE_FALSE: _single,
    CardKind.MULTIPLE_CHOICE: _choices,
    CardKind.SHORT_ANSWER: _text,
    CardKind.CLOZE: _text,
    CardKind.FILL_IN: _fill_in,
    CardKind.MATCHING: _matching,
    CardKind.ORDERING: _ordering,
    CardKind.NUMERIC: _numeric,
    CardKind.RECALL: _recall,
}


def is_self_rated(kind: str) -> bool:
    """Recall cards are rated by the learner against the key points."""
    return kind == CardKind.RECALL


def check(kind: str, data: dict[str, Any], answer: Answer) -> Grade:
    """Check an answer to a card of `kind`; unknown kinds are self-rated like recall cards."""
    return _CHECKERS.get(kind, _recall)(data, answer)


def describe(kind: str, data: dict[str, Any], response: dict[str, Any]) -> str:
    """The learner's answer in words, for the feedback page."""
    if "choice" in response:
        texts = {c["ident"]: c["text"] for c in data.get("choices", [])}
        return ", ".join(texts.get(i, i) for i in response["choice"]) or "(no choice)"
    if "matches" in response:
        prompts = [p["prompt"] for p in data.get("pairs", [])]
        pairs = zip(prompts, response["matches"], strict=False)
        return "; ".join(f"{p} → {g or '(none)'}" for p, g in pairs)
    if "positions" in response:
        items = data.get("sequence", [])
        ranked = sorted(
            (int(p), items[i]) for i, p in enumerate(response["positions"]) if str(p).isdigit()
        )
        return " → ".join(text for _, text in ranked) or "(no order given)"
    if "blanks" in response:
        return ", ".join(v or "(empty)" for v in response["blanks"].values())
    if "rating" in response:
        return f"you rated your recall “{response['rating']}”"
    value = response.get("text", response.get("number", ""))
    return str(value) or "(empty)"

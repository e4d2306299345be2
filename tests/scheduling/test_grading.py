"""Answer checking per card kind."""

from __future__ import annotations

import pytest

from lti_tool.scheduling.grading import check, describe, parse_number, text_matches

CHOICES = {
    "choices": [
        {"ident": "a", "text": "Red", "correct": True},
        {"ident": "b", "text": "Green", "correct": False},
        {"ident": "c", "text": "Blue", "correct": True},
    ]
}


def test_single_choice_accepts_the_right_choice_only():
    """A single-choice card is right only with a correct choice."""
    assert check("single_choice", CHOICES, {"choice": ["a"]}).correct is True
    assert check("single_choice", CHOICES, {"choice": ["b"]}).correct is False
    assert check("single_choice", CHOICES, {}).correct is False


def test_multiple_choice_needs_exactly_the_correct_set():
    """Multiple choice is right only when every correct choice and nothing else is chosen."""
    assert check("multiple_choice", CHOICES, {"choice": ["c", "a"]}).correct is True
    assert check("multiple_choice", CHOICES, {"choice": ["a"]}).correct is False
    assert check("multiple_choice", CHOICES, {"choice": ["a", "b", "c"]}).correct is False


def test_true_false_is_checked_by_choice():
    """True/false cards are checked like a single choice and show the right text."""
    data = {
        "choices": [
            {"ident": "t", "text": "True", "correct": False},
            {"ident": "f", "text": "False", "correct": True},
        ]
    }
    grade = check("true_false", data, {"choice": ["f"]})
    assert grade.correct is True
    assert grade.expected == ["False"]
    assert check("true_false", data, {"choice": ["t"]}).correct is False


@pytest.mark.parametrize("given", ["Lockout", "  lockout. ", "LOCKOUT", "the lockout", "lock-out"])
def test_short_answer_accepts_listed_variants_loosely(given):
    """Typed answers ignore case, spacing, edge punctuation and a leading article."""
    data = {"answers": ["lockout", "lock-out"]}
    assert check("short_answer", data, {"text": [given]}).correct is True


def test_short_answer_rejects_other_words_and_empty():
    """A different word or an empty answer is wrong."""
    data = {"answers": ["lockout"]}
    assert check("cloze", data, {"text": ["tagout"]}).correct is False
    assert check("cloze", data, {"text": [""]}).correct is False
    assert not text_matches("", [""])


def test_fill_in_checks_every_blank_against_its_variants():
    """Every blank must match one of its accepted answers."""
    data = {
        "blanks": [
            {"ident": "1", "answers": ["red", "crimson"], "options": []},
            {"ident": "2", "answers": ["stop"], "options": []},
        ]
    }
    assert check("fill_in", data, {"blank-1": ["Crimson"], "blank-2": ["STOP"]}).correct is True
    assert check("fill_in", data, {"blank-1": ["red"], "blank-2": ["go"]}).correct is False


def test_matching_needs_every_pair_right():
    """Matching is right when each prompt gets its own answer."""
    data = {
        "pairs": [{"prompt": "H2O", "answer": "water"}, {"prompt": "NaCl", "answer": "salt"}],
        "distractors": ["sugar"],
    }
    assert check("matching", data, {"match-0": ["water"], "match-1": ["salt"]}).correct is True
    assert check("matching", data, {"match-0": ["salt"], "match-1": ["water"]}).correct is False
    assert check("matching", data, {"match-0": ["water"]}).correct is False


def test_ordering_needs_the_course_sequence():
    """Ordering is right when every item gets its position in the sequence."""
    data = {"sequence": ["Stop", "Lock", "Tag", "Verify"]}
    right = {f"order-{i}": [str(i + 1)] for i in range(4)}
    assert check("ordering", data, right).correct is True
    swapped = dict(right, **{"order-0": ["2"], "order-1": ["1"]})
    assert check("ordering", data, swapped).correct is False
    assert describe("ordering", data, check("ordering", data, swapped).response).startswith("Lock")


def test_numeric_accepts_within_tolerance_and_ranges():
    """Numbers within the tolerance or the range are right, in either decimal notation."""
    data = {"numeric": [{"value": 3.5, "tolerance": 0.1, "low": None, "high": None}]}
    assert check("numeric", data, {"number": ["3,45"]}).correct is True
    assert check("numeric", data, {"number": ["3.7"]}).correct is False
    assert check("numeric", data, {"number": ["three"]}).correct is False
    ranged = {"numeric": [{"value": None, "tolerance": 0, "low": 10, "high": 20}]}
    assert check("numeric", ranged, {"number": ["20"]}).correct is True
    assert check("numeric", ranged, {"number": ["20.5"]}).correct is False


def test_parse_number_reads_common_notations():
    """Comma decimals, thousands separators and exponents parse; nonsense does not."""
    assert parse_number("1 200") == 1200
    assert parse_number("1,200.5") == 1200.5
    assert parse_number("-2e3") == -2000
    assert parse_number("nan") is None
    assert parse_number("") is None


def test_recall_is_self_rated_and_shows_key_points():
    """Recall cards carry the learner's own rating and show the key points."""
    data = {"key_points": ["Stop the machine", "Lock the isolator"]}
    grade = check("recall", data, {"rating": ["hard"]})
    assert grade.correct is None
    assert grade.self_rating == "hard"
    assert grade.expected == data["key_points"]
    assert check("recall", data, {"rating": ["bogus"]}).self_rating == "again"

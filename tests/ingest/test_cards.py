"""Cloze quality, card linking, re-import diff and sanitizing."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lti_tool.ingest.cloze import BLANK, blank_term, candidate_sentences, make_clozes
from lti_tool.ingest.importer import diff, import_course
from lti_tool.ingest.keyterms import is_good_term, key_terms
from lti_tool.ingest.sanitize import clean_html
from lti_tool.ingest.stopwords import STOP_WORDS

TEXT = (
    "Lockout tagout isolates machines from their energy sources before maintenance starts.\n"
    "Every technician applies a personal padlock to the energy isolation device.\n"
    "This makes it safe.\n"
    "The padlock key stays with the technician until the maintenance work is complete.\n"
    "Compressed air lines must be bled to zero pressure before the guard is opened."
)


def test_cloze_never_blanks_a_stop_word() -> None:
    """Stop words, verbs and fragments are rejected as terms; real noun phrases pass."""
    assert not any(is_good_term(w) for w in ["the", "which", "ensure that dangerous", "make"])
    assert is_good_term("energy isolation device") and is_good_term("padlock")
    terms = key_terms([TEXT], top=6, engine="library")[0]
    assert terms and all(t.lower() not in STOP_WORDS for t in terms)


def test_cloze_answer_is_not_given_away_in_the_sentence() -> None:
    """A term repeated (or its stem repeated) elsewhere in the sentence is not blanked."""
    sentence = "The padlock is a padlock that locks the energy isolation device in place."
    assert blank_term(sentence, "padlock") is None
    item = blank_term(sentence, "energy isolation device")
    assert item is not None and item.text.count(BLANK) == 1
    assert "energy" not in item.text.lower()


def test_cloze_uses_self_contained_sentences() -> None:
    """Sentences that start with a pronoun or are too short are not used."""
    sentences = candidate_sentences(TEXT, ["padlock", "safe", "compressed air lines"], "library")
    assert "This makes it safe." not in sentences
    items = make_clozes(sentences, ["padlock", "compressed air lines"], limit=2)
    assert {i.term for i in items} == {"padlock", "compressed air lines"}
    assert all(i.answers[0].lower() == i.term.lower() for i in items)


def test_fast_and_library_engines_both_find_the_sentences() -> None:
    """The fast splitter keeps the same self-contained sentences as pysbd here."""
    fast = candidate_sentences(TEXT, ["padlock"], "fast")
    library = candidate_sentences(TEXT, ["padlock"], "library")
    assert fast == library


def test_sanitizer_removes_script_handlers_and_javascript_urls() -> None:
    """Imported HTML keeps text and safe tags only."""
    dirty = (
        '<p onmouseover="steal()">Hi <a href="javascript:alert(1)">x</a>'
        '<img src="x" onerror="alert(1)"><script>alert(1)</script><iframe src="https://e"></iframe>'
        '<a href="https://ok.example/">ok</a></p>'
    )
    clean = clean_html(dirty)
    for bad in ("onmouseover", "javascript:", "onerror", "<script", "<iframe"):
        assert bad not in clean
    assert 'href="https://ok.example/"' in clean


def test_reimport_diff_keeps_unchanged_and_reports_changes(fixtures: Path) -> None:
    """Re-importing the same export changes nothing; edits show as changed, added, removed."""
    old = import_course(fixtures / "moodle2-backup-unpacked")
    same = diff(old, import_course(fixtures / "moodle2-backup-unpacked"))
    assert not (same.units.changed or same.units.added or same.units.removed)
    assert not (same.cards.changed or same.cards.added or same.cards.removed)
    edited_unit = dataclasses.replace(old.units[1], content_hash="edited")
    new_units = [old.units[0], edited_unit, *old.units[3:]]
    new_cards = old.cards[1:]
    extra = dataclasses.replace(old.cards[0], key="new-card", content_hash="new")
    new = dataclasses.replace(old, units=new_units, cards=[*new_cards, extra])
    changes = diff(old, new)
    assert changes.units.changed == [old.units[1].key]
    assert changes.units.removed == [old.units[2].key]
    assert changes.cards.added == ["new-card"]
    assert changes.cards.removed == [old.cards[0].key]


def test_imported_cards_are_published_and_generated_are_drafts(fixtures: Path) -> None:
    """Course questions arrive ready to publish; generated cards wait for the instructor."""
    result = import_course(fixtures / "moodle2-backup-unpacked")
    statuses = {(c.origin.value, c.status.value) for c in result.cards}
    assert statuses == {("imported", "published"), ("generated", "draft")}

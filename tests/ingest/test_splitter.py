"""The splitter keeps blocks whole, merges tiny sections and splits long ones near the target."""

from __future__ import annotations

from lti_tool.ingest.splitter import SplitOptions, split_course
from lti_tool.ingest.tree import Block, BlockKind, Course, Module, Provenance, Section

PROV = Provenance("test.html")
OPTIONS = SplitOptions(words_per_minute=100, min_minutes=2, max_minutes=5, target_minutes=3.5)


def para(words: int, word: str = "safety") -> Block:
    """A paragraph of ``words`` words."""
    text = " ".join([word] * words)
    return Block(BlockKind.PARAGRAPH, f"<p>{text}</p>", text, PROV)


def listing(items: int) -> Block:
    """A list block of ``items`` ten-word items."""
    li = " ".join(["valve"] * 10)
    html = "<ul>" + f"<li>{li}</li>" * items + "</ul>"
    return Block(BlockKind.LIST, html, " ".join([li] * items), PROV)


def course(*sections: Section) -> Course:
    """A one-module course."""
    return Course("Test", "html", modules=[Module("M", list(sections))])


def test_long_section_splits_at_block_boundaries_near_target() -> None:
    """A 1,500-word section becomes units between the minimum and maximum length."""
    units = split_course(course(Section("Long", [para(100) for _ in range(15)], PROV)), OPTIONS)
    assert len(units) >= 3
    assert all(200 <= u.words <= 500 for u in units[:-1])
    assert sum(u.words for u in units) >= 1500


def test_list_and_table_are_never_cut() -> None:
    """An oversized list stays in one unit, whole."""
    units = split_course(course(Section("L", [para(150), listing(70), para(150)], PROV)), OPTIONS)
    holding = [u for u in units if "<ul>" in u.html]
    assert len(holding) == 1
    assert holding[0].html.count("<li>") == 70


def test_tiny_sections_merge_with_neighbours() -> None:
    """Five 50-word sections merge into units of at least the minimum length."""
    sections = [Section(f"S{i}", [para(50)], PROV) for i in range(5)]
    units = split_course(course(*sections), OPTIONS)
    assert len(units) < 5
    assert all(u.words >= 200 for u in units[:-1])


def test_headings_start_units_and_never_end_them() -> None:
    """A heading inside a long section begins a unit; no unit ends on a heading."""
    heading = Block(BlockKind.HEADING, "<h2>Second topic</h2>", "Second topic", PROV, level=2)
    units = split_course(course(Section("First", [para(300), heading, para(300)], PROV)), OPTIONS)
    assert [u.title for u in units] == ["First", "Second topic"]
    assert all(not u.html.rstrip().endswith("</h3>") for u in units)


def test_modules_are_never_merged() -> None:
    """Tiny sections in different modules stay in separate units, in course order."""
    c = Course(
        "T",
        "html",
        modules=[
            Module("A", [Section("a", [para(20)], PROV)]),
            Module("B", [Section("b", [para(20)], PROV)]),
        ],
    )
    units = split_course(c, OPTIONS)
    assert [(u.module_index, u.module_title) for u in units] == [(0, "A"), (1, "B")]


def test_minutes_follow_the_reading_speed() -> None:
    """Minutes are words divided by words per minute."""
    units = split_course(course(Section("", [para(300)], PROV)), OPTIONS)
    assert units[0].minutes == 3.0


def test_content_hash_is_stable_and_content_sensitive() -> None:
    """The same text hashes the same; a changed word changes the hash."""
    first = split_course(course(Section("S", [para(300)], PROV)), OPTIONS)[0]
    again = split_course(course(Section("S", [para(300)], PROV)), OPTIONS)[0]
    other = split_course(course(Section("S", [para(300, "hazard")], PROV)), OPTIONS)[0]
    assert first.content_hash == again.content_hash != other.content_hash


def test_unit_html_is_sanitized() -> None:
    """Script and event handlers in a block never reach the unit body."""
    block = Block(
        BlockKind.PARAGRAPH, '<p onclick="x()">Hi<script>alert(1)</script></p>', "Hi", PROV
    )
    unit = split_course(course(Section("S", [block], PROV)), OPTIONS)[0]
    assert "script" not in unit.html and "onclick" not in unit.html

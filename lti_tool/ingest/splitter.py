"""Split a course tree into micro-units of a few minutes of reading, in course order.

Rules: blocks (paragraph, list, table, code, figure) are never cut; headings start units;
sections shorter than the minimum merge with their neighbours in the same module; sections
longer than the maximum split at block boundaries near the target length.
"""

from __future__ import annotations

import hashlib
import html as htmlmod
from dataclasses import dataclass, field

from .keyterms import key_terms
from .sanitize import clean_html
from .tree import Block, BlockKind, Course, Provenance

#: Reading time credited to a figure, in seconds.
FIGURE_SECONDS = 10.0


@dataclass(frozen=True)
class SplitOptions:
    """Unit length bounds in minutes of reading, and the reading speed."""

    min_minutes: float = 2.0
    max_minutes: float = 5.0
    target_minutes: float = 3.5
    words_per_minute: int = 220
    key_terms: int = 8
    engine: str = "auto"

    def words(self, minutes: float) -> int:
        """Words read in ``minutes``."""
        return int(minutes * self.words_per_minute)


@dataclass
class Unit:
    """A micro-unit: what a learner reads in one short review, with sanitized HTML."""

    key: str
    index: int
    module_index: int
    module_title: str
    title: str
    html: str
    text: str
    words: int
    minutes: float
    provenance: list[Provenance]
    content_hash: str
    key_terms: list[str] = field(default_factory=list)


@dataclass
class _Run:
    """Blocks that will stay together (a section, or a part of one that starts at a heading)."""

    title: str
    blocks: list[Block]
    provenance: Provenance

    @property
    def words(self) -> int:
        return sum(b.words for b in self.blocks) + len(self.title.split())

    @property
    def figures(self) -> int:
        return sum(1 for b in self.blocks if b.kind is BlockKind.FIGURE)


def split_course(course: Course, options: SplitOptions | None = None) -> list[Unit]:
    """Units of the whole course in order, with key terms ranked across the course."""
    options = options or SplitOptions()
    units: list[Unit] = []
    seen_keys: dict[str, int] = {}
    for module_index, module in enumerate(course.modules):
        runs = [r for s in module.sections for r in _runs(s.title, s.blocks, s.provenance)]
        for group in _merge(_split_long(runs, options), options):
            unit = _make_unit(group, len(units), module_index, module.title, options, seen_keys)
            if unit is not None:
                units.append(unit)
    for unit, terms in zip(
        units, key_terms([u.text for u in units], options.key_terms, options.engine), strict=True
    ):
        unit.key_terms = terms
    return units


def _runs(title: str, blocks: list[Block], provenance: Provenance) -> list[_Run]:
    """Cut a section before each heading (the section title counts as the first heading)."""
    runs = [_Run(title, [], provenance)]
    for block in blocks:
        if block.kind is BlockKind.HEADING:
            if runs[-1].blocks or runs[-1].title:
                runs.append(_Run(block.text, [], block.provenance))
            else:
                runs[-1].title = block.text
            continue
        runs[-1].blocks.append(block)
    return [r for r in runs if r.blocks or r.title]


def _split_long(runs: list[_Run], options: SplitOptions) -> list[_Run]:
    """Split runs over the maximum at block boundaries, aiming at the target length."""
    max_words, target, low = (options.words(m) for m in (
        options.max_minutes, options.target_minutes, options.min_minutes))  # fmt: skip
    result = []
    for run in runs:
        if run.words <= max_words:
            result.append(run)
            continue
        part = _Run(run.title, [], run.provenance)
        for block in run.blocks:
            size = sum(b.words for b in part.blocks)
            full = size + block.words > max_words or size >= target
            if part.blocks and full and size >= low:
                result.append(part)
                part = _Run(f"{run.title} (continued)" if run.title else "", [], block.provenance)
            part.blocks.append(block)
        result.append(part)
    return result


def _merge(runs: list[_Run], options: SplitOptions) -> list[list[_Run]]:
    """Group consecutive runs so that tiny ones join a neighbour without passing the maximum."""
    low, high = options.words(options.min_minutes), options.words(options.max_minutes)
    groups: list[list[_Run]] = []
    for run in runs:
        current = groups[-1] if groups else None
        size = sum(r.words for r in current) if current else 0
        if current and (size < low or run.words < low) and size + run.words <= high:
            current.append(run)
        else:
            groups.append([run])
    if len(groups) > 1:
        last_size = sum(r.words for r in groups[-1])
        if last_size < low and sum(r.words for r in groups[-2]) + last_size <= high:
            groups[-2].extend(groups.pop())
    return groups


def _make_unit(
    group: list[_Run],
    index: int,
    module_index: int,
    module_title: str,
    options: SplitOptions,
    seen_keys: dict[str, int],
) -> Unit | None:
    words = sum(r.words for r in group)
    figures = sum(r.figures for r in group)
    if words == 0 and figures == 0:
        return None
    html_parts, text_parts = [], []
    for run in group:
        if run.title:
            html_parts.append(f"<h3>{htmlmod.escape(run.title)}</h3>")
            text_parts.append(run.title)
        html_parts.extend(b.html for b in run.blocks)
        text_parts.extend(b.text for b in run.blocks if b.text)
    text = "\n".join(text_parts)
    title = next((r.title for r in group if r.title), "") or module_title
    minutes = words / options.words_per_minute + figures * FIGURE_SECONDS / 60
    provenance = list(dict.fromkeys(b.provenance for r in group for b in r.blocks))
    first = provenance[0] if provenance else group[0].provenance
    base_key = str(first)
    seen_keys[base_key] = seen_keys.get(base_key, 0) + 1
    return Unit(
        key=f"{base_key}~{seen_keys[base_key]}",
        index=index,
        module_index=module_index,
        module_title=module_title,
        title=title,
        html=clean_html("".join(html_parts)),
        text=text,
        words=words,
        minutes=round(max(minutes, 0.1), 1),
        provenance=provenance or [group[0].provenance],
        content_hash=content_hash(title, text),
    )


def content_hash(*parts: str) -> str:
    """Stable hash of normalized text parts (whitespace and case do not matter)."""
    normalized = "\x1f".join(" ".join(p.split()).lower() for p in parts)
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()[:40]

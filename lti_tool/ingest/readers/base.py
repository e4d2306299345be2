"""What every reader gets: the opened source, the course being built, assets and warnings."""

from __future__ import annotations

import logging
import mimetypes
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..archive import Limits, Source
from ..tree import Asset, Block, BlockKind, Course, Module, Provenance, Section

logger = logging.getLogger(__name__)

#: Figure files kept as assets (others stay references).
FIGURE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".bmp"}
#: Largest single figure kept, in bytes.
MAX_ASSET_BYTES = 20 * 1024 * 1024


@dataclass
class ReadContext:
    """State shared by a reader run: the source, limits and the course under construction."""

    source: Source
    course: Course
    limits: Limits = field(default_factory=Limits)
    upload: Path | None = None

    def warn(self, message: str) -> None:
        """Record a warning the instructor will see in the import summary."""
        logger.info("import warning: %s", message)
        self.course.warnings.append(message)

    def add_asset(self, path: str, filename: str = "") -> str | None:
        """Register the figure file at ``path`` (inside the source) and return its asset path.

        ``filename`` gives the real name when the stored path has none (Moodle content hashes).
        """
        if path in self.course.assets:
            return path
        suffix = posixpath.splitext(filename or path)[1].lower()
        if suffix not in FIGURE_SUFFIXES or not self.source.exists(path):
            return None
        data = self.source.read(path)
        if len(data) > MAX_ASSET_BYTES:
            self.warn(f"Figure {path} is larger than 20 MiB and was left out.")
            return None
        media_type = mimetypes.guess_type(filename or path)[0] or ""
        self.course.assets[path] = Asset(path, data, media_type)
        return path

    def resolver(self, base: str, prefixes: dict[str, str] | None = None):
        """An ``AssetResolver`` for references made from the file ``base``."""
        prefixes = prefixes or {}

        def resolve(ref: str) -> str | None:
            target = resolve_ref(base, ref, prefixes)
            return self.add_asset(target) if target else None

        return resolve


def resolve_ref(base: str, ref: str, prefixes: dict[str, str]) -> str | None:
    """Path inside the source that ``ref`` (made from file ``base``) points to, if local."""
    for marker, replacement in prefixes.items():
        if ref.startswith(marker):
            ref = replacement + ref[len(marker) :].lstrip("/")
            return posixpath.normpath(unquote(urlsplit(ref).path))
    parts = urlsplit(ref)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(base), unquote(parts.path)))
    return None if joined.startswith("..") else joined


def provenance(source: str, anchor: str = "") -> Provenance:
    """Shorthand for a Provenance."""
    return Provenance(source, anchor)


def modules_from_blocks(blocks: list[Block], title: str, provenance: Provenance) -> list[Module]:
    """Shape a flat run of blocks: top-level headings start modules when there are several."""
    levels = sorted({b.level for b in blocks if b.kind is BlockKind.HEADING})
    top = levels[0] if levels else 0
    tops = sum(1 for b in blocks if b.kind is BlockKind.HEADING and b.level == top)
    modules = [Module(title, provenance=provenance)]
    for block in blocks:
        if block.kind is BlockKind.HEADING and block.level == top and tops >= 2:
            if modules[-1].sections:
                modules.append(Module(block.text, provenance=block.provenance))
            else:
                modules[-1].title = block.text
            modules[-1].sections.append(Section(block.text, [], block.provenance))
            continue
        if not modules[-1].sections:
            modules[-1].sections.append(Section("", [], block.provenance))
        modules[-1].sections[-1].blocks.append(block)
    return [m for m in modules if any(s.blocks for s in m.sections)]
